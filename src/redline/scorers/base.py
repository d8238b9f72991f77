"""What a scorer is: an async callable that judges one exchange and returns a Score.

Scorers are made by decorated factories whose arguments are their configuration::

    @scorer("refusal", tags=("quality",))
    def refusal(threshold: float = 0.5) -> Scorer:
        async def score(item: ScoreInput) -> Score: ...
        return score

The registry records each scorer's name and constructor arguments, so a result can name
exactly what produced it. Scorers that are cheaper in bulk also offer ``batch``
(``score_all`` uses it when present).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from redline.errors import ConfigError
from redline.types import Message


@dataclass(frozen=True)
class ScoreInput:
    """One exchange to judge.

    Attributes:
        messages: the conversation sent to the target (the prompt).
        response: the target's answer, or None when scoring a prompt alone.
        metadata: probe metadata (goal, category, ...), free-form. ``request``, when
            given, is the plain request a wrapper (base64, a jailbreak template) hid in
            the last user turn: judges read the response against it.
    """

    messages: tuple[Message, ...]
    response: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, prompt: str, response: str | None = None, **metadata: Any) -> ScoreInput:
        """A single-turn exchange."""
        return cls((Message("user", prompt),), response, metadata)

    @property
    def prompt(self) -> str:
        """The request judged: ``metadata["request"]`` when given, else the last user turn."""
        request = self.metadata.get("request")
        if isinstance(request, str) and request:
            return request
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


@dataclass(frozen=True)
class Score:
    """A scorer's judgement.

    Attributes:
        value: calibrated probability that the scorer's positive label holds
            (refused, harmful, contains PII, ...), in [0, 1]; None when unscored.
        label: the decision at the scorer's threshold; None when unscored.
        category: a policy category when the scorer assigns one.
        explanation: why, in a few words (which rule fired, what the judge said).
        scorer: the name of the scorer that produced it.
        details: anything else (matched spans, per-class probabilities).
    """

    value: float | None
    label: bool | None
    category: str | None = None
    explanation: str = ""
    scorer: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        """False when the scorer could not judge (reported, never counted)."""
        return self.label is not None

    @classmethod
    def unscored(cls, scorer: str, why: str) -> Score:
        """A judgement that could not be made."""
        return cls(value=None, label=None, explanation=why, scorer=scorer)


@runtime_checkable
class Scorer(Protocol):
    """Judges one exchange."""

    async def __call__(self, item: ScoreInput) -> Score:
        """Return the judgement."""
        ...


@runtime_checkable
class BatchScorer(Scorer, Protocol):
    """A scorer that judges many exchanges more cheaply at once."""

    async def batch(self, items: Sequence[ScoreInput]) -> list[Score]:
        """Judge each item; results in input order."""
        ...


async def score_all(scorer: Scorer, items: Sequence[ScoreInput]) -> list[Score]:
    """Judge many items, batched when the scorer supports it."""
    if isinstance(scorer, BatchScorer):
        return await scorer.batch(items)
    return list(await asyncio.gather(*(scorer(i) for i in items)))


@dataclass(frozen=True)
class ScorerInfo:
    """A registered scorer factory and its declarative metadata."""

    name: str
    factory: Callable[..., Scorer]
    summary: str
    positive: str
    tags: tuple[str, ...]
    needs: str | None


_SCORERS: dict[str, ScorerInfo] = {}


def scorer(
    name: str, *, positive: str, tags: Sequence[str] = (), needs: str | None = None
) -> Callable[[Callable[..., Scorer]], Callable[..., Scorer]]:
    """Register a scorer factory.

    Args:
        name: registry name, e.g. ``"refusal"``.
        positive: what a positive label means, e.g. ``"the response refuses"``.
        tags: taxonomy tags such as ``owasp-llm-2025:LLM02``.
        needs: the redline extra its model needs, if any (``"embed"``).
    """

    def register(factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        summary = (inspect.getdoc(factory) or "").split("\n", 1)[0]

        @functools.wraps(factory)
        def make(*args: Any, **kwargs: Any) -> Scorer:
            made = factory(*args, **kwargs)
            # Record provenance on the callable: which factory, with which arguments.
            bound = inspect.signature(factory).bind(*args, **kwargs)
            bound.apply_defaults()
            try:
                made.registry_name = name  # type: ignore[attr-defined]
                made.registry_args = dict(bound.arguments)  # type: ignore[attr-defined]
            except AttributeError:  # objects with __slots__ keep no provenance
                pass
            return made

        _SCORERS[name] = ScorerInfo(name, make, summary, positive, tuple(tags), needs)
        return make

    return register


def scorer_infos() -> list[ScorerInfo]:
    """Every registered scorer (importing the built-ins first)."""
    _load_builtin_scorers()
    return list(_SCORERS.values())


def get_scorer(name: str, **config: Any) -> Scorer:
    """Make a registered scorer by name.

    Raises:
        ConfigError: no scorer has that name.
    """
    _load_builtin_scorers()
    info = _SCORERS.get(name)
    if info is None:
        raise ConfigError(
            f"Unknown scorer '{name}'. Known scorers: {', '.join(sorted(_SCORERS)) or 'none'}. "
            "See `redline list scorers`."
        )
    return info.factory(**config)


# Scorers that live with the part whose knowledge they use; none imports torch at module level.
_SCORERS_ELSEWHERE = (
    "redline.evals.matching",
    "redline.evals.answers",
    "redline.interp.integration",
)


def _load_builtin_scorers() -> None:
    import importlib
    import pkgutil

    import redline.scorers as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "base":
            importlib.import_module(f"redline.scorers.{module.name}")
    for name in _SCORERS_ELSEWHERE:
        importlib.import_module(name)
    from redline.plugins import load_plugins

    load_plugins()
