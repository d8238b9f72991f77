"""What the guard records about each request: one :class:`GuardEvent` per request.

An event says who asked (the API key's name, never the key), what the policy decided and
why (each layer's outcome, the categories that fired, every fail-open bypass), how long it
took, and what was said: the text itself only when the policy captures content, otherwise
its sha256. Watch reads these events back from the store or the log, and writes its
alerts as :class:`AlertEvent`. Events are a union keyed on ``kind``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

LayerStatus = Literal["ok", "error", "timeout", "skipped"]
Decision = Literal["allow", "flag", "redact", "block", "error"]


def utc_now_iso() -> str:
    """Now, in UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class LayerOutcome(BaseModel):
    """What one layer did at one stage.

    Attributes:
        layer: the layer's name in the policy.
        stage: ``input`` or ``output``.
        status: ``ok``, ``error``, ``timeout`` or ``skipped`` (an earlier layer blocked).
        ms: wall time of the layer.
        categories: categories it fired.
        scores: scorer name -> score value.
        bypassed: it failed and its ``fail: open`` setting let the message through.
        error: what went wrong, when it failed.
    """

    model_config = ConfigDict(extra="forbid")

    layer: str
    stage: Literal["input", "output"]
    status: LayerStatus
    ms: float
    categories: list[str] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    bypassed: bool = False
    error: str | None = None


class RequestEvent(BaseModel):
    """One guarded request (chat completion or checks-only call).

    Attributes:
        kind: ``request``.
        request_id: unique per request (the client's ``X-Request-ID`` when it sends one).
        ts: when the request arrived, UTC ISO 8601.
        endpoint: ``chat`` (``/v1/chat/completions``) or ``checks`` (``/v1/checks``).
        client: the API key's name (``anonymous`` without auth).
        model: the model the client named.
        stream: the client asked for a stream.
        policy: ``{"name", "revision", "sha256"}`` of the policy in force.
        action: the final decision; ``error`` when the upstream failed.
        stage: where the decision was made (``input``, ``output``), None when allowed.
        categories: every category that fired, at either stage.
        layers: each layer's outcome.
        bypasses: how many failed layers were let through (``fail: open``).
        status_code: the HTTP status the client got.
        error: the upstream failure, when there was one (credentials never appear here).
        upstream_refused: the upstream's answer was a refusal (when a refusal scorer ran).
        latency_ms: total time in the guard, upstream included.
        upstream_ms: time spent waiting on the upstream.
        prompt_sha256: sha256 of the canonical JSON of the messages.
        response_sha256: sha256 of the upstream's answer text.
        prompt_chars: total characters of the messages.
        prompt: the messages (only when the policy captures content).
        response: the upstream's answer (only when the policy captures content).
        embedding: the prompt's embedding, int8-quantized, base64 (when captured).
        replica: the guard replica that served it (when the guard was given one).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["request"] = "request"
    request_id: str
    ts: str = Field(default_factory=utc_now_iso)
    endpoint: Literal["chat", "checks"] = "chat"
    client: str = "anonymous"
    model: str = ""
    stream: bool = False
    policy: dict[str, str] = Field(default_factory=dict)
    action: Decision = "allow"
    stage: Literal["input", "output"] | None = None
    categories: list[str] = Field(default_factory=list)
    layers: list[LayerOutcome] = Field(default_factory=list)
    bypasses: int = 0
    status_code: int = 200
    error: str | None = None
    upstream_refused: bool | None = None
    latency_ms: float = 0.0
    upstream_ms: float | None = None
    prompt_sha256: str = ""
    response_sha256: str | None = None
    prompt_chars: int = 0
    prompt: list[dict[str, str]] | None = None
    response: str | None = None
    embedding: str | None = None
    replica: str | None = None


class AlertEvent(BaseModel):
    """An alert that watch raised.

    Attributes:
        kind: ``alert``.
        alert_id: unique id.
        ts: when it was raised.
        detector: what raised it (``cusum``, ``ewma``, ``drift``, ``latency``).
        metric: the watched series (``category:harmful``, ``action:block``, ...).
        severity: ``warning`` or ``critical``.
        message: one line for people.
        value: the detector's statistic when it fired.
        threshold: the line it crossed.
        at_request: how many requests watch had seen when it fired.
        details: anything else (rates before and after, p-values).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["alert"] = "alert"
    alert_id: str
    ts: str = Field(default_factory=utc_now_iso)
    detector: str
    metric: str
    severity: Literal["warning", "critical"] = "warning"
    message: str
    value: float
    threshold: float
    at_request: int
    details: dict[str, Any] = Field(default_factory=dict)


GuardEvent = Annotated[RequestEvent | AlertEvent, Field(discriminator="kind")]
_EVENT_ADAPTER: TypeAdapter[RequestEvent | AlertEvent] = TypeAdapter(GuardEvent)


def parse_event(data: dict[str, Any]) -> RequestEvent | AlertEvent:
    """Read an event back from its JSON form (log body or store payload)."""
    return _EVENT_ADAPTER.validate_python(data)


def pack_embedding(vector: np.ndarray) -> str:
    """A unit-normalised float vector as int8 (scale 127), base64: 384 dims -> 512 chars."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v)) or 1.0
    q = np.clip(np.round(v / norm * 127.0), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def unpack_embedding(packed: str) -> np.ndarray:
    """The float32 unit vector :func:`pack_embedding` stored (up to quantization)."""
    q = np.frombuffer(base64.b64decode(packed), dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(q)) or 1.0
    return q / norm


__all__ = [
    "AlertEvent",
    "Decision",
    "GuardEvent",
    "LayerOutcome",
    "RequestEvent",
    "pack_embedding",
    "parse_event",
    "unpack_embedding",
    "utc_now_iso",
]
