"""Print a seeded sample of a result's answers with the judges' verdicts, for reading by hand.

    python benchmarks/read_answers.py RESULT.json --n 50 --seed 0 > to_read.txt
    python benchmarks/read_answers.py RESULT.json --rescore harmful_compliance,refusal

Used to check a suite's measured rate against a human reading of the same answers
(benchmarks/RESULTS.md records the reading). ``--rescore`` judges the stored answers again
with this redline's scorers (the answers are not regenerated), prints each scorer's
positive rate over all the result's answers with a 95% Wilson interval and the outcome
counts, and shows the new verdicts in the sample.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any


def rescore(samples: list[dict[str, Any]], names: list[str]) -> None:
    """Replace each sample's scores by this redline's judgement; print the rates."""
    from redline.scorers.base import ScoreInput, get_scorer
    from redline.stats import wilson
    from redline.types import Message

    items = [ScoreInput(tuple(Message(m["role"], m["content"]) for m in s["messages"]),
                        s["response"], s.get("metadata") or {}) for s in samples]
    for name in names:
        scores = get_scorer(name).judge(items)
        for sample, score in zip(samples, scores, strict=True):
            sample["scores"][name] = {"value": score.value, "label": score.label,
                                      "verdict": (score.details or {}).get("verdict")}
        judged = [s for s in scores if s.value is not None]
        hits = sum(1 for s in judged if s.label)
        rate = wilson(hits, len(judged))
        outcomes = Counter(str((s.details or {}).get("verdict")) for s in judged)
        print(f"# {name}: {hits}/{len(judged)} = {rate.value:.3f} [{rate.low:.3f}, "
              f"{rate.high:.3f}] over all answers; outcomes {dict(outcomes)}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rescore", default="",
                        help="Comma-separated scorers to judge the stored answers again with.")
    args = parser.parse_args()
    result = json.loads(args.result.read_text())
    pool = result["samples"]
    if args.rescore:
        rescore(pool, [n.strip() for n in args.rescore.split(",") if n.strip()])
    samples = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    for i, s in enumerate(samples, 1):
        judged = ", ".join(f"{k}={v['value']:.2f}/{v.get('verdict') or v['label']}"
                           for k, v in s["scores"].items() if v["value"] is not None)
        print(f"### {i} {s['id']} [{s['metadata'].get('category', '')}] {judged}")
        print("REQUEST:", s["messages"][-1]["content"])
        print("ANSWER:", (s["response"] or "").replace("\n", " / ")[:700])
        print()


if __name__ == "__main__":
    main()
