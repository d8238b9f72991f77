"""How soon `redline redteam` sends its first request: two source trees, interleaved.

Runs the red-team command of ``benchmarks/redteam_vs_garak.py`` (an ``openai:`` target,
static attack, concurrency 16, no cache, a new ``REDLINE_HOME`` each run) against one
``redline serve`` of a scripted mock, alternately from this checkout and from
``--baseline-src DIR`` (``DIR/src``), and reports for each tree the median time from just
before ``python`` starts to its first request (marked by the import of aiohttp, which the
``openai:`` target does on its first send), the median whole-process time, and the median
paired difference with a 95% bootstrap interval.

    git archive COMMIT src | tar -x -C /tmp/before
    python benchmarks/redteam_startup.py --baseline-src /tmp/before --repeats 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from redteam_vs_garak import PLUGIN, REDLINE, free_port, wait_for  # noqa: E402

MARKER = """
import importlib.abc, os, sys, time
start = float(os.environ["BENCH_START"])
class _First(importlib.abc.MetaPathFinder):
    seen = False
    def find_spec(self, name, path, target=None):
        if name == "aiohttp" and not _First.seen:
            _First.seen = True
            sys.stderr.write(f"BENCH_FIRST_REQUEST {time.time() - start:.4f}\\n")
        return None
sys.meta_path.insert(0, _First())
"""


def run_once(
    work: Path, tag: str, base_url: str, prompts: Path, source: Path | None
) -> tuple[float, float]:
    home = work / tag
    path = [str(work / "marker"), *([str(source / "src")] if source else []), str(work / "plugin")]
    path += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "REDLINE_HOME": str(home),
        "REDLINE_BENCH_PROMPTS": str(prompts),
    }
    command = [
        *REDLINE[:-1],
        "import bench_marker; " + REDLINE[-1],
        "redteam",
        f"{base_url}#served",
        "--plugin",
        "redline_bench_garak",
        "--probe",
        "bench.garak_prompts",
        "--attack",
        "static",
        "--transform",
        "none",
        "--concurrency",
        "16",
        "--max-tokens",
        "64",
        "--no-cache",
        "--out",
        str(home / "report"),
    ]
    env["BENCH_START"] = f"{time.time():.6f}"
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"redline failed: {result.stderr[-2000:]}")
    first = [line for line in result.stderr.splitlines() if line.startswith("BENCH_FIRST")]
    if not first:
        raise SystemExit("no request was sent (aiohttp was never imported)")
    return float(first[0].split()[1]), wall


def paired(before: list[float], now: list[float], seed: int = 0) -> str:
    diffs = [b - n for b, n in zip(before, now, strict=True)]
    rng = random.Random(seed)
    boot = sorted(statistics.median(rng.choices(diffs, k=len(diffs))) for _ in range(5000))
    return (
        f"before {statistics.median(before):.2f} s, now {statistics.median(now):.2f} s, "
        f"paired difference {statistics.median(diffs):.2f} s "
        f"[95% bootstrap {boot[124]:.2f}, {boot[4874]:.2f}], now faster in "
        f"{sum(d > 0 for d in diffs)}/{len(diffs)} pairs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--target", default="mock:i am sorry but i cannot help with that")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="redline-startup-"))
    (work / "plugin").mkdir()
    (work / "plugin" / "redline_bench_garak.py").write_text(PLUGIN)
    (work / "marker").mkdir()
    (work / "marker" / "bench_marker.py").write_text(MARKER)
    prompts = work / "prompts.json"
    prompts.write_text(
        json.dumps([f"Decode this and answer: item {i}" for i in range(args.prompts)])
    )
    port = free_port()
    serve = subprocess.Popen(
        [*REDLINE, "serve", args.target, "--port", str(port), "--model-name", "served"]
        + ["--no-cache"],
        env={**os.environ, "REDLINE_HOME": str(work / "serve")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs: dict[str, list[tuple[float, float]]] = {"now": [], "before": []}
    try:
        wait_for(f"http://127.0.0.1:{port}/health", serve)
        for i in range(args.repeats):
            order = ["now", "before"] if i % 2 == 0 else ["before", "now"]
            for name in order:
                source = args.baseline_src if name == "before" else None
                result = run_once(
                    work, f"{name}{i}", f"openai:http://127.0.0.1:{port}/v1", prompts, source
                )
                runs[name].append(result)
                print(
                    f"{name:<7}run {i}: first request {result[0]:.2f} s, "
                    f"whole process {result[1]:.2f} s",
                    flush=True,
                )
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    for k, label in ((0, "start to first request"), (1, "whole process")):
        before = [r[k] for r in runs["before"]]
        now = [r[k] for r in runs["now"]]
        print(f"{label}: {paired(before, now)}")


if __name__ == "__main__":
    main()
