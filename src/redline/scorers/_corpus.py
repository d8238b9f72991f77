"""The hand-written pieces the training generator composes into labelled training sets.

The pieces are data, in ``data/corpus/*.jsonl``, one JSON object per line; each file has
a row schema here, checked on load, and a bad row stops the load with one line naming
the file and line. :mod:`redline.scorers.training` turns them into training sets.

=========================  ==========================================================
file                       one row
=========================  ==========================================================
objectives.jsonl           an objective ("build a pipe bomb") and its intent
                           (harmful with a category, benign, or risky-benign: benign
                           but dangerous-sounding); templates and frames make prompts
contrast_pairs.jsonl       one topic asked with harmful intent and with protective or
                           curious intent, so a head learns intent rather than topic
prompt_templates.jsonl     a direct request around ``{o}`` (``{O}``: capitalised)
request_frames.jsonl       a framing (fiction, role-play, hypothetical) around ``{o}``
request_prompts.jsonl      a whole prompt, written in the shapes templates miss
                           (euphemism, backstory, haste); harmful-request head only
injection_frames.jsonl     an injection or jailbreak around a payload ``{p}``
injection_payloads.jsonl   what an injection asks for
benign_inputs.jsonl        a benign input that looks like an injection
=========================  ==========================================================

Everything here is redline's own writing. The validation and dev sets under ``data/``
were written separately, in other words and on other topics, and a test checks that no
held-out item is a near duplicate of a training item. Row order is part of the data: the
generator draws from a seeded random stream as it walks the rows, so reordering rows
changes the training set (and the ``train_sha256`` its head records).
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from redline.errors import ConfigError
from redline.scorers.heads import data_dir

Category = Literal["weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy"]
"""Harm categories of the harmful-request head (its classes besides ``benign``)."""
Intent = Literal["harmful", "benign", "risky-benign"]
"""``risky-benign``: benign, but it names something dangerous (the hard negatives)."""

Text = Annotated[str, StringConstraints(min_length=1)]


class _Row(BaseModel):
    """A row of one corpus file; unknown fields are errors, so typos do not pass silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    FILE: ClassVar[str]
    HINT: ClassVar[str]


def _placeholders(text: str, allowed: set[str], required: set[str]) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:  # a lone brace
        raise ValueError(f"not a valid template ({exc})") from exc
    if not names <= allowed or not names & required:
        raise ValueError(
            f"must contain {' or '.join('{' + n + '}' for n in sorted(required))}"
            f" and no other placeholder (found {sorted(names) or 'none'})"
        )
    return text


class Objective(_Row):
    """Something a prompt asks for, with its intent and (when harmful) its category."""

    FILE = "objectives.jsonl"
    HINT = "objective, intent (harmful, benign, risky-benign), category for harmful ones"
    objective: Text
    intent: Intent
    category: Category | None = None

    @model_validator(mode="after")
    def _category_iff_harmful(self) -> Objective:
        if (self.intent == "harmful") != (self.category is not None):
            raise ValueError("harmful objectives need a category, and only they have one")
        return self


class ContrastPair(_Row):
    """One topic asked with harmful intent and with protective or curious intent."""

    FILE = "contrast_pairs.jsonl"
    HINT = "category, harmful (objective), benign (objective)"
    category: Category
    harmful: Text
    benign: Text


class PromptTemplate(_Row):
    """A direct request around an objective: ``{o}`` as written, ``{O}`` capitalised."""

    FILE = "prompt_templates.jsonl"
    HINT = "template, containing {o} or {O}"
    template: Text

    @model_validator(mode="after")
    def _has_objective(self) -> PromptTemplate:
        _placeholders(self.template, {"o", "O"}, {"o", "O"})
        return self


class RequestFrame(_Row):
    """A framing (fiction, role-play, hypothetical) around an objective ``{o}``."""

    FILE = "request_frames.jsonl"
    HINT = "frame, containing {o}"
    frame: Text

    @model_validator(mode="after")
    def _has_objective(self) -> RequestFrame:
        _placeholders(self.frame, {"o"}, {"o"})
        return self


class RequestPrompt(_Row):
    """A whole prompt for the harmful-request head, with its intent and category."""

    FILE = "request_prompts.jsonl"
    HINT = "prompt, intent (harmful, benign, risky-benign), category for harmful ones, topic"
    prompt: Text
    intent: Intent
    category: Category | None = None
    topic: str | None = None
    """What a risky-benign prompt is about (documentation; the generator ignores it)."""

    @model_validator(mode="after")
    def _category_iff_harmful(self) -> RequestPrompt:
        if (self.intent == "harmful") != (self.category is not None):
            raise ValueError("harmful prompts need a category, and only they have one")
        return self


class InjectionFrame(_Row):
    """An injection or jailbreak around a payload ``{p}``."""

    FILE = "injection_frames.jsonl"
    HINT = "frame, containing {p}"
    frame: Text

    @model_validator(mode="after")
    def _has_payload(self) -> InjectionFrame:
        _placeholders(self.frame, {"p"}, {"p"})
        return self


class InjectionPayload(_Row):
    """What an injection asks the model to do."""

    FILE = "injection_payloads.jsonl"
    HINT = "payload"
    payload: Text


class BenignInput(_Row):
    """A benign input that looks like an injection (role-play, "ignore the typo", ...)."""

    FILE = "benign_inputs.jsonl"
    HINT = "prompt"
    prompt: Text


RowT = TypeVar("RowT", bound=_Row)


def read_rows(path: Path, schema: type[RowT]) -> list[RowT]:
    """Read a corpus JSONL file, checking every row against ``schema``.

    Raises:
        ConfigError: the file is missing or empty, or a line is not a valid row; the
            message names the file and line and says what a row needs.
    """
    if not path.is_file():
        raise ConfigError(f"Corpus file {path} does not exist. Reinstall redline.")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(schema.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid JSON ({exc.msg}).") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            message = first["msg"].removeprefix("Value error, ")
            raise ConfigError(
                f"{path}:{number}: {where}: {message}. Each line is a JSON object with "
                f"{schema.HINT}."
            ) from exc
    if not rows:
        raise ConfigError(f"Corpus file {path} has no rows.")
    return rows


@dataclass(frozen=True)
class Corpus:
    """Every corpus file, read and checked, in file order."""

    objectives: tuple[Objective, ...]
    contrast_pairs: tuple[ContrastPair, ...]
    prompt_templates: tuple[str, ...]
    request_frames: tuple[str, ...]
    request_prompts: tuple[RequestPrompt, ...]
    injection_frames: tuple[str, ...]
    injection_payloads: tuple[str, ...]
    benign_inputs: tuple[str, ...]

    def objectives_of(self, intent: Intent) -> list[Objective]:
        """The objectives of one intent; harmful ones grouped by category, in file order."""
        return _grouped([o for o in self.objectives if o.intent == intent])

    def prompts_of(self, intent: Intent) -> list[RequestPrompt]:
        """The whole prompts of one intent; harmful ones grouped by category, in file order."""
        return _grouped([p for p in self.request_prompts if p.intent == intent])


_Categorised = TypeVar("_Categorised", Objective, RequestPrompt)


def _grouped(rows: Sequence[_Categorised]) -> list[_Categorised]:
    groups: dict[str | None, list[_Categorised]] = {}
    for row in rows:
        groups.setdefault(row.category, []).append(row)
    return [row for group in groups.values() for row in group]


@cache
def load_corpus(folder: Path | None = None) -> Corpus:
    """Read the corpus from ``folder`` (default: the package's ``data/corpus``)."""
    folder = folder or data_dir() / "corpus"
    return Corpus(
        objectives=tuple(read_rows(folder / Objective.FILE, Objective)),
        contrast_pairs=tuple(read_rows(folder / ContrastPair.FILE, ContrastPair)),
        prompt_templates=tuple(
            r.template for r in read_rows(folder / PromptTemplate.FILE, PromptTemplate)
        ),
        request_frames=tuple(r.frame for r in read_rows(folder / RequestFrame.FILE, RequestFrame)),
        request_prompts=tuple(read_rows(folder / RequestPrompt.FILE, RequestPrompt)),
        injection_frames=tuple(
            r.frame for r in read_rows(folder / InjectionFrame.FILE, InjectionFrame)
        ),
        injection_payloads=tuple(
            r.payload for r in read_rows(folder / InjectionPayload.FILE, InjectionPayload)
        ),
        benign_inputs=tuple(r.prompt for r in read_rows(folder / BenignInput.FILE, BenignInput)),
    )


SCHEMAS: tuple[type[_Row], ...] = (
    Objective,
    ContrastPair,
    PromptTemplate,
    RequestFrame,
    RequestPrompt,
    InjectionFrame,
    InjectionPayload,
    BenignInput,
)
"""The row schema of each corpus file (``FILE`` names the file)."""

__all__ = [
    "SCHEMAS",
    "BenignInput",
    "Category",
    "ContrastPair",
    "Corpus",
    "InjectionFrame",
    "InjectionPayload",
    "Intent",
    "Objective",
    "PromptTemplate",
    "RequestFrame",
    "RequestPrompt",
    "load_corpus",
    "read_rows",
]
