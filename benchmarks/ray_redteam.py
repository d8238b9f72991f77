"""``redline redteam organism:helpful``: Ray executor vs local, on this machine.

    python benchmarks/ray_redteam.py                  # about 4 minutes on 2 cores
    python benchmarks/ray_redteam.py --limit 4 --rounds 2

Each command runs in a fresh process with a fresh store and no response cache:

- ``redline redteam organism:helpful --limit N --no-cache`` (local executor; the default
  suite: 6 categories x N seed requests x 9 transforms, static)
- the same with ``--executor ray`` (starts a local Ray cluster of this machine's CPUs)

in alternating rounds (the machine is shared, so its load drifts), then the ray command
once more on the last ray store: a resume that finds every attempt stored. It checks that
both executors made the same attempts with the same answers and scores, and wrote the
same report apart from ids, times and latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = "organism:helpful"


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


def report_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "report.json").read_text())
    return data


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k not in ("run_id", "created_at", "duration_s")}
    out["evidence"] = [{k: v for k, v in e.items() if k != "latency_ms"}
                       for e in report["evidence"]]
    return out


def attempts(home: Path, run_id: str) -> dict[str, tuple[Any, ...]]:
    with sqlite3.connect(home / "redline.db") as db:
        rows = db.execute("SELECT key, response, error, scores FROM attempts WHERE run_id = ?",
                          (run_id,)).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=4, help="seed requests per category")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    plan = ["redteam", TARGET, "--limit", str(args.limit), "--no-cache"]
    times: dict[str, list[float]] = {"local": [], "ray": []}
    last: dict[str, tuple[Path, dict[str, Any]]] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ray-redteam-") as tmp:
        for round_ in range(args.rounds):
            for executor in ("local", "ray"):
                home = Path(tmp) / f"{executor}-{round_}"
                out = home / "report"
                times[executor].append(timed_command(
                    [*plan, "--executor", executor, "--out", str(out)], home))
                last[executor] = (home, report_of(out))
        ray_home, ray_report = last["ray"]
        resumed = timed_command([*plan, "--executor", "ray", "--out",
                                 str(ray_home / "again")], ray_home)
        again = report_of(ray_home / "again")
        local_home, local_report = last["local"]
        same_attempts = (attempts(local_home, local_report["run_id"])
                         == attempts(ray_home, ray_report["run_id"]))
        same_report = comparable(local_report) == comparable(ray_report)
    n = local_report["attempts"]
    local_s, ray_s = statistics.median(times["local"]), statistics.median(times["ray"])
    print(f"redteam {TARGET} --limit {args.limit} (default suite): {n} attempts, "
          f"{os.cpu_count()} cores, load average {load:.2f} at start")
    for executor in ("local", "ray"):
        each = ", ".join(f"{t:.1f}" for t in times[executor])
        print(f"  {executor:5} executor, whole command   {each} s")
    print(f"  median: local {local_s:.1f} s, ray {ray_s:.1f} s (local/ray = "
          f"{local_s / ray_s:.2f}x)")
    print(f"  ray, resumed, all stored     {resumed:.1f} s "
          f"(replayed {again['replayed']}, sent {again['queries']})")
    print(f"  attempts per second: local {n / local_s:.1f}, ray {n / ray_s:.1f}")
    print(f"  ASR: local {local_report['asr']['successes']}/{local_report['asr']['n']}, "
          f"ray {ray_report['asr']['successes']}/{ray_report['asr']['n']}")
    print(f"  same attempts (answers, scores) from both executors: "
          f"{'yes' if same_attempts else 'NO'}; same report: {'yes' if same_report else 'NO'}")


if __name__ == "__main__":
    main()
