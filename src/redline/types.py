"""The small value types every part of redline speaks: messages, parameters, completions.

They are frozen dataclasses rather than pydantic models so that ``import redline`` stays
cheap; logs and reports that are written to disk are pydantic models in their own parts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from redline.errors import ConfigError

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "error"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class Message:
    """One chat turn."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        """The OpenAI wire form, ``{"role": ..., "content": ...}``."""
        return {"role": self.role, "content": self.content}


MessageLike = Message | Mapping[str, Any]


def as_messages(messages: str | Iterable[MessageLike]) -> tuple[Message, ...]:
    """Normalise a prompt string or a list of messages/dicts into a tuple of Messages.

    Raises:
        ConfigError: a message has an unknown role or non-string content.
    """
    if isinstance(messages, str):
        return (Message("user", messages),)
    out: list[Message] = []
    for item in messages:
        if isinstance(item, Message):
            out.append(item)
            continue
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise ConfigError(f"Message role {role!r} is not one of {', '.join(ROLES)}.")
        if not isinstance(content, str):
            raise ConfigError(f"Message content must be a string, got {type(content).__name__}.")
        out.append(Message(role, content))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class GenerateParams:
    """Sampling parameters for one generation.

    ``temperature == 0`` means greedy decoding. A generation is *deterministic* (and so
    cacheable) when it is greedy or when a seed is given.
    """

    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}.")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}.")

    @property
    def deterministic(self) -> bool:
        """True when the same inputs always give the same output."""
        return self.temperature == 0 or self.seed is not None

    def with_(self, **changes: Any) -> GenerateParams:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, used in cache keys and logs."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True, slots=True)
class Completion:
    """What a target answered."""

    text: str
    finish_reason: FinishReason = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    cached: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form without the raw provider payload."""
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "model": self.model,
        }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(*parts: Any) -> str:
    """sha256 hex digest of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def messages_to_dicts(messages: Sequence[Message]) -> list[dict[str, str]]:
    """The OpenAI wire form of a message list."""
    return [m.to_dict() for m in messages]
