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
    "refusal": "refusal.val.jsonl",
    "harmful_compliance": "harmful_compliance.val.jsonl",
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


def validate(
    name: str,
    data: Path | None = None,
    *,
    config: dict[str, Any] | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationReport:
    """Score every labelled example with scorer ``name`` and measure it.

    Args:
        name: a registered scorer.
        data: a JSONL file of labelled examples; default the shipped validation set.
        config: constructor arguments for the scorer (``threshold``, ``target``, ...).
        batch_size: items per scorer call.
        progress: called with (done, total) after each batch.
    """
    scorer = get_scorer(name, **(config or {}))
    path = data or shipped_validation_set(name)
    examples = read_examples(path)
    started = time.perf_counter()

    async def run_all() -> list[Score]:
        scores: list[Score] = []
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            scores.extend(await score_all(scorer, [e.as_input() for e in chunk]))
            if progress is not None:
                progress(len(scores), len(examples))
        return scores

    scores = asyncio.run(run_all())
    seconds = time.perf_counter() - started
    scored = [(e, s) for e, s in zip(examples, scores, strict=True) if s.scored]
    if not scored:
        raise ConfigError(f"Scorer '{name}' scored none of the {len(examples)} items in {path}.")
    metrics = binary_metrics([e.label for e, _ in scored], [bool(s.label) for _, s in scored])
    with_category = [(e, s) for e, s in scored if e.label and s.label and e.category and s.category]
    category_accuracy = None
    if with_category and name == "harmful_request":
        right = sum(e.category == s.category for e, s in with_category)
        category_accuracy = _rate(right, len(with_category))
    brier, ece = calibration_errors(
        [e.label for e, _ in scored], [float(s.value or 0.0) for _, s in scored]
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
        seconds=round(seconds, 2),
    )


__all__ = ["Rate", "SliceResult", "ValidationReport", "shipped_validation_set", "validate"]
