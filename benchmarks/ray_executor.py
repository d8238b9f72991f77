"""``redline eval-series`` over the 10 checkpoints of organism:helpful: Ray executor vs local.

    python benchmarks/ray_executor.py                 # about 3 minutes on 2 cores
    python benchmarks/ray_executor.py --size 64 --cpus 2

Part 1 runs the real commands, each in a fresh process with a fresh store:

- ``redline eval-series organism:helpful -s organism-capability -n SIZE`` (local executor)
- the same with ``--executor ray`` (starts a local Ray cluster of ``--cpus`` CPUs)
- the ray command again: a resume that finds every sample stored (Ray start + collect)

and checks that both executors wrote the same series. Part 2 measures, in this process,
what Ray and redline add per unit: a no-op task's round trip, a unit whose samples are
all stored (store checks only, on a warm worker), and each checkpoint unit's own time in
its worker against the wall time of the whole run, and the driver's rebuilding of the
results from the store.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET = "organism:helpful"
SUITE = "organism-capability"


def timed_command(args: list[str], home: Path) -> float:
    env = {**os.environ, "REDLINE_HOME": str(home)}
    env.pop("REDLINE_DB", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "redline", *args], env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed: redline {' '.join(args)}\n{done.stderr[-2000:]}")
    return seconds


def same_series(a: Path, b: Path) -> bool:
    def strip(path: Path) -> Any:
        data = json.loads(path.read_text())
        data.pop("created_at")
        for run in data["checkpoints"]:
            for result in run["results"]:
                result.pop("started_at")
                result.pop("finished_at")
        return data

    return bool(strip(a) == strip(b))


def commands(size: int, work: Path) -> dict[str, float]:
    base = ["eval-series", TARGET, "-s", SUITE, "-n", str(size)]
    local = timed_command([*base, "--out", str(work / "local")], work / "home-local")
    ray_home = work / "home-ray"
    ray_args = [*base, "--out", str(work / "ray"), "--executor", "ray"]
    ray_s = timed_command(ray_args, ray_home)
    resume = timed_command(ray_args, ray_home)
    if not same_series(work / "local" / "series.json", work / "ray" / "series.json"):
        sys.exit("the ray executor's series differs from the local one")
    return {"local_s": local, "ray_s": ray_s, "ray_resume_s": resume}


def per_unit(size: int, cpus: int, work: Path) -> dict[str, float]:
    import ray

    from redline.evals import discover_checkpoints
    from redline.scale import Cluster, series_plan
    from redline.scale.evals import collect
    from redline.store import Store

    started = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    start_s = time.perf_counter() - started
    cluster = Cluster()

    @ray.remote(num_cpus=1)
    def noop() -> int:
        return 1

    ray.get([noop.remote() for _ in range(2 * cpus)])  # workers up
    trips = []
    for _ in range(200):
        t = time.perf_counter()
        ray.get(noop.remote())
        trips.append(time.perf_counter() - t)

    found = discover_checkpoints(TARGET)
    plan = series_plan([(c, f"hf:{c.path}") for c in found], [SUITE], seed=0, size=size,
                       options={})
    store = Store(f"sqlite:///{work / 'per-unit.db'}")
    store.create_run(plan.kind, "bench", run_id=plan.run_id)
    units = plan.units(store.url)
    total = sum(s.stop - s.start for u in units for s in u.shards)
    t = time.perf_counter()
    done = cluster.run(units, store=store, run_id=plan.run_id, total=total)
    wall = time.perf_counter() - t
    t = time.perf_counter()
    again = cluster.run(units, store=store, run_id=plan.run_id, total=total)
    stored_wall = time.perf_counter() - t
    ray.shutdown()
    t = time.perf_counter()
    collect(plan, store, started=datetime.now(UTC))
    collect_s = time.perf_counter() - t
    busy = sum(d["seconds"] for d in done)
    loads = sum(d["load_seconds"] for d in done)
    return {
        "ray_start_s": start_s,
        "noop_round_trip_ms_p50": 1000 * statistics.median(trips),
        "units": len(units),
        "samples": total,
        "run_wall_s": wall,
        "unit_seconds_sum": busy,
        "unit_load_seconds_sum": loads,
        "unit_seconds_p50": statistics.median(d["seconds"] for d in done),
        "overhead_per_unit_s": (wall * cpus - busy) / len(units),
        "stored_unit_ms": 1000 * stored_wall / len(units) * cpus,
        "stored_skipped": sum(d["skipped"] for d in again),
        "collect_ms_per_sample": 1000 * collect_s / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128, help="samples per checkpoint")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timings = commands(args.size, work)
        units = per_unit(args.size, args.cpus, work)
    print(f"eval-series {TARGET}: 10 checkpoints x {SUITE} -n {args.size}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"  local executor            {timings['local_s']:7.1f} s")
    print(f"  ray executor              {timings['ray_s']:7.1f} s   "
          f"(local/ray = {timings['local_s'] / timings['ray_s']:.2f}x)")
    print(f"  ray, resumed, all stored  {timings['ray_resume_s']:7.1f} s")
    print("  same series.json from both executors: yes")
    print(f"per unit, in-process cluster of {args.cpus} CPUs:")
    print(f"  Ray start                 {units['ray_start_s']:7.2f} s")
    print(f"  no-op task round trip     {units['noop_round_trip_ms_p50']:7.2f} ms (p50 of 200)")
    print(f"  {units['units']} checkpoint units, {units['samples']} samples: wall "
          f"{units['run_wall_s']:.1f} s; in workers {units['unit_seconds_sum']:.1f} s "
          f"(of which loading models {units['unit_load_seconds_sum']:.1f} s), "
          f"p50 {units['unit_seconds_p50']:.2f} s a unit")
    print(f"  idle + Ray overhead       {units['overhead_per_unit_s']:7.2f} s a unit "
          f"(wall x CPUs - time in units) / units")
    print(f"  a unit already stored     {units['stored_unit_ms']:7.1f} ms a unit "
          f"({units['stored_skipped']} samples skipped)")
    print(f"  driver rebuilds results   {units['collect_ms_per_sample']:7.2f} ms a sample "
          "(reading attempts from the store, metrics)")


if __name__ == "__main__":
    main()
