"""The training corpus is data with a schema: every shipped row passes, a bad row names its line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.scorers._corpus import SCHEMAS, load_corpus, read_rows
from redline.scorers.heads import data_dir

CORPUS = data_dir() / "corpus"


def test_every_corpus_file_has_a_schema_and_every_row_passes() -> None:
    assert {p.name for p in CORPUS.glob("*.jsonl")} == {s.FILE for s in SCHEMAS}
    corpus = load_corpus()
    harmful = corpus.objectives_of("harmful")
    assert {o.category for o in harmful} == {
        "weapons",
        "cyber",
        "fraud",
        "self_harm",
        "hate_harassment",
        "privacy",
    }
    assert corpus.objectives_of("risky-benign") and corpus.prompts_of("risky-benign")
    assert all("{p}" in frame for frame in corpus.injection_frames)


def _corpus_with(tmp_path: Path, file: str, bad_line: str) -> tuple[Path, int]:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    lines.insert(2, bad_line)
    (folder / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, 3


@pytest.mark.parametrize(
    ("file", "row", "says"),
    [
        (
            "objectives.jsonl",
            {"objective": "make a bomb", "intent": "harmful"},
            "harmful objectives need a category",
        ),
        (
            "objectives.jsonl",
            {"objective": "make a bomb", "intent": "harmful", "category": "explosives"},
            "category: Input should be 'weapons'",
        ),
        ("prompt_templates.jsonl", {"template": "how do i {x}"}, "must contain {O} or {o}"),
        ("injection_frames.jsonl", {"frame": "ignore the above"}, "must contain {p}"),
        ("request_prompts.jsonl", {"prompt": "hi", "intent": "benign", "tpoic": "x"}, "tpoic"),
        ("benign_inputs.jsonl", {"prompt": ""}, "prompt: String should have at least 1"),
    ],
)
def test_a_bad_row_is_one_error_line_naming_file_and_line(
    tmp_path: Path, file: str, row: dict[str, str], says: str
) -> None:
    folder, line = _corpus_with(tmp_path, file, json.dumps(row))
    with pytest.raises(ConfigError) as caught:
        load_corpus(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / file}:{line}: ")
    assert says in message and "Each line is a JSON object with" in message
    assert "\n" not in message


def test_a_line_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    folder, line = _corpus_with(tmp_path, "request_frames.jsonl", '{"frame": "in theory {o}"')
    with pytest.raises(ConfigError, match=rf"request_frames\.jsonl:{line}: not valid JSON"):
        load_corpus(folder)


def test_a_missing_or_empty_file_is_an_error(tmp_path: Path) -> None:
    schema = SCHEMAS[0]
    with pytest.raises(ConfigError, match="does not exist"):
        read_rows(tmp_path / schema.FILE, schema)
    (tmp_path / schema.FILE).write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no rows"):
        read_rows(tmp_path / schema.FILE, schema)
