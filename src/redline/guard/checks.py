"""Running a policy's layers on one stage of a request, and deciding what to do.

Layers run tier by tier, cheapest first (rules, classifiers, judge, probe). Layers of one
tier run concurrently; as soon as one of them blocks, the rest of the tier is cancelled
and later tiers are skipped. A layer that raises or overruns its ``timeout_ms`` fails:
with ``fail: closed`` (the default) that blocks the message under the category
``guard_failure``; with ``fail: open`` the message goes on and the bypass is counted.

The decision is the strongest action of the categories that fired. ``redact`` replaces
the spans the layers pointed at with ``[REDACTED:category]``; a category whose action is
redact but that came without spans cannot be redacted, so it blocks instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from redline.guard.events import LayerOutcome, LayerStatus
from redline.guard.layers import CheckInput, Hit, Layer, LayerResult, build_layer
from redline.guard.policy import Action, Stage, UsagePolicy, strongest
from redline.targets.base import Target
from redline.types import Message

GUARD_FAILURE = "guard_failure"


@dataclass
class StageDecision:
    """What the checks decided for one stage.

    Attributes:
        action: the strongest action among the categories that fired.
        categories: the categories that fired, in the order found.
        outcomes: one per enabled layer of the stage.
        texts: the checked texts, redacted when the action is ``redact``.
        bypasses: failed layers let through by ``fail: open``.
        embedding: a prompt embedding a layer computed, if any.
    """

    action: Action
    categories: list[str]
    outcomes: list[LayerOutcome]
    texts: tuple[str, ...]
    bypasses: int = 0
    embedding: Any = None
    hits: list[Hit] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """The stage must not go on."""
        return self.action == "block"


class Checker:
    """Runs a policy's layers.

    Args:
        policy: the usage policy.
        layers: the layers to run; default built from the policy's enabled layers.
        upstream: the upstream target, handed to layers that read its internals.
    """

    def __init__(
        self,
        policy: UsagePolicy,
        layers: Sequence[Layer] | None = None,
        upstream: Target | None = None,
    ) -> None:
        self.policy = policy
        self.upstream = upstream
        built = list(layers) if layers is not None else [
            build_layer(spec) for spec in policy.enabled_layers()
        ]
        self.layers = sorted(built, key=lambda layer: layer.spec.tier)
        self._tiers: dict[tuple[Stage, bool | None], list[list[Layer]]] = {}

    def warm(self) -> None:
        """Let every layer load what it needs before the first request (``Layer.warm``)."""
        for layer in self.layers:
            warm = getattr(layer, "warm", None)
            if callable(warm):
                warm()

    def layers_for(self, stage: Stage, overlapped: bool | None = None) -> list[Layer]:
        """The layers that check ``stage``, cheapest first.

        ``overlapped``: None for all of them; True for only the input layers that run
        while the upstream generates (``overlap: true``), False for only the others.
        """
        return [layer for layer in self.layers if stage in layer.spec.stages and (
            overlapped is None or stage != "input" or layer.spec.overlap == overlapped)]

    def skipped(self, stage: Stage, overlapped: bool | None = None) -> list[LayerOutcome]:
        """A ``skipped`` outcome for each of those layers (an earlier one blocked)."""
        return [_skipped(la, stage) for la in self.layers_for(stage, overlapped)]

    async def check(
        self, stage: Stage, messages: Sequence[Message], response: str | None = None,
        *, overlapped: bool | None = None,
    ) -> StageDecision:
        """Run the stage's layers (``overlapped``: which of them, see :meth:`layers_for`)."""
        item = CheckInput(stage, tuple(messages), response, self.upstream)
        outcomes: list[LayerOutcome] = []
        hits: list[Hit] = []
        bypasses = 0
        embedding = None
        blocked = False
        for tier in self._tiers_for(stage, overlapped):
            if blocked:
                outcomes += [_skipped(la, stage) for la in tier]
                continue
            for layer, result, outcome in await self._run_tier(tier, item):
                outcomes.append(outcome)
                bypasses += outcome.bypassed
                if result is not None:
                    hits += result.hits
                    if embedding is None:
                        embedding = result.embedding
                elif outcome.status in ("error", "timeout") and layer.spec.fail == "closed":
                    hits.append(Hit(GUARD_FAILURE, layer.spec.name))
            blocked = self._action(hits) == "block"
        return self._decide(stage, item, hits, outcomes, bypasses, embedding)

    def _tiers_for(self, stage: Stage, overlapped: bool | None) -> list[list[Layer]]:
        """:meth:`layers_for`, grouped by tier (worked out once per stage)."""
        key = (stage, overlapped)
        found = self._tiers.get(key)
        if found is None:
            found = self._tiers[key] = [list(group) for _, group in groupby(
                self.layers_for(stage, overlapped), key=lambda la: la.spec.tier)]
        return found

    def _action(self, hits: Sequence[Hit]) -> Action:
        if not hits:
            return "allow"
        return strongest([self._category_action(h.category) for h in hits])

    def _category_action(self, category: str) -> Action:
        if category == GUARD_FAILURE:
            return "block"
        return self.policy.action_for(category)

    async def _run_tier(
        self, tier: list[Layer], item: CheckInput
    ) -> list[tuple[Layer, LayerResult | None, LayerOutcome]]:
        """Run one tier concurrently; cancel the rest once a layer blocks."""
        if len(tier) == 1:  # the common case: no tasks, no scheduling
            return [await self._run_one(tier[0], item)]
        tasks = {asyncio.ensure_future(self._run_one(layer, item)): layer for layer in tier}
        done_results: dict[str, tuple[Layer, LayerResult | None, LayerOutcome]] = {}
        pending = set(tasks)
        try:
            while pending:
                finished, pending = await asyncio.wait(pending,
                                                       return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    layer, result, outcome = task.result()
                    done_results[layer.spec.name] = (layer, result, outcome)
                    failed_closed = result is None and outcome.status != "ok" and (
                        layer.spec.fail == "closed")
                    blocks = result is not None and self._action(result.hits) == "block"
                    if failed_closed or blocks:
                        for other in pending:
                            other.cancel()
                        pending = set()
                        break
        finally:
            for task in pending:
                task.cancel()
        ordered = []
        for layer in tier:
            found = done_results.get(layer.spec.name)
            if found is None:
                found = (layer, LayerResult(), _skipped(layer, item.stage))
            ordered.append(found)
        return ordered

    async def _run_one(
        self, layer: Layer, item: CheckInput
    ) -> tuple[Layer, LayerResult | None, LayerOutcome]:
        spec = layer.spec
        start = time.perf_counter()
        result: LayerResult | None = None
        error: str | None = None
        status: LayerStatus
        try:
            if getattr(layer, "waits", True):
                async with asyncio.timeout(spec.timeout_ms / 1000.0):  # no task per layer
                    result = await layer(item)
            else:  # it finishes in one step, which no timer could interrupt
                result = await layer(item)
            status = "ok"
        except TimeoutError:
            status, error = "timeout", f"no answer within {spec.timeout_ms:g} ms"
        except Exception as exc:  # noqa: BLE001 - a failing layer is a decision, not a crash
            status, error = "error", f"{type(exc).__name__}: {exc}"[:300]
        ms = (time.perf_counter() - start) * 1000.0
        outcome = LayerOutcome(
            layer=spec.name,
            stage=item.stage,
            status=status,
            ms=round(ms, 3),
            categories=sorted({h.category for h in result.hits}) if result else [],
            scores=result.scores if result else {},
            bypassed=result is None and spec.fail == "open",
            error=error,
        )
        return layer, result, outcome

    def _decide(
        self,
        stage: Stage,
        item: CheckInput,
        hits: list[Hit],
        outcomes: list[LayerOutcome],
        bypasses: int,
        embedding: Any,
    ) -> StageDecision:
        categories = list(dict.fromkeys(h.category for h in hits))
        action = self._action(hits)
        texts = item.texts
        if action == "redact":
            redact_hits = [h for h in hits if self._category_action(h.category) == "redact"]
            if any(not h.spans for h in redact_hits):
                action = "block"  # asked to redact what no layer can point at: fail closed
            else:
                texts = redact(texts, redact_hits, item)
        return StageDecision(action, categories, outcomes, texts, bypasses, embedding, hits)


def _skipped(layer: Layer, stage: Stage) -> LayerOutcome:
    """The outcome of a layer that did not run because an earlier one blocked."""
    return LayerOutcome(layer=layer.spec.name, stage=stage, status="skipped", ms=0.0)


def redact(texts: tuple[str, ...], hits: Sequence[Hit], item: CheckInput) -> tuple[str, ...]:
    """The texts with every hit's spans replaced by ``[REDACTED:category]``.

    Overlapping spans are merged (the first category names the merged span).
    """
    last_user = next((i for i in range(len(item.messages) - 1, -1, -1)
                      if item.messages[i].role == "user"), len(texts) - 1)
    per_text: dict[int, list[tuple[int, int, str]]] = {}
    for hit in hits:
        for index, start, end in hit.spans:
            target = last_user if index < 0 else index
            per_text.setdefault(target, []).append((start, end, hit.category))
    out = list(texts)
    for index, spans in per_text.items():
        if not 0 <= index < len(out):
            continue
        text = out[index]
        merged: list[list[Any]] = []
        for start, end, category in sorted(spans):
            start, end = max(0, start), min(len(text), end)
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end, category])
        pieces, cursor = [], 0
        for start, end, category in merged:
            pieces += [text[cursor:start], f"[REDACTED:{category}]"]
            cursor = end
        pieces.append(text[cursor:])
        out[index] = "".join(pieces)
    return tuple(out)


def with_texts(messages: Sequence[Message], texts: Sequence[str]) -> tuple[Message, ...]:
    """The messages with their contents replaced (after input redaction)."""
    return tuple(Message(m.role, t) for m, t in zip(messages, texts, strict=True))


__all__ = ["GUARD_FAILURE", "Checker", "StageDecision", "redact", "with_texts"]
