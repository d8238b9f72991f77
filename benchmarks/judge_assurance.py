"""The judges' recall on harmful completions read by people: assurance-table entries.

A misuse rate read by a judge is only as low as the judge's recall lets it be (docs/gate.md,
"A rate read by a judge"). On answers labelled by reading, this counts how many of the
harmful requests answered with the harmful content (outcome ``complied``,
``request_harmful`` true) each reading catches at the shipped thresholds, and prints one
assurance-table entry per reading for ``src/redline/policy/assurance.yaml``:

- ``harmful-compliance``: ``harmful_compliance`` flags the answer;
- ``not-refused``: ``refusal`` reads it as not refused (the policy's ``not_refused_rate``,
  an upper bound on compliance).

The default sets are SmolLM2-135M-Instruct's real answers that the shipped head never read:
the frozen validation sets, and ``answers_x.train.jsonl`` (labelled for a candidate head
that was not shipped; not in the shipped head's ``TRAIN_FILES``). A file the shipped head was
trained on is refused. Pass ``--data`` with your own labelled answers of the model you audit
(JSONL or CSV, the fields of docs/scorers.md) to measure the judges on your model.

    python benchmarks/judge_assurance.py [--data FILE ...] [--profile real-language]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from datetime import date
from pathlib import Path

import yaml

from redline.scorers import get_scorer, score_all
from redline.scorers.datasets import read_examples
from redline.scorers.heads import data_dir
from redline.scorers.outcome_training import TRAIN_FILES

REAL_SETS = (
    "outcome/answers.val.jsonl",
    "outcome/answers_w.val.jsonl",
    "outcome/answers_y.val.jsonl",
    "outcome/answers_x.train.jsonl",
)
HEAD_FILES = ("outcome.head.json", "outcome.adapter.safetensors")


def head_digest() -> str:
    """sha256 over the shipped outcome head's files: which judge was measured."""
    h = hashlib.sha256()
    for name in HEAD_FILES:
        h.update((data_dir() / name).read_bytes())
    return h.hexdigest()


# class -> (scorer, the label that counts as caught)
READINGS = {"harmful-compliance": ("harmful_compliance", True),
            "not-refused": ("refusal", False)}


def count(paths: list[Path]) -> dict[str, list[tuple[Path, int, int]]]:
    """Per reading, per file: (path, caught, harmful completions)."""
    trained = {(data_dir() / name).resolve() for name in TRAIN_FILES}
    for path in paths:
        if path.resolve() in trained:
            raise SystemExit(f"{path} is training data of the shipped judge: its recall there "
                             "measures nothing. Pass answers it never read.")
    out: dict[str, list[tuple[Path, int, int]]] = {name: [] for name in READINGS}
    for name, (scorer_name, caught_label) in READINGS.items():
        scorer = get_scorer(scorer_name)
        for path in paths:
            positives = [e for e in read_examples(path)
                         if e.outcome == "complied" and e.request_harmful]
            scores = asyncio.run(score_all(scorer, [e.as_input() for e in positives])) \
                if positives else []
            caught = sum(s.scored and bool(s.label) == caught_label for s in scores)
            out[name].append((path, caught, len(positives)))
            print(f"{name}: {path.name}: {caught} of {len(positives)} harmful completions "
                  "caught", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+",
                        help="labelled answers (default: redline's frozen real-model sets)")
    parser.add_argument("--profile", default="real-language",
                        help="the audit profile the answers stand for")
    args = parser.parse_args()
    paths = args.data or [data_dir() / name for name in REAL_SETS]
    entries = []
    for name, counts in count(paths).items():
        detected = sum(c[1] for c in counts)
        total = sum(c[2] for c in counts)
        if total == 0:
            raise SystemExit("No harmful completions (outcome complied on a harmful request) "
                             "in the data: nothing to measure recall on. Label more answers.")
        files = ", ".join(f"{p.name} ({f}/{n}, sha256 {sha256(p)[:12]})" for p, f, n in counts)
        scorer_name = READINGS[name][0]
        entries.append({
            "behaviour": name,
            "suite": "harmful-requests",
            "profile": args.profile,
            "budget": {},
            "detected": detected,
            "organisms": total,
            "population": f"harmful completions labelled by reading in {files}; judge: "
                          f"{scorer_name}, outcome head sha256 {head_digest()[:16]}",
            "measured_at": date.today().isoformat(),
            "command": "python benchmarks/judge_assurance.py",
        })
    print(yaml.safe_dump(entries, sort_keys=False, width=100))


def sha256(path: Path) -> str:
    """sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    main()
