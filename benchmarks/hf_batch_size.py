"""Generation throughput of an ``hf:`` model at several batch sizes, side by side.

The same samples of redline's own suites (their own parameters: harmful-requests answers
in up to 96 tokens, honesty in up to 32), answered greedily by ``HFTarget.generate_sync``
with each batch size in turn, in one process; the answers are compared too (a batch's
padding can move the last digits of the logits, and with them a greedy token).

    python benchmarks/hf_batch_size.py ~/.cache/redline/models/smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from redline.evals import get_suite
from redline.targets.hf import HFTarget
from redline.threads import torch_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--sizes", default="32,64,128")
    parser.add_argument("--samples", type=int, default=128)
    args = parser.parse_args()
    target = HFTarget(args.model.expanduser())
    print("| suite | max tokens | samples | batch | seconds | samples/s | answers as batch "
          f"{args.sizes.split(',')[0]} |")
    print("|---|---|---|---|---|---|---|")
    with torch_threads(None):
        for name in ("harmful-requests", "honesty"):
            suite = get_suite(name)
            samples = suite.samples(seed=0, size=args.samples)
            conversations = [s.messages for s in samples]
            first: list[str] | None = None
            for size in (int(x) for x in args.sizes.split(",")):
                target.batch_size = size
                started = time.perf_counter()
                answers = [c.text for c in target.generate_sync(conversations, suite.params)]
                took = time.perf_counter() - started
                first = first or answers
                same = sum(a == b for a, b in zip(answers, first, strict=True))
                print(f"| {name} | {suite.params.max_tokens} | {len(samples)} | {size} | "
                      f"{took:.1f} | {len(samples) / took:.2f} | {same}/{len(samples)} |",
                      flush=True)


if __name__ == "__main__":
    main()
