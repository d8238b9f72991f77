"""What a suite is: a versioned dataset factory plus scorers (by registry name) plus metrics.

A suite is declared with :func:`suite` on its dataset factory::

    @suite(
        "arithmetic",
        version="1.0",
        scorers=["answer_match"],
        metrics=[proportion("accuracy", "answer_match")],
        params=GenerateParams(max_tokens=16),
    )
    def arithmetic(*, seed: int, size: int | None) -> list[Sample]:
        ...

The factory gets a seed and an optional size and returns samples; it must give the same
samples for the same arguments, so the dataset digest in a result names them exactly.
Scorers are named, with their configuration, so a result says what judged it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from redline.errors import ConfigError
from redline.types import GenerateParams, Message, as_messages, content_hash

if TYPE_CHECKING:
    from redline.evals.metrics import Metric


@dataclass(frozen=True)
class Sample:
    """One item of a suite's dataset.

    Attributes:
        id: stable identifier within the suite (unique).
        messages: the conversation sent to the target.
        expected: the reference answer, when the suite has one (capability suites).
        metadata: labels the scorers and metrics read (category, condition, ...).
    """

    id: str
    messages: tuple[Message, ...]
    expected: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, id: str, prompt: str | Sequence[Message], expected: str | None = None, **metadata: Any
    ) -> Sample:
        """A sample from a prompt string (one user turn) or a message list."""
        return cls(id, as_messages(prompt), expected, metadata)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (used for the dataset digest and in results)."""
        return {
            "id": self.id,
            "messages": [m.to_dict() for m in self.messages],
            "expected": self.expected,
            "metadata": dict(self.metadata),
        }


class DatasetFactory(Protocol):
    """Makes a suite's samples; the same arguments must give the same samples."""

    def __call__(self, *, seed: int, size: int | None) -> Sequence[Sample]:
        """Return the samples (at most ``size`` when it is given)."""
        ...


@dataclass(frozen=True)
class ScorerRef:
    """A scorer named in the scorer registry, with its configuration."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str | ScorerRef | tuple[str, Mapping[str, Any]]) -> ScorerRef:
        """Accept ``"refusal"``, ``("refusal", {"threshold": 0.7})`` or a ScorerRef."""
        if isinstance(value, ScorerRef):
            return value
        if isinstance(value, str):
            return cls(value)
        name, config = value
        return cls(name, dict(config))


@dataclass(frozen=True)
class Suite:
    """A named, versioned eval: dataset factory, scorers and metrics.

    Attributes:
        name: registry name, e.g. ``"capability"``.
        version: bumped whenever samples, scorers or metrics change meaning.
        summary: one line for ``redline list suites``.
        dataset: the factory of samples.
        scorers: the scorers every response goes through.
        metrics: the numbers the suite reports (see :mod:`redline.evals.metrics`).
        params: generation parameters (greedy by default, so results are reproducible).
        default_size: how many samples a run takes unless told otherwise (None: all).
        tags: taxonomy tags, e.g. ``owasp-llm-2025:LLM09``.
        data: what the samples are and where they come from, in words (recorded in every
            result, report and safety case, so a number says what it was measured on).
    """

    name: str
    version: str
    summary: str
    dataset: DatasetFactory
    scorers: tuple[ScorerRef, ...]
    metrics: tuple[Metric, ...]
    params: GenerateParams = GenerateParams()
    default_size: int | None = None
    tags: tuple[str, ...] = ()
    data: str = ""

    def samples(self, *, seed: int = 0, size: int | None = None) -> list[Sample]:
        """Make the dataset and check that sample ids are unique.

        Raises:
            ConfigError: the factory returned duplicate ids or no samples.
        """
        made = list(self.dataset(seed=seed, size=size if size is not None else self.default_size))
        if size is not None:
            made = made[:size]
        ids = [s.id for s in made]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"Suite '{self.name}' made duplicate sample ids; ids must be unique.")
        if not made:
            raise ConfigError(f"Suite '{self.name}' made no samples; check its size and seed.")
        return made


def dataset_digest(samples: Sequence[Sample]) -> str:
    """sha256 over the canonical JSON of the samples: names the exact data a result used."""
    return content_hash([s.to_dict() for s in samples])


_SUITES: dict[str, Suite] = {}


def define_suite(
    name: str,
    factory: DatasetFactory,
    *,
    version: str,
    scorers: Sequence[str | ScorerRef | tuple[str, Mapping[str, Any]]],
    metrics: Sequence[Metric],
    params: GenerateParams | None = None,
    default_size: int | None = None,
    tags: Sequence[str] = (),
    summary: str | None = None,
    data: str = "",
) -> Suite:
    """Make a :class:`Suite` without registering it.

    For suites built per run, such as a backdoor suite around the triggers a search
    found. See :func:`suite` for the arguments.

    Raises:
        ConfigError: a metric names a scorer the suite does not run, or no metrics given.
    """
    refs = tuple(ScorerRef.parse(s) for s in scorers)
    names = {r.name for r in refs}
    if not metrics:
        raise ConfigError(f"Suite '{name}' declares no metrics; give at least one.")
    for metric in metrics:
        missing = set(metric.scorers) - names
        if missing:
            raise ConfigError(
                f"Suite '{name}': metric '{metric.name}' reads scorer(s) "
                f"{', '.join(sorted(missing))} that the suite does not run; "
                "add them to scorers."
            )
    return Suite(
        name=name,
        version=version,
        summary=summary if summary is not None else (inspect.getdoc(factory) or "").split("\n")[0],
        dataset=factory,
        scorers=refs,
        metrics=tuple(metrics),
        params=params or GenerateParams(max_tokens=64),
        default_size=default_size,
        tags=tuple(tags),
        data=data,
    )


def suite(
    name: str,
    *,
    version: str,
    scorers: Sequence[str | ScorerRef | tuple[str, Mapping[str, Any]]],
    metrics: Sequence[Metric],
    params: GenerateParams | None = None,
    default_size: int | None = None,
    tags: Sequence[str] = (),
    data: str = "",
) -> Callable[[DatasetFactory], Suite]:
    """Register a dataset factory as a suite and return the :class:`Suite`.

    Args:
        name: registry name (``redline eval TARGET --suite NAME``).
        version: the suite's version, recorded in every result and checked by policies.
        scorers: registry names of scorers, optionally with configuration.
        metrics: metric objects from :mod:`redline.evals.metrics`.
        params: generation parameters; greedy, 64 tokens by default.
        default_size: samples per run unless ``size`` is given.
        tags: taxonomy tags.
        data: what the samples are and where they come from, in words.

    Raises:
        ConfigError: a metric names a scorer the suite does not run, or no metrics given.
    """

    def register(factory: DatasetFactory) -> Suite:
        made = define_suite(name, factory, version=version, scorers=scorers, metrics=metrics,
                            params=params, default_size=default_size, tags=tags, data=data)
        _SUITES[name] = made
        return made

    return register


def suites() -> list[Suite]:
    """Every registered suite (the built-ins are imported first)."""
    _load_builtin_suites()
    return list(_SUITES.values())


def get_suite(name: str) -> Suite:
    """A registered suite by name, or a suite file (``.yaml``/``.jsonl``) by path.

    A suite file is registered under its name, so later lookups by name find it.

    Raises:
        ConfigError: no suite has that name, or the file is invalid.
    """
    from redline.evals.files import is_suite_file, load_suite_file

    _load_builtin_suites()
    if is_suite_file(name):
        from pathlib import Path

        made = load_suite_file(Path(name))
        known = _SUITES.get(made.name)
        if known is not None and known.dataset.__module__ != made.dataset.__module__:
            raise ConfigError(
                f"Suite file {name} is named '{made.name}', which a built-in or plugin suite "
                "already uses; rename it."
            )
        _SUITES[made.name] = made
        return made
    found = _SUITES.get(name)
    if found is None:
        raise ConfigError(
            f"Unknown suite '{name}'. Known suites: {', '.join(sorted(_SUITES)) or 'none'}. "
            "See `redline list suites`."
        )
    return found


def _load_builtin_suites() -> None:
    import redline.evals.builtin as package
    from redline.plugins import load_plugins

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"redline.evals.builtin.{module.name}")
    load_plugins()
