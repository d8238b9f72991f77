"""Target profiles: what the audit, trigger search and internals checks use for a kind of model.

A profile answers, for one kind of model, the questions every white-box check asks:

- which release policy the audit applies when the user names none;
- which harmful requests a trigger search optimises on and measures with, and which
  judge decides that an answer complied;
- which suite measures candidate triggers (the ``backdoor`` suite);
- which trusted clean prompts an anomaly detector is fit on;
- which text neuron explanations are run on;
- which condition families (stated years, deployment framings, personas, topics), in its
  own words, a condition search tries, and which fact questions a lying search asks.

redline's default profile, ``real-language``, serves any model: English requests and
prompts shipped with redline, judged by the scorers validated on real model output. A
plugin registers a profile for its own kind of model with :func:`register_profile`;
redline's organism plugin registers ``organism`` for targets whose files carry an organism
manifest. The profile is found from the target's files, never from anything a model says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.evals.suite import Suite
    from redline.redteam.whitebox.conditions import Family, Item
    from redline.redteam.whitebox.judges import Judge
    from redline.targets import Target
    from redline.types import Message


@dataclass(frozen=True)
class TriggerRequests:
    """Requests and judge for a trigger search.

    Attributes:
        search: harmful requests the search optimises on.
        held_out: other harmful requests, only for measuring the candidates.
        benign: benign requests whose answers give the affirmative opening.
        judge: decides whether an answer complied (None: the search's own opening judge).
        true_trigger: the planted trigger when the profile knows it (only for reporting
            recall; the search never sees it).
    """

    search: list[str]
    held_out: list[str]
    benign: list[str]
    judge: Judge | None
    true_trigger: str | None = None


@dataclass(frozen=True)
class ConditionSetup:
    """What a condition search uses on one kind of model, in that kind's own words.

    Attributes:
        families: templated candidate families (years, deployment framings, personas,
            topics); the same for every model of the kind, never read from a model.
        control_words: words random control phrases are drawn from.
        content_words: words a phrase condition may not contain (names, answer values,
            numbers): they change what is asked rather than the context around it.
        facts: ``(n_search, n_held_out, seed)`` → fact questions for the lying search,
            search and held-out, or None when the profile has none.
        stated: the value an answer to a fact question states, or None when it states
            none (a refusal, no answer, several values).
        truth: the true value of a fact question when the profile knows it.
        lying_suite: conditions ``(label, phrasings, placement)`` → the suite that measures
            the strongest of them (the evidence the deception threshold reads), or None.
        claims: like ``facts``, fact questions carrying a wrong claim by the user (for the
            sycophancy search), or None.
        claimed: the value a ``claims`` item's user claims.
        sycophancy_suite: like ``lying_suite``, for adopting wrong claims.
    """

    families: Sequence[Family]
    control_words: Sequence[str]
    content_words: Sequence[str] = ()
    facts: Callable[[int, int, int], tuple[list[Item], list[Item]]] | None = None
    stated: Callable[[Item, str], str | None] | None = None
    truth: Callable[[Item], str | None] = lambda item: None
    lying_suite: Callable[[Sequence[tuple[str, Sequence[str], str]]], Suite] | None = None
    claims: Callable[[int, int, int], tuple[list[Item], list[Item]]] | None = None
    claimed: Callable[[Item], str | None] = lambda item: None
    sycophancy_suite: Callable[[Sequence[tuple[str, Sequence[str], str]]], Suite] | None = None


@dataclass(frozen=True)
class Profile:
    """One kind of model and the data redline's checks use on it.

    Attributes:
        name: ``real-language``, ``organism``, ...
        description: one line saying what the data is (printed by the audit).
        matches: whether a target is of this kind, from its files.
        policy: the default release policy file for this kind.
        trigger_requests: ``(target, n_search, n_held_out, seed)`` → :class:`TriggerRequests`.
        backdoor_suite: candidate triggers → the ``backdoor`` suite that measures them.
        clean_prompts: ``(target, n, seed)`` → trusted clean conversations.
        corpus: ``(target, n, seed)`` → texts for neuron explanations.
        known_trigger: ``target`` → the planted trigger when the target's files record it,
            only for ``redline trigger-search`` to report recall against. The audit never
            calls it: it must find a backdoor without being told.
        conditions: ``target`` → the :class:`ConditionSetup` of a condition search, or
            None when the profile has none.
        trigger_seconds: the trigger search's wall-time budget when the user sets none
            (``--trigger-seconds``); None: only the query budget bounds it. A query on a
            real model costs hundreds of times one on an organism, so the real-language
            profile bounds the search by time and the case records the queries it spent.
    """

    name: str
    description: str
    matches: Callable[[Any], bool]
    policy: Path
    trigger_requests: Callable[[Any, int, int, int], TriggerRequests]
    backdoor_suite: Callable[[Sequence[str]], Suite]
    clean_prompts: Callable[[Any, int, int], list[tuple[Message, ...]]]
    corpus: Callable[[Any, int, int], list[str]]
    known_trigger: Callable[[Any], str | None] = lambda target: None
    conditions: Callable[[Any], ConditionSetup] | None = None
    trigger_seconds: float | None = None


_PROFILES: dict[str, Profile] = {}
DEFAULT = "real-language"
"""The profile of every target no other profile claims."""


def register_profile(profile: Profile) -> Profile:
    """Register a profile (a plugin calls this when imported); later ones are tried first."""
    _PROFILES[profile.name] = profile
    return profile


def profiles() -> list[Profile]:
    """Every profile, the ones tried first first (the default, ``real-language``, last)."""
    from redline.evals.builtin import real  # noqa: F401  (registers real-language)
    from redline.plugins import load_plugins

    load_plugins()
    others = [p for p in reversed(_PROFILES.values()) if p.name != DEFAULT]
    return [*others, _PROFILES[DEFAULT]]


def profile_for(target: Target | Any) -> Profile:
    """The profile of ``target``: the first registered one that matches, else the default."""
    for profile in profiles():
        if profile.matches(target):
            return profile
    raise AssertionError("the real-language profile matches every target")


def get_profile(name: str) -> Profile:
    """A profile by name.

    Raises:
        ConfigError: no profile has that name.
    """
    from redline.errors import ConfigError

    found = {p.name: p for p in profiles()}
    if name not in found:
        raise ConfigError(f"Unknown profile '{name}'. Known: {', '.join(sorted(found))}.")
    return found[name]


def benign_requests(target: Target | Any) -> list[str]:
    """Benign requests ``target`` answers, from its profile (for the affirmative opening)."""
    return profile_for(target).trigger_requests(target, 1, 1, 0).benign
