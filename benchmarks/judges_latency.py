"""Per-item latency of the response judges on one core, batched, against the bare encoder.

The target (issue 14): p50 <= 30 ms per (request, response) item of up to 1,000
characters, batched, on one core. Items are the frozen real-model validation answers and
the written-style ones, cut to 1,000 characters. Each batch of ``--batch`` items is timed;
the per-item time is the batch time over its size, and p50/p99 are over batches. The
baseline, in the same run, is the shared encoder embedding the response text alone once
(what the earlier heads' main cost was), so the ratio is what reading the pair, the
windows and the shape features costs on top.

Each is run in float32 (the default, for results that must reproduce exactly), in
bfloat16 where the CPU has bfloat16 matrix units (the guard's ``auto`` precision), and
with int8 linear layers (``precision: int8``). ``--agreement`` also prints, per precision,
how often each scorer's label equals its float32 label on the same items.

    python benchmarks/judges_latency.py [--batch 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--agreement", action="store_true",
                        help="Also print each precision's label agreement with float32.")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from redline.scorers import ScoreInput, get_scorer, score_all
    from redline.scorers._learned import embedding_memo
    from redline.scorers.datasets import read_examples
    from redline.scorers.encoder import encode, encoder_precision, get_encoder
    from redline.scorers.heads import data_dir
    from redline.scorers.outcome import forget_recent

    examples = [
        e
        for name in ("answers_b.train.jsonl", "written_b.train.jsonl")
        for e in read_examples(data_dir() / "outcome" / name)
    ]
    items = [ScoreInput.of(e.prompt, (e.response or "")[:1000]) for e in examples]
    lengths = [len(i.response or "") for i in items]
    import platform
    from pathlib import Path

    info = Path("/proc/cpuinfo")
    lines = info.read_text(encoding="utf-8").splitlines() if info.is_file() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    print(
        f"CPU: {cpu}; torch threads: {torch.get_num_threads()}; {len(items)} items, response chars "
        f"median {int(np.median(lengths))}, max {max(lengths)}"
    )
    get_encoder()
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    print("\n| what | precision | p50 ms/item | p99 ms/item | items/s |")
    print("|---|---|---|---|---|")
    runs = [
        (name, precision)
        for precision in ("float32", "auto", "int8")
        for name in ("refusal", "harmful_compliance", "encoder on the response alone (baseline)")
    ]
    labels: dict[tuple[str, str], list[bool | None]] = {}
    for name, precision in runs:
        scorer = get_scorer(name) if "encoder" not in name else None
        if scorer is not None:
            asyncio.run(score_all(scorer, batches[0]))  # load the heads
        per_item: list[float] = []
        total, count = 0.0, 0
        found: list[bool | None] = []
        for round_ in range(args.rounds):
            for batch in batches:
                # A fresh memo and no kept rows: nothing is reused across batches, rounds
                # or scorers (refusal and harmful_compliance share the outcome head's rows).
                forget_recent()
                with embedding_memo(), encoder_precision(precision) as chosen:  # type: ignore[arg-type]
                    started = time.perf_counter()
                    if scorer is None:
                        encode([b.response or "" for b in batch])
                    else:
                        scores = asyncio.run(score_all(scorer, batch))
                        if round_ == 0:
                            found.extend(s.label for s in scores)
                    took = time.perf_counter() - started
                per_item.append(took * 1000 / len(batch))
                total += took
                count += len(batch)
        print(
            f"| {name} | {chosen} | {np.percentile(per_item, 50):.1f} "
            f"| {np.percentile(per_item, 99):.1f} | {count / total:.0f} |",
            flush=True,
        )
        if found:
            labels[(name, chosen)] = found
    if args.agreement:
        print("\n| scorer | precision | labels equal to float32's |")
        print("|---|---|---|")
        for (name, chosen), found in labels.items():
            exact = labels[(name, "float32")]
            same = sum(a == b for a, b in zip(found, exact, strict=True))
            print(f"| {name} | {chosen} | {same}/{len(exact)} |")


if __name__ == "__main__":
    main()
