"""Fit the outcome head (refused / attempted / complied) from labelled real and written answers.

The training data (``data/outcome/``), every item labelled by reading it (docs/scorers.md):

- ``answers.train.jsonl``: real chat models' answers (SmolLM2-135M-Instruct, Gemma 3
  270M, with and without system prompts), collected with
  ``benchmarks/collect_real_answers.py``;
- ``written.train.jsonl``: answers written in the styles of deployed assistants, to
  cover shapes the small models never produce (long markdown, polished refusals,
  compliance after a disclaimer, fiction wrappers, code);
- ``shapes.train.jsonl``: 40 answers written by the lead in shapes the head still got
  wrong on the regression tests' first run (an empty "Sure, here you go.", partial
  compliance under a refusal, echoes and encodings, harmless stand-ins), in other words
  than the tests';
- ``dev.train.jsonl``: the earlier refusal and compliance dev sets (187 hand-written
  pairs, seen while the earlier heads were developed), relabelled with outcomes;
- ``organism_attacks.train.jsonl``: the helpful organism's distinct non-refusing answers
  to half of the default red-team suite's requests under its attacks (arithmetic and
  nonsense "steps" from its world), read and labelled;
- ``earlier.train.jsonl``: 300 refusals, implicit refusals and deflections drawn from the
  earlier hand-written corpus (its compliant answers are not used: they were composed
  from pieces and often answer another request than the one they sit under).

The frozen validation sets (``answers.val.jsonl``, ``written.val.jsonl``) are never read
here. Regularisation is chosen by 5-fold cross-validation grouped by request, the
temperature and both scorers' thresholds on the out-of-fold predictions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from redline.scorers.datasets import LabelledExample, dedupe, normalise, read_examples
from redline.scorers.harmful_request import harmful_probability
from redline.scorers.heads import Calibration, HeadProvenance, LinearHead, data_dir
from redline.scorers.outcome import FEATURES, OUTCOMES, outcome_features

NAME = "outcome"
TRAIN_FILES = (
    "outcome/answers.train.jsonl",
    "outcome/written.train.jsonl",
    "outcome/earlier.train.jsonl",
    "outcome/shapes.train.jsonl",
    "outcome/dev.train.jsonl",
    "outcome/organism_attacks.train.jsonl",
)


def training_set(folder: Path | None = None) -> list[LabelledExample]:
    """Every training example, in file order, duplicates dropped."""
    folder = folder or data_dir()
    examples: list[LabelledExample] = []
    for name in TRAIN_FILES:
        examples.extend(read_examples(folder / name))
    return dedupe(examples)


def training_sha256(examples: list[LabelledExample]) -> str:
    """sha256 of what the head was fitted on: every example's text, outcome and request label."""
    data = "\n".join(
        f"{e.prompt}\t{e.response}\t{e.outcome}\t{e.request_harmful}" for e in examples
    ).encode()
    return hashlib.sha256(data).hexdigest()


def _best_f1_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    best = (0.0, 0.5)
    for t in np.linspace(0.05, 0.95, 91):
        predicted = p >= t
        tp = int((predicted & y).sum())
        f1 = 2 * tp / max(1, 2 * tp + int((predicted ^ y).sum()))
        if f1 > best[0] + 1e-9:
            best = (f1, round(float(t), 2))
    return best


def train_outcome(*, seed: int = 0, folder: Path | None = None) -> LinearHead:
    """Fit, calibrate and write ``outcome.head.json``; returns the head."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from redline.paths import home
    from redline.scorers._learned import embedding_memo
    from redline.scorers.encoder import MODEL_SHA256

    folder = folder or data_dir()
    examples = training_set(folder)
    prompts = [e.prompt for e in examples]
    responses = [e.response or "" for e in examples]
    with embedding_memo(home() / "cache" / "scorer-embeddings.npz"):
        x = outcome_features(prompts, responses).astype(np.float64)
        harm = harmful_probability(prompts)
    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in examples])
    groups = [normalise(p) for p in prompts]
    folds = list(
        StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(x, y, groups)
    )

    def out_of_fold(c: float) -> np.ndarray:
        z = np.zeros((len(x), len(OUTCOMES)))
        for fit_idx, held_idx in folds:
            model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
            z[held_idx] = model.fit(x[fit_idx], y[fit_idx]).decision_function(x[held_idx])
        return z

    def softmax(z: np.ndarray, temperature: float) -> np.ndarray:
        s = z * temperature
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def nll(z: np.ndarray, temperature: float) -> float:
        p = softmax(z, temperature)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-9, 1)).mean())

    candidates = {c: out_of_fold(c) for c in (0.25, 1.0, 4.0)}
    c_best = min(candidates, key=lambda c: nll(candidates[c], 1.0))
    z = candidates[c_best]
    scale = float(min(np.linspace(0.2, 3.0, 57), key=lambda t: nll(z, float(t))))
    p = softmax(z, scale)
    refused = y == OUTCOMES.index("refused")
    harmful = np.array([bool(e.request_harmful) for e in examples])
    complied_harmful = (y == OUTCOMES.index("complied")) & harmful
    refusal_f1, refusal_t = _best_f1_threshold(refused, p[:, 0])
    compliance_f1, compliance_t = _best_f1_threshold(complied_harmful, p[:, 2] * harm)

    final = LogisticRegression(C=c_best, max_iter=2000, class_weight="balanced").fit(x, y)
    head = LinearHead(
        name=NAME,
        features=FEATURES,
        classes=list(OUTCOMES),
        weights=[[round(float(v), 6) for v in row] for row in final.coef_],
        bias=[round(float(v), 6) for v in final.intercept_],
        calibration=Calibration(scale=round(scale, 3)),
        threshold=refusal_t,
        thresholds={"refusal": refusal_t, "harmful_compliance": compliance_t},
        provenance=HeadProvenance(
            command=f"redline scorers train outcome --seed {seed}",
            seed=seed,
            train_sha256=training_sha256(examples),
            train_size=len(examples),
            encoder_sha256=MODEL_SHA256,
            regularisation_c=c_best,
            cv_f1=round(refusal_f1, 4),
            cv_f1_by_scorer={
                "refusal": round(refusal_f1, 4),
                "harmful_compliance": round(compliance_f1, 4),
            },
        ),
    )
    head.save(folder / f"{NAME}.head.json")
    return head


__all__ = ["NAME", "TRAIN_FILES", "train_outcome", "training_set", "training_sha256"]
