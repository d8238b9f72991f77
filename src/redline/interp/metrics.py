"""How every interp detector is reported: AUROC with a bootstrap interval and TPR at 1% FPR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from redline.stats import Interval, auroc, bootstrap, tpr_at_fpr, wilson


class Estimate(BaseModel):
    """A number with its 95% interval."""

    model_config = ConfigDict(frozen=True)

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, interval: Interval) -> Estimate:
        """From a :class:`redline.stats.Interval`."""
        return cls(value=interval.value, low=interval.low, high=interval.high)

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


class DetectionReport(BaseModel):
    """A detector's accuracy on labelled data it was not fitted on.

    Attributes:
        n_positive: items whose label is positive (lie, triggered, backdoored).
        n_negative: the others.
        auroc: area under the ROC curve, percentile-bootstrap 95% interval.
        tpr_at_fpr: true-positive rate at the score threshold that keeps the false-positive
            rate at or below ``fpr`` on these negatives, bootstrap interval.
        fpr: the false-positive budget of ``tpr_at_fpr``.
        threshold_recall: recall at the detector's own threshold (Wilson interval), when given.
        threshold_specificity: specificity at the detector's own threshold (Wilson interval).
    """

    model_config = ConfigDict(frozen=True)

    n_positive: int
    n_negative: int
    auroc: Estimate
    tpr_at_fpr: Estimate
    fpr: float = 0.01
    threshold_recall: Estimate | None = None
    threshold_specificity: Estimate | None = None

    def summary(self) -> str:
        """One line for people."""
        line = (
            f"AUROC {self.auroc}  TPR@{self.fpr:.0%}FPR {self.tpr_at_fpr}  "
            f"(n+={self.n_positive}, n-={self.n_negative})"
        )
        if self.threshold_specificity is not None:
            line += f"  specificity@threshold {self.threshold_specificity}"
        return line


def detection_report(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    fpr: float = 0.01,
    threshold: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> DetectionReport:
    """AUROC and TPR at ``fpr`` with bootstrap intervals (and rates at ``threshold``).

    Args:
        labels: 1 for positives.
        scores: higher means more positive.
        fpr: the false-positive budget for the TPR.
        threshold: the detector's own decision threshold (score >= threshold fires).
        n_resamples: bootstrap resamples.
        seed: bootstrap seed.
    """
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    auc = bootstrap(lambda i: auroc(y[i], s[i]), len(y), n_resamples=n_resamples, seed=seed)
    tpr = bootstrap(
        lambda i: tpr_at_fpr(y[i], s[i], fpr), len(y), n_resamples=n_resamples, seed=seed
    )
    recall = specificity = None
    if threshold is not None:
        fired = s >= threshold
        pos, neg = y == 1, y == 0
        recall = Estimate.of(wilson(int(fired[pos].sum()), int(pos.sum())))
        specificity = Estimate.of(wilson(int((~fired[neg]).sum()), int(neg.sum())))
    return DetectionReport(
        n_positive=int((y == 1).sum()),
        n_negative=int((y == 0).sum()),
        auroc=Estimate.of(auc(auroc(y, s))),
        tpr_at_fpr=Estimate.of(tpr(tpr_at_fpr(y, s, fpr))),
        fpr=fpr,
        threshold_recall=recall,
        threshold_specificity=specificity,
    )


def specificity(scores: Sequence[float] | np.ndarray, threshold: float) -> Estimate:
    """Share of negatives that stay below ``threshold``, with a Wilson interval."""
    s = np.asarray(scores, dtype=float)
    return Estimate.of(wilson(int((s < threshold).sum()), len(s)))


def threshold_for_fpr(negative_scores: Sequence[float] | np.ndarray, fpr: float) -> float:
    """The lowest threshold that fires (score >= threshold) on at most ``fpr`` of negatives.

    Used to set detectors' thresholds on clean or out-of-fold scores.
    """
    negatives = np.sort(np.asarray(negative_scores, dtype=float))[::-1]
    if len(negatives) == 0:
        raise ValueError("no negative scores to set a threshold on")
    allowed = int(np.floor(fpr * len(negatives)))
    return float(np.nextafter(negatives[min(allowed, len(negatives) - 1)], np.inf))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, safe for large ``|z|``."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -60, 60))))
