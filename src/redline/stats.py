"""Intervals and detection metrics shared by every part that reports a number.

Pure numpy; no scipy or sklearn, so reports can be made without the heavy extras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form."""
        return {"value": self.value, "low": self.low, "high": self.high}


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval for a binomial proportion (good at 0 and 1 and small n)."""
    if n <= 0:
        return Interval(float("nan"), 0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def bootstrap(
    statistic: Callable[[np.ndarray], float],
    n_items: int,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Callable[[float], Interval]:
    """Percentile bootstrap over item indices.

    Returns a function that, given the statistic on the full data, gives its interval.
    ``statistic`` receives an index array (a resample of ``range(n_items)``); resamples on
    which it is undefined (returns nan) are dropped.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_resamples):
        value = statistic(rng.integers(0, n_items, n_items))
        if not math.isnan(value):
            samples.append(value)

    def interval(point: float) -> Interval:
        if not samples:
            return Interval(point, float("nan"), float("nan"))
        low, high = np.percentile(samples, [2.5, 97.5])
        return Interval(point, float(low), float(high))

    return interval


def auroc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half); nan if one class."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def tpr_at_fpr(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, fpr: float = 0.01
) -> float:
    """True-positive rate at the threshold that keeps the false-positive rate <= ``fpr``."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    negatives = np.sort(s[~y])[::-1]
    if len(negatives) == 0 or not y.any():
        return float("nan")
    allowed = int(math.floor(fpr * len(negatives)))
    # Threshold strictly above the (allowed+1)-th highest negative score.
    threshold = negatives[allowed] if allowed < len(negatives) else -math.inf
    return float((s[y] > threshold).mean())


def auroc_interval(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Interval:
    """AUROC with a percentile-bootstrap 95% interval."""
    y, s = np.asarray(labels), np.asarray(scores)
    return bootstrap(lambda idx: auroc(y[idx], s[idx]), len(y), n_resamples=n_resamples, seed=seed)(
        auroc(y, s)
    )


@dataclass(frozen=True)
class BinaryMetrics:
    """Precision, recall, F1 and false-positive rate, each with a bootstrap 95% interval."""

    n: int
    precision: Interval
    recall: Interval
    f1: Interval
    fpr: Interval

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {
            "n": self.n,
            **{k: getattr(self, k).to_dict() for k in ("precision", "recall", "f1", "fpr")},
        }


def _confusion(y: np.ndarray, p: np.ndarray) -> tuple[int, int, int, int]:
    tp = int((y & p).sum())
    fp = int((~y & p).sum())
    fn = int((y & ~p).sum())
    tn = int((~y & ~p).sum())
    return tp, fp, fn, tn


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def f1(labels: np.ndarray, predictions: np.ndarray) -> float:
    """F1 of boolean ``predictions`` against boolean ``labels``; nan when neither has a positive."""
    tp, fp, fn, _ = _confusion(labels, predictions)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def paired_f1_difference(
    labels: np.ndarray, new: np.ndarray, old: np.ndarray, *, n_resamples: int = 2000, seed: int = 0
) -> Interval:
    """F1(new) - F1(old) on the same items, with a percentile bootstrap over the items.

    Both are read on each resample: a candidate judge against the shipped one.
    """
    interval = bootstrap(
        lambda i: f1(labels[i], new[i]) - f1(labels[i], old[i]),
        len(labels),
        n_resamples=n_resamples,
        seed=seed,
    )
    return interval(f1(labels, new) - f1(labels, old))


def binary_metrics(
    labels: Sequence[bool] | np.ndarray,
    predictions: Sequence[bool] | np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> BinaryMetrics:
    """Classification metrics with bootstrap intervals over items."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predictions, dtype=bool)

    def stats(idx: np.ndarray) -> tuple[float, float, float, float]:
        tp, fp, fn, tn = _confusion(y[idx], p[idx])
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return precision, recall, f1(y[idx], p[idx]), _ratio(fp, fp + tn)

    full = stats(np.arange(len(y)))
    rng = np.random.default_rng(seed)
    resampled = np.array([stats(rng.integers(0, len(y), len(y))) for _ in range(n_resamples)])
    intervals = []
    for k in range(4):
        column = resampled[:, k][~np.isnan(resampled[:, k])]
        if len(column) == 0:
            intervals.append(Interval(full[k], float("nan"), float("nan")))
        else:
            low, high = np.percentile(column, [2.5, 97.5])
            intervals.append(Interval(full[k], float(low), float(high)))
    return BinaryMetrics(len(y), *intervals)
