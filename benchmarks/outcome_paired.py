"""Compare an outcome-judge candidate with the shipped judge on the same answers, pooled.

The two judges live in different package trees (a candidate is a worktree whose package
data holds its `outcome.head.json`, adapter and request copy), so each is run in its own
process and writes what it decided; a third call compares them:

    python benchmarks/outcome_paired.py dump --out shipped.json FILE...
    PYTHONPATH=/path/to/worktree/src python benchmarks/outcome_paired.py dump \
        --out candidate.json FILE...
    python benchmarks/outcome_paired.py compare shipped.json candidate.json

`dump` scores every answer of the files with the `refusal` and `harmful_compliance`
scorers, exactly as `redline scorers validate` does (items in another language are left
unscored, and left out of both judges' metrics). `compare` pools the files and prints, per
scorer, each judge's precision, recall, F1 and false-positive rate with bootstrap 95%
intervals, the positives caught, and the paired F1 difference (candidate - shipped) with a
percentile bootstrap over the answers (2,000 resamples, seed 0), then the answers the two
decide differently. Outcome candidate 20a's step 1 (benchmarks/RESULTS.md) reads its
harmful completions caught, its harmful_compliance false-positive rate and its refusal F1
from this, on `answers_j` and `answers_g` together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np

SCORERS = ("refusal", "harmful_compliance")
RESAMPLES = 2000


def dump(files: list[Path], out: Path) -> None:
    """Every answer's label and decision under the judge this process imports."""
    import redline
    from redline.scorers.base import get_scorer, score_all
    from redline.scorers.datasets import read_examples
    from redline.scorers.heads import data_dir, load_head
    from redline.types import file_sha256

    rows: list[dict[str, object]] = []
    for name in SCORERS:
        scorer = get_scorer(name)
        for path in files:
            examples = read_examples(path, scorer=name)
            scores = asyncio.run(score_all(scorer, [e.as_input() for e in examples]))
            for k, (e, s) in enumerate(zip(examples, scores, strict=True)):
                rows.append({
                    "scorer": name, "file": path.name, "k": k, "label": bool(e.label),
                    "scored": s.scored, "decided": bool(s.label),
                    "value": round(float(s.value or 0.0), 4),
                    "prompt": e.prompt, "response": e.response,
                })
    out.write_text(json.dumps({
        "package": str(Path(redline.__file__).parent),
        "outcome_head_sha256": file_sha256(data_dir() / "outcome.head.json"),
        "train_sha256": load_head("outcome").provenance.train_sha256,
        "rows": rows,
    }) + "\n", encoding="utf-8")
    print(f"{len(rows)} decisions from {redline.__file__} -> {out}")


def compare(shipped_path: Path, candidate_path: Path) -> None:
    shipped = json.loads(shipped_path.read_text(encoding="utf-8"))
    candidate = json.loads(candidate_path.read_text(encoding="utf-8"))
    if shipped["package"] == candidate["package"]:
        raise SystemExit("both dumps came from the same package: set PYTHONPATH for one of them")
    for k, dumped in (("shipped", shipped), ("candidate", candidate)):
        print(f"{k:9} {dumped['package']} (outcome head {dumped['outcome_head_sha256'][:12]})")
    for name in SCORERS:
        compare_scorer(
            name,
            [r for r in shipped["rows"] if r["scorer"] == name],
            [r for r in candidate["rows"] if r["scorer"] == name],
        )


def compare_scorer(name: str, a_rows: list[dict[str, Any]], b_rows: list[dict[str, Any]]) -> None:
    """One scorer, both judges, pooled over the files: metrics, paired difference, changes."""
    from redline.stats import binary_metrics, paired_f1_difference

    if [(r["file"], r["k"]) for r in a_rows] != [(r["file"], r["k"]) for r in b_rows]:
        raise SystemExit(f"{name}: the two dumps scored different answers")
    pairs = enumerate(zip(a_rows, b_rows, strict=True))
    both = [i for i, (a, b) in pairs if a["scored"] and b["scored"]]
    y = np.array([a_rows[i]["label"] for i in both], dtype=bool)
    old = np.array([a_rows[i]["decided"] for i in both], dtype=bool)
    new = np.array([b_rows[i]["decided"] for i in both], dtype=bool)
    files = sorted({r["file"] for r in a_rows})
    print(f"\n{name} on {' + '.join(files)} pooled (n={len(y)}, {int(y.sum())} positive)")
    for label, decided in (("shipped", old), ("candidate", new)):
        m = binary_metrics(y, decided)
        cells = "  ".join(
            f"{what} {v.value:.3f} [{v.low:.3f}, {v.high:.3f}]"
            for what, v in (("precision", m.precision), ("recall", m.recall), ("F1", m.f1),
                            ("FPR", m.fpr))
        )
        print(f"  {label:9} caught {int((decided & y).sum())} of {int(y.sum())}, "
              f"false alarms {int((decided & ~y).sum())} of {int((~y).sum())}  {cells}")
    gap = paired_f1_difference(y, new, old, n_resamples=RESAMPLES)
    print(f"  F1 difference (candidate - shipped) {gap.value:+.3f}"
          f" [{gap.low:+.3f}, {gap.high:+.3f}] paired, {RESAMPLES} resamples")
    changed = np.flatnonzero(new != old)
    print(f"  decided differently: {len(changed)}")
    for i in changed:
        row = a_rows[both[i]]
        truth = "positive" if y[i] else "negative"
        print(f"    {truth}  {row['value']:.3f} -> {b_rows[both[i]]['value']:.3f}"
              f"  {row['file']}#{row['k']}  {str(row['prompt'])[:70]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="score the files with the judge this process imports")
    d.add_argument("files", nargs="+", type=Path, help="labelled answer files (JSONL)")
    d.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare", help="pool two dumps and compare them answer by answer")
    c.add_argument("shipped", type=Path)
    c.add_argument("candidate", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.files, args.out)
    else:
        compare(args.shipped, args.candidate)


if __name__ == "__main__":
    main()
