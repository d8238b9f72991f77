"""Load test of the guard: 20,000 requests, random upstream failures, a restart midway.

Checks that every request gets an answer or an error, that the event log holds exactly one
event per request, and that the chain and its signed checkpoints verify (in process, and
with `redline log verify --public-key` on the log). The client keeps
a pool of --concurrency connections alive (--no-keepalive: a new connection per request).

    python benchmarks/guard_load.py --requests 20000 --concurrency 16 --failure-rate 0.05
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

from redline.guard.loadtest import run_load_test


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--failure-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-keepalive", action="store_true",
                        help="open a new connection per request")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    self_before = _cpu_seconds(resource.RUSAGE_SELF)
    child_before = _cpu_seconds(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="redline-load-") as folder:
        result = run_load_test(
            folder,
            requests=args.requests,
            concurrency=args.concurrency,
            failure_rate=args.failure_rate,
            seed=args.seed,
            keepalive=not args.no_keepalive,
        )
        guard_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - child_before
        # The CLI a user would run, pinned to the key the guard signed with.
        cli = subprocess.run(
            [sys.executable, "-c", "from redline.cli import main; main()", "log", "verify",
             f"{folder}/events.log", "--public-key", f"{folder}/signing.key.pub"],
            capture_output=True, text=True, check=False)
    print(
        f"requests {result.requests}, statuses {dict(sorted(result.statuses.items()))}, "
        f"unanswered {result.unanswered}, resent during restart {result.connect_retries}"
    )
    print(
        f"log events {result.events}, duplicated {result.duplicated}, missing "
        f"{result.missing}, chain verifies {result.chain_ok}, restarts {result.restarts} "
        f"({result.restart_seconds:.1f} s from SIGTERM to the new guard answering)"
    )
    client_cpu = _cpu_seconds(resource.RUSAGE_SELF) - self_before
    connections = "kept alive" if result.keepalive else "one new connection per request"
    print(
        f"wall {result.seconds:.1f} s ({result.rate:.0f} req/s, {connections}), latency "
        f"p50 {result.latency_p50_ms:.1f} ms, p99 {result.latency_p99_ms:.1f} ms"
    )
    print(
        f"CPU per request: guard processes {guard_cpu / result.requests * 1000:.2f} ms, "
        f"client + upstream {client_cpu / result.requests * 1000:.2f} ms; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores"
    )
    print(f"`redline log verify --public-key` exit {cli.returncode}: "
          f"{' '.join(cli.stdout.split())[:300]}")
    ok = result.ok and cli.returncode == 0
    print("PASS" if ok else f"FAIL {result.problems}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
