"""``--executor ray`` on a real local Ray cluster: same results as local, killed workers and
drivers lose nothing.

One cluster (2 CPUs) serves the whole module: starting Ray costs seconds.
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

pytestmark = pytest.mark.slow

TARGET = "organism:helpful"
SUITE = "organism-capability"
SIZE = 192  # three shards of 64: two run at once on the two CPUs, the third after
OTHER, OTHER_SIZE = "organism-over-refusal", 40


@pytest.fixture(scope="module")
def local_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The local executor's results, the reference every Ray run must equal."""
    organism_target("helpful")  # skips without torch, as every organism test does
    out = tmp_path_factory.mktemp("local")
    results = {}
    for suite, size in ((SUITE, SIZE), (OTHER, OTHER_SIZE)):
        ran = CliRunner().invoke(app, ["eval", TARGET, "-s", suite, "-n", str(size),
                                       "--no-cache", "--out", str(out / suite)])
        assert ran.exit_code == 0, ran.output
        results[suite] = comparable(json.loads((out / suite / f"{suite}.json").read_text()))
    return results


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without its timestamps: everything that must be identical across executors."""
    return {k: v for k, v in result.items() if k not in ("started_at", "finished_at")}


def ray_eval(out: Path, suite: str, size: int, *extra: str) -> Any:
    return CliRunner().invoke(app, ["eval", TARGET, "-s", suite, "-n", str(size), "--no-cache",
                                    "--out", str(out), "--executor", "ray", *extra])


def stored(run_id: str) -> dict[str, tuple[int, str | None]]:
    """The run's attempts in the store: key -> (row id, response)."""
    from redline.scale.evals import workers_store

    store = workers_store()
    try:
        return {a.key: (a.id, a.response) for a in store.attempts(run_id)}
    finally:
        store.close()


def busy_workers(task: bytes = b"execute_unit") -> list[int]:
    """PIDs of this cluster's worker processes that are running a unit (``task``) now.

    Ray titles a worker process ``ray::FUNCTION`` while it runs a task; the cluster's
    processes descend from this test process, which started it.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::" + task) and descends_from_me(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def descends_from_me(pid: int) -> bool:
    for _ in range(6):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rpartition(")")[2].split()[1])  # the parent's pid
        if pid == os.getpid():
            return True
    return False


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def run_id_of(suite: str, size: int) -> str:
    from redline.scale import eval_plan

    return eval_plan(TARGET, [suite], seed=0, size=size, options={}, cache=False,
                     model=None).run_id


def test_ray_gives_exactly_the_local_results(
    cluster: Any, local_results: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for suite, size in ((SUITE, SIZE), (OTHER, OTHER_SIZE)):
        ran = ray_eval(tmp_path, suite, size)
        assert ran.exit_code == 0, ran.output
        got = comparable(json.loads((tmp_path / f"{suite}.json").read_text()))
        assert got["metrics"] == local_results[suite]["metrics"]
        assert got == local_results[suite]  # every sample, response, score and digest
        rows = stored(run_id_of(suite, size))
        assert len(rows) == size  # one attempt per sample, none twice


def test_a_killed_worker_s_unit_is_retried_and_the_result_is_whole(
    cluster: Any, local_results: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    from redline.scale.evals import workers_store
    from redline.scale.units import count_attempts

    run_id = run_id_of(SUITE, SIZE)
    killed: list[tuple[int, int]] = []  # (pid, samples stored when it was killed)

    store = workers_store()  # migrated here: alembic must not run in two threads at once

    def kill_one_busy_worker() -> None:
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline and not killed:
                stored_now = count_attempts(store, run_id)
                busy = busy_workers()
                if 0 < stored_now < SIZE and busy:
                    os.kill(busy[0], signal.SIGKILL)
                    killed.append((busy[0], stored_now))
                time.sleep(0.05)
        finally:
            store.close()

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    ran = ray_eval(tmp_path, SUITE, SIZE)
    killer.join()
    assert killed, "no worker was caught running a unit"
    pid, stored_then = killed[0]
    assert stored_then < SIZE
    assert not alive(pid)
    assert ran.exit_code == 0, ran.output
    got = comparable(json.loads((tmp_path / f"{SUITE}.json").read_text()))
    assert got == local_results[SUITE]
    assert len(stored(run_id)) == SIZE


def test_a_killed_driver_resumes_with_nothing_lost_or_done_twice(
    cluster: Any, local_results: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    from redline.scale.evals import workers_store
    from redline.scale.units import count_attempts

    run_id = run_id_of(SUITE, SIZE)
    address = cluster.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-m", "redline", "eval", TARGET, "-s", SUITE, "-n", str(SIZE),
         "--no-cache", "--out", str(tmp_path / "first"), "--executor", "ray",
         "--ray-address", address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    store = workers_store()
    try:
        deadline = time.monotonic() + 120
        while count_attempts(store, run_id) == 0 and time.monotonic() < deadline:
            assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        store.close()
    before = stored(run_id)
    assert 0 < len(before) < SIZE, "the driver must die mid-run"

    ran = ray_eval(tmp_path / "second", SUITE, SIZE)
    assert ran.exit_code == 0, ran.output
    after = stored(run_id)
    assert len(after) == SIZE
    # What the killed driver's workers stored is kept as it was, not computed again.
    assert {k: after[k] for k in before} == before
    got = comparable(json.loads((tmp_path / "second" / f"{SUITE}.json").read_text()))
    assert got == local_results[SUITE]


def test_eval_series_on_ray_equals_local(cluster: Any, tmp_path: Path) -> None:
    from redline.evals import discover_checkpoints

    chosen = discover_checkpoints(f"{TARGET}")[::3]  # steps 0, 300, 600, 900
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "series.json").write_text(json.dumps({"checkpoints": [
        {"path": c.path, "step": c.step, "name": c.name} for c in chosen]}))
    outputs = {}
    for executor in ("local", "ray"):
        out = tmp_path / executor
        ran = CliRunner().invoke(app, ["eval-series", str(folder), "-s", SUITE, "-n", "32",
                                       "--out", str(out), "--executor", executor])
        assert ran.exit_code == 0, ran.output
        outputs[executor] = json.loads((out / "series.json").read_text())
    local, ray_ = outputs["local"], outputs["ray"]
    assert len(ray_["checkpoints"]) == len(chosen)
    assert ray_["trends"] == local["trends"]
    for mine, theirs in zip(ray_["checkpoints"], local["checkpoints"], strict=True):
        assert mine["checkpoint"] == theirs["checkpoint"]
        for a, b in zip(mine["results"], theirs["results"], strict=True):
            a, b = comparable(a), comparable(b)
            assert [k for k in a if a[k] != b.get(k)] == []
