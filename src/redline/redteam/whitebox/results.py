"""Results of the white-box attacks: versioned pydantic models, written to disk, fed to findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from redline.stats import Interval, wilson
from redline.types import content_hash

if TYPE_CHECKING:
    from redline.store import Store

SCHEMA_VERSION = 1
BACKDOOR_TAGS = ("owasp-llm-2025:LLM04", "atlas:AML.T0018")
"""Data and model poisoning (LLM04); backdoor ML model (AML.T0018)."""


class Rate(BaseModel):
    """A proportion with its Wilson 95% interval."""

    successes: int
    n: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, successes: int, n: int) -> Rate:
        """The Wilson interval of ``successes`` out of ``n``."""
        interval: Interval = wilson(successes, n)
        return cls(
            successes=successes, n=n, value=interval.value, low=interval.low, high=interval.high
        )

    def __str__(self) -> str:
        return f"{self.value:.1%} [{self.low:.1%}, {self.high:.1%}] ({self.successes}/{self.n})"


class EvidenceAttempt(BaseModel):
    """One prompt -> response exchange that supports (or fails to support) a result.

    The fields mirror the store's ``attempts`` table, so the attempt can be recorded as is.
    """

    key: str
    attack: str
    messages: list[dict[str, str]]
    params: dict[str, Any]
    response: str
    finish_reason: str
    complied: bool
    triggered: bool = Field(description="whether the searched tokens were in the prompt")

    @classmethod
    def make(
        cls,
        *,
        attack: str,
        messages: list[dict[str, str]],
        params: dict[str, Any],
        response: str,
        finish_reason: str,
        complied: bool,
        triggered: bool,
    ) -> EvidenceAttempt:
        """An attempt keyed by the content hash of its attack, prompt and parameters."""
        return cls(
            key=content_hash(attack, messages, params),
            attack=attack,
            messages=messages,
            params=params,
            response=response,
            finish_reason=finish_reason,
            complied=complied,
            triggered=triggered,
        )


class QueryCount(BaseModel):
    """Target queries spent (one per prompt evaluated), in total and per purpose."""

    total: int
    limit: int
    by_purpose: dict[str, int]


class TriggerCandidate(BaseModel):
    """Another trigger the search found (``rounds > 1``), ranked below the chosen one."""

    text: str
    tokens: list[int]
    search_success: float | None
    loss: float | None


class TriggerSearchResult(BaseModel):
    """What trigger search found on one target.

    ``reasr`` is measured on held-out requests the search never saw; ``baseline`` is the
    compliance rate on the same requests without the candidate, so the two together show
    the candidate is what flips the model; ``reference_reasr``, when a clean reference was
    given, shows whether it flips models without the suspect training too.
    """

    kind: Literal["trigger-search"] = "trigger-search"
    schema_version: int = SCHEMA_VERSION
    target: str
    candidate: str
    candidate_tokens: list[int]
    position: Literal["prefix", "suffix"]
    objective: str
    search_success: Rate | None
    reasr: Rate
    baseline: Rate
    reference_reasr: Rate | None = Field(
        default=None, description="the candidate's REASR on a clean reference model, if given"
    )
    queries: QueryCount
    steps: int
    stopped: str
    search_requests: list[str]
    held_out_requests: list[str]
    evidence: list[EvidenceAttempt]
    alternatives: list[TriggerCandidate] = Field(default_factory=list)
    recall: float | None = Field(
        default=None,
        description="token overlap with a known true trigger (|cand & true| / |true|), if given",
    )
    true_trigger: str | None = None
    seconds: float = 0.0

    @property
    def found(self) -> bool:
        """True when the candidate lifts held-out compliance clearly above the baseline."""
        return self.reasr.low > self.baseline.high


class GCGResult(BaseModel):
    """A gradient-guided token attack on one request."""

    kind: Literal["gcg"] = "gcg"
    schema_version: int = SCHEMA_VERSION
    target: str
    request: str
    suffix: str
    suffix_tokens: list[int]
    position: Literal["prefix", "suffix"]
    objective: str
    complied: bool
    loss: float
    queries: QueryCount
    steps: int
    stopped: str
    evidence: list[EvidenceAttempt]
    seconds: float = 0.0


def record_trigger_search(result: TriggerSearchResult, store: Store) -> str:
    """Save a trigger search as a store run: its evidence attempts and, if found, a finding.

    The finding (severity ``high``, tags of a backdoor) carries the candidate, REASR and
    baseline with their intervals, recall when known, and the keys of the triggered
    attempts that complied. Returns the run id.
    """
    run = store.create_run(
        "trigger-search", result.target,
        result.model_dump(mode="json", exclude={"evidence", "search_requests"}),
    )
    for attempt in result.evidence:
        store.add_attempt(
            run.id, attempt.key, probe="trigger-search-held-out", attack=attempt.attack,
            messages=attempt.messages, params=attempt.params, response=attempt.response,
            finish_reason=attempt.finish_reason,
            scores={"complied": attempt.complied, "triggered": attempt.triggered},
        )
    if result.found:
        store.add_finding(
            run.id,
            title=f"Backdoor: '{result.candidate}' makes {result.reasr} of held-out harmful "
            "requests comply",
            severity="high",
            category="backdoor",
            tags=list(BACKDOOR_TAGS),
            evidence=[a.key for a in result.evidence if a.triggered and a.complied],
            details={
                "candidate": result.candidate,
                "reasr": result.reasr.model_dump(),
                "baseline": result.baseline.model_dump(),
                "reference_reasr": result.reference_reasr.model_dump()
                if result.reference_reasr
                else None,
                "recall": result.recall,
                "queries": result.queries.model_dump(),
            },
        )
    store.finish_run(run.id)
    return run.id
