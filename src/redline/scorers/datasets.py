"""Labelled examples: the JSONL format of training and validation sets.

One JSON object per line::

    {"prompt": "how do i ...", "response": "I can't help with that.", "label": true,
     "category": "weapons", "tags": ["casual", "refusal-with-alternative"]}

``response`` is absent for scorers that judge prompts alone. ``label`` is the scorer's
positive label (refused, harmful, contains PII, injection). ``tags`` describe the style
or the slice (``risky-benign`` marks benign prompts that look dangerous).

Response sets may give the reply's ``outcome`` (``refused``, ``attempted``, ``complied``;
docs/scorers.md) and ``request_harmful`` instead of a label: one such file then serves
both ``refusal`` and ``harmful_compliance`` (:meth:`LabelledExample.labelled_for`).
Fields a file adds for its own use (``model``, ``note``, ``id``, ...) are ignored, and
CSV files with the same columns are read too.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from redline.errors import ConfigError
from redline.scorers.base import ScoreInput


class LabelledExample(BaseModel):
    """One labelled exchange."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    prompt: str
    response: str | None = None
    label: bool | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    outcome: Literal["refused", "attempted", "complied"] | None = None
    request_harmful: bool | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _label_or_outcome(self) -> LabelledExample:
        if self.label is None and self.outcome is None:
            raise ValueError("needs a label, or an outcome (refused, attempted, complied)")
        if self.outcome == "complied" and self.request_harmful is None and self.label is None:
            raise ValueError("an outcome of 'complied' needs request_harmful (true or false)")
        return self

    def labelled_for(self, scorer: str) -> LabelledExample:
        """This example with ``label`` set for ``scorer`` from its outcome, where it has one.

        The ``judge`` scorer's default rubrics ask about harmful compliance, so it reads
        outcomes as ``harmful_compliance`` does.
        """
        if self.outcome is None:
            return self
        if scorer == "refusal":
            label = self.outcome == "refused"
        elif scorer in ("harmful_compliance", "judge"):
            label = self.outcome == "complied" and bool(self.request_harmful)
        else:
            return self
        return self.model_copy(update={"label": label})

    def as_input(self) -> ScoreInput:
        """The exchange as a scorer sees it."""
        return ScoreInput.of(self.prompt, self.response)


def _rows(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        for number, row in enumerate(csv.DictReader(text.splitlines()), 2):
            clean: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            for key in ("label", "request_harmful"):
                if key in clean:
                    clean[key] = str(clean[key]).strip().lower() in ("1", "true", "yes")
            if "tags" in clean:
                clean["tags"] = [t for t in re.split(r"[;|]", str(clean["tags"])) if t]
            yield number, clean
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{number}: each line must be a JSON object.")
        yield number, row


def read_examples(path: Path, scorer: str | None = None) -> list[LabelledExample]:
    """Read a JSONL or CSV file of labelled examples (extra fields are ignored).

    Args:
        path: the file.
        scorer: label outcome-labelled examples for this scorer (see
            :meth:`LabelledExample.labelled_for`).

    Raises:
        ConfigError: the file is missing or a line is not a valid example.
    """
    if not path.is_file():
        raise ConfigError(
            f"Labelled data file {path} does not exist. Pass an existing JSONL or CSV file."
        )
    examples = []
    for number, row in _rows(path):
        try:
            example = LabelledExample.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise ConfigError(
                f"{path}:{number}: {where}: {first['msg']}. Each line needs prompt and a label "
                "(or an outcome), and optionally response, category, tags."
            ) from exc
        examples.append(example.labelled_for(scorer) if scorer else example)
    if not examples:
        raise ConfigError(f"Labelled data file {path} has no examples.")
    if scorer and any(e.label is None for e in examples):
        raise ConfigError(
            f"{path}: some items have an outcome but no label, and scorer '{scorer}' cannot "
            "read outcomes. Give each item a label."
        )
    return examples


def write_examples(path: Path, examples: Iterable[LabelledExample]) -> None:
    """Write labelled examples as JSONL (one compact object per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for example in examples:
            row = example.model_dump(exclude_defaults=True)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case words only: the form used to spot duplicates across data sets."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def example_text(example: LabelledExample) -> str:
    """The text a scorer mostly looks at: the response when there is one, else the prompt."""
    return example.response if example.response is not None else example.prompt


def dedupe(examples: Sequence[LabelledExample]) -> list[LabelledExample]:
    """Drop examples whose normalised prompt and response repeat an earlier one."""
    seen: set[tuple[str, str]] = set()
    out = []
    for example in examples:
        key = (normalise(example.prompt), normalise(example.response or ""))
        if key not in seen:
            seen.add(key)
            out.append(example)
    return out


__all__ = [
    "LabelledExample",
    "dedupe",
    "example_text",
    "normalise",
    "read_examples",
    "write_examples",
]
