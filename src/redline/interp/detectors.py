"""One interface over probes and anomaly detectors, and the call a guard or scorer makes.

:func:`read_internals` is the clean function for white-box integration: given a target, a
detector and conversations (optionally with answers), it captures exactly the activations
the detector reads and returns its probabilities. Scorers and the guard's ``probe`` layer
are thin wrappers around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from redline.errors import ConfigError
from redline.interp.anomaly import AnomalyDetector, AnomalyHeader
from redline.interp.belief import BeliefProbe
from redline.interp.capture import ActivationCache, as_white_box, capture
from redline.interp.data import load_artifact
from redline.interp.probes import LinearProbe
from redline.interp.transfer import TransferProbe
from redline.types import Message


@runtime_checkable
class Detector(Protocol):
    """Reads activations at some hooks and says how likely the positive class is."""

    @property
    def hooks(self) -> list[str]:
        """Hook points it reads."""
        ...

    @property
    def positions(self) -> str:
        """Token positions it reads."""
        ...

    @property
    def threshold(self) -> float:
        """Raw score at or above which it fires (same scale as :meth:`score`)."""
        ...

    def score(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` raw scores, higher is more positive."""
        ...

    def probability(self, cache: ActivationCache) -> np.ndarray:
        """``[n]`` probabilities (or conformal scores) in [0, 1]."""
        ...


def load_detector(path: Path) -> LinearProbe | AnomalyDetector | TransferProbe | BeliefProbe:
    """A probe, belief probe, transfer probe or anomaly detector from its file.

    Raises:
        ConfigError: the file holds neither.
    """
    header, arrays = load_artifact(path)
    kind = header.get("kind")
    if kind == "linear-probe":
        return LinearProbe.from_parts(header, arrays)
    if kind == "anomaly":
        return AnomalyDetector(AnomalyHeader.model_validate(header), arrays)
    if kind == "transfer-probe":
        return TransferProbe.from_parts(header, arrays)
    if kind == "belief-probe":
        return BeliefProbe.from_parts(header, arrays)
    raise ConfigError(f"{path} holds '{kind}', which is not a detector redline knows.")


def read_internals(
    target: object,
    detector: Detector,
    conversations: Sequence[Sequence[Message]],
    responses: Sequence[str | None] | None = None,
    *,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Score conversations from the target's internals, before or after it answers.

    Each conversation is rendered with the chat template, ready for the answer; when a
    response is given it is appended, so the detector reads the model stating it.

    Args:
        target: a white-box target (``hf:`` or ``organism:``).
        detector: a probe or anomaly detector fitted on this model.
        conversations: the prompts.
        responses: answers to append, one per conversation (None entries: prompt only).
        batch_size: conversations per forward pass.

    Returns:
        ``([n] raw scores, [n] fired flags)``; a flag is set when the raw score reaches the
        detector's threshold.
    """
    box = as_white_box(target)
    answers = list(responses) if responses is not None else [None] * len(conversations)
    if len(answers) != len(conversations):
        raise ConfigError(f"{len(answers)} responses for {len(conversations)} conversations.")
    texts = [box.render(c) + (r or "") for c, r in zip(conversations, answers, strict=True)]
    cache = capture(box, texts, detector.hooks, positions=detector.positions, batch_size=batch_size)
    scores = detector.score(cache)
    return scores, scores >= detector.threshold
