"""Latency and throughput of every scorer, against sentence-transformers in the same run.

For each scorer: p50/p99 milliseconds for one item at a time (the guard's case) and items
per second when scoring a batch of 64 (the red-team and eval case). The baseline is
sentence-transformers' ``encode`` of the same texts with the same weights, so the ratio
shows what redline's own forward pass, rules and heads cost or save. Model load time is
compared the same way.

    python benchmarks/scorers_latency.py [--items 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import numpy as np

from redline.scorers import ScoreInput, get_scorer, score_all
from redline.scorers.datasets import read_examples
from redline.scorers.heads import data_dir

SCORERS = ("refusal", "harmful_compliance", "harmful_request", "injection", "pii", "secrets")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def items_for(name: str, limit: int) -> list[ScoreInput]:
    file = {"pii": "pii", "secrets": "secrets"}.get(name, name)
    examples = read_examples(data_dir() / f"{file}.val.jsonl")
    items = [e.as_input() for e in examples]
    while len(items) < limit:
        items = items + items
    return items[:limit]


def text_of(item: ScoreInput) -> str:
    return item.response if item.response is not None else item.prompt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline-items", type=int, default=40, help="items timed one by one for the baseline"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    print(f"torch threads: {torch.get_num_threads()}, cpus: {os.cpu_count()}")

    started = time.perf_counter()
    from redline.scorers.encoder import get_encoder, model_dir

    get_encoder()
    ours_load = time.perf_counter() - started
    started = time.perf_counter()
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_dir()), device="cpu")
    theirs_load = time.perf_counter() - started
    print(
        f"\nmodel load (torch already imported): redline {ours_load:.2f} s, "
        f"sentence-transformers {theirs_load:.2f} s, ratio {ours_load / theirs_load:.2f}"
    )

    print(
        "\n| scorer | p50 ms | p99 ms | batch items/s | baseline p50 ms | baseline items/s "
        "| p50 ratio | throughput ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in SCORERS:
        scorer = get_scorer(name)
        items = items_for(name, args.items)
        asyncio.run(score_all(scorer, items[:8]))  # warm up heads, templates
        singles: list[float] = []
        base_singles: list[float] = []
        for _ in range(args.repeat):
            for k, item in enumerate(items):
                t = time.perf_counter()
                asyncio.run(scorer(item))
                singles.append((time.perf_counter() - t) * 1000)
                if k < args.baseline_items:
                    t = time.perf_counter()
                    reference.encode([text_of(item)])
                    base_singles.append((time.perf_counter() - t) * 1000)
        rates, base_rates = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            asyncio.run(score_all(scorer, items))
            rates.append(len(items) / (time.perf_counter() - t))
            t = time.perf_counter()
            reference.encode([text_of(i) for i in items], batch_size=64)
            base_rates.append(len(items) / (time.perf_counter() - t))
        p50, p99 = percentile(singles, 50), percentile(singles, 99)
        b50 = percentile(base_singles, 50)
        rate, base_rate = statistics.median(rates), statistics.median(base_rates)
        print(
            f"| {name} | {p50:.1f} | {p99:.1f} | {rate:.0f} | {b50:.1f} | {base_rate:.0f} "
            f"| {p50 / b50:.2f} | {rate / base_rate:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
