"""The guard proxy: an OpenAI-compatible app that checks traffic to and from an upstream target.

Endpoints: ``POST /v1/chat/completions`` (plain and streamed), ``GET /v1/models``,
``POST /v1/checks`` (the checks alone, no generation), ``GET /health`` (liveness),
``GET /ready`` (readiness for a load balancer: 503 while the store is unreachable), and
OpenAPI docs at ``/docs``. The wire format, body limits and error shapes are those of
``redline serve`` (:mod:`redline.serve.schema`, :mod:`redline.serve.app`).

Every call to the chat and checks endpoints, whatever its outcome (answered, blocked,
refused for a bad key or a bad body, failed upstream), produces exactly one
:class:`~redline.guard.events.RequestEvent`, sent to the event log and the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# FastAPI reads the endpoints' annotations from this module's globals, so Request must be
# imported here (the CLI checks for the 'guard' extra before importing this module).
from starlette.requests import Request

from redline.errors import StoreError, require
from redline.guard.auth import Authenticator, ClientKey
from redline.guard.checks import Checker, StageDecision, with_texts
from redline.guard.events import LayerOutcome, RequestEvent, pack_embedding
from redline.guard.policy import UsagePolicy
from redline.guard.sink import EventSink
from redline.guard.stream import WordRechunker, word_chunks
from redline.serve.app import (
    APIError,
    error_from_target,
    invalid_request,
    parse_chat_request,
    read_body,
    usage_of,
)
from redline.serve.schema import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    ModelCard,
    ModelList,
    completion_id,
    now,
    sse,
)
from redline.targets.base import Target, stream
from redline.types import Completion, Message, canonical_json

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.responses import Response

    from redline.guard.metrics import GuardMetrics
    from redline.telemetry import Telemetry

log = logging.getLogger(__name__)

T = TypeVar("T")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class CheckRequest(BaseModel):
    """The body of ``POST /v1/checks``: a conversation, and optionally an answer to check."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1)
    response: str | None = None


class CheckStage(BaseModel):
    """The decision for one stage, as ``/v1/checks`` reports it."""

    action: str
    categories: list[str]
    texts: list[str]
    layers: list[LayerOutcome]


class CheckResponse(BaseModel):
    """The answer of ``POST /v1/checks``."""

    action: str
    stage: str | None
    categories: list[str]
    input: CheckStage
    output: CheckStage | None = None
    policy: dict[str, str]


@dataclass
class GuardConfig:
    """How the proxy runs.

    Attributes:
        model_name: the model id the guard reports; default the upstream's spec.
        request_timeout: seconds the upstream may take for one answer (504 after).
        default_max_tokens: used when a request gives no ``max_tokens``.
        max_tokens_limit: larger ``max_tokens`` are refused with 400.
        replica: this guard's name among the replicas behind one load balancer; recorded
            in every event and in the event log's ``open`` records.
        ready_timeout: seconds ``/ready`` waits for the store to answer.
    """

    model_name: str | None = None
    request_timeout: float = 300.0
    default_max_tokens: int = 128
    max_tokens_limit: int = 4096
    replica: str | None = None
    ready_timeout: float = 2.0


@dataclass
class Counters:
    """Live totals, served at ``/health``."""

    requests: int = 0
    blocked: int = 0
    errors: int = 0
    bypasses: int = 0
    by_action: dict[str, int] = field(default_factory=dict)


class Guard:
    """The checks, the upstream, the auth and the event sink, behind the proxy's endpoints.

    Args:
        upstream: the target that answers allowed requests.
        policy: the usage policy.
        sink: where events go.
        auth: the client keys; None means open access (client ``anonymous``).
        checker: the layers; default built from the policy.
        config: timeouts and limits.
        telemetry: where request spans go; None (tracing not configured) makes none.
        metrics: the Prometheus counters served at ``/metrics``; None serves no such route.
    """

    def __init__(
        self,
        upstream: Target,
        policy: UsagePolicy,
        sink: EventSink,
        *,
        auth: Authenticator | None = None,
        checker: Checker | None = None,
        config: GuardConfig | None = None,
        telemetry: Telemetry | None = None,
        metrics: GuardMetrics | None = None,
    ) -> None:
        self.upstream = upstream
        self.telemetry = telemetry
        self.metrics = metrics
        self.policy = policy
        self.sink = sink
        self.auth = auth
        self.checker = checker or Checker(policy, upstream=upstream)
        self.config = config or GuardConfig()
        self.model_name = self.config.model_name or upstream.spec
        self.counters = Counters()
        self._policy_id = {"name": policy.name, "revision": policy.revision,
                           "sha256": policy.sha256}
        self.overlaps = bool(self.checker.layers_for("input", overlapped=True))
        self._refusal_known = any(
            "output" in la.spec.stages and any(
                ref.name == "refusal" or ref.category == "refusal" for ref in la.spec.scorers)
            for la in self.checker.layers
        )

    # --- the event of one request ---------------------------------------------------------

    def new_event(self, request: Request, endpoint: str) -> RequestEvent:
        """An event for a request that just arrived."""
        given = request.headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(16)
        return RequestEvent(request_id=request_id, endpoint=endpoint,  # type: ignore[arg-type]
                            policy=self._policy_id, replica=self.config.replica)

    def start_span(self, operation: str) -> Any:
        """The span of a request that just arrived, or None when tracing is off."""
        if self.telemetry is None:
            return None
        from redline.telemetry import provider_name

        return self.telemetry.start(operation, self.model_name,
                                    provider_name(self.upstream.spec))

    def trace_answer(
        self, span: Any, messages: Sequence[Message], text: str, finish: FinishReason,
        upstream: Completion | None = None,
    ) -> None:
        """Record the answer the client got on the request's span (when there is one)."""
        if span is None or self.telemetry is None:
            return
        usage = usage_of(messages, Completion(
            text=text, prompt_tokens=upstream.prompt_tokens if upstream else None,
            completion_tokens=upstream.completion_tokens if upstream else None))
        self.telemetry.response(span, model=self.model_name, finish_reason=finish,
                                input_tokens=usage.prompt_tokens,
                                output_tokens=usage.completion_tokens, text=text)

    def trace_request(
        self, span: Any, chat: ChatCompletionRequest, messages: Sequence[Message]
    ) -> None:
        """Record what the client asked for on the request's span (when there is one)."""
        if span is not None and self.telemetry is not None:
            self.telemetry.request(span, chat, messages)

    def finish(self, event: RequestEvent, started: float, span: Any = None) -> None:
        """Stamp the latency and send the event (exactly once per request); end the span."""
        event.latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
        counters = self.counters
        counters.requests += 1
        counters.by_action[event.action] = counters.by_action.get(event.action, 0) + 1
        counters.blocked += event.action == "block"
        counters.errors += event.action == "error"
        counters.bypasses += event.bypasses
        if self.metrics is not None:
            self.metrics.observe(event)
        if span is not None and self.telemetry is not None:
            try:
                self.telemetry.guard(span, event)
            except Exception:  # noqa: BLE001 - tracing must not lose the answer or the event
                log.exception("could not record span of %s", event.request_id)
        try:
            self.sink.emit(event)
        except Exception:  # noqa: BLE001 - losing the record must not lose the answer
            log.exception("could not record event %s", event.request_id)

    async def authenticate(self, request: Request, event: RequestEvent) -> None:
        """Name the client on the event, or refuse.

        Raises:
            APIError: 401 for a missing or unknown key, 429 over the key's rate limit or
                per-minute limit, 503 when the store that counts that limit is unreachable.
        """
        if self.auth is None:
            return
        client: ClientKey | None = self.auth.client(request.headers.get("authorization"))
        if client is None:
            if self.auth.required:
                raise APIError(
                    401, "Missing or unknown API key. Send 'Authorization: Bearer <key>'; "
                    "make keys with `redline guard keys add NAME`.", "invalid_request_error",
                    code="invalid_api_key")
            return
        event.client = client.name
        wait = self.auth.retry_after(client)
        if wait > 0:
            raise _too_many(f"Rate limit of {client.rate:g} requests/s for client "
                            f"'{client.name}' exceeded; retry after {wait:.2f} s.", wait)
        try:
            wait = await self.auth.per_minute_wait(client)
        except StoreError as exc:  # fail closed: a limit that cannot be counted is not waived
            log.warning("per-minute limit of %s not counted: %s", client.name, exc)
            raise APIError(503, "The store that counts per-minute limits is unreachable; "
                           "retry shortly.", "server_error", code="store_unavailable") from exc
        if wait > 0:
            raise _too_many(f"Limit of {client.per_minute} requests per minute for client "
                            f"'{client.name}' reached; retry after {wait:.0f} s.", wait)

    async def readiness(self) -> str | None:
        """None when this guard can serve, else why not (the store does not answer)."""
        store = self.sink.store
        if store is None and self.auth is not None and self.auth.windows is not None:
            store = self.auth.windows.store
        if store is None:
            return None
        try:
            await asyncio.wait_for(asyncio.to_thread(store.ping), self.config.ready_timeout)
        except TimeoutError:
            return f"the store did not answer within {self.config.ready_timeout:g} s"
        except StoreError as exc:
            return str(exc)
        return None

    def check_limits(self, messages: Sequence[Message]) -> None:
        """Refuse requests over the policy's size limits.

        Raises:
            APIError: 400 with what is over and by how much.
        """
        limits = self.policy.limits
        if len(messages) > limits.max_messages:
            raise invalid_request(
                f"The request has {len(messages)} messages; this guard accepts at most "
                f"{limits.max_messages}. Send a shorter conversation.", param="messages")
        chars = sum(len(m.content) for m in messages)
        if chars > limits.max_chars:
            raise invalid_request(
                f"The messages hold {chars} characters; this guard accepts at most "
                f"{limits.max_chars}. Send a shorter conversation.", param="messages")

    def record_input(self, event: RequestEvent, messages: Sequence[Message]) -> None:
        """Hashes (and, if the policy says so, the text) of the prompt."""
        wire = [m.to_dict() for m in messages]
        event.prompt_sha256 = hashlib.sha256(canonical_json(wire).encode()).hexdigest()
        event.prompt_chars = sum(len(m.content) for m in messages)
        if self.policy.capture.content:
            event.prompt = wire

    def record_stage(self, event: RequestEvent, decision: StageDecision) -> None:
        """Fold one stage's decision into the event."""
        event.layers += decision.outcomes
        event.bypasses += decision.bypasses
        for category in decision.categories:
            if category not in event.categories:
                event.categories.append(category)
        if decision.action != "allow":
            from redline.guard.policy import ACTION_RANK

            if ACTION_RANK[decision.action] > ACTION_RANK.get(event.action, 0):
                event.action = decision.action
                event.stage = decision.outcomes[0].stage if decision.outcomes else None
        if (decision.embedding is not None and self.policy.capture.embeddings
                and event.embedding is None):
            try:
                event.embedding = pack_embedding(decision.embedding)
            except (TypeError, ValueError):
                log.debug("layer embedding could not be packed", exc_info=True)

    def record_output(self, event: RequestEvent, text: str, decision: StageDecision) -> None:
        """Hashes of the answer, and whether the upstream refused."""
        event.response_sha256 = hashlib.sha256(text.encode()).hexdigest()
        if self.policy.capture.content:
            event.response = text
        if self._refusal_known:
            event.upstream_refused = "refusal" in decision.categories

    # --- the stages ---------------------------------------------------------------------

    async def check_input(
        self, event: RequestEvent, messages: tuple[Message, ...],
        overlapped: bool | None = None,
    ) -> tuple[StageDecision, tuple[Message, ...]]:
        """Input checks; returns the decision and the (possibly redacted) messages.

        ``overlapped``: which layers (see :meth:`Checker.layers_for`); when the layers that
        gate the upstream block, the overlapped ones are recorded as skipped.
        """
        decision = await self.checker.check("input", messages, overlapped=overlapped)
        self.record_stage(event, decision)
        if overlapped is False and decision.blocked:
            event.layers += self.checker.skipped("input", overlapped=True)
        if decision.action == "redact":
            messages = with_texts(messages, decision.texts)
        return decision, messages

    async def overlapped(
        self, event: RequestEvent, messages: tuple[Message, ...],
        call: Callable[[tuple[Message, ...]], Awaitable[T]],
    ) -> tuple[T | None, tuple[Message, ...]]:
        """``call(messages)`` (the upstream) while the ``overlap`` input layers judge them.

        Returns what the call returned and the messages it answered, or None when those
        layers block (the call is cancelled). A redaction cancels the call and makes it
        again with the redacted messages. Without such layers, just the call.
        """
        if not self.overlaps:
            return await call(messages), messages
        answer = asyncio.ensure_future(call(messages))
        try:
            decision, checked = await self.check_input(event, messages, overlapped=True)
        except BaseException:
            _drop(answer)
            raise
        if decision.blocked:
            _drop(answer)
            return None, messages
        if checked is not messages:
            _drop(answer)
            return await call(checked), checked
        return await answer, messages

    async def check_output(
        self, event: RequestEvent, messages: tuple[Message, ...], text: str
    ) -> tuple[StageDecision, str]:
        """Output checks; returns the decision and the text to release."""
        decision = await self.checker.check("output", messages, text)
        self.record_stage(event, decision)
        self.record_output(event, text, decision)
        if decision.blocked:
            return decision, self.policy.refusal_message
        if decision.action == "redact":
            return decision, decision.texts[0]
        return decision, text

    async def generate(
        self, event: RequestEvent, messages: tuple[Message, ...], chat: ChatCompletionRequest
    ) -> Completion:
        """One upstream answer, timed.

        Raises:
            APIError: the upstream failed (502) or timed out (504).
        """
        params = _params(chat, self.config.default_max_tokens)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.request_timeout):
                completion = await self.upstream.generate(messages, params)
        except Exception as exc:  # noqa: BLE001 - every upstream failure is an error answer
            raise error_from_target(exc, self.upstream.spec, self.config.request_timeout) from exc
        finally:
            event.upstream_ms = round((time.perf_counter() - started) * 1000.0, 3)
        if completion.finish_reason == "error":
            raise APIError(502, f"Upstream '{self.upstream.spec}' reported an error.",
                           "upstream_error", code="target_error")
        return completion

    async def collect_stream(
        self, event: RequestEvent, messages: tuple[Message, ...], chat: ChatCompletionRequest
    ) -> str:
        """The whole streamed answer, held back until the output checks (buffer mode).

        Raises:
            APIError: the upstream failed or timed out.
        """
        params = _params(chat, self.config.default_max_tokens)
        started = time.perf_counter()

        async def gather() -> str:
            return "".join([piece async for piece in stream(self.upstream, messages, params)])

        try:
            return await asyncio.wait_for(gather(), self.config.request_timeout)
        except Exception as exc:  # noqa: BLE001 - every upstream failure is an error answer
            raise error_from_target(exc, self.upstream.spec, self.config.request_timeout) from exc
        finally:
            event.upstream_ms = round((time.perf_counter() - started) * 1000.0, 3)

    def completion_body(
        self, messages: Sequence[Message], text: str, finish: FinishReason, upstream: Completion
    ) -> bytes:
        """The JSON body of a non-streamed answer (encoded by pydantic in one pass)."""
        usage = usage_of(messages, Completion(text=text, prompt_tokens=upstream.prompt_tokens,
                                              completion_tokens=upstream.completion_tokens))
        return ChatCompletion(
            model=self.model_name,
            choices=[Choice(message=AssistantMessage(content=text), finish_reason=finish)],
            usage=usage,
        ).model_dump_json().encode()


def _params(chat: ChatCompletionRequest, default_max_tokens: int) -> Any:
    from redline.errors import ConfigError

    try:
        return chat.to_params(default_max_tokens)
    except ConfigError as exc:
        raise invalid_request(str(exc)) from exc


def _finish(completion: Completion) -> FinishReason:
    return "length" if completion.finish_reason == "length" else "stop"


def _headers(event: RequestEvent) -> dict[str, str]:
    headers = {"X-Request-ID": event.request_id, "X-Redline-Action": event.action}
    if event.categories:
        headers["X-Redline-Categories"] = ",".join(event.categories)
    return headers


def sse_chunks(
    model: str,
    pieces: Sequence[str] | AsyncIterator[str],
    finish: FinishReason | Callable[[], FinishReason],
) -> AsyncIterator[bytes]:
    """Server-sent events for the given text pieces, ending in ``[DONE]``.

    ``finish`` may be a function, read after the last piece (stream-first decides late).
    """
    cid, created = completion_id(), now()

    def chunk(delta: Delta, reason: FinishReason | None = None) -> bytes:
        return sse(ChatCompletionChunk(id=cid, created=created, model=model,
                                       choices=[ChunkChoice(delta=delta, finish_reason=reason)]))

    async def events() -> AsyncIterator[bytes]:
        yield chunk(Delta(role="assistant", content=""))
        if isinstance(pieces, Sequence):
            for piece in pieces:
                yield chunk(Delta(content=piece))
        else:
            async for piece in pieces:
                yield chunk(Delta(content=piece))
        yield chunk(Delta(), finish() if callable(finish) else finish)
        yield sse("[DONE]")

    return events()


def create_guard_app(guard: Guard, *, close: bool = True) -> FastAPI:
    """The FastAPI app of the guard proxy.

    Args:
        guard: the guard to serve.
        close: on shutdown, close the event sink (final signed checkpoint) and the upstream.

    Raises:
        MissingExtraError: fastapi is not installed.
    """
    require("fastapi", extra="guard", feature="redline guard")
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.exceptions import HTTPException

    policy = guard.policy

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close:
            guard.sink.close()
            await guard.upstream.aclose()
            if guard.telemetry is not None:
                guard.telemetry.shutdown()  # the last batch of spans goes out

    app = FastAPI(
        title="redline guard",
        version="1",
        lifespan=lifespan,
        description="An OpenAI-compatible proxy that enforces a usage policy with layered "
        f"safety checks. Policy: {policy.name} {policy.revision} ({policy.sha256[:12]}).",
    )

    def error_response(error: APIError, event: RequestEvent | None = None) -> JSONResponse:
        headers = _headers(event) if event is not None else {}
        wait = getattr(error, "retry_after", None)
        if wait is not None:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return JSONResponse(error.body.model_dump(), status_code=error.status_code,
                            headers=headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(APIError(
                404, f"No route {request.method} {request.url.path}. The guard answers "
                "POST /v1/chat/completions, POST /v1/checks and GET /v1/models.",
                "not_found_error", code="not_found"))
        return error_response(APIError(exc.status_code, str(exc.detail),
                                       "invalid_request_error"))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(invalid_request(f"Invalid request: {exc.errors()[:1]}"))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in redline guard")
        return error_response(APIError(500, f"Internal error: {type(exc).__name__}. See the "
                                       "guard's log.", "server_error", code="internal_error"))

    @app.get("/health", summary="Liveness and live counters")
    async def health() -> dict[str, Any]:
        c = guard.counters
        return {"status": "ok", "replica": guard.config.replica,
                "model": guard.model_name, "policy": guard._policy_id,
                "requests": c.requests, "blocked": c.blocked, "errors": c.errors,
                "bypasses": c.bypasses, "by_action": c.by_action}

    @app.get("/ready", response_model=None,
             summary="Readiness for a load balancer (503: the store is unreachable)")
    async def ready() -> JSONResponse:
        problem = await guard.readiness()
        body = {"status": "ready" if problem is None else "unavailable",
                "replica": guard.config.replica, "problem": problem}
        return JSONResponse(body, status_code=200 if problem is None else 503)

    if guard.metrics is not None:
        from redline.guard.metrics import metrics_response

        metrics = guard.metrics

        @app.get("/metrics", response_model=None,
                 summary="Prometheus metrics: requests by action and category, latency")
        async def prometheus_metrics() -> Response:
            return metrics_response(metrics)  # type: ignore[no-any-return]

    @app.get("/v1/models", summary="The model the guard serves")
    async def models() -> dict[str, Any]:
        return ModelList(data=[ModelCard(id=guard.model_name)]).model_dump()

    chat_schema = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": ChatCompletionRequest.model_json_schema()}}}}

    @app.post(CHAT_PATH, response_model=None, openapi_extra=chat_schema,
              summary="Chat completion through the policy's checks (stream supported)")
    async def chat_completions(request: Request) -> Response:
        started = time.perf_counter()
        event = guard.new_event(request, "chat")
        span = guard.start_span("chat")
        deferred = False  # a stream-first answer records its event when the stream ends
        try:
            await guard.authenticate(request, event)
            body = await read_body(request, policy.limits.max_body_bytes)
            chat = parse_chat_request(body, max_tokens_limit=guard.config.max_tokens_limit)
            event.model, event.stream = chat.model[:200], chat.stream
            messages = chat.to_messages()
            guard.trace_request(span, chat, messages)
            guard.check_limits(messages)
            guard.record_input(event, messages)
            decision, messages = await guard.check_input(event, messages, overlapped=False)
            if decision.blocked:
                return _refusal(guard, event, chat, messages, span)
            if chat.stream and policy.stream.mode == "stream-first":
                if guard.overlaps:  # nothing is released before every input layer passed
                    decision, messages = await guard.check_input(event, messages,
                                                                 overlapped=True)
                    if decision.blocked:
                        return _refusal(guard, event, chat, messages, span)
                response = await _stream_first(guard, event, chat, messages, started, span)
                deferred = True
                return response
            if chat.stream:
                text, messages = await guard.overlapped(
                    event, messages, lambda m: guard.collect_stream(event, m, chat))
                if text is None:
                    return _refusal(guard, event, chat, messages, span)
                out, released = await guard.check_output(event, messages, text)
                finish: FinishReason = "content_filter" if out.blocked else "stop"
                guard.trace_answer(span, messages, released, finish)
                pieces = list(word_chunks(released, policy.stream.chunk_chars))
                return StreamingResponse(
                    sse_chunks(guard.model_name, pieces, finish),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-cache", **_headers(event)})
            completion, messages = await guard.overlapped(
                event, messages, lambda m: guard.generate(event, m, chat))
            if completion is None:
                return _refusal(guard, event, chat, messages, span)
            out, released = await guard.check_output(event, messages, completion.text)
            finish = "content_filter" if out.blocked else _finish(completion)
            guard.trace_answer(span, messages, released, finish, completion)
            return _answer(guard.completion_body(messages, released, finish, completion),
                           event)
        except APIError as error:
            event.action, event.status_code = "error", error.status_code
            event.error = error.body.error.message[:500]
            return error_response(error, event)
        finally:
            if not deferred:
                guard.finish(event, started, span)

    # The hot path is served by a plain Starlette route placed first: it goes through the
    # app's middleware (CORS, tracing and metrics middleware see it) and exception
    # handlers like every route, but skips FastAPI's per-request dependency solving, about
    # 0.1 ms of CPU per request (benchmarks/RESULTS.md, "OpenTelemetry and /metrics"; the
    # former bypass of the whole stack saved 0.13 ms more). The FastAPI route above stays
    # for the OpenAPI docs and answers nothing a POST would reach.
    from starlette.routing import Route

    app.router.routes.insert(0, Route(CHAT_PATH, chat_completions, methods=["POST"]))

    @app.post("/v1/checks", response_model=CheckResponse, summary="Run the checks only")
    async def checks(request: Request) -> JSONResponse:
        started = time.perf_counter()
        event = guard.new_event(request, "checks")
        span = guard.start_span("checks")
        try:
            await guard.authenticate(request, event)
            body = await read_body(request, policy.limits.max_body_bytes)
            try:
                parsed = CheckRequest.model_validate_json(body)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "body"
                raise invalid_request(
                    f"Invalid checks request: '{where}': {first['msg']}. Send "
                    "{\"messages\": [...], \"response\": optional text}.", param=where) from exc
            messages = tuple(m.to_message() for m in parsed.messages)
            guard.check_limits(messages)
            guard.record_input(event, messages)
            decision, messages = await guard.check_input(event, messages)
            out_stage = None
            if parsed.response is not None and not decision.blocked:
                out, released = await guard.check_output(event, messages, parsed.response)
                out_stage = CheckStage(action=out.action, categories=out.categories,
                                       texts=[released], layers=out.outcomes)
            result = CheckResponse(
                action=event.action, stage=event.stage, categories=event.categories,
                input=CheckStage(action=decision.action, categories=decision.categories,
                                 texts=list(decision.texts), layers=decision.outcomes),
                output=out_stage, policy=guard._policy_id)
            return JSONResponse(result.model_dump(), headers=_headers(event))
        except APIError as error:
            event.action, event.status_code = "error", error.status_code
            event.error = error.body.error.message[:500]
            return error_response(error, event)
        finally:
            guard.finish(event, started, span)

    return app


CHAT_PATH = "/v1/chat/completions"


def _too_many(message: str, wait: float) -> APIError:
    """A 429 that tells the client (``Retry-After``) when to try again."""
    error = APIError(429, message, "invalid_request_error", code="rate_limit_exceeded")
    error.retry_after = wait  # type: ignore[attr-defined]
    return error


def _drop(task: asyncio.Future[Any]) -> None:
    """Cancel an upstream call nobody will read; a failure it already had is not logged."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


def _refusal(
    guard: Guard, event: RequestEvent, chat: ChatCompletionRequest,
    messages: Sequence[Message], span: Any = None,
) -> Response:
    from fastapi.responses import StreamingResponse

    text = guard.policy.refusal_message
    guard.trace_answer(span, messages, text, "content_filter")
    if chat.stream:
        pieces = list(word_chunks(text, guard.policy.stream.chunk_chars))
        return StreamingResponse(sse_chunks(guard.model_name, pieces, "content_filter"),
                                 media_type="text/event-stream", headers=_headers(event))
    return _answer(guard.completion_body(messages, text, "content_filter", Completion(text=text)),
                   event)


def _answer(body: bytes, event: RequestEvent) -> Response:
    """A JSON answer already encoded, with the event's headers."""
    from starlette.responses import Response

    return Response(body, media_type="application/json", headers=_headers(event))


async def _stream_first(
    guard: Guard,
    event: RequestEvent,
    chat: ChatCompletionRequest,
    messages: tuple[Message, ...],
    started: float,
    span: Any = None,
) -> StreamingResponse:
    """Release whole-word chunks as they come; check the whole answer at the end (opt-in).

    The event is recorded when the stream ends, since only then is the decision known.
    """
    from fastapi.responses import StreamingResponse

    params = _params(chat, guard.config.default_max_tokens)
    rechunker = WordRechunker(guard.policy.stream.chunk_chars)
    pieces_in = stream(guard.upstream, messages, params).__aiter__()
    upstream_started = time.perf_counter()
    try:
        first = await asyncio.wait_for(anext(pieces_in, None), guard.config.request_timeout)
    except Exception as exc:  # noqa: BLE001 - every upstream failure is an error answer
        raise error_from_target(exc, guard.upstream.spec, guard.config.request_timeout) from exc
    finish: list[FinishReason] = ["stop"]

    async def relay() -> AsyncIterator[str]:
        text: list[str] = []
        try:
            piece = first
            while piece is not None:
                text.append(piece)
                for ready in rechunker.feed(piece):
                    yield ready
                piece = await anext(pieces_in, None)
            for ready in rechunker.flush():
                yield ready
            event.upstream_ms = round((time.perf_counter() - upstream_started) * 1000.0, 3)
            out, _ = await guard.check_output(event, messages, "".join(text))
            if out.blocked:  # too late to hold it back: say so in the finish reason
                finish[0] = "content_filter"
            guard.trace_answer(span, messages, "".join(text), finish[0])
        except Exception as exc:  # noqa: BLE001 - the status is sent; record the failure
            event.action, event.error = "error", f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            guard.finish(event, started, span)

    return StreamingResponse(sse_chunks(guard.model_name, relay(), lambda: finish[0]),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", **_headers(event)})


__all__ = ["CheckRequest", "CheckResponse", "Guard", "GuardConfig", "create_guard_app"]
