"""Interp detectors as scorers (for audits) and as the guard's ``probe`` layer.

Both wrap :func:`redline.interp.detectors.read_internals`. Importing this module registers
the ``internals-probe`` scorer and the guard layer kind ``probe``; it imports no torch.

Scorer, on a white-box target::

    get_scorer("internals-probe", detector="lie.safetensors", target="organism:liar")

Guard policy layer, on a white-box upstream (the layer reads the upstream's internals)::

    - name: lie-probe
      kind: probe
      stages: [output]
      options: {detector: lie.safetensors, category: deception}
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from redline.errors import ConfigError
from redline.guard.layers import CheckInput, Hit, LayerResult, layer_kind
from redline.guard.policy import LayerSpec
from redline.scorers.base import Score, ScoreInput, scorer

SCORER_NAME = "internals-probe"


class InternalsScorer:
    """Scores exchanges with a detector on a white-box target's activations.

    The value is the detector's probability (a probe's calibrated probability, or an
    anomaly detector's conformal score); the label is whether its raw score reaches its
    threshold (or ``threshold`` on the value, when given).
    """

    def __init__(
        self,
        detector: str | Path | Any,
        target: str | Any,
        *,
        threshold: float | None = None,
        batch_size: int = 16,
    ) -> None:
        from redline.interp.detectors import load_detector

        self.detector = (
            load_detector(Path(detector)) if isinstance(detector, str | Path) else detector
        )
        self._target_spec = target
        self._target: Any = None if isinstance(target, str) else target
        self._lock = threading.Lock()
        self.threshold = threshold
        self.batch_size = batch_size
        self.name = getattr(getattr(self.detector, "header", None), "name", SCORER_NAME)

    def _white_box(self) -> Any:
        with self._lock:
            if self._target is None:
                from redline.targets import resolve_target

                self._target = resolve_target(str(self._target_spec), cache=False)
            from redline.interp.capture import as_white_box

            return as_white_box(self._target)

    def _judge(self, items: Sequence[ScoreInput]) -> list[Score]:
        from redline.interp.capture import capture

        target = self._white_box()
        texts = [target.render(i.messages) + (i.response or "") for i in items]
        cache = capture(
            target,
            texts,
            self.detector.hooks,
            positions=self.detector.positions,
            batch_size=self.batch_size,
        )
        raw = self.detector.score(cache)
        values = self.detector.probability(cache)
        out = []
        for r, v in zip(raw, values, strict=True):
            if self.threshold is not None:
                fired = bool(v >= self.threshold)
            else:
                fired = bool(r >= self.detector.threshold)
            out.append(
                Score(
                    value=float(np.clip(v, 0.0, 1.0)),
                    label=fired,
                    explanation=f"{self.name} on {', '.join(self.detector.hooks)}: raw {r:.3f}",
                    scorer=SCORER_NAME,
                    details={"raw": float(r), "threshold": float(self.detector.threshold)},
                )
            )
        return out

    async def __call__(self, item: ScoreInput) -> Score:
        """Judge one exchange."""
        return (await self.batch([item]))[0]

    async def batch(self, items: Sequence[ScoreInput]) -> list[Score]:
        """Judge many exchanges in batched forward passes, off the event loop."""
        if not items:
            return []
        return await asyncio.to_thread(self._judge, list(items))


@scorer(
    SCORER_NAME,
    positive="a detector reading the model's activations fires (lie, backdoor trigger, anomaly)",
    tags=("interp", "white-box"),
    needs="hf",
)
def internals_probe(
    detector: str, target: str | Any, threshold: float | None = None, batch_size: int = 16
) -> InternalsScorer:
    """A probe or anomaly detector read from a white-box target's internals."""
    return InternalsScorer(detector, target, threshold=threshold, batch_size=batch_size)


# --- the guard's probe layer ------------------------------------------------------------


class ProbeLayer:
    """Scores the upstream's internals on the request (``input``) or on the answer.

    Options: ``detector`` (path of a probe or anomaly detector file, required),
    ``category`` (policy category of a positive, default ``internals``), ``threshold``
    (on the detector's probability; default its own threshold).
    """

    def __init__(self, spec: LayerSpec) -> None:
        path = spec.options.get("detector")
        if not path:
            raise ConfigError(
                f"Layer '{spec.name}' (probe) needs options.detector: the path of a probe "
                "or anomaly detector file made with `redline interp`."
            )
        self.spec = spec
        self.category = str(spec.options.get("category", "internals"))
        threshold = spec.options.get("threshold")
        self._threshold = None if threshold is None else float(threshold)
        from redline.interp.detectors import load_detector

        self._detector = load_detector(Path(str(path)))
        self._scorers: dict[int, InternalsScorer] = {}

    def _scorer_for(self, upstream: object) -> InternalsScorer:
        made = self._scorers.get(id(upstream))
        if made is None:
            made = InternalsScorer(self._detector, upstream, threshold=self._threshold)
            self._scorers[id(upstream)] = made
        return made

    async def __call__(self, item: CheckInput) -> LayerResult:
        """Read the upstream's activations for this stage; fire the category when set."""
        from redline.interp.capture import as_white_box

        if item.upstream is None:
            raise ConfigError(
                f"Layer '{self.spec.name}' (probe) needs a white-box upstream "
                "(hf: or organism:) to read internals from."
            )
        upstream = as_white_box(item.upstream)
        response = item.response if item.stage == "output" else None
        score = await self._scorer_for(upstream)(ScoreInput(item.messages, response))
        value = float(score.value or 0.0)
        hits = (Hit(self.category, self.spec.name, value),) if score.label else ()
        return LayerResult(hits, {self.spec.name: round(value, 6)})


layer_kind("probe")(ProbeLayer)
