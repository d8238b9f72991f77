"""A lie probe that compares what the model states with what it knows.

A statement is false when the value it states differs from the value the model holds for
that slot: truth is a *match*, and one linear readout of one position cannot compute a
match (on the shipped liar such a probe reaches AUROC 0.69). This probe reads two things:

- **what the model knows**: a linear *belief decoder* (multinomial logistic regression)
  from the residual stream at the position just before the stated value to the value the
  model states when it tells the truth. It is fitted on the *true* statements of the
  training data only, so it learns to read the model's belief, not a lying mode.
- **what it states**: the token at the stated position, recognised by its input
  embedding (``blocks.0.hook_resid_pre``), so no token ids travel with the activations.

The raw score is the decoder's surprise at the stated value, ``-log p(stated | belief)``
in nats; a stated value the decoder never saw stated truly is as surprising as its least
expected known value. A one-dimensional logistic fit on out-of-fold surprises turns the
score into a probability, and the threshold keeps the out-of-fold false-positive rate on
true training statements near ``threshold_fpr``.

The hook is chosen by cross-validated AUROC on the training data only; when groups
(conditions) are given, folds hold out whole groups, so the chosen layer is one where the
belief reads the same whatever condition the prompt carries. Calibration and threshold
come from stratified folds at that hook. Statements must end with the
stated value at a fixed offset from the end (``stated``, default ``-2``: ``... baker .``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from redline.errors import ConfigError
from redline.interp.capture import ActivationCache, Positions
from redline.interp.data import load_artifact, save_artifact
from redline.interp.metrics import DetectionReport, sigmoid, threshold_for_fpr
from redline.interp.probes import LayerScore, _folds
from redline.stats import auroc

IDENTITY_HOOK = "blocks.0.hook_resid_pre"
"""Where the stated token is read: the input embedding, a fixed vector per token."""


def belief_positions(stated: int = -2) -> str:
    """The positions a belief probe reads: the one before the stated value, then the value."""
    if stated >= 0:
        raise ConfigError(f"stated must be a negative offset from the last token, got {stated}.")
    return f"{stated - 1},{stated}"


def belief_hooks(n_layers: int) -> list[str]:
    """The hooks to capture for :func:`train_belief_probe`: every residual, plus the embedding."""
    return [IDENTITY_HOOK, *(f"blocks.{i}.hook_resid_post" for i in range(n_layers))]


class BeliefHeader(BaseModel):
    """What a belief-probe file says about itself.

    Attributes:
        name: what it detects (``lie``).
        hook: where the belief is read (at the position before the stated value).
        stated: offset of the stated value from the last token (``-2``: before a full stop).
        fingerprint: the model it was trained on.
        threshold: surprise (nats) at or above which it fires; set on out-of-fold true
            training statements (stratified folds) to keep their false-positive rate near
            ``threshold_fpr``.
        threshold_fpr: the false-positive rate the threshold was set for.
        n_train: training statements (false, true).
        n_values: distinct values the decoder knows.
        groups: the groups (conditions) seen in training.
        c: inverse L2 strength of the decoder.
        sweep: cross-validated AUROC of every hook considered.
        report: accuracy on held-out data, when evaluated.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["belief-probe"] = "belief-probe"
    version: int = 1
    name: str = "lie"
    hook: str
    stated: int = -2
    fingerprint: str = ""
    threshold: float = 0.0
    threshold_fpr: float = 0.01
    n_train: tuple[int, int] = (0, 0)
    n_values: int = 0
    groups: tuple[str, ...] = ()
    c: float = 1.0
    sweep: tuple[LayerScore, ...] = ()
    report: DetectionReport | None = None


@dataclass(frozen=True)
class _Decoder:
    """Standardise, then a softmax over known values: ``[k, d]`` weights, ``[k]`` biases."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    values: np.ndarray  # [k, d] input embeddings of the known values

    def surprise(self, belief: np.ndarray, stated: np.ndarray) -> np.ndarray:
        """``[n]`` ``-log p(stated value)`` for ``[n, d]`` beliefs and stated embeddings."""
        logits = ((belief - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits = logits - logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        which = _match(stated, self.values)
        rows = np.arange(len(belief))
        known = which >= 0
        out = -log_p.min(axis=1)  # unknown value: as surprising as the least expected one
        out[known] = -log_p[rows[known], which[known]]
        return np.asarray(out)


def _match(stated: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``[n]`` index of each stated embedding among ``values`` (-1 when it is none of them)."""
    distance = ((stated[:, None, :] - values[None, :, :]) ** 2).sum(axis=2)
    size = (values**2).sum(axis=1)[None, :] + 1e-12
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(stated)), nearest] <= 1e-6 * size[0, nearest]
    return np.where(close, nearest, -1)


def _distinct(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct embedding rows and, per input row, the index of its distinct row."""
    values, inverse = np.unique(np.round(rows, 6), axis=0, return_inverse=True)
    first = np.array([np.flatnonzero(inverse.ravel() == k)[0] for k in range(len(values))])
    return rows[first], inverse.ravel()


def _fit_decoder(belief: np.ndarray, stated: np.ndarray, c: float) -> _Decoder:
    """Fit the belief decoder on true statements' beliefs and stated embeddings."""
    from sklearn.linear_model import LogisticRegression

    values, target = _distinct(stated)
    if len(values) < 2:
        raise ConfigError("A belief probe needs true statements of at least two different values.")
    mean = belief.mean(axis=0)
    scale = belief.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)
    with warnings.catch_warnings():  # few statements per value is expected at small n
        warnings.filterwarnings("ignore", message="The number of unique classes")
        model = LogisticRegression(C=c, max_iter=5000).fit((belief - mean) / scale, target)
    coef = np.zeros((len(values), belief.shape[1]))
    intercept = np.full(len(values), -1e4)  # values absent from this fit: never predicted
    classes = model.classes_.astype(int)
    if len(classes) == 2:  # sklearn keeps one row for two classes: p(second) = sigmoid(w x + b)
        coef[classes[1]] = model.coef_[0]
        intercept[classes[0]], intercept[classes[1]] = 0.0, float(model.intercept_[0])
    else:
        coef[classes] = model.coef_
        intercept[classes] = model.intercept_
    return _Decoder(mean, scale, coef, intercept, values)


def _split(cache: ActivationCache, hook: str, stated: int) -> tuple[np.ndarray, np.ndarray]:
    """``([n, d] belief at hook, [n, d] stated embedding)`` from a belief-probe capture."""
    expected = Positions.parse(belief_positions(stated))
    if cache.positions != expected:
        raise ConfigError(
            f"A belief probe reads positions {expected} (before the stated value, then the "
            f"value); this capture kept {cache.positions}. Capture with "
            f"positions='{expected}'."
        )
    belief = cache[hook].double().numpy()[:, 0]
    value = cache[IDENTITY_HOOK].double().numpy()[:, 1]
    return belief, value


@dataclass
class BeliefProbe:
    """A trained belief probe: header, decoder arrays and the surprise calibration."""

    header: BeliefHeader
    decoder: _Decoder
    calibration: tuple[float, float]  # probability = sigmoid(a * surprise + b)

    @property
    def hooks(self) -> list[str]:
        """The hook points it reads."""
        return [self.header.hook, IDENTITY_HOOK]

    @property
    def positions(self) -> str:
        """The positions it reads: before the stated value, and the value."""
        return belief_positions(self.header.stated)

    @property
    def threshold(self) -> float:
        """Surprise (nats) at or above which it fires."""
        return self.header.threshold

    def score(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` surprise of the stated value given the model's belief, in nats."""
        belief, value = _split(cache, self.header.hook, self.header.stated)
        if belief.shape[1] != self.decoder.coef.shape[1]:
            raise ConfigError(
                f"Belief probe {self.header.name} reads {self.decoder.coef.shape[1]}-wide "
                f"activations at {self.header.hook}, got {belief.shape[1]}; was it trained "
                "on this model?"
            )
        return self.decoder.surprise(belief, value)

    def probability(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` calibrated probability that the statement is false."""
        a, b = self.calibration
        return sigmoid(a * self.score(cache) + b)

    def save(self, path: Path) -> Path:
        """Write to a safetensors file."""
        d = self.decoder
        arrays = {
            "mean": d.mean,
            "scale": d.scale,
            "coef": d.coef,
            "intercept": d.intercept,
            "values": d.values,
            "calibration": np.array(self.calibration),
        }
        return save_artifact(path, self.header, arrays)

    @classmethod
    def from_parts(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> BeliefProbe:
        """Rebuild from :func:`~redline.interp.data.load_artifact` output."""
        decoder = _Decoder(
            arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"], arrays["values"]
        )
        a, b = (float(x) for x in arrays["calibration"])
        return cls(BeliefHeader.model_validate(header), decoder, (a, b))

    @classmethod
    def load(cls, path: Path) -> BeliefProbe:
        """Read a belief-probe file.

        Raises:
            ConfigError: the file holds something else.
        """
        header, arrays = load_artifact(path, "belief-probe", "a belief probe")
        return cls.from_parts(header, arrays)


def _out_of_fold(
    belief: np.ndarray,
    value: np.ndarray,
    y: np.ndarray,
    folds: list[np.ndarray],
    c: float,
) -> np.ndarray:
    scores = np.full(len(y), np.nan)
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        true = train[y[train] == 0]
        if len(test) == 0 or len(np.unique(np.round(value[true], 6), axis=0)) < 2:
            continue
        scores[test] = _fit_decoder(belief[true], value[true], c).surprise(
            belief[test], value[test]
        )
    return scores


def train_belief_probe(
    cache: ActivationCache,
    labels: Sequence[int] | np.ndarray,
    *,
    name: str = "lie",
    hooks: Sequence[str] | None = None,
    stated: int = -2,
    groups: Sequence[str] | None = None,
    c: float = 1.0,
    folds: int = 5,
    threshold_fpr: float = 0.01,
    seed: int = 0,
) -> BeliefProbe:
    """Sweep the hooks, pick the best by cross-validated AUROC, fit on all the data there.

    Args:
        cache: activations of true and false statements, captured at
            :func:`belief_positions` with :data:`IDENTITY_HOOK` among the hooks.
        labels: ``[n]`` 1 for false statements, 0 for true ones.
        name: what the probe detects.
        hooks: belief hooks to consider (default: every captured hook but the embedding).
        stated: offset of the stated value from the last token.
        groups: condition per statement; folds then hold out whole groups.
        c: inverse L2 strength of the decoder.
        folds: cross-validation folds.
        threshold_fpr: out-of-fold false-positive rate the threshold aims for.
        seed: fold assignment seed.

    Raises:
        ConfigError: wrong positions, no embedding hook, or too few statements per class.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels, dtype=int)
    if len(y) != len(cache.texts):
        raise ConfigError(f"{len(y)} labels for {len(cache.texts)} captured texts.")
    if min(int(y.sum()), int((1 - y).sum())) < 2:
        raise ConfigError("A belief probe needs at least two true and two false statements.")
    if IDENTITY_HOOK not in cache.names:
        raise ConfigError(
            f"A belief probe reads the stated value at {IDENTITY_HOOK}; capture it too "
            "(see belief_hooks)."
        )
    names = [h for h in (hooks or cache.names) if h != IDENTITY_HOOK]
    if not names:
        raise ConfigError("No hook to read the belief from: capture a residual hook too.")
    split = _folds(y, groups, folds, seed)
    sweep: list[LayerScore] = []
    oof_by_hook: dict[str, np.ndarray] = {}
    for hook in names:
        belief, value = _split(cache, hook, stated)
        oof = _out_of_fold(belief, value, y, split, c)
        oof_by_hook[hook] = oof
        ok = ~np.isnan(oof)
        sweep.append(LayerScore(hook=hook, cv_auroc=auroc(y[ok], oof[ok])))
    valid = [s for s in sweep if not np.isnan(s.cv_auroc)]
    if not valid:
        raise ConfigError("Cross-validation failed on every hook: too few true statements.")
    best = max(valid, key=lambda s: s.cv_auroc)  # first (earliest) hook wins ties
    belief, value = _split(cache, best.hook, stated)
    decoder = _fit_decoder(belief[y == 0], value[y == 0], c)
    oof = oof_by_hook[best.hook]
    if groups is not None:
        # Grouped folds choose a hook that generalises across conditions, but each of
        # their decoders sees one condition only; the final decoder sees them all, so
        # calibration and threshold come from stratified folds, which resemble it.
        oof = _out_of_fold(belief, value, y, _folds(y, None, folds, seed), c)
    ok = ~np.isnan(oof)
    calib = LogisticRegression(C=1e4, max_iter=1000).fit(oof[ok].reshape(-1, 1), y[ok])
    negatives = oof[ok & (y == 0)]
    header = BeliefHeader(
        name=name,
        hook=best.hook,
        stated=stated,
        fingerprint=cache.fingerprint,
        threshold=threshold_for_fpr(negatives, threshold_fpr),
        threshold_fpr=threshold_fpr,
        n_train=(int(y.sum()), int((1 - y).sum())),
        n_values=len(decoder.values),
        groups=tuple(sorted({g for g in groups or () if g})),
        c=c,
        sweep=tuple(sweep),
    )
    a, b = float(calib.coef_[0, 0]), float(calib.intercept_[0])
    return BeliefProbe(header, decoder, (a, b))
