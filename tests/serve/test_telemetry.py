"""`redline serve` spans (OpenTelemetry GenAI conventions) on a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from redline.serve import background_server, create_app  # noqa: E402
from redline.targets import MockTarget  # noqa: E402
from redline.telemetry import Telemetry, from_environment  # noqa: E402

PROMPT = "name three rivers in Europe please"
ANSWER = "the Danube the Rhine and the Loire"


def served(exporter: InMemorySpanExporter, capture: bool = False, **target: object):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(provider, service="redline.serve", capture_content=capture)
    return background_server(create_app(MockTarget(**target) if target else MockTarget([ANSWER]),
                                        model_name="served", telemetry=telemetry))


def chat(url: str, **extra: object) -> httpx.Response:
    body = {"model": "asked", "messages": [{"role": "user", "content": PROMPT}], **extra}
    return httpx.post(f"{url}/chat/completions", json=body,
                      headers={"Authorization": "Bearer sk-never-in-a-span"}, timeout=30)


def test_serve_spans_plain_stream_and_errors() -> None:
    exporter = InMemorySpanExporter()
    with served(exporter) as url:
        plain = chat(url, max_tokens=16, seed=7)
        streamed = chat(url, stream=True)
        bad = httpx.post(f"{url}/chat/completions", json={"messages": []}, timeout=30)
        after = chat(url)
    assert plain.status_code == 200 and streamed.status_code == 200
    assert bad.status_code == 400 and after.status_code == 200
    first, stream, error, last = exporter.get_finished_spans()
    a = first.attributes
    assert first.name == "chat served" and first.kind == SpanKind.SERVER
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "asked"
    assert a["gen_ai.request.max_tokens"] == 16 and a["gen_ai.request.seed"] == 7
    assert a["gen_ai.response.model"] == "served"
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.input_tokens"] == plain.json()["usage"]["prompt_tokens"]
    assert a["gen_ai.usage.output_tokens"] == plain.json()["usage"]["completion_tokens"] > 0
    assert stream.attributes["gen_ai.request.stream"] is True
    assert stream.attributes["gen_ai.usage.output_tokens"] == len(ANSWER.split())
    assert error.status.status_code == StatusCode.ERROR
    assert error.attributes["http.response.status_code"] == 400
    assert last.status.status_code != StatusCode.ERROR
    for span in (first, stream, error, last):
        values = " ".join(str(v) for v in span.attributes.values())
        assert "sk-never" not in values and "rivers" not in values and "Danube" not in values


def test_serve_captures_content_only_when_configured() -> None:
    exporter = InMemorySpanExporter()
    with served(exporter, capture=True) as url:
        chat(url)
    [span] = exporter.get_finished_spans()
    assert PROMPT in span.attributes["gen_ai.input.messages"]
    [out] = json.loads(span.attributes["gen_ai.output.messages"])
    assert out["parts"][0]["content"] == ANSWER


def test_upstream_failure_is_an_error_span() -> None:
    def fail(messages: object) -> str:
        raise RuntimeError("model crashed")

    exporter = InMemorySpanExporter()
    with served(exporter, responder=fail) as url:
        r = chat(url)
    assert r.status_code == 502
    [span] = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 502


def test_not_configured_means_no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    assert from_environment("redline.serve") is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    configured = from_environment("redline.serve")
    assert configured is not None and configured.capture_content is False
    configured.shutdown()
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    configured = from_environment("redline.serve")
    assert configured is not None and configured.capture_content is True
    configured.shutdown()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert from_environment("redline.serve") is None


def test_import_redline_pulls_in_no_telemetry_library() -> None:
    code = ("import sys, redline, redline.serve, redline.guard, redline.telemetry; "
            "print([m for m in sys.modules if m.startswith(('opentelemetry', "
            "'prometheus_client'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
