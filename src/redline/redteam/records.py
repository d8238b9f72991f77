"""What a red-team run sends and logs: attempt specs and attempt records.

An :class:`AttemptSpec` is what an attack wants sent; its ``key`` is a content hash of
everything that decides the answer (attack, probe prompt, transform, messages, sampling
parameters), so the same attempt is never sent or logged twice in a run, and a resumed run
recognises what it already did. An :class:`AttemptRecord` is the logged exchange with its
scores; it is stored in the store's ``attempts`` table, with the fields that table has no
column for kept in its JSON ``scores`` column as :class:`AttemptExtras`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from redline.types import GenerateParams, Message, content_hash, messages_to_dicts

KEY_VERSION = "redline-attempt-v1"


@dataclass(frozen=True)
class AttemptSpec:
    """One exchange an attack wants made.

    Attributes:
        attack: the attack's canonical spec (``static``, ``fuzz``, ...).
        probe: the probe's name.
        prompt_id: the prompt's id within the probe.
        category: policy category.
        goal: the original request (what success means), untransformed.
        transform: the transform chain's canonical spec (``none`` when none).
        messages: the conversation sent, last message the new user turn.
        tags: taxonomy tags (probe's and transforms').
        meta: attack bookkeeping (generation, stream, turn, ...); not part of the key.
    """

    attack: str
    probe: str
    prompt_id: str
    category: str
    goal: str
    transform: str
    messages: tuple[Message, ...]
    tags: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def key(self, params: GenerateParams) -> str:
        """The content hash that identifies this attempt within a run."""
        return content_hash(
            KEY_VERSION, self.attack, self.probe, self.prompt_id, self.transform,
            messages_to_dicts(self.messages), params.to_dict(),
        )


class ScoreRecord(BaseModel):
    """One scorer's judgement of an attempt, as logged."""

    value: float | None
    label: bool | None
    category: str | None = None
    explanation: str = ""
    outcome: Literal["refused", "attempted", "complied"] | None = None
    """For the response judges: the most likely outcome of the reply (docs/scorers.md)."""


class AttemptExtras(BaseModel):
    """The part of a record the store's ``attempts`` table keeps in its JSON ``scores`` column."""

    v: Literal[1] = 1
    scores: dict[str, ScoreRecord] = Field(default_factory=dict)
    success: bool | None = None
    prompt_id: str = ""
    goal: str = ""
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    cached: bool = False


class AttemptRecord(BaseModel):
    """One logged exchange with its scores: the unit that is cached, resumed and counted.

    ``success`` is the success scorer's label (None when the attempt errored or the scorer
    could not judge); ``error`` says why an attempt failed (a target or probe error).
    """

    key: str
    attack: str
    probe: str
    prompt_id: str
    category: str
    goal: str
    transform: str
    messages: list[dict[str, str]]
    params: dict[str, Any]
    response: str | None = None
    finish_reason: str | None = None
    scores: dict[str, ScoreRecord] = Field(default_factory=dict)
    success: bool | None = None
    error: str | None = None
    latency_ms: float | None = None
    cached: bool = False
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    def score_value(self, scorer: str) -> float:
        """The scorer's value, 0 when absent or unscored (for ranking candidates)."""
        score = self.scores.get(scorer)
        return float(score.value) if score is not None and score.value is not None else 0.0

    def to_row(self) -> dict[str, Any]:
        """Column values for the store's ``attempts`` table."""
        extras = AttemptExtras(
            scores=self.scores, success=self.success, prompt_id=self.prompt_id,
            goal=self.goal, tags=self.tags, meta=self.meta, cached=self.cached,
        )
        return {
            "key": self.key, "probe": self.probe, "transform": self.transform,
            "attack": self.attack, "category": self.category, "messages": self.messages,
            "params": self.params, "response": self.response,
            "finish_reason": self.finish_reason, "scores": extras.model_dump(mode="json"),
            "error": self.error, "latency_ms": self.latency_ms,
        }

    @classmethod
    def from_row(cls, row: Any) -> AttemptRecord:
        """Rebuild a record from a store ``Attempt`` row."""
        extras = AttemptExtras.model_validate(row.scores or {})
        return cls(
            key=row.key, attack=row.attack or "", probe=row.probe or "",
            prompt_id=extras.prompt_id, category=row.category or "", goal=extras.goal,
            transform=row.transform or "none", messages=list(row.messages or []),
            params=dict(row.params or {}), response=row.response,
            finish_reason=row.finish_reason, scores=extras.scores, success=extras.success,
            error=row.error, latency_ms=row.latency_ms, cached=extras.cached,
            tags=extras.tags, meta=extras.meta,
        )
