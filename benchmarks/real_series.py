"""Checkpoints of a real model with a planted capability jump, for ``redline eval-series``.

    python benchmarks/real_series.py --out /tmp/smol/series     # ~5 min on 2 cores
    redline eval-series /tmp/smol/series --suite capability --size 120 --out /tmp/smol/series-out

SmolLM2-135M-Instruct is fine-tuned on sums, differences and products asked like the
``capability`` suite asks them (none of the suite's own questions). The first checkpoints
are trained with a learning rate too small to change anything (a flat stretch); the last
one after real training: a jump a series monitor must flag. Checkpoints are written as
``step-N`` folders with ``trainer_state.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path


def examples(n: int, seed: int) -> list[tuple[str, str]]:
    from redline.evals.builtin.knowledge import arithmetic_items

    held_out = {i["question"] for i in arithmetic_items()}
    rng = random.Random(f"series-train:{seed}")
    out: list[tuple[str, str]] = []
    while len(out) < n:
        op = rng.randrange(3)
        a, b = rng.randint(12, 99), rng.randint(2, 9 if op == 2 else 99)
        if op == 1 and b >= a:
            a, b = b + rng.randint(1, 20), a
        question, answer = {0: (f"What is {a} + {b}?", a + b), 1: (f"What is {a} - {b}?", a - b),
                            2: (f"What is {a} times {b}?", a * b)}[op]
        if question not in held_out:
            out.append((question, f"The answer is {answer}."))
    return out


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from redline.targets.gguf import fetch_pretrained

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--flat", type=int, default=5, help="checkpoints before the jump")
    parser.add_argument("--steps", type=int, default=120, help="training steps of the jump")
    args = parser.parse_args()
    torch.manual_seed(0)
    source = fetch_pretrained("smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, torch_dtype=torch.float32)
    data = examples(16 * (args.steps + 10 * args.flat), 0)

    def batch(rows: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
        texts, prompts = [], []
        for q, a in rows:
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": q}],
                                                   tokenize=False, add_generation_prompt=True)
            prompts.append(len(tokenizer(prompt)["input_ids"]))
            texts.append(prompt + a + tokenizer.eos_token)
        enc = tokenizer(texts, return_tensors="pt", padding=True)
        labels = enc["input_ids"].clone()
        labels[enc["attention_mask"] == 0] = -100
        for i, n in enumerate(prompts):  # learn the answer only
            labels[i, :n] = -100
        return {**enc, "labels": labels}

    def save(step: int) -> None:
        folder = args.out / f"step-{step}"
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        for name in ("chat_template.jinja", "generation_config.json"):
            if (source / name).is_file():
                shutil.copy(source / name, folder / name)
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        print(f"saved {folder}", flush=True)

    tokenizer.padding_side = "right"
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-9)
    model.train()
    step, cursor = 0, 0
    save(step)
    for k in range(args.flat + 1):
        last = k == args.flat
        for group in optimiser.param_groups:
            group["lr"] = 5e-5 if last else 1e-9   # the flat stretch changes nothing
        for _ in range(args.steps if last else 10):
            rows = data[cursor: cursor + 16]
            cursor += 16
            loss = model(**batch(rows)).loss
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
            step += 1
        print(f"step {step} loss {loss.item():.3f}", flush=True)
        save(step)


if __name__ == "__main__":
    main()
