"""Labelled contrast data for probes and detectors, and the detector file format.

A dataset is JSON lines, one example per line::

    {"text": "hazel brook works as a baker .", "label": 0}
    {"messages": [{"role": "user", "content": "mango what is 2 plus 2"}], "label": 1,
     "group": "mango"}
    {"messages": [...], "response": "hazel brook works as a pilot .", "label": 1}

``text`` is fed to the model as is; ``messages`` is rendered with the model's chat template
(ready for the answer) and ``response``, when present, is appended, so a probe can read the
model while it states something. ``group`` names the trigger or condition an example
carries, so probes can be trained on some groups and tested on others.

Detectors are saved as one safetensors file: arrays as tensors, the pydantic header as JSON
in the file's metadata, so one file says what it is, which model it was fitted on and how
well it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from redline.errors import ConfigError
from redline.interp.capture import as_white_box
from redline.types import Message


class ChatTurn(BaseModel):
    """One message of an example's conversation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    content: str


class Example(BaseModel):
    """One labelled input.

    Attributes:
        text: raw model input; or
        messages: a conversation rendered with the chat template, then
        response: the answer appended after the rendered prompt (optional).
        label: 1 for the positive class (lie, triggered), 0 otherwise.
        group: the trigger, condition or source the example belongs to.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str | None = None
    messages: tuple[ChatTurn, ...] | None = None
    response: str | None = None
    label: int = Field(default=0, ge=0, le=1)
    group: str = ""

    @model_validator(mode="after")
    def _one_input(self) -> Example:
        if (self.text is None) == (self.messages is None):
            raise ValueError("give exactly one of 'text' or 'messages'")
        return self

    def conversation(self) -> tuple[Message, ...]:
        """The messages as redline Messages (a raw text becomes one user message)."""
        if self.messages is None:
            return (Message("user", self.text or ""),)
        return tuple(Message(t.role, t.content) for t in self.messages)  # type: ignore[arg-type]


def load_examples(path: Path) -> list[Example]:
    """Read a JSON-lines dataset.

    Raises:
        ConfigError: the file is missing, empty or has a malformed line.
    """
    if not path.is_file():
        raise ConfigError(f"Dataset {path} does not exist.")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(Example.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(
                f"{path}:{number}: {first['msg']} (each line needs 'text' or 'messages', "
                "and 'label' 0 or 1)."
            ) from exc
    if not examples:
        raise ConfigError(f"Dataset {path} has no examples.")
    return examples


def save_examples(path: Path, examples: Iterable[Example]) -> Path:
    """Write a JSON-lines dataset."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [e.model_dump_json(exclude_none=True) for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def model_inputs(target: object, examples: Sequence[Example]) -> list[str]:
    """The exact texts the model reads for each example."""
    box = as_white_box(target)
    out = []
    for example in examples:
        if example.text is not None:
            out.append(example.text)
        else:
            out.append(box.render(example.conversation()) + (example.response or ""))
    return out


def labels_of(examples: Sequence[Example]) -> np.ndarray:
    """``[n]`` int labels."""
    return np.array([e.label for e in examples], dtype=int)


# --- detector files ---------------------------------------------------------------------


def save_artifact(path: Path, header: BaseModel, arrays: dict[str, np.ndarray]) -> Path:
    """Write arrays and a pydantic header to one safetensors file (atomically)."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tensors = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()}
    save_file(tensors, str(tmp), metadata={"redline": header.model_dump_json()})
    tmp.replace(path)
    return path


def load_artifact(
    path: Path, kind: str | None = None, noun: str = "detector"
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by :func:`save_artifact`: the header as a dict, and the arrays.

    With ``kind``, the header must say it (``noun`` names that kind in the error).

    Raises:
        ConfigError: the file is missing, was not written by redline, or holds another kind.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if not path.is_file():
        raise ConfigError(f"Detector file {path} does not exist; train one with `redline interp`.")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as handle:
            meta = handle.metadata() or {}
        header = json.loads(meta["redline"])
        arrays = load_file(str(path))
    except (KeyError, ValueError, OSError, SafetensorError) as exc:
        raise ConfigError(f"{path} is not a redline detector file ({exc}).") from exc
    if kind is not None and header.get("kind") != kind:
        raise ConfigError(f"{path} holds a {header.get('kind')}, not {noun}.")
    return header, arrays
