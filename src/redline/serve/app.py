"""An OpenAI-compatible HTTP app in front of any target.

``create_app(target)`` returns a FastAPI app with ``POST /v1/chat/completions`` (plain and
server-sent-event streaming), ``GET /v1/models`` and ``GET /health``. It is reusable: a
proxy passes its own target (for example one that checks requests and answers before and
after an upstream model) and gets the same wire format, limits and errors.

Every failure is an answer in OpenAI's error shape, never a crash:

- malformed JSON, wrong types, unknown roles, empty ``messages`` → 400;
- a body over ``max_body_bytes`` → 413; an unknown path → 404;
- the target failing → 502; the target not answering within ``request_timeout`` → 504;
- a target (or wrapper) may raise :class:`APIError` to choose the status and body itself.

Token counts come from the target when it reports them, else they are whitespace word
counts (streamed answers always use word counts).

With a :class:`~redline.telemetry.Telemetry` each chat request gets one span named by the
OpenTelemetry GenAI conventions (see :mod:`redline.telemetry`); without one, none.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from redline.errors import ConfigError, RedlineError, TargetError, TargetHTTPError, require
from redline.serve.schema import (
    DEFAULT_MAX_TOKENS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorResponse,
    ErrorType,
    FinishReason,
    ModelCard,
    ModelList,
    Usage,
    completion_id,
    now,
    sse,
)
from redline.targets.base import Target, stream
from redline.types import Completion, GenerateParams, Message

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from redline.telemetry import Telemetry

# Called once when a stream ends: the whole text sent, and the error sent in-band if any.
StreamEnd = Callable[[str, "APIError | None"], None]

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_REQUEST_TIMEOUT = 300.0
DEFAULT_MAX_TOKENS_LIMIT = 4096


class APIError(Exception):
    """An error answer: HTTP status plus an OpenAI-shaped body.

    Raise it from a target or wrapper to answer the client with exactly this error.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        type_: ErrorType,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = ErrorResponse.of(message, type_, param=param, code=code)
        self.headers = headers


def invalid_request(message: str, *, param: str | None = None) -> APIError:
    """A 400 ``invalid_request_error``."""
    return APIError(400, message, "invalid_request_error", param=param, code="invalid_request")


def error_from_target(exc: BaseException, spec: str, timeout: float) -> APIError:
    """The answer for a target that failed: 504 for timeouts, 400 for bad options, else 502."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, TimeoutError):
        return APIError(
            504,
            f"Target '{spec}' did not answer within {timeout:g} s. Retry, ask for fewer "
            "tokens, or start the server with a longer --request-timeout.",
            "timeout_error",
            code="target_timeout",
        )
    if isinstance(exc, TargetHTTPError) and exc.status_code in (408, 504):
        return APIError(504, str(exc), "timeout_error", code="target_timeout")
    if isinstance(exc, ConfigError):
        return invalid_request(str(exc))
    if isinstance(exc, TargetError | RedlineError):
        return APIError(502, str(exc), "upstream_error", code="target_error")
    return APIError(
        502,
        f"Target '{spec}' failed: {type(exc).__name__}: {exc}. See the server log.",
        "upstream_error",
        code="target_error",
    )


def _validation_message(error: ValidationError) -> tuple[str, str | None]:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = f"Invalid request: '{where or 'body'}': {first['msg']}"
    if len(error.errors()) > 1:
        message += f" (and {len(error.errors()) - 1} more problem(s))"
    return message + ".", where or None


def parse_chat_request(
    body: bytes, *, max_tokens_limit: int = DEFAULT_MAX_TOKENS_LIMIT
) -> ChatCompletionRequest:
    """Parse and check a raw request body.

    Raises:
        APIError: 400 for malformed JSON, a body that is not an object, wrong fields or
            ``max_tokens`` above ``max_tokens_limit``.
    """
    try:
        request = ChatCompletionRequest.model_validate_json(body)  # one pass, for good bodies
    except ValidationError:
        request = _parse_for_errors(body)  # the same checks, step by step, to say what is wrong
    asked = request.max_completion_tokens or request.max_tokens or 0
    if asked > max_tokens_limit:
        raise invalid_request(
            f"max_tokens {asked} is above this server's limit of {max_tokens_limit}.",
            param="max_tokens",
        )
    return request


def _parse_for_errors(body: bytes) -> ChatCompletionRequest:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request(
            f"The body is not valid JSON ({exc}). Send a JSON object with 'model' and 'messages'."
        ) from exc
    if not isinstance(data, dict):
        raise invalid_request(
            f"The body must be a JSON object, got {type(data).__name__}. "
            "Send {\"model\": ..., \"messages\": [...]}."
        )
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        message, param = _validation_message(exc)
        raise invalid_request(message, param=param) from exc


async def read_body(request: "Request", max_body_bytes: int) -> bytes:
    """The request body, refusing more than ``max_body_bytes`` before reading it all.

    Raises:
        APIError: 413 when the body is too large (by header or by what arrives).
        ClientDisconnect: the client went away first.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:  # the ASGI messages themselves: Request.stream() costs more than the parse
        message = await request.receive()
        if message["type"] == "http.disconnect":
            from starlette.requests import ClientDisconnect

            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise _too_large(max_body_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunk if len(chunks) == 1 else b"".join(chunks)


def _too_large(max_body_bytes: int) -> APIError:
    return APIError(
        413,
        f"The request body is larger than this server's limit of {max_body_bytes} bytes. "
        "Send a shorter conversation.",
        "request_too_large",
        code="request_too_large",
    )


def _words(text: str) -> int:
    return len(text.split())


def usage_of(messages: Sequence[Message], completion: Completion) -> Usage:
    """Token counts: the target's where it reports them, else word counts."""
    prompt = completion.prompt_tokens
    if prompt is None:
        prompt = sum(_words(m.content) for m in messages)
    answer = completion.completion_tokens
    if answer is None:
        answer = _words(completion.text)
    return Usage.of(prompt, answer)


def _finish_reason(completion: Completion) -> FinishReason:
    return "length" if completion.finish_reason == "length" else "stop"


async def answer(
    target: Target,
    request: ChatCompletionRequest,
    *,
    model_name: str,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> ChatCompletion:
    """Answer a non-streamed request.

    Raises:
        APIError: the target failed or timed out, or the parameters are invalid.
    """
    messages = request.to_messages()
    params = _params(request, default_max_tokens)
    try:
        completion = await asyncio.wait_for(target.generate(messages, params), request_timeout)
    except Exception as exc:  # noqa: BLE001 - every target failure becomes a 5xx answer
        raise error_from_target(exc, target.spec, request_timeout) from exc
    if completion.finish_reason == "error":
        raise APIError(
            502, f"Target '{target.spec}' reported an error: {completion.text[:200]}",
            "upstream_error", code="target_error",
        )
    return ChatCompletion(
        model=model_name,
        choices=[
            Choice(
                message=AssistantMessage(content=completion.text),
                finish_reason=_finish_reason(completion),
            )
        ],
        usage=usage_of(messages, completion),
    )


def _params(request: ChatCompletionRequest, default_max_tokens: int) -> GenerateParams:
    try:
        return request.to_params(default_max_tokens)
    except ConfigError as exc:
        raise invalid_request(str(exc)) from exc


_END = object()


async def answer_stream(
    target: Target,
    request: ChatCompletionRequest,
    *,
    model_name: str,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    on_end: StreamEnd | None = None,
) -> AsyncIterator[bytes]:
    """Answer a streamed request as server-sent events, ending in ``data: [DONE]``.

    The first piece is awaited before this returns, so a target that fails at once gives
    an error status instead of a broken stream. A failure later in the stream is sent as
    one ``data: {"error": ...}`` event, after which the stream ends without ``[DONE]``.

    ``on_end`` is called with the text sent when the stream ends (and the in-band error,
    if there was one).

    Raises:
        APIError: the target failed or timed out before its first piece.
    """
    messages = request.to_messages()
    params = _params(request, default_max_tokens)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request_timeout
    pieces = stream(target, messages, params).__aiter__()

    async def next_piece() -> Any:
        return await asyncio.wait_for(anext(pieces, _END), max(0.0, deadline - loop.time()))

    try:
        first = await next_piece()
    except Exception as exc:  # noqa: BLE001 - every target failure becomes a 5xx answer
        await _close(pieces)
        raise error_from_target(exc, target.spec, request_timeout) from exc
    return _events(target, request, model_name, messages, first, next_piece, pieces,
                   request_timeout, on_end)


async def _close(pieces: AsyncIterator[str]) -> None:
    closer = getattr(pieces, "aclose", None)
    if closer is not None:
        try:
            await closer()
        except Exception:  # noqa: BLE001 - closing a broken stream must not mask its error
            log.debug("closing a target stream failed", exc_info=True)


async def _events(
    target: Target,
    request: ChatCompletionRequest,
    model_name: str,
    messages: Sequence[Message],
    first: Any,
    next_piece: Any,
    pieces: AsyncIterator[str],
    request_timeout: float,
    on_end: StreamEnd | None = None,
) -> AsyncIterator[bytes]:
    cid, created = completion_id(), now()

    def chunk(delta: Delta, finish: FinishReason | None = None) -> bytes:
        choice = ChunkChoice(delta=delta, finish_reason=finish)
        return sse(ChatCompletionChunk(id=cid, created=created, model=model_name,
                                       choices=[choice]))

    text: list[str] = []
    try:
        yield chunk(Delta(role="assistant", content=""))
        piece = first
        while piece is not _END:
            if piece:
                text.append(piece)
                yield chunk(Delta(content=piece))
            try:
                piece = await next_piece()
            except Exception as exc:  # noqa: BLE001 - reported in-band, the status is sent
                error = error_from_target(exc, target.spec, request_timeout)
                log.warning("stream from %s failed: %s", target.spec, exc)
                if on_end is not None:
                    on_end("".join(text), error)
                yield sse(error.body.model_dump())
                return
        if on_end is not None:
            on_end("".join(text), None)
        yield chunk(Delta(), "stop")
        if request.stream_options and request.stream_options.include_usage:
            usage = usage_of(messages, Completion(text="".join(text)))
            yield sse(ChatCompletionChunk(id=cid, created=created, model=model_name,
                                          choices=[], usage=usage))
        yield sse("[DONE]")
    finally:
        await _close(pieces)


def install_error_handlers(app: "FastAPI", *, service: str, routes: str) -> None:
    """Answer every error of ``app`` in OpenAI's shape, never with a crash or an HTML page.

    :class:`APIError` gives its own status and body (and ``headers``); unknown paths give
    404 naming the ``routes`` the service answers; other HTTP errors and request
    validation errors give their status as ``invalid_request_error``; anything unexpected
    is logged and answered 500.

    Args:
        app: the FastAPI app.
        service: the service's name, for the log.
        routes: the routes it answers, in words, for the 404 message.
    """
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def error_response(error: APIError) -> JSONResponse:
        return JSONResponse(error.body.model_dump(), status_code=error.status_code,
                            headers=error.headers)

    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(APIError(
                404, f"No route {request.method} {request.url.path}. This server answers "
                f"{routes}.", "not_found_error", code="not_found"))
        return error_response(APIError(exc.status_code, str(exc.detail),
                                       "invalid_request_error"))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(invalid_request(f"Invalid request: {exc.errors()[:1]}"))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s", service)
        return error_response(APIError(
            500, f"Internal error: {type(exc).__name__}. See the {service} log.",
            "server_error", code="internal_error"))


def create_app(
    target: Target,
    *,
    model_name: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    max_tokens_limit: int = DEFAULT_MAX_TOKENS_LIMIT,
    close_target: bool = False,
    telemetry: "Telemetry | None" = None,
) -> "FastAPI":
    """An OpenAI-compatible FastAPI app answering with ``target``.

    Args:
        target: any target; it is called on the server's event loop.
        model_name: the model id the server reports; default the target's spec. Requests
            may name any model; answers always carry this id.
        max_body_bytes: larger request bodies are refused with 413.
        request_timeout: seconds a target may take for one answer (504 after).
        default_max_tokens: used when a request gives no ``max_tokens``.
        max_tokens_limit: larger ``max_tokens`` are refused with 400.
        close_target: close the target when the app shuts down (when the app owns it).
        telemetry: where request spans go; None (tracing not configured) makes none.

    Raises:
        MissingExtraError: fastapi is not installed.
    """
    require("fastapi", extra="guard", feature="redline serve")
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    name = model_name or target.spec

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_target:
            await target.aclose()
            if telemetry is not None:
                telemetry.shutdown()  # the last batch of spans goes out

    app = FastAPI(title="redline serve", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None)

    install_error_handlers(
        app, service="redline serve",
        routes="POST /v1/chat/completions and GET /v1/models",
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model": name}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return ModelList(data=[ModelCard(id=name)]).model_dump()

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str) -> dict[str, Any]:
        if model_id != name:
            raise APIError(404, f"Model '{model_id}' is not served here; this server serves "
                           f"'{name}'.", "not_found_error", param="model", code="model_not_found")
        return ModelCard(id=name).model_dump()

    async def respond(request: Request, span: Any) -> JSONResponse | StreamingResponse:
        body = await read_body(request, max_body_bytes)
        chat = parse_chat_request(body, max_tokens_limit=max_tokens_limit)
        messages = chat.to_messages() if span is not None else ()
        if span is not None and telemetry is not None:
            telemetry.request(span, chat, messages)
        if chat.stream:
            on_end = None if span is None else _stream_recorder(telemetry, span, name,
                                                                 messages)
            events = await answer_stream(
                target, chat, model_name=name, request_timeout=request_timeout,
                default_max_tokens=default_max_tokens, on_end=on_end,
            )
            if span is not None:
                events = _ending(events, span)
            return StreamingResponse(events, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        completion = await answer(
            target, chat, model_name=name, request_timeout=request_timeout,
            default_max_tokens=default_max_tokens,
        )
        if span is not None and telemetry is not None:
            choice = completion.choices[0]
            telemetry.response(span, model=name, finish_reason=choice.finish_reason or "stop",
                               input_tokens=completion.usage.prompt_tokens,
                               output_tokens=completion.usage.completion_tokens,
                               text=choice.message.content)
            span.end()
        return JSONResponse(completion.model_dump())

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        if telemetry is None:
            return await respond(request, None)
        from redline.telemetry import provider_name

        span = telemetry.start("chat", name, provider_name(target.spec))
        try:
            return await respond(request, span)
        except APIError as exc:
            telemetry.error(span, exc.status_code, exc.body.error.code or exc.body.error.type)
            span.end()
            raise
        except BaseException as exc:
            telemetry.error(span, 500, type(exc).__name__)
            span.end()
            raise

    return app


def _stream_recorder(
    telemetry: "Telemetry | None", span: Any, model: str, messages: Sequence[Message]
) -> StreamEnd:
    """What a traced stream records on its span when it ends."""

    def record(text: str, error: APIError | None) -> None:
        if telemetry is None:
            return
        if error is not None:
            telemetry.error(span, error.status_code, error.body.error.code or "stream_error")
        usage = usage_of(messages, Completion(text=text))
        telemetry.response(span, model=model, finish_reason="error" if error else "stop",
                           input_tokens=usage.prompt_tokens,
                           output_tokens=usage.completion_tokens, text=text)

    return record


async def _ending(events: AsyncIterator[bytes], span: Any) -> AsyncIterator[bytes]:
    """The events, then the span's end (also when the client goes away mid-stream)."""
    try:
        async for event in events:
            yield event
    finally:
        span.end()


__all__ = [
    "APIError",
    "answer",
    "answer_stream",
    "create_app",
    "error_from_target",
    "install_error_handlers",
    "invalid_request",
    "parse_chat_request",
    "read_body",
    "usage_of",
]
