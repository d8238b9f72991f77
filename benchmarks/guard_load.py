"""Load test of the guard: 20,000 requests, random upstream failures, a restart midway.

Checks that every request gets an answer or an error, that the event log holds exactly one
event per request, and that the chain and its signed checkpoints verify.

    python benchmarks/guard_load.py --requests 20000 --concurrency 16 --failure-rate 0.05
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from redline.guard.loadtest import run_load_test


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--failure-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redline-load-") as folder:
        result = run_load_test(
            folder,
            requests=args.requests,
            concurrency=args.concurrency,
            failure_rate=args.failure_rate,
            seed=args.seed,
        )
    print(
        f"requests {result.requests}, statuses {dict(sorted(result.statuses.items()))}, "
        f"unanswered {result.unanswered}, resent during restart {result.connect_retries}"
    )
    print(
        f"log events {result.events}, duplicated {result.duplicated}, missing "
        f"{result.missing}, chain verifies {result.chain_ok}, restarts {result.restarts}"
    )
    print(
        f"wall {result.seconds:.1f} s ({result.requests / result.seconds:.0f} req/s, "
        "one new connection per request)"
    )
    print("PASS" if result.ok else f"FAIL {result.problems}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
