"""Trigger-agnostic anomaly detection: fit on clean, trusted prompts only.

Per hook, the clean activations get a mean and a Ledoit-Wolf shrinkage covariance; a
prompt's distance is its squared Mahalanobis distance. Distances are put on one scale by
standardising them against a calibration split of the clean prompts that the means and
covariances were not fitted on, and the hooks are averaged. The detector's probability is
conformal: the share of clean calibration prompts that look more normal than this one.
Its threshold keeps the false-positive rate on clean calibration prompts near ``fpr``.

Nothing here ever sees a triggered prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from redline.errors import ConfigError
from redline.interp.capture import ActivationCache
from redline.interp.data import load_artifact, save_artifact
from redline.interp.metrics import DetectionReport, threshold_for_fpr


class AnomalyHeader(BaseModel):
    """What an anomaly detector file says about itself.

    Attributes:
        name: what it watches for.
        hooks: hook points it reads.
        positions: token positions it reads.
        fingerprint: the model it was fitted on.
        n_fit: clean prompts the means and covariances were fitted on.
        n_calibration: clean prompts the scale and threshold were set on.
        shrinkage: Ledoit-Wolf shrinkage per hook.
        threshold: combined score at or above which it fires.
        fpr: the clean false-positive rate the threshold aims for.
        report: accuracy on held-out labelled data, when evaluated.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["anomaly"] = "anomaly"
    version: int = 1
    name: str = "anomaly"
    hooks: tuple[str, ...]
    positions: str = "last"
    fingerprint: str = ""
    n_fit: int = 0
    n_calibration: int = 0
    shrinkage: tuple[float, ...] = ()
    threshold: float = 0.0
    fpr: float = 0.01
    report: DetectionReport | None = None


@dataclass
class AnomalyDetector:
    """Mahalanobis distance to clean activations, combined over hooks.

    Arrays per hook ``h``: ``mean/h`` ``[d]``, ``precision/h`` ``[d, d]``, ``scale/h``
    ``[2]`` (clean mean and standard deviation of the distance); ``calibration`` ``[m]``
    sorted combined scores of the clean calibration prompts.
    """

    header: AnomalyHeader
    arrays: dict[str, np.ndarray]

    @property
    def hooks(self) -> list[str]:
        """The hook points it reads."""
        return list(self.header.hooks)

    @property
    def positions(self) -> str:
        """The positions it reads."""
        return self.header.positions

    @property
    def threshold(self) -> float:
        """Combined score at or above which it fires."""
        return self.header.threshold

    def distances(self, cache: ActivationCache) -> dict[str, np.ndarray]:
        """Squared Mahalanobis distance per hook, one per point (text, or token for ``all``)."""
        out = {}
        for hook in self.hooks:
            x, _ = _points(cache, hook)
            out[hook] = _mahalanobis(
                x, self.arrays[f"mean/{hook}"], self.arrays[f"precision/{hook}"]
            )
        return out

    def score(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` combined anomaly score: mean over hooks of standardised distances.

        With ``positions="all"`` every token is scored and a text scores its most anomalous
        token, so a trigger anywhere in the prompt counts, whatever the model then does.
        """
        per_hook = self.distances(cache)
        z = np.mean(
            [
                (per_hook[h] - self.arrays[f"scale/{h}"][0]) / self.arrays[f"scale/{h}"][1]
                for h in self.hooks
            ],
            axis=0,
        )
        _, owner = _points(cache, self.hooks[0])
        return _max_per_text(z, owner, len(cache.texts))

    def probability(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` share of clean calibration prompts that score below each prompt."""
        calibration = self.arrays["calibration"]
        s = self.score(cache)
        return np.searchsorted(calibration, s, side="left") / len(calibration)

    def save(self, path: Path) -> Path:
        """Write to a safetensors file."""
        return save_artifact(path, self.header, self.arrays)

    @classmethod
    def load(cls, path: Path) -> AnomalyDetector:
        """Read an anomaly detector file.

        Raises:
            ConfigError: the file holds something else.
        """
        header, arrays = load_artifact(path, "anomaly", "an anomaly detector")
        return cls(AnomalyHeader.model_validate(header), arrays)


def _points(
    cache: ActivationCache, hook: str, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``([m, d] points, [m] text index)``: one point per text, or per real token for ``all``."""
    if cache.positions.mode == "all":
        if cache.mask is None:
            raise ConfigError("An 'all' positions capture has no mask; capture it again.")
        mask = cache.mask.bool().numpy()
        x = cache[hook].double().numpy()[mask]
        owner = np.nonzero(mask)[0]
    else:
        x = cache.numpy(hook)
        owner = np.arange(len(x))
    if rows is not None:
        keep = np.isin(owner, rows)
        x, owner = x[keep], owner[keep]
    return x, owner


def _mahalanobis(x: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    diff = x - mean
    return np.asarray(np.einsum("nd,de,ne->n", diff, precision, diff))


def _max_per_text(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, owner, values)
    return out


def ledoit_wolf(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf shrinkage covariance of ``[n, d]`` data, and the shrinkage used."""
    from sklearn.covariance import ledoit_wolf as lw

    covariance, shrinkage = lw(x)
    return np.asarray(covariance), float(shrinkage)


def fit_anomaly(
    clean: ActivationCache,
    *,
    hooks: Sequence[str] | None = None,
    name: str = "anomaly",
    calibration_share: float = 0.25,
    fpr: float = 0.01,
    seed: int = 0,
) -> AnomalyDetector:
    """Fit the detector on activations of clean, trusted prompts only.

    Args:
        clean: activations of clean prompts: ``[n, d]`` per hook (``last``, ``mean``), or
            ``[n, pos, d]`` with ``all``, where every token is a point and a text scores
            its most anomalous token.
        hooks: hooks to use (default: all captured).
        name: what it watches for.
        calibration_share: share of the clean prompts held back to standardise distances
            and set the threshold.
        fpr: the clean false-positive rate the threshold aims for.
        seed: split seed.

    Raises:
        ConfigError: too few clean prompts.
    """
    names = list(hooks or clean.names)
    n = len(clean.texts)
    n_cal = max(2, int(round(n * calibration_share)))
    if n - n_cal < 4:
        raise ConfigError(f"Anomaly detection needs at least 6 clean prompts; got {n}.")
    order = np.random.default_rng(seed).permutation(n)
    cal, fit = order[:n_cal], order[n_cal:]
    arrays: dict[str, np.ndarray] = {}
    shrinkages = []
    z_cal = []
    owner_cal = np.zeros(0, dtype=int)
    for hook in names:
        x_fit, _ = _points(clean, hook, fit)
        x_cal, owner_cal = _points(clean, hook, cal)
        mean = x_fit.mean(axis=0)
        covariance, shrinkage = ledoit_wolf(x_fit)
        precision = np.linalg.pinv(covariance, hermitian=True)
        d_cal = _mahalanobis(x_cal, mean, precision)
        spread = float(d_cal.std()) or 1.0
        arrays[f"mean/{hook}"] = mean
        arrays[f"precision/{hook}"] = precision
        arrays[f"scale/{hook}"] = np.array([float(d_cal.mean()), spread])
        shrinkages.append(shrinkage)
        z_cal.append((d_cal - d_cal.mean()) / spread)
    calibration = np.sort(_max_per_text(np.mean(z_cal, axis=0), owner_cal, n)[cal])
    arrays["calibration"] = calibration
    threshold = threshold_for_fpr(calibration, fpr)
    header = AnomalyHeader(
        name=name,
        hooks=tuple(names),
        positions=str(clean.positions),
        fingerprint=clean.fingerprint,
        n_fit=len(fit),
        n_calibration=len(cal),
        shrinkage=tuple(shrinkages),
        threshold=threshold,
        fpr=fpr,
    )
    return AnomalyDetector(header, arrays)
