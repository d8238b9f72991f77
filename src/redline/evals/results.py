"""What an eval run writes: versioned pydantic models, read back by the gate and by verify."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline.errors import ConfigError
from redline.types import content_hash


class MetricValue(BaseModel):
    """A metric's point estimate with its 95% interval and the number of items behind it."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    low: float | None
    high: float | None
    n: int

    @classmethod
    def of(cls, value: float, low: float, high: float, n: int) -> MetricValue:
        """A value whose NaN parts (nothing to compute on) become None, so JSON stays valid."""

        def clean(x: float) -> float | None:
            return None if n == 0 or math.isnan(x) else float(x)

        return cls(value=clean(value), low=clean(low), high=clean(high), n=n)

    @property
    def defined(self) -> bool:
        """False when the metric could not be computed (no scored items)."""
        return self.n > 0 and None not in (self.value, self.low, self.high)

    def __str__(self) -> str:
        if not self.defined:
            return "n/a"
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n})"


class ScoreRecord(BaseModel):
    """One scorer's judgement of one response, as stored."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    label: bool | None
    category: str | None = None
    explanation: str = ""
    verdict: str | None = None
    """The scorer's discrete reading when it has one (``details["verdict"]``): refused,
    attempted or complied for the response judges, correct, wrong or none for
    ``answer_check``."""


class SampleRecord(BaseModel):
    """One sample, the target's answer and every judgement of it."""

    id: str
    messages: list[dict[str, str]]
    expected: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    response: str | None = None
    error: str | None = None
    scores: dict[str, ScoreRecord] = Field(default_factory=dict)


class ScorerRecord(BaseModel):
    """Which scorer judged, with which configuration."""

    name: str
    config: dict[str, Any] = Field(default_factory=dict)


class EvalResult(BaseModel):
    """One suite run on one target: metrics with 95% intervals, plus every sample.

    ``status`` is ``failed`` when any sample could not be generated or scored, or the
    metrics could not be computed; a gate treats a failed result as no evidence.
    """

    kind: Literal["redline-eval-result"] = "redline-eval-result"
    schema_version: Literal[1] = 1
    suite: str
    suite_version: str
    measures: str = ""
    """What the suite measures, in one line (the suite's summary)."""
    data: str = ""
    """What the samples are and where they come from."""
    dataset_digest: str
    seed: int
    target: str
    target_fingerprint: str
    model_digest: str | None = None
    scorers: list[ScorerRecord]
    params: dict[str, Any]
    redline_version: str
    started_at: datetime
    finished_at: datetime
    status: Literal["ok", "failed"]
    error: str | None = None
    metrics: dict[str, MetricValue]
    samples: list[SampleRecord] = Field(default_factory=list)
    budget: dict[str, float] = Field(default_factory=dict)
    """The search budget behind the samples when a search chose them (the audit's trigger
    search: queries, rounds, requests per candidate); empty for a fixed suite. The gate
    names it in "not found within BUDGET" and matches it against the assurance table."""
    profile: str | None = None
    """The audit profile whose data the suite was drawn in (``organism``,
    ``real-language``); None outside an audit. An assurance-table entry applies only to
    evidence of the profile its population was measured in."""

    def digest(self) -> str:
        """sha256 over the canonical JSON of this result."""
        return content_hash(self.model_dump(mode="json"))

    def save(self, path: Path) -> Path:
        """Write as indented JSON, creating the folder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> EvalResult:
        """Read a result file.

        Raises:
            ConfigError: the file is missing or is not an eval result.
        """
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"No eval result at {path}; run `redline eval` first.") from exc
        except ValidationError as exc:
            raise ConfigError(
                f"{path} is not a redline eval result ({exc.error_count()} problem(s), first: "
                f"{_first_error(exc)}). Re-run `redline eval` to write it again."
            ) from exc


def load_results(paths: Iterable[Path]) -> list[EvalResult]:
    """Read result files; a folder contributes every ``*.json`` result in it."""
    results: list[EvalResult] = []
    for path in paths:
        if path.is_dir():
            results.extend(EvalResult.load(p) for p in sorted(path.glob("*.json")))
        else:
            results.append(EvalResult.load(path))
    return results


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
