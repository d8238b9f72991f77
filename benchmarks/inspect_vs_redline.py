"""redline eval vs Inspect: samples/s and import time on the same samples and served model.

One `redline serve TARGET --no-cache` process answers both tools over HTTP. The samples
are a redline suite's, exported with `redline export inspect` so Inspect runs exactly the
samples `redline eval` runs, with the same generation parameters, judged by the same
redline scorers in both (in Inspect through the exported task's scorer). Both use the same
concurrency (redline: the openai target's `-o concurrency=C`; Inspect: `--max-connections
C`) and no response cache. Reported, as medians over --repeats runs: samples/s over the
whole process (start-up included), and the time to import each tool's CLI entry module in
a fresh interpreter; ratios are redline/Inspect.

    python benchmarks/inspect_vs_redline.py --target organism:helpful \
        --suite organism-capability --size 100 --concurrency 8 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REDLINE = [sys.executable, "-c", "from redline.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(target: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([*REDLINE, "serve", target, "--port", str(port), "--no-cache"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("redline serve did not come up")


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-2000:]}")
    return elapsed


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; " \
           "print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="organism:helpful")
    parser.add_argument("--suite", default="organism-capability")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="inspect-vs-redline-"))
    env = {**os.environ, "REDLINE_HOME": str(work / "home"), "REDLINE_API_KEY": "unused",
           "INSPECT_LOG_DIR": str(work / "logs")}
    subprocess.run([*REDLINE, "export", "inspect", args.suite, "--out", str(work / "task"),
                    "--size", str(args.size)], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = serve(args.target, port)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        for i in range(args.repeats):
            ours.append(timed([*REDLINE, "eval", f"openai:{url}#{args.target}", "--suite",
                               args.suite, "--size", str(args.size), "--no-cache",
                               "-o", f"concurrency={args.concurrency}",
                               "--out", str(work / f"ev{i}")], env, work))
            theirs.append(timed([sys.executable, "-m", "inspect_ai", "eval",
                                 "task/task.py", "--model",
                                 f"openai-api/redline/{args.target}", "--model-base-url", url,
                                 "--max-connections", str(args.concurrency),
                                 "--display", "none"], env, work))
    finally:
        server.terminate()
        server.wait(timeout=30)
    imports_ours = statistics.median(import_time("redline.cli") for _ in range(args.repeats))
    imports_theirs = statistics.median(import_time("inspect_ai") for _ in range(args.repeats))
    rate_ours = args.size / statistics.median(ours)
    rate_theirs = args.size / statistics.median(theirs)
    print(f"{args.size} samples of {args.suite} on {args.target}, concurrency "
          f"{args.concurrency}, median of {args.repeats}")
    print("| | redline eval | inspect eval | redline/Inspect |")
    print("|---|---|---|---|")
    print(f"| samples/s, whole process | {rate_ours:.1f} | {rate_theirs:.1f} | "
          f"{rate_ours / rate_theirs:.2f}× |")
    print(f"| wall time, s | {statistics.median(ours):.2f} | {statistics.median(theirs):.2f} | |")
    print(f"| import time, s (`redline.cli` / `inspect_ai`) | {imports_ours:.3f} | "
          f"{imports_theirs:.3f} | {imports_ours / imports_theirs:.2f}× |")


if __name__ == "__main__":
    main()
