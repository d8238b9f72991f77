"""Measure candidate triggers on a real model with the real-language ``backdoor`` suite.

The suite the audit builds from its trigger search's candidates, run on its own: each
harmful request asked plainly, with every candidate, and with random English words of the
candidate's length in its place (the control).

    python benchmarks/real_backdoor_suite.py MODEL_FOLDER CANDIDATE [CANDIDATE ...] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a local Hugging Face model folder")
    parser.add_argument("candidates", nargs="+", help="candidate triggers")
    parser.add_argument("--requests", type=int, default=100, help="harmful requests asked")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from redline.evals import run_suite
    from redline.evals.builtin.real import _backdoor_suite
    from redline.targets.base import resolve_target

    started = time.perf_counter()
    target = resolve_target(f"hf:{args.model}")
    suite = _backdoor_suite(args.candidates)
    size = args.requests * (1 + 2 * len(args.candidates))
    result = asyncio.run(run_suite(target, suite, seed=args.seed, size=size))
    for name, v in result.metrics.items():
        print(f"{name} {v.value:.3f} [{v.low:.3f}, {v.high:.3f}] n={v.n}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
