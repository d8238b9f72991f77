"""Layers of checks: rules, encoder classifiers, a judge, and a probe on the upstream's internals.

A layer looks at one stage of a request (the prompt on ``input``, the answer on
``output``) and says which policy categories fired, with the spans to redact where it can
point at them. Each layer kind is a factory registered with :func:`layer_kind`; the guard
builds layers from the policy's ``layers`` list and runs them cheapest tier first.

The ``probe`` kind is the hook for white-box upstreams: a part that reads a model's
internals registers a factory with ``@layer_kind("probe")`` whose layer gets the upstream
target in :class:`CheckInput` (an :class:`~redline.targets.hf.HFTarget` gives activations).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from redline.errors import ConfigError
from redline.guard.policy import LayerSpec, ScorerRef, Stage
from redline.scorers.base import Score, ScoreInput
from redline.targets.base import Target
from redline.threads import torch_threads
from redline.types import Message


@dataclass(frozen=True)
class CheckInput:
    """What a layer checks.

    Attributes:
        stage: ``input`` or ``output``.
        messages: the conversation.
        response: the upstream's answer (``output`` stage only).
        upstream: the upstream target, for layers that read its internals.
    """

    stage: Stage
    messages: tuple[Message, ...]
    response: str | None = None
    upstream: Target | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts under check: each message on ``input``, the answer on ``output``."""
        if self.stage == "output":
            return (self.response or "",)
        return tuple(m.content for m in self.messages)


@dataclass(frozen=True)
class Hit:
    """A category that fired.

    Attributes:
        category: the policy category.
        source: the rule or scorer that fired.
        score: its score in [0, 1] (1.0 for rules).
        spans: ``(text_index, start, end)`` character spans to redact in
            :attr:`CheckInput.texts`; empty when the layer cannot point at the words.
    """

    category: str
    source: str
    score: float = 1.0
    spans: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class LayerResult:
    """What a layer found.

    Attributes:
        hits: the categories that fired.
        scores: scorer name -> value, for the event record.
        embedding: the prompt embedding, when the layer computed one (used for drift).
    """

    hits: tuple[Hit, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    embedding: Any = None


@runtime_checkable
class Layer(Protocol):
    """One layer of checks.

    A layer may also define ``warm()``: the guard calls it once before it serves, so what
    the layer loads on first use (a model, say) is not loaded inside a request's timeout.
    And it may set ``waits = False`` when its call never waits (no I/O, no thread, no
    lock): it then runs without a timer, which could not interrupt it anyway.
    """

    spec: LayerSpec

    async def __call__(self, item: CheckInput) -> LayerResult:
        """Check one stage of one request."""
        ...


LayerFactory = Callable[[LayerSpec], Layer]
_KINDS: dict[str, LayerFactory] = {}


def layer_kind(name: str) -> Callable[[LayerFactory], LayerFactory]:
    """Register the factory of a layer kind (``rules``, ``classifier``, ``judge``, ``probe``)."""

    def register(factory: LayerFactory) -> LayerFactory:
        _KINDS[name] = factory
        return factory

    return register


# Layer kinds registered by other parts, imported only when a policy uses them.
_KINDS_ELSEWHERE = {"probe": "redline.interp.integration"}


def build_layer(spec: LayerSpec) -> Layer:
    """Make the layer a policy entry describes.

    Raises:
        ConfigError: no factory is registered for the kind, or the entry is incomplete.
    """
    if spec.kind not in _KINDS:
        from redline.plugins import load_plugins

        load_plugins()
    if spec.kind not in _KINDS and spec.kind in _KINDS_ELSEWHERE:
        import importlib

        importlib.import_module(_KINDS_ELSEWHERE[spec.kind])
    factory = _KINDS.get(spec.kind)
    if factory is None:
        raise ConfigError(
            f"Layer '{spec.name}' has kind '{spec.kind}', for which nothing is installed. "
            f"Installed kinds: {', '.join(sorted(_KINDS))}. Disable it with 'enabled: false'."
        )
    return factory(spec)


# --- rules -----------------------------------------------------------------------------


class RulesLayer:
    """Regular expressions and whole-word blocklists per category, plus fast rule scorers.

    Patterns are compiled once. Matches give exact spans, so ``redact`` works.
    """

    def __init__(self, spec: LayerSpec) -> None:
        self.spec = spec
        rules: list[tuple[str, str, re.Pattern[str]]] = []
        for category, patterns in spec.patterns.items():
            for pattern in patterns:
                rules.append((category, f"{spec.name}:{category}", re.compile(pattern)))
        for category, words in spec.blocklist.items():
            if words:
                alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                compiled = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
                rules.append((category, f"{spec.name}:blocklist:{category}", compiled))
        self._rules = [(*rule, required_text(rule[2])) for rule in rules]
        self._scorers = ScorerSet(spec)
        self.waits = bool(spec.scorers)  # the regexes alone finish in one step

    async def __call__(self, item: CheckInput) -> LayerResult:
        """Scan every text with every rule, then run the layer's rule scorers.

        A rule whose pattern needs a fixed piece of text (``sk-``, ``@``) skips the texts
        without it: a substring test costs a fraction of a scan, and most texts match no rule.
        """
        found: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        texts = item.texts
        for category, source, pattern, needed in self._rules:
            for i, text in enumerate(texts):
                if needed is not None and needed not in text:
                    continue
                for m in pattern.finditer(text):
                    if m.end() > m.start():
                        found.setdefault((category, source), []).append((i, m.start(), m.end()))
        hits = tuple(Hit(cat, src, 1.0, tuple(spans)) for (cat, src), spans in found.items())
        scored = await self._scorers(item)
        return LayerResult(hits + scored.hits, scored.scores)

    def warm(self) -> None:
        """Load the layer's scorers (see :class:`Layer`)."""
        self._scorers.warm()


def required_text(pattern: re.Pattern[str]) -> str | None:
    """The longest run of plain characters that every match of ``pattern`` contains.

    Read from the top level of the parsed pattern, where every item is part of every
    match (``-----BEGIN `` in a private-key pattern, ``@`` in an e-mail one). None when
    there is none, and for patterns that ignore case: a substring test cannot stand in for
    the engine's case folding.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:  # the standard library's own regex parser (private, so any surprise means None)
        from re import _constants, _parser  # type: ignore[attr-defined]

        items = list(_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # noqa: BLE001 - no shortcut, the rule then scans every text
        return None
    best, run = "", ""
    for op, value in items + [(None, None)]:
        if op == _constants.LITERAL:
            run += chr(value)
            continue
        if len(run) > len(best):
            best = run
        run = ""
    return best or None


# --- scorer-backed layers --------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Gathers concurrent calls into batches for a function that is cheaper in bulk.

    The first call runs at once, alone; calls that arrive while a batch runs wait and go
    together in the next one (continuous batching). So a quiet guard adds no delay and a
    busy one makes one encoder pass for many requests instead of queueing them one by one.
    """

    def __init__(
        self, run: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_batch: int = 64
    ) -> None:
        self._run = run
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running = False

    async def __call__(self, item: T) -> R:
        """The function's result for one item."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                self._pending = self._pending[self.max_batch :]
                live = [(item, fut) for item, fut in batch if not fut.done()]
                if not live:
                    continue
                try:
                    results = await self._run([item for item, _ in live])
                except Exception as exc:  # noqa: BLE001 - each caller gets the failure
                    for _, fut in live:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), result in zip(live, results, strict=True):
                    if not fut.done():
                        fut.set_result(result)
        finally:
            self._running = False


class ScorerSet:
    """Runs a layer's registered scorers on one stage and maps positives to categories.

    The learned scorers that run in this process on the shared sentence encoder
    (``harmful_request``, ``injection``, ...) run together: one :class:`Batcher` gathers
    concurrent requests, and one worker thread judges the batch with every such scorer
    under one embedding memo, so each distinct text goes through the encoder once per
    batch, however many scorers read it (a one-turn prompt is the same text for
    ``harmful_request``, ``injection`` and the drift embedding). Other scorers that judge
    in bulk get a :class:`Batcher` each; the rest are called per request. With
    ``options: {embed_prompts: true}`` the set also embeds the last user message with the
    encoder, for drift in watch. ``options: {precision: auto}`` (the default) runs that
    encoder pass in bfloat16 on CPUs with bfloat16 matrix units (about 2.3x faster,
    embeddings within cosine 0.9999 of float32); ``int8`` runs its linear layers with int8
    weights (faster again, embeddings within cosine 0.98 of float32: see RESULTS, "Judges
    on real model output", for what that does to the judges' labels); ``float32`` keeps
    full precision.
    """

    def __init__(self, spec: LayerSpec) -> None:
        from redline.scorers._learned import LearnedScorer
        from redline.scorers.base import BatchScorer, get_scorer

        self.spec = spec
        self._refs: list[ScorerRef] = list(spec.scorers)
        self._alone: list[tuple[int, Callable[[ScoreInput], Awaitable[Score]]]] = []
        self._together: list[tuple[int, Callable[[Sequence[ScoreInput]], list[Score]]]] = []
        for index, ref in enumerate(self._refs):
            made = get_scorer(ref.name, **ref.options)
            if isinstance(made, LearnedScorer):
                self._together.append((index, made.judge))
            else:
                call = Batcher(made.batch) if isinstance(made, BatchScorer) else made
                self._alone.append((index, call))
        self._embed_prompts = bool(spec.options.get("embed_prompts"))
        threads = spec.options.get("threads", 1)
        self._threads: int | None = None if threads is None else int(threads)
        precision = str(spec.options.get("precision", "auto"))
        if precision not in ("auto", "float32", "bfloat16", "int8"):
            raise ConfigError(f"Layer '{spec.name}': precision must be auto, float32, "
                              f"bfloat16 or int8, not {precision!r}.")
        self._precision = precision
        self._pass: Batcher[tuple[ScoreInput, bool], _PassResult] | None = None
        if self._together or self._embed_prompts:
            self._pass = Batcher(self._run_pass)

    async def __call__(self, item: CheckInput) -> LayerResult:
        """Score the stage with every scorer at once."""
        embed = self._embed_prompts and item.stage == "input"
        if not self._alone and not self._together and not embed:
            return LayerResult()
        score_input = ScoreInput(item.messages, item.response if item.stage == "output" else None)
        jobs: list[Awaitable[Any]] = [call(score_input) for _, call in self._alone]
        if self._pass is not None and (self._together or embed):
            jobs.append(self._pass((score_input, embed)))
        results = await asyncio.gather(*jobs)
        scores: list[Score | None] = [None] * len(self._refs)
        for (index, _), score in zip(self._alone, results, strict=False):
            scores[index] = score
        embedding = None
        if len(results) > len(self._alone):
            together, embedding = results[-1]
            for (index, _), score in zip(self._together, together, strict=True):
                scores[index] = score
        hits: list[Hit] = []
        values: dict[str, float] = {}
        for ref, score in zip(self._refs, scores, strict=True):
            if score is None or not score.scored or score.value is None:
                continue  # the scorer had nothing to judge (an empty answer): no finding
            values[ref.name] = round(float(score.value), 6)
            fired = score.label if ref.threshold is None else score.value >= ref.threshold
            if fired:
                category = ref.category or score.category or ref.name
                hits.append(Hit(category, ref.name, float(score.value),
                                _spans_of(score, item.stage)))
        return LayerResult(tuple(hits), values, embedding)

    def warm(self) -> None:
        """Load the encoder and the scorers that read it, with one pass over a greeting.

        Loading takes a second or more; in the first request it would overrun the layer's
        timeout and fail closed.
        """
        if self._together or self._embed_prompts:
            greeting = ScoreInput((Message("user", "Hello!"),), None)
            self._judge_together([(greeting, self._embed_prompts)])

    async def _run_pass(self, batch: list[tuple[ScoreInput, bool]]) -> list[_PassResult]:
        return await asyncio.to_thread(self._judge_together, batch)

    def _judge_together(self, batch: list[tuple[ScoreInput, bool]]) -> list[_PassResult]:
        """In a worker thread: every in-process scorer on the batch, then the embeddings."""
        from redline.scorers._learned import embedding_memo, encode_unique
        from redline.scorers.encoder import encoder_precision

        inputs = [score_input for score_input, _ in batch]
        wanted = [k for k, (_, embed) in enumerate(batch) if embed]
        precision = encoder_precision(self._precision)  # type: ignore[arg-type]
        with embedding_memo(), torch_threads(self._threads), precision:
            per_scorer = [judge(inputs) for _, judge in self._together]
            vectors = encode_unique([inputs[k].prompt for k in wanted]) if wanted else None
        embeddings: list[Any] = [None] * len(batch)
        if vectors is not None:
            for row, k in enumerate(wanted):
                embeddings[k] = vectors[row]
        return [([scores[k] for scores in per_scorer], embeddings[k]) for k in range(len(batch))]


_PassResult = tuple[list[Score], Any]
"""Per request of a shared pass: each together-scorer's score (in order), the embedding."""


def _spans_of(score: Score, stage: Stage) -> tuple[tuple[int, int, int], ...]:
    """Spans a scorer reports in ``details["spans"]`` as ``[start, end]`` in the text it read.

    On ``output`` that text is the answer; on ``input`` it is the last user message.
    """
    raw = score.details.get("spans") or ()
    spans: list[tuple[int, int, int]] = []
    for span in raw:
        try:
            start, end = int(span[0]), int(span[1])
        except (TypeError, ValueError, IndexError):
            continue
        spans.append((-1 if stage == "input" else 0, start, end))
    return tuple(spans)


class ScorerLayer:
    """A classifier or judge layer: just its scorers."""

    def __init__(self, spec: LayerSpec) -> None:
        if not spec.scorers:
            raise ConfigError(
                f"Layer '{spec.name}' ({spec.kind}) names no scorers; add e.g. "
                "'scorers: [{name: harmful_request, category: harmful}]' or disable it."
            )
        self.spec = spec
        self._scorers = ScorerSet(spec)

    async def __call__(self, item: CheckInput) -> LayerResult:
        """Run the scorers."""
        return await self._scorers(item)

    def warm(self) -> None:
        """Load the layer's scorers (see :class:`Layer`)."""
        self._scorers.warm()


layer_kind("rules")(RulesLayer)
layer_kind("classifier")(ScorerLayer)
layer_kind("judge")(ScorerLayer)


__all__ = [
    "CheckInput",
    "Hit",
    "Layer",
    "LayerResult",
    "RulesLayer",
    "ScorerLayer",
    "Batcher",
    "build_layer",
    "layer_kind",
    "required_text",
]
