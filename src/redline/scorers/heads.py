"""Small trained heads on top of the sentence encoder, stored as plain JSON (never pickle).

A head is a linear (logistic-regression) layer with a calibration step fitted on
out-of-fold predictions, and the decision threshold chosen on the training data. It is
applied with numpy alone, so scoring needs no scikit-learn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from redline.errors import CheckpointError

HEAD_FORMAT = 1


class Calibration(BaseModel):
    """Maps raw logits to probabilities: ``sigmoid(scale * z + shift)``, or softmax(z / T)."""

    model_config = ConfigDict(frozen=True)

    scale: float = 1.0
    shift: float = 0.0


class HeadProvenance(BaseModel):
    """How a head was made, so it can be rebuilt and checked."""

    model_config = ConfigDict(frozen=True)

    command: str
    seed: int
    train_sha256: str
    train_size: int
    encoder_sha256: str
    regularisation_c: float | None = None
    recipe: str = Field(default="", description="how a fine-tuned head was fitted")
    cv_f1: float
    threshold_from: str = "out-of-fold training predictions"
    cv_f1_by_scorer: dict[str, float] = Field(
        default_factory=dict, description="out-of-fold F1 of each scorer that reads this head"
    )
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class Adapter(BaseModel):
    """A low-rank (LoRA) fine-tune of the encoder a head reads, in a file beside the head.

    The file holds ``{module}.lora_A`` ``[rank, in]`` and ``{module}.lora_B`` ``[out, rank]``
    for each adapted linear layer (named as in the encoder's weights); the encoder runs
    its first ``layers`` layers with ``weight + lora_B @ lora_A * alpha / rank``.
    """

    model_config = ConfigDict(frozen=True)

    file: str
    sha256: str
    layers: int
    rank: int
    alpha: float
    max_request_tokens: int
    max_windows: int


class LinearHead(BaseModel):
    """A logistic-regression head: binary (one row of weights) or multinomial (one per class)."""

    model_config = ConfigDict(frozen=True)

    format: int = HEAD_FORMAT
    name: str
    features: str = Field(description="which inputs are encoded and how they are joined")
    classes: list[str]
    weights: list[list[float]]
    bias: list[float]
    calibration: Calibration = Calibration()
    threshold: float = 0.5
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="decision thresholds of the scorers that read this head, by scorer name",
    )
    rule_precision: dict[str, float] = Field(
        default_factory=dict,
        description="per hand-written rule: its smoothed precision on the training data",
    )
    vocabulary: list[str] = Field(
        default_factory=list,
        description="word and word-pair features appended to the embedding (binary), in order",
    )
    lexical_scale: float = 0.0
    adapter: Adapter | None = Field(
        default=None, description="the fine-tuned encoder whose output this head reads"
    )
    provenance: HeadProvenance

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Raw scores ``[n, rows]`` for features ``x`` of shape ``[n, d]``."""
        w = np.asarray(self.weights, dtype=np.float32)
        if x.shape[1] != w.shape[1]:
            raise CheckpointError(
                f"Head '{self.name}' expects {w.shape[1]} features, got {x.shape[1]}. "
                "Rebuild it with `redline scorers train`."
            )
        result: np.ndarray = x @ w.T + np.asarray(self.bias, dtype=np.float32)
        return result

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities.

        Binary heads give ``[n]`` (probability of ``classes[1]``); multinomial heads give
        ``[n, len(classes)]``.
        """
        z = self.logits(x).astype(np.float64)
        if len(self.classes) == 2 and z.shape[1] == 1:
            out: np.ndarray = 1.0 / (
                1.0 + np.exp(-(self.calibration.scale * z[:, 0] + self.calibration.shift))
            )
            return out
        z = z * self.calibration.scale
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        result: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return result

    def save(self, path: Path) -> None:
        """Write the head as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")


def data_dir() -> Path:
    """The folder of shipped heads and labelled data sets."""
    return Path(str(resources.files("redline.scorers") / "data"))


_loaded: dict[Path, LinearHead] = {}


def load_head(name: str, folder: Path | None = None) -> LinearHead:
    """Load the shipped head ``NAME.head.json`` (cached per process).

    Raises:
        CheckpointError: the head file is missing or malformed.
    """
    path = (folder or data_dir()) / f"{name}.head.json"
    trains = name.split(".")[0]  # outcome.request is written by training outcome
    if path not in _loaded:
        if not path.is_file():
            raise CheckpointError(
                f"Scorer head {path} is missing. Rebuild it with `redline scorers train {trains}`."
            )
        try:
            _loaded[path] = LinearHead.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise CheckpointError(
                f"Scorer head {path} is malformed ({str(exc).splitlines()[0]}). "
                f"Rebuild it with `redline scorers train {trains}`."
            ) from exc
    return _loaded[path]


def forget_head(path: Path) -> None:
    """Drop ``path`` from the per-process cache of loaded heads (it was just rewritten)."""
    _loaded.pop(path, None)


__all__ = [
    "Adapter",
    "Calibration",
    "HeadProvenance",
    "LinearHead",
    "data_dir",
    "forget_head",
    "load_head",
]
