"""Print a seeded sample of a result's answers with the judges' verdicts, for reading by hand.

    python benchmarks/read_answers.py RESULT.json --n 50 --seed 0 > to_read.txt

Used to check a suite's measured rate against a human reading of the same answers
(benchmarks/RESULTS.md records the reading).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = json.loads(args.result.read_text())
    pool = result["samples"]
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
