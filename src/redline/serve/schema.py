"""The OpenAI chat-completions wire format, as pydantic models.

These are the request and response bodies of ``POST /v1/chat/completions`` (plain and
streamed), ``GET /v1/models`` and the error body, shared by ``redline serve`` and any
other redline server that speaks the same protocol (the guard proxy). Requests keep
fields this server does not use (``tools``, ``logprobs``, ...) in ``model_extra`` so a
proxy can forward them; fields it does use are validated strictly.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from redline.types import GenerateParams, Message

WireRole = Literal["system", "developer", "user", "assistant"]
FinishReason = Literal["stop", "length", "content_filter"]

DEFAULT_MAX_TOKENS = 128
"""Used when a request gives neither ``max_tokens`` nor ``max_completion_tokens``."""


class TextPart(BaseModel):
    """One text part of a message whose content is a list of parts."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """One message of a request: ``{"role": ..., "content": ...}``.

    ``developer`` (OpenAI's newer name for ``system``) is read as ``system``; content may
    be a string or a list of text parts, which are joined.
    """

    model_config = ConfigDict(extra="ignore")

    role: WireRole
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        """The content as one string."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)

    def to_message(self) -> Message:
        """The redline :class:`~redline.types.Message`."""
        role = "system" if self.role == "developer" else self.role
        return Message(role, self.text())


class StreamOptions(BaseModel):
    """``stream_options``: ask for a final usage chunk."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    user: str | None = None

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences are allowed")
        return value

    def to_messages(self) -> tuple[Message, ...]:
        """The conversation as redline messages."""
        return tuple(m.to_message() for m in self.messages)

    def to_params(self, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> GenerateParams:
        """The sampling parameters as :class:`~redline.types.GenerateParams`.

        An absent ``temperature`` means greedy decoding (redline's default), not OpenAI's 1.0,
        so that a plain request is deterministic and cacheable.
        """
        stops: tuple[str, ...]
        if self.stop is None:
            stops = ()
        elif isinstance(self.stop, str):
            stops = (self.stop,)
        else:
            stops = tuple(self.stop)
        return GenerateParams(
            max_tokens=self.max_completion_tokens or self.max_tokens or default_max_tokens,
            temperature=0.0 if self.temperature is None else self.temperature,
            top_p=1.0 if self.top_p is None else self.top_p,
            seed=self.seed,
            stop=tuple(s for s in stops if s),
        )


class Usage(BaseModel):
    """Token counts of one completion."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Counts with their total."""
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class AssistantMessage(BaseModel):
    """The answer message of a choice."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """One choice of a non-streamed completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: None = None


def completion_id() -> str:
    """A fresh ``chatcmpl-...`` id."""
    return f"chatcmpl-{secrets.token_hex(12)}"


def now() -> int:
    """Unix seconds, the ``created`` field."""
    return int(time.time())


class ChatCompletion(BaseModel):
    """The body answering a non-streamed request."""

    id: str = Field(default_factory=completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=now)
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str | None = None


class Delta(BaseModel):
    """The increment a streamed chunk carries; fields left unset are not sent."""

    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class ChunkChoice(BaseModel):
    """One choice of a streamed chunk."""

    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion (``data: {...}``)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None


class ModelCard(BaseModel):
    """One entry of ``GET /v1/models``."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=now)
    owned_by: str = "redline"


class ModelList(BaseModel):
    """The body of ``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


ErrorType = Literal[
    "invalid_request_error",
    "not_found_error",
    "request_too_large",
    "upstream_error",
    "timeout_error",
    "server_error",
]


class ErrorBody(BaseModel):
    """What went wrong, in OpenAI's shape."""

    message: str
    type: ErrorType
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer: ``{"error": {...}}``."""

    error: ErrorBody

    @classmethod
    def of(
        cls, message: str, type_: ErrorType, *, param: str | None = None, code: str | None = None
    ) -> ErrorResponse:
        """Build one from its parts."""
        return cls(error=ErrorBody(message=message, type=type_, param=param, code=code))


def sse(payload: BaseModel | dict[str, Any] | str) -> bytes:
    """One server-sent event: ``data: <json>`` and a blank line, or ``data: [DONE]``."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(exclude_none=False)
    elif isinstance(payload, dict):
        import json

        body = json.dumps(payload)
    else:
        body = payload
    return f"data: {body}\n\n".encode()


__all__ = [
    "DEFAULT_MAX_TOKENS",
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "Delta",
    "ErrorBody",
    "ErrorResponse",
    "ErrorType",
    "FinishReason",
    "ModelCard",
    "ModelList",
    "StreamOptions",
    "TextPart",
    "Usage",
    "completion_id",
    "now",
    "sse",
]
