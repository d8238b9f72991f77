"""Labelled examples: the JSONL format of training and validation sets.

One JSON object per line::

    {"prompt": "how do i ...", "response": "I can't help with that.", "label": true,
     "category": "weapons", "tags": ["casual", "refusal-with-alternative"]}

``response`` is absent for scorers that judge prompts alone. ``label`` is the scorer's
positive label (refused, harmful, contains PII, injection). ``tags`` describe the style
or the slice (``risky-benign`` marks benign prompts that look dangerous).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from redline.errors import ConfigError
from redline.scorers.base import ScoreInput


class LabelledExample(BaseModel):
    """One labelled exchange."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str
    response: str | None = None
    label: bool
    category: str | None = None
    tags: tuple[str, ...] = ()

    def as_input(self) -> ScoreInput:
        """The exchange as a scorer sees it."""
        return ScoreInput.of(self.prompt, self.response)


def read_examples(path: Path) -> list[LabelledExample]:
    """Read a JSONL file of labelled examples.

    Raises:
        ConfigError: the file is missing or a line is not a valid example.
    """
    if not path.is_file():
        raise ConfigError(f"Labelled data file {path} does not exist. Pass an existing JSONL file.")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(LabelledExample.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise ConfigError(
                f"{path}:{number}: {where}: {first['msg']}. Each line needs prompt, label and "
                "optionally response, category, tags."
            ) from exc
    if not examples:
        raise ConfigError(f"Labelled data file {path} has no examples.")
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
