"""Measure a scorer on labelled data: precision, recall, F1 and FPR with bootstrap intervals.

Unscored items are counted and reported, never folded into either class. Each slice
tag in the data (``risky-benign``, ``plain``, ``refusal-with-alternative``, ...) gets
its own rate of positive decisions with a Wilson interval, so a weak spot shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from redline.errors import ConfigError
from redline.scorers.base import Score, get_scorer, score_all
from redline.scorers.datasets import LabelledExample, read_examples
from redline.scorers.heads import data_dir
from redline.stats import binary_metrics, wilson

_SHIPPED = {
    "refusal": "outcome/answers_j.val.jsonl",
    "harmful_compliance": "outcome/answers_j.val.jsonl",
    "harmful_request": "harmful_request.val.jsonl",
    "injection": "injection.val.jsonl",
    "pii": "pii.val.jsonl",
    "secrets": "secrets.val.jsonl",
}


class Rate(BaseModel):
    """A proportion with its Wilson 95% interval."""

    value: float
    low: float
    high: float
    n: int


class SliceResult(BaseModel):
    """How often the scorer said "positive" on the items with one tag, by true label."""

    tag: str
    positive_rate_on_negatives: Rate | None = None
    positive_rate_on_positives: Rate | None = None


class Miss(BaseModel):
    """An item the scorer got wrong, with how far its probability was from the label."""

    prompt: str
    response: str | None
    label: bool
    value: float
    explanation: str
    category: str | None = None
    model: str | None = None


class SweepRow(BaseModel):
    """The decisions the scorer would make at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    fpr: float


POLICY_CATEGORIES = frozenset(
    {"weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy", "benign"}
)


class ValidationReport(BaseModel):
    """The result of ``redline scorers validate``."""

    scorer: str
    config: dict[str, Any]
    data: str
    n: int
    unscored: int
    metrics: dict[str, Any]
    category_accuracy: Rate | None = None
    brier: float = Field(description="mean squared error of the probabilities (0 is perfect)")
    ece: float = Field(description="expected calibration error over 10 equal-width bins")
    slices: list[SliceResult]
    misses: list[Miss] = Field(
        default_factory=list, description="the worst misses first (furthest from their label)"
    )
    sweep: list[SweepRow] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    seconds: float


def shipped_validation_set(name: str) -> Path:
    """The validation set redline ships for scorer ``name``.

    Raises:
        ConfigError: redline ships none for it (pass ``--data``).
    """
    if name not in _SHIPPED:
        raise ConfigError(
            f"redline ships no validation set for scorer '{name}'. Pass one with --data FILE "
            f"(JSONL with prompt, response, label). Shipped: {', '.join(_SHIPPED)}."
        )
    return data_dir() / _SHIPPED[name]


def _rate(hits: int, n: int) -> Rate | None:
    if n == 0:
        return None
    interval = wilson(hits, n)
    return Rate(value=interval.value, low=interval.low, high=interval.high, n=n)


def _slices(examples: Sequence[LabelledExample], scores: Sequence[Score]) -> list[SliceResult]:
    tags = sorted({t for e in examples for t in e.tags})
    out = []
    for tag in tags:
        rows = [(e.label, s.label) for e, s in zip(examples, scores, strict=True) if tag in e.tags]
        neg = [bool(p) for y, p in rows if not y and p is not None]
        pos = [bool(p) for y, p in rows if y and p is not None]
        out.append(
            SliceResult(
                tag=tag,
                positive_rate_on_negatives=_rate(sum(neg), len(neg)),
                positive_rate_on_positives=_rate(sum(pos), len(pos)),
            )
        )
    return out


def calibration_errors(labels: Sequence[bool], values: Sequence[float]) -> tuple[float, float]:
    """Brier score and expected calibration error (10 equal-width bins) of probabilities."""
    y = np.asarray(labels, dtype=float)
    p = np.asarray(values, dtype=float)
    brier = float(np.mean((p - y) ** 2))
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(float(p[bins == b].mean()) - float(y[bins == b].mean())) * (bins == b).sum()
        for b in range(10)
        if (bins == b).any()
    ) / len(p)
    return round(brier, 4), round(float(ece), 4)


def threshold_sweep(labels: Sequence[bool], values: Sequence[float]) -> list[SweepRow]:
    """Precision, recall, F1 and FPR at thresholds 0.05, 0.10, ..., 0.95."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(values, dtype=float)
    rows = []
    for t in np.round(np.arange(0.05, 0.951, 0.05), 2):
        predicted = p >= t
        tp = int((predicted & y).sum())
        fp = int((predicted & ~y).sum())
        fn = int((~predicted & y).sum())
        rows.append(
            SweepRow(
                threshold=float(t),
                precision=round(tp / max(1, tp + fp), 4),
                recall=round(tp / max(1, tp + fn), 4),
                f1=round(2 * tp / max(1, 2 * tp + fp + fn), 4),
                fpr=round(fp / max(1, int((~y).sum())), 4),
            )
        )
    return rows


def _category_warnings(name: str, examples: Sequence[LabelledExample]) -> list[str]:
    seen = {e.category for e in examples if e.category}
    unknown = sorted(seen - POLICY_CATEGORIES)
    if not unknown or name in ("pii", "secrets", "injection"):
        return []
    return [
        f"categories {', '.join(unknown)} are not redline's usage-policy categories "
        f"({', '.join(sorted(POLICY_CATEGORIES))}); per-category results and "
        "category accuracy only compare matching names"
    ]


def validate(
    name: str,
    data: Path | None = None,
    *,
    config: dict[str, Any] | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    misses: int = 20,
) -> ValidationReport:
    """Score every labelled example with scorer ``name`` and measure it.

    Args:
        name: a registered scorer.
        data: a JSONL file of labelled examples; default the shipped validation set.
        config: constructor arguments for the scorer (``threshold``, ``target``, ...).
        batch_size: items per scorer call.
        progress: called with (done, total) after each batch.
        misses: how many of the worst misses to keep in the report.
    """
    scorer = get_scorer(name, **(config or {}))
    path = data or shipped_validation_set(name)
    examples = read_examples(path, scorer=name)
    started = time.perf_counter()

    async def run_all() -> list[Score]:
        scores: list[Score] = []
        try:
            for start in range(0, len(examples), batch_size):
                chunk = examples[start : start + batch_size]
                scores.extend(await score_all(scorer, [e.as_input() for e in chunk]))
                if progress is not None:
                    progress(len(scores), len(examples))
        finally:
            close = getattr(scorer, "aclose", None)
            if close is not None:  # a judge's HTTP connections
                await close()
        return scores

    scores = asyncio.run(run_all())
    seconds = time.perf_counter() - started
    scored = [(e, s) for e, s in zip(examples, scores, strict=True) if s.scored]
    if not scored:
        raise ConfigError(f"Scorer '{name}' scored none of the {len(examples)} items in {path}.")
    metrics = binary_metrics([bool(e.label) for e, _ in scored], [bool(s.label) for _, s in scored])
    with_category = [(e, s) for e, s in scored if e.label and s.label and e.category and s.category]
    category_accuracy = None
    if with_category and name == "harmful_request":
        right = sum(e.category == s.category for e, s in with_category)
        category_accuracy = _rate(right, len(with_category))
    brier, ece = calibration_errors(
        [bool(e.label) for e, _ in scored], [float(s.value or 0.0) for _, s in scored]
    )
    wrong = sorted(
        (
            (abs(float(s.value or 0.0) - float(bool(e.label))), e, s)
            for e, s in scored
            if bool(s.label) != bool(e.label)
        ),
        key=lambda row: -row[0],
    )
    return ValidationReport(
        scorer=name,
        config={k: str(v) for k, v in (config or {}).items()},
        data=str(path),
        n=len(examples),
        unscored=len(examples) - len(scored),
        metrics=metrics.to_dict(),
        category_accuracy=category_accuracy,
        brier=brier,
        ece=ece,
        slices=_slices(examples, scores),
        misses=[
            Miss(
                prompt=e.prompt,
                response=e.response,
                label=bool(e.label),
                value=round(float(s.value or 0.0), 4),
                explanation=s.explanation,
                category=e.category,
                model=e.model,
            )
            for _, e, s in wrong[:misses]
        ],
        sweep=threshold_sweep(
            [bool(e.label) for e, _ in scored], [float(s.value or 0.0) for _, s in scored]
        ),
        warnings=_category_warnings(name, examples),
        seconds=round(seconds, 2),
    )


__all__ = [
    "Miss",
    "Rate",
    "SliceResult",
    "SweepRow",
    "ValidationReport",
    "shipped_validation_set",
    "threshold_sweep",
    "validate",
]
