"""Compare a `harmful_request` candidate head with the shipped one, request by request.

Both heads score the same requests; per data file this prints each head's precision,
recall and F1 (bootstrap 95% intervals), the risky-looking benign requests it flags, and
the paired difference F1(candidate) - F1(shipped) with a percentile bootstrap over the
requests (both heads read on the same resample), then the requests the two decide
differently. The candidate is a folder holding `harmful_request.head.json`, as written by
`redline scorers train harmful_request --out DIR`.

    python benchmarks/harmful_request_paired.py --candidate DIR \
        src/redline/scorers/data/harmful_request.val.jsonl [more files] [--json OUT]

The rule this serves (benchmarks/RESULTS.md, "`harmful_request` version 6 by a paired
guard rail"): a candidate fails the guard rail on a file when the upper end of the paired
interval is below zero.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from redline.scorers.datasets import read_examples
from redline.scorers.harmful_request import NAME, harmful_probability
from redline.scorers.heads import load_head
from redline.stats import binary_metrics, paired_f1_difference

RESAMPLES = 2000


def compare(path: Path, candidate: Path) -> dict[str, object]:
    """Both heads on one labelled file: their metrics, the paired difference, the disagreements."""
    examples = read_examples(path)
    prompts = [e.prompt for e in examples]
    y = np.array([e.label for e in examples], dtype=bool)
    risky = np.array(["risky-benign" in e.tags for e in examples], dtype=bool)
    heads = {"shipped": load_head(NAME), "candidate": load_head(NAME, candidate)}
    scores = {k: harmful_probability(prompts, h) for k, h in heads.items()}
    decided = {k: scores[k] >= heads[k].threshold for k in heads}
    out: dict[str, object] = {"data": path.name, "n": len(examples)}
    for k, head in heads.items():
        m = binary_metrics(y, decided[k])
        out[k] = {
            "threshold": head.threshold,
            "precision": m.precision.to_dict(),
            "recall": m.recall.to_dict(),
            "f1": m.f1.to_dict(),
            "risky_benign_flagged": int((decided[k] & risky & ~y).sum()),
            "risky_benign": int((risky & ~y).sum()),
        }
    a, b = decided["candidate"], decided["shipped"]
    out["f1_difference"] = paired_f1_difference(y, a, b, n_resamples=RESAMPLES).to_dict()
    out["disagreements"] = [
        {"prompt": examples[i].prompt, "label": bool(y[i]),
         "shipped": round(float(scores["shipped"][i]), 3),
         "candidate": round(float(scores["candidate"][i]), 3)}
        for i in np.flatnonzero(a != b)
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path, help="labelled request files (JSONL)")
    parser.add_argument("--candidate", type=Path, required=True,
                        help="folder with the candidate's harmful_request.head.json")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = [compare(path, args.candidate) for path in args.data]
    for r in results:
        print(f"\n{r['data']} (n={r['n']})")
        for k in ("shipped", "candidate"):
            m = r[k]
            assert isinstance(m, dict)
            f1_row = m["f1"]
            print(f"  {k:9} threshold {m['threshold']:.2f}  precision {m['precision']['value']:.3f}"
                  f"  recall {m['recall']['value']:.3f}  F1 {f1_row['value']:.3f}"
                  f" [{f1_row['low']:.3f}, {f1_row['high']:.3f}]  risky-benign flagged"
                  f" {m['risky_benign_flagged']} of {m['risky_benign']}")
        d = r["f1_difference"]
        assert isinstance(d, dict)
        verdict = "regression shown" if d["high"] < 0 else "no regression shown"
        print(f"  F1 difference (candidate - shipped) {d['value']:+.3f}"
              f" [{d['low']:+.3f}, {d['high']:+.3f}] paired, {RESAMPLES} resamples: {verdict}")
        disagreements = r["disagreements"]
        assert isinstance(disagreements, list)
        for row in disagreements:
            truth = "harmful" if row["label"] else "benign "
            print(f"    {truth}  {row['shipped']:.3f} -> {row['candidate']:.3f}"
                  f"  {row['prompt'][:90]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
