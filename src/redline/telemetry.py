"""OpenTelemetry spans for served requests, named by the GenAI semantic conventions.

``redline guard`` and ``redline serve`` make one span per chat (and checks) request when
tracing is configured, and no OpenTelemetry call at all when it is not: :func:`from_environment`
returns None and the servers skip every tracing line. Tracing is configured by the standard
variables (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, with
``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_SERVICE_NAME`` and the rest read by the exporter
itself) or by the servers' ``--otlp-endpoint`` flag; ``OTEL_SDK_DISABLED=true`` turns it
off. Spans go out over OTLP/HTTP (protobuf) in batches, off the request path.

A span carries ``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.*``
(model, max_tokens, temperature, top_p, seed, stream), ``gen_ai.response.model``,
``gen_ai.response.finish_reasons`` and ``gen_ai.usage.input_tokens`` /
``output_tokens``; the guard adds ``redline.guard.*`` (action, stage, categories, client,
replica) and one ``gen_ai.evaluation.result`` span event per scored layer, with the
attributes ``redline watch --otel`` emits (:func:`evaluation_attributes`).

The prompt and the answer go into spans (``gen_ai.input.messages``,
``gen_ai.output.messages``) only when content capture is configured:
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` or the servers'
``--otel-capture-content`` flag. Request headers are never recorded, so a client's or the
upstream's API key cannot reach a span.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError, require

if TYPE_CHECKING:
    from redline.guard.events import RequestEvent
    from redline.types import Message

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_TRUE = {"1", "true", "yes", "on"}


def evaluation_attributes(event: RequestEvent) -> Iterator[dict[str, Any]]:
    """The attributes of the ``gen_ai.evaluation.result`` events of one guarded request.

    One per scored layer and scorer: ``gen_ai.evaluation.name`` (``layer/scorer``),
    ``gen_ai.evaluation.score.value``, ``gen_ai.evaluation.score.label`` (``fired`` when
    the layer fired a category, else ``pass``), ``gen_ai.response.id`` (the request id)
    and ``redline.guard.action``. Shared by the guard's spans and ``redline watch --otel``.
    """
    for outcome in event.layers:
        for name, value in outcome.scores.items():
            yield {
                "gen_ai.evaluation.name": f"{outcome.layer}/{name}",
                "gen_ai.evaluation.score.value": float(value),
                "gen_ai.evaluation.score.label": "fired" if outcome.categories else "pass",
                "gen_ai.response.id": event.request_id,
                "redline.guard.action": event.action,
            }


def capture_from_environment() -> bool:
    """Whether ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for content."""
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in _TRUE


def provider_name(spec: str) -> str:
    """``gen_ai.provider.name`` of a target spec.

    ``openai`` for OpenAI-compatible upstreams, ``redline`` for models redline runs itself.
    """
    return "openai" if spec.startswith("openai:") else "redline"


def input_messages(messages: Sequence[Message]) -> str:
    """``gen_ai.input.messages``: the conversation in the conventions' JSON shape."""
    return json.dumps([{"role": m.role, "parts": [{"type": "text", "content": m.content}]}
                       for m in messages], ensure_ascii=False)


def output_messages(text: str, finish_reason: str) -> str:
    """``gen_ai.output.messages``: the answer in the conventions' JSON shape."""
    return json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": text}],
                        "finish_reason": finish_reason}], ensure_ascii=False)


class Telemetry:
    """A tracer, and whether spans may hold the prompt and answer.

    Args:
        tracer_provider: where spans go (an SDK ``TracerProvider``); tests pass one with
            an in-memory exporter. The servers get theirs from :func:`from_environment`.
        service: the instrumentation scope name (``redline.guard``, ``redline.serve``).
        capture_content: record ``gen_ai.input.messages`` / ``gen_ai.output.messages``.
        owns_provider: shut the provider down (flushing its batch) in :meth:`shutdown`.

    Raises:
        MissingExtraError: ``opentelemetry-api`` is not installed.
    """

    def __init__(self, tracer_provider: Any, *, service: str, capture_content: bool = False,
                 owns_provider: bool = False) -> None:
        require("opentelemetry", extra="otel", feature="OpenTelemetry spans")
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.provider = tracer_provider
        self.tracer = tracer_provider.get_tracer(service)
        self.capture_content = capture_content
        self.owns_provider = owns_provider
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)

    def start(self, operation: str, model: str, provider: str) -> Any:
        """Start the SERVER span of one request: ``{operation} {model}``.

        The span is not made current (the servers end it themselves, possibly after the
        response was returned, when a stream ends).
        """
        return self.tracer.start_span(
            f"{operation} {model}", kind=self._server,
            attributes={"gen_ai.operation.name": operation, "gen_ai.provider.name": provider,
                        "gen_ai.request.model": model})

    def request(self, span: Any, chat: Any, messages: Sequence[Message] | None = None) -> None:
        """Record what the client asked for (``chat``: a ``ChatCompletionRequest``)."""
        attributes: dict[str, Any] = {"gen_ai.request.model": chat.model,
                                      "gen_ai.request.stream": bool(chat.stream)}
        for name in ("max_tokens", "temperature", "top_p", "seed"):
            value = getattr(chat, name, None)
            if value is not None:
                attributes[f"gen_ai.request.{name}"] = value
        if self.capture_content and messages is not None:
            attributes["gen_ai.input.messages"] = input_messages(messages)
        span.set_attributes(attributes)

    def response(self, span: Any, *, model: str, finish_reason: str, input_tokens: int | None,
                 output_tokens: int | None, text: str | None = None) -> None:
        """Record the answer: model, finish reason, token counts (and text if captured)."""
        attributes: dict[str, Any] = {"gen_ai.response.model": model,
                                      "gen_ai.response.finish_reasons": [finish_reason]}
        if input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = input_tokens
        if output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = output_tokens
        if self.capture_content and text is not None:
            attributes["gen_ai.output.messages"] = output_messages(text, finish_reason)
        span.set_attributes(attributes)

    def error(self, span: Any, status_code: int, error_type: str) -> None:
        """Mark the span failed (``error.type``: the API error's code or the exception)."""
        span.set_attributes({"error.type": error_type, "http.response.status_code": status_code})
        span.set_status(self._error)

    def guard(self, span: Any, event: RequestEvent) -> None:
        """Record the guard's decision and its evaluation results, then end the span."""
        attributes: dict[str, Any] = {
            "redline.guard.action": event.action,
            "redline.guard.endpoint": event.endpoint,
            "redline.guard.client": event.client,
            "redline.request_id": event.request_id,
            "http.response.status_code": event.status_code,
        }
        if event.stage is not None:
            attributes["redline.guard.stage"] = event.stage
        if event.categories:
            attributes["redline.guard.categories"] = list(event.categories)
        if event.replica is not None:
            attributes["redline.guard.replica"] = event.replica
        if event.upstream_ms is not None:
            attributes["redline.guard.upstream_ms"] = event.upstream_ms
        if event.bypasses:
            attributes["redline.guard.bypasses"] = event.bypasses
        span.set_attributes(attributes)
        for result in evaluation_attributes(event):
            span.add_event("gen_ai.evaluation.result", result)
        if event.action == "error":
            span.set_attribute("error.type", str(event.status_code))
            span.set_status(self._error)
        span.end()

    def shutdown(self) -> None:
        """Flush and stop the provider, when this object made it."""
        if self.owns_provider:
            self.provider.shutdown()


def from_environment(
    service: str, *, endpoint: str | None = None, capture_content: bool | None = None,
) -> Telemetry | None:
    """The telemetry a server should use: None unless OTLP export is configured.

    Args:
        service: ``redline.guard`` or ``redline.serve``; also the default
            ``service.name`` (``redline-guard``, ``redline-serve``) unless
            ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` name one.
        endpoint: an OTLP/HTTP base URL (``http://collector:4318``), as ``--otlp-endpoint``
            gives it; default the ``OTEL_EXPORTER_OTLP_*`` variables.
        capture_content: record prompts and answers; default
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.

    Raises:
        MissingExtraError: export is configured but ``redline[otel]`` is not installed.
        ConfigError: ``OTEL_EXPORTER_OTLP_PROTOCOL`` asks for a protocol not supported.
    """
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if endpoint is None and not (env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                                 or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf")
    if protocol != "http/protobuf":
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not supported by redline; it exports "
            "OTLP over http/protobuf (a collector's port 4318). Unset the variable or set it "
            "to http/protobuf.")
    require("opentelemetry", extra="otel", feature="OpenTelemetry export")
    require("opentelemetry.sdk", extra="otel", feature="OpenTelemetry export")
    require("opentelemetry.exporter.otlp.proto.http", extra="otel",
            feature="OpenTelemetry export")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    named = env.get("OTEL_SERVICE_NAME") or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", "")
    resource = Resource.create({} if named else {"service.name": service.replace(".", "-")})
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(
        endpoint=None if endpoint is None else f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    capture = capture_from_environment() if capture_content is None else capture_content
    return Telemetry(provider, service=service, capture_content=capture, owns_provider=True)


__all__ = [
    "CAPTURE_ENV",
    "Telemetry",
    "capture_from_environment",
    "evaluation_attributes",
    "from_environment",
    "input_messages",
    "output_messages",
    "provider_name",
]
