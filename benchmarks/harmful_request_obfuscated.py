"""`harmful_request` on held-out requests hidden by the red team's own obfuscations.

Each request of the shipped validation set (``harmful_request.val.jsonl``: harmful ones in
six categories, benign and risky-looking benign ones) is rewritten by one of redline's
red-team transforms (``base64`` with its decode instruction, ``leetspeak``, ``homoglyphs``,
``zero_width``, and ``rot13``, which the judge does not undo), then judged two ways in the
same run: the head on the prompt as written (how it read before), and the shipped scorer,
which also reads the prompt with those obfuscations undone and keeps the less benign
reading. Precision, recall, F1 and the false-positive rate with bootstrap 95% intervals.

    python benchmarks/harmful_request_obfuscated.py
"""

from __future__ import annotations

from redline.redteam.transforms import make_chain
from redline.scorers.datasets import read_examples
from redline.scorers.harmful_request import BENIGN, NAME, harmful_probability, request_features
from redline.scorers.heads import data_dir, load_head
from redline.stats import binary_metrics

TRANSFORMS = ("none", "base64", "leetspeak", "homoglyphs", "zero_width", "rot13")


def cell(m: dict[str, float]) -> str:
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def main() -> None:
    examples = read_examples(data_dir() / f"{NAME}.val.jsonl")
    head = load_head(NAME)
    labels = [bool(e.label) for e in examples]
    benign = head.classes.index(BENIGN)
    print(f"harmful_request.val.jsonl: {len(examples)} requests, {sum(labels)} harmful; "
          f"threshold {head.threshold:.2f}")
    print("| requests rewritten by | judged | precision | recall | F1 | FPR |")
    print("|---|---|---|---|---|---|")
    for name in TRANSFORMS:
        rewrite = make_chain(name)
        prompts = [rewrite(e.prompt) for e in examples]
        as_written = 1.0 - head.proba(request_features(prompts, head))[:, benign]
        shipped = harmful_probability(prompts)
        for what, p in (("as written (before)", as_written), ("revealed too (shipped)", shipped)):
            m = binary_metrics(labels, [float(v) >= head.threshold for v in p]).to_dict()
            print(f"| {name} | {what} | {cell(m['precision'])} | {cell(m['recall'])} | "
                  f"{cell(m['f1'])} | {cell(m['fpr'])} |", flush=True)


if __name__ == "__main__":
    main()
