"""Supervised linear probes on activations, with a layer sweep.

Two methods, both giving a direction ``w`` and bias ``b`` so that
``sigmoid(w · (x - mean) / scale + b)`` is the probability of the positive class:

- ``logreg``: L2-regularised logistic regression on standardised activations.
- ``diffmean``: the difference of the class means (mass-mean probe), with a one-dimensional
  logistic fit on the projection for calibration. Fewer parameters, often more robust
  out of distribution.

The sweep picks the hook by cross-validated AUROC on the training data only (grouped by
trigger or condition when groups are given, so the choice favours the layer that
generalises to unseen groups); held-out data is for reporting, never for choosing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from redline.errors import ConfigError
from redline.interp.capture import ActivationCache
from redline.interp.data import load_artifact, save_artifact
from redline.interp.metrics import DetectionReport, detection_report, sigmoid, threshold_for_fpr
from redline.stats import auroc

Method = Literal["logreg", "diffmean"]
METHODS: tuple[Method, ...] = ("logreg", "diffmean")


class LayerScore(BaseModel):
    """One hook's cross-validated AUROC in a sweep."""

    model_config = ConfigDict(frozen=True)

    hook: str
    cv_auroc: float


class ProbeHeader(BaseModel):
    """What a probe file says about itself.

    Attributes:
        name: what it detects (``lie``, ``backdoor``, ...).
        method: ``logreg`` or ``diffmean``.
        hook: the hook point it reads.
        positions: the token positions it reads (``last``, ``mean``, offsets).
        fingerprint: the model it was trained on.
        threshold: probability at or above which it fires; set on out-of-fold training
            scores to keep the false-positive rate near ``threshold_fpr``.
        threshold_fpr: the false-positive rate the threshold was set for.
        n_train: training examples (positives, negatives).
        groups: the groups (triggers, conditions) seen in training.
        sweep: cross-validated AUROC of every hook considered.
        report: accuracy on held-out data, when evaluated.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["linear-probe"] = "linear-probe"
    version: int = 1
    name: str
    method: Method
    hook: str
    positions: str = "last"
    fingerprint: str = ""
    threshold: float = 0.5
    threshold_fpr: float = 0.01
    n_train: tuple[int, int] = (0, 0)
    groups: tuple[str, ...] = ()
    sweep: tuple[LayerScore, ...] = ()
    report: DetectionReport | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


@dataclass
class LinearProbe:
    """A trained probe: header plus ``mean``, ``scale``, ``weights`` (each ``[d]``) and bias."""

    header: ProbeHeader
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @property
    def hooks(self) -> list[str]:
        """The hook points it reads."""
        return [self.header.hook]

    @property
    def positions(self) -> str:
        """The positions it reads."""
        return self.header.positions

    @property
    def threshold(self) -> float:
        """Probability at or above which it fires."""
        return self.header.threshold

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``[n]`` log-odds of the positive class for ``[n, d]`` activations."""
        if x.ndim != 2 or x.shape[1] != len(self.weights):
            raise ConfigError(
                f"Probe {self.header.name} reads {len(self.weights)}-wide activations at "
                f"{self.header.hook}, got shape {tuple(x.shape)}; was it trained on this model?"
            )
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)

    def probability(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` probabilities of the positive class for a capture that includes :attr:`hooks`."""
        return sigmoid(self.logits(cache.numpy(self.header.hook)))

    def score(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` probabilities (a probe's raw score is its probability)."""
        return self.probability(cache)

    def save(self, path: Path) -> Path:
        """Write to a safetensors file."""
        return save_artifact(path, self.header, linear_arrays(self))

    @classmethod
    def from_parts(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> LinearProbe:
        """Rebuild from :func:`~redline.interp.data.load_artifact` output."""
        return cls(
            ProbeHeader.model_validate(header),
            arrays["mean"],
            arrays["scale"],
            arrays["weights"],
            float(arrays["bias"][0]),
        )

    @classmethod
    def load(cls, path: Path) -> LinearProbe:
        """Read a probe file.

        Raises:
            ConfigError: the file is not a linear probe.
        """
        header, arrays = load_artifact(path, "linear-probe", "a linear probe")
        return cls.from_parts(header, arrays)


def linear_arrays(model: Any) -> dict[str, np.ndarray]:
    """Arrays of a standardise-then-linear model: ``mean``, ``scale``, ``weights``, ``bias``."""
    return {
        "mean": model.mean,
        "scale": model.scale,
        "weights": model.weights,
        "bias": np.array([model.bias]),
    }


@dataclass(frozen=True)
class _Fit:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)


def _fit(x: np.ndarray, y: np.ndarray, method: Method, c: float) -> _Fit:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        raise ConfigError("Probe training needs both positive and negative examples.")
    mean = x.mean(axis=0)
    if method == "diffmean":
        direction = x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0)
        norm = float(np.linalg.norm(direction)) or 1.0
        direction = direction / norm
        projection = ((x - mean) @ direction).reshape(-1, 1)
        calib = LogisticRegression(C=1e4, max_iter=1000).fit(projection, y)
        weights = direction * float(calib.coef_[0, 0])
        return _Fit(mean, np.ones_like(mean), weights, float(calib.intercept_[0]))
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return _Fit(mean, scale, model.coef_[0].astype(float), float(model.intercept_[0]))


def _folds(y: np.ndarray, groups: Sequence[str] | None, k: int, seed: int) -> list[np.ndarray]:
    """Test-index arrays for k folds; whole groups per fold when there are enough groups."""
    rng = np.random.default_rng(seed)
    if groups is not None:
        names = sorted({g for g in groups if g})
        if len(names) >= 2:
            # Positives of one group are held out together; negatives spread at random.
            order = rng.permutation(len(names))
            fold_of_group = {names[i]: j % min(k, len(names)) for j, i in enumerate(order)}
            n_folds = min(k, len(names))
            assign = np.array(
                [fold_of_group[g] if g else int(rng.integers(n_folds)) for g in groups]
            )
            return [np.flatnonzero(assign == f) for f in range(n_folds)]
    assign = np.empty(len(y), dtype=int)
    for cls in (0, 1):  # stratified
        idx = rng.permutation(np.flatnonzero(y == cls))
        assign[idx] = np.arange(len(idx)) % k
    return [np.flatnonzero(assign == f) for f in range(k)]


def out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    method: Method,
    *,
    groups: Sequence[str] | None = None,
    k: int = 5,
    c: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """``[n]`` log-odds of each example from a probe fitted without its fold."""
    scores = np.full(len(y), np.nan)
    for test in _folds(y, groups, k, seed):
        train = np.setdiff1d(np.arange(len(y)), test)
        if len(test) == 0 or len(set(y[train].tolist())) < 2:
            continue
        scores[test] = _fit(x[train], y[train], method, c).logits(x[test])
    return scores


def _nan_auroc(y: np.ndarray, s: np.ndarray) -> float:
    ok = ~np.isnan(s)
    return auroc(y[ok], s[ok])


def train_probe(
    cache: ActivationCache,
    labels: Sequence[int] | np.ndarray,
    *,
    name: str,
    hooks: Sequence[str] | None = None,
    method: Method = "logreg",
    groups: Sequence[str] | None = None,
    c: float = 1.0,
    folds: int = 5,
    threshold_fpr: float = 0.01,
    seed: int = 0,
) -> LinearProbe:
    """Sweep the hooks, pick the best by cross-validated AUROC, fit on all the data there.

    Args:
        cache: activations of the training examples (``[n, d]`` per hook).
        labels: ``[n]`` 1 for positives.
        name: what the probe detects.
        hooks: hooks to consider (default: every hook in the cache).
        method: ``logreg`` or ``diffmean``.
        groups: trigger/condition per example; folds then hold out whole groups.
        c: inverse L2 strength for ``logreg``.
        folds: cross-validation folds.
        threshold_fpr: out-of-fold false-positive rate the decision threshold aims for.
        seed: fold assignment seed.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown probe method '{method}'. Use one of: {', '.join(METHODS)}.")
    y = np.asarray(labels, dtype=int)
    names = list(hooks or cache.names)
    if len(y) != len(cache.texts):
        raise ConfigError(f"{len(y)} labels for {len(cache.texts)} captured texts.")
    if min(int(y.sum()), int((1 - y).sum())) < 2:
        raise ConfigError("Probe training needs at least two positive and two negative examples.")
    sweep: list[LayerScore] = []
    oof_by_hook: dict[str, np.ndarray] = {}
    for hook in names:
        oof = out_of_fold(cache.numpy(hook), y, method, groups=groups, k=folds, c=c, seed=seed)
        oof_by_hook[hook] = oof
        sweep.append(LayerScore(hook=hook, cv_auroc=_nan_auroc(y, oof)))
    valid = [s for s in sweep if not np.isnan(s.cv_auroc)]
    if not valid:
        raise ConfigError("Cross-validation failed on every hook: too few examples per class.")
    best = max(valid, key=lambda s: s.cv_auroc)  # first (earliest) hook wins ties
    fit = _fit(cache.numpy(best.hook), y, method, c)
    oof = oof_by_hook[best.hook]
    negatives = sigmoid(oof[(y == 0) & ~np.isnan(oof)])
    threshold = threshold_for_fpr(negatives, threshold_fpr) if len(negatives) else 0.5
    header = ProbeHeader(
        name=name,
        method=method,
        hook=best.hook,
        positions=str(cache.positions),
        fingerprint=cache.fingerprint,
        threshold=min(max(threshold, 1e-6), 1 - 1e-9),
        threshold_fpr=threshold_fpr,
        n_train=(int(y.sum()), int((1 - y).sum())),
        groups=tuple(sorted({g for g in groups or () if g})),
        sweep=tuple(sweep),
    )
    return LinearProbe(header, fit.mean, fit.scale, fit.weights, fit.bias)


def evaluate(
    detector: Any, cache: ActivationCache, labels: Sequence[int] | np.ndarray, **kwargs: Any
) -> DetectionReport:
    """A detector's :class:`DetectionReport` on held-out activations.

    Works for anything with ``score(cache)`` and ``threshold`` (probes, anomaly detectors).
    """
    scores = detector.score(cache)
    return detection_report(labels, scores, threshold=detector.threshold, **kwargs)


def sweep_heldout(
    train: ActivationCache,
    train_labels: Sequence[int] | np.ndarray,
    test: ActivationCache,
    test_labels: Sequence[int] | np.ndarray,
    *,
    method: Method = "logreg",
    c: float = 1.0,
) -> dict[str, float]:
    """Held-out AUROC of a probe fitted at every hook (for reports, not for choosing)."""
    y_train = np.asarray(train_labels, dtype=int)
    y_test = np.asarray(test_labels, dtype=int)
    out = {}
    for hook in train.names:
        fit = _fit(train.numpy(hook), y_train, method, c)
        out[hook] = auroc(y_test, fit.logits(test.numpy(hook)))
    return out
