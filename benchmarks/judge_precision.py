"""The response judges in float32, bfloat16 and int8: accuracy, agreement and speed.

``refusal`` and ``harmful_compliance`` read the outcome cross-encoder, whose cost is most
of a red team's scoring time on a CPU. This runs both judges on the held-out response
sets (real SmolLM2 answers; answers in assistant styles by another writer) in each
encoder precision and reports, per set and judge: F1 with a 95% bootstrap interval, how
many labels differ from float32's, the largest probability difference, and the seconds
the judging took (each precision run twice; the second, warm run is reported).

    python benchmarks/judge_precision.py
"""

from __future__ import annotations

import asyncio
import time

from redline.scorers import get_scorer
from redline.scorers.base import score_all
from redline.scorers.datasets import read_examples
from redline.scorers.encoder import encoder_precision
from redline.scorers.heads import data_dir
from redline.stats import binary_metrics

SETS = (
    ("outcome/answers_j.val.jsonl", "real SmolLM2 answers"),
    ("outcome/assistants_l.val.jsonl", "assistant styles, writers L1-L4"),
)
PRECISIONS = ("float32", "bfloat16", "int8")


def judge(name: str, path: str, precision: str) -> tuple[list[bool], list[float], float, str]:
    examples = read_examples(data_dir() / path, scorer=name)
    scorer = get_scorer(name)
    items = [e.as_input() for e in examples]
    seconds = 0.0
    with encoder_precision(precision) as chosen:  # type: ignore[arg-type]
        for _ in range(2):  # the second run is warm (weights converted, caches filled)
            from redline.scorers import outcome

            outcome._recent.clear()  # noqa: SLF001 - time the encoder, not the row cache
            started = time.perf_counter()
            scores = asyncio.run(score_all(scorer, items))
            seconds = time.perf_counter() - started
    return [bool(s.label) for s in scores], [float(s.value) for s in scores], seconds, chosen


def main() -> None:
    print("| data | judge | precision | n | F1 [95%] | labels differing from float32 | "
          "largest probability difference | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for path, what in SETS:
        for name in ("refusal", "harmful_compliance"):
            truth = [bool(e.label) for e in read_examples(data_dir() / path, scorer=name)]
            base_labels, base_values, _, _ = judge(name, path, "float32")
            for precision in PRECISIONS:
                labels, values, seconds, chosen = judge(name, path, precision)
                f1 = binary_metrics(truth, labels).to_dict()["f1"]
                differ = sum(a != b for a, b in zip(labels, base_labels, strict=True))
                gap = max(abs(a - b) for a, b in zip(values, base_values, strict=True))
                print(f"| {what} | {name} | {chosen} | {len(truth)} | {f1['value']:.3f} "
                      f"[{f1['low']:.3f}, {f1['high']:.3f}] | {differ} | {gap:.4f} | "
                      f"{seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
