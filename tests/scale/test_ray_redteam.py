"""``redline redteam --executor ray`` on a real local Ray cluster: the local executor's
attempts and report, whole after a killed worker, resumed after a killed driver.

One cluster (2 CPUs) serves the whole module. The plan is 96 static attempts (6
categories x 4 seed requests x 4 transforms), two units of 64 and 32.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from redline.cli.app import app
from tests.conftest import organism_target
from tests.scale.test_ray_executor import alive, busy_workers

pytestmark = pytest.mark.slow

TARGET = "organism:helpful"
PLAN = ["--limit", "4", "--transform", "none", "--transform", "base64", "--transform",
        "leetspeak", "--transform", "template:name=roleplay", "--max-tokens", "48",
        "--no-cache"]
TOTAL = 96
VOLATILE = ("run_id", "created_at", "duration_s")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The local executor's report and attempts: what every Ray run must equal."""
    organism_target("helpful")  # skips without torch, as every organism test does
    home = tmp_path_factory.mktemp("local-home")
    with pytest.MonkeyPatch.context() as patch:  # module scope: the autouse home is not set
        patch.setenv("REDLINE_HOME", str(home))
        patch.delenv("REDLINE_DB", raising=False)
        out = home / "report"
        ran = CliRunner().invoke(app, ["redteam", TARGET, *PLAN, "--out", str(out)])
        assert ran.exit_code == 0, ran.output
        report = json.loads((out / "report.json").read_text())
        return {"report": report, "attempts": attempts(report["run_id"])}


def redteam_on_ray(out: Path, *extra: str) -> Any:
    return CliRunner().invoke(app, ["redteam", TARGET, *PLAN, "--out", str(out),
                                    "--executor", "ray", *extra])


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between any two runs (ids, times, latencies)."""
    out = {k: v for k, v in report.items() if k not in VOLATILE}
    out["evidence"] = [{k: v for k, v in e.items() if k != "latency_ms"}
                       for e in report["evidence"]]
    return out


def attempts(run_id: str) -> dict[str, dict[str, Any]]:
    """The run's attempts in the store by key: what was sent, answered and judged."""
    from redline.scale.evals import workers_store

    store = workers_store()
    try:
        rows = store.attempts(run_id)
        found = {a.key: {"id": a.id, "messages": a.messages, "response": a.response,
                         "error": a.error, "finish_reason": a.finish_reason,
                         "scores": a.scores, "transform": a.transform} for a in rows}
        assert len(found) == len(rows)
        return found
    finally:
        store.close()


def without_ids(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in row.items() if f != "id"} for k, row in rows.items()}


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ; floats may differ by 1e-6.

    A Ray worker's torch runs on one thread, the local run's on every core, and a matrix
    product over a few rows can split its sums differently: a judge's score can move in
    its eighth digit. Everything else (answers, labels, outcomes, counts, rates) must be
    the same.
    """
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= 1e-6 else [f"{where}: {a} != {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())} differ"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def test_ray_gives_the_local_attempts_and_report(
    cluster: Any, local_run: dict[str, Any], tmp_path: Path
) -> None:
    ran = redteam_on_ray(tmp_path / "first")
    assert ran.exit_code == 0, ran.output
    report = json.loads((tmp_path / "first" / "report.json").read_text())
    local = local_run["report"]
    assert report["attempts"] == TOTAL
    assert report["asr"] == local["asr"]
    assert report["by_category"] == local["by_category"]
    # Rates, findings, evidence, counts.
    assert not differences(comparable(report), comparable(local))
    stored = attempts(report["run_id"])
    # Each answer and score.
    assert not differences(without_ids(stored), without_ids(local_run["attempts"]))

    # The same command again finds its run: every attempt replayed, nothing sent or written.
    again = redteam_on_ray(tmp_path / "again")
    assert again.exit_code == 0, again.output
    second = json.loads((tmp_path / "again" / "report.json").read_text())
    assert second["run_id"] == report["run_id"]
    assert (second["replayed"], second["queries"]) == (TOTAL, 0)
    assert attempts(report["run_id"]) == stored
    mine = {k: v for k, v in comparable(second).items() if k not in ("replayed", "queries")}
    assert mine == {k: v for k, v in comparable(report).items()
                    if k not in ("replayed", "queries")}


def test_a_killed_worker_s_unit_is_retried_and_the_run_is_whole(
    cluster: Any, local_run: dict[str, Any], tmp_path: Path
) -> None:
    from redline.scale.evals import workers_store
    from redline.scale.units import count_attempts

    run_id = "killed-worker"
    killed: list[tuple[int, int]] = []  # (pid, attempts stored when it was killed)
    store = workers_store()
    store.close()  # migrated here: alembic must not run in two threads at once

    def kill_one_busy_worker() -> None:
        watch = workers_store()
        deadline = time.monotonic() + 180
        try:
            while time.monotonic() < deadline and not killed:
                stored_now = count_attempts(watch, run_id) if watch.get_run(run_id) else 0
                busy = busy_workers(b"execute_redteam_unit")
                if 0 < stored_now < TOTAL and busy:
                    os.kill(busy[0], signal.SIGKILL)
                    killed.append((busy[0], stored_now))
                time.sleep(0.05)
        finally:
            watch.close()

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    ran = redteam_on_ray(tmp_path, "--run-id", run_id)
    killer.join()
    assert killed, "no worker was caught running a unit"
    pid, stored_then = killed[0]
    assert 0 < stored_then < TOTAL
    assert not alive(pid)
    assert ran.exit_code == 0, ran.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert not differences(comparable(report), comparable(local_run["report"]) | {
        "replayed": report["replayed"], "queries": report["queries"]})
    assert not differences(without_ids(attempts(run_id)), without_ids(local_run["attempts"]))


def test_a_killed_driver_resumes_with_nothing_lost_or_done_twice(
    cluster: Any, local_run: dict[str, Any], tmp_path: Path
) -> None:
    from redline.scale.evals import workers_store
    from redline.scale.units import count_attempts

    run_id = "killed-driver"
    address = cluster.get_runtime_context().gcs_address
    command = ["redteam", TARGET, *PLAN, "--executor", "ray", "--run-id", run_id]
    driver = subprocess.Popen(
        [sys.executable, "-m", "redline", *command, "--out", str(tmp_path / "first"),
         "--ray-address", address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    store = workers_store()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and (
                store.get_run(run_id) is None or count_attempts(store, run_id) == 0):
            assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        store.close()
    before = attempts(run_id)
    assert 0 < len(before) < TOTAL, "the driver must die mid-run"

    ran = CliRunner().invoke(app, [*command, "--out", str(tmp_path / "second")])
    assert ran.exit_code == 0, ran.output
    after = attempts(run_id)
    assert len(after) == TOTAL
    # What the killed driver's workers stored is kept as it was, not made again.
    assert {k: after[k] for k in before} == before
    assert not differences(without_ids(after), without_ids(local_run["attempts"]))
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    assert report["replayed"] >= len(before)
    assert report["asr"] == local_run["report"]["asr"]
    assert not differences(comparable(report), comparable(local_run["report"]) | {
        "replayed": report["replayed"], "queries": report["queries"]})


def test_a_query_budget_stops_ray_where_it_stops_locally(cluster: Any, tmp_path: Path) -> None:
    # 6 static attempts, then fuzz gets the 14 the budget has left: the adaptive unit must
    # be given what the static units spent, as the local runner charges it.
    budgeted = ["redteam", TARGET, "--attack", "static", "--attack", "fuzz:generations=2",
                "--transform", "none", "--limit", "1", "--max-queries", "20", "--no-cache"]
    reports = {}
    for executor in ("local", "ray"):
        out = tmp_path / executor
        ran = CliRunner().invoke(app, [*budgeted, "--executor", executor, "--out", str(out)])
        assert ran.exit_code == 0, ran.output
        reports[executor] = json.loads((out / "report.json").read_text())
    local, ray_ = reports["local"], reports["ray"]
    assert (ray_["status"], ray_["stop_reason"]) == ("stopped", "max queries (20) reached")
    assert {k: v["n"] for k, v in ray_["by_attack"].items()} == {
        "static": 6, "fuzz:generations=2": 14}
    assert not differences(comparable(ray_), comparable(local))
    assert not differences(without_ids(attempts(ray_["run_id"])),
                           without_ids(attempts(local["run_id"])))
