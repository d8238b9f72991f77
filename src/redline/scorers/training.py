"""Build the training sets and fit the scorer heads, reproducibly from a seed.

``redline scorers train`` runs :func:`train` for each learned scorer: it composes a
labelled training set from the hand-written pieces in ``data/corpus/`` (read and
checked by :mod:`redline.scorers._corpus`), encodes it,
chooses the regularisation by grouped cross-validation, fits a logistic head,
calibrates it on out-of-fold logits, picks the decision threshold on the same
out-of-fold predictions, measures the precision of each hand-written rule, and writes
``data/NAME.train.jsonl`` and ``data/NAME.head.json``.

The validation sets (``data/NAME.val.jsonl``) are never read here.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from redline.errors import ConfigError
from redline.scorers.datasets import LabelledExample, dedupe, write_examples
from redline.scorers.heads import Calibration, HeadProvenance, LinearHead, data_dir

if TYPE_CHECKING:
    from redline.scorers._corpus import Corpus

# harmful_request before outcome: training outcome copies the request head it is calibrated with.
LEARNED = ("harmful_request", "outcome", "injection")
"""Heads redline trains, in training order (``outcome`` serves ``refusal`` and
``harmful_compliance``; it is fitted by :mod:`redline.scorers.outcome_training`)."""
ALIASES = {"refusal": "outcome", "harmful_compliance": "outcome"}
"""Scorer names that train the head they read."""

_PUNCTUATION = re.compile(r"[^\w\s']")


@dataclass(frozen=True)
class Sample:
    """A training example and the group it shares pieces with (kept in one CV fold)."""

    example: LabelledExample
    group: str


def _pieces() -> Corpus:
    # Imported here: the scorer registry imports this module, and only training reads it.
    from redline.scorers._corpus import load_corpus

    return load_corpus()


def plain_style(text: str) -> str:
    """Lower-case, unpunctuated text, the way redline's small organisms write."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def _styled(rng: random.Random, text: str, rate: float = 0.2) -> tuple[str, str]:
    if rng.random() < rate:
        return plain_style(text), "plain"
    return text, "standard"


def _prompt(rng: random.Random, objective: str) -> str:
    capitalised = objective[:1].upper() + objective[1:]
    return rng.choice(_pieces().prompt_templates).format(o=objective, O=capitalised)


def _harmful_prompts() -> list[tuple[str, str]]:
    corpus = _pieces()
    pairs: list[tuple[str, str]] = [
        (o.category or "", o.objective) for o in corpus.objectives_of("harmful")
    ]
    return pairs + [(p.category, p.harmful) for p in corpus.contrast_pairs]


def _benign_prompts() -> list[tuple[str, str]]:
    corpus = _pieces()
    return (
        [("benign", o.objective) for o in corpus.objectives_of("benign")]
        + [("risky-benign", o.objective) for o in corpus.objectives_of("risky-benign")]
        + [("risky-benign", p.benign) for p in corpus.contrast_pairs]
    )


def _request_samples(rng: random.Random) -> list[Sample]:
    samples = []
    for category, objective in _harmful_prompts():
        for _ in range(4):
            text, style = _styled(rng, _prompt(rng, objective), 0.25)
            samples.append(
                Sample(
                    LabelledExample(prompt=text, label=True, category=category, tags=(style,)),
                    objective,
                )
            )
    for kind, objective in _benign_prompts():
        for _ in range(4 if kind == "risky-benign" else 3):
            text, style = _styled(rng, _prompt(rng, objective), 0.25)
            samples.append(
                Sample(
                    LabelledExample(
                        prompt=text, label=False, category="benign", tags=(kind, style)
                    ),
                    objective,
                )
            )
    for text in _pieces().benign_inputs:
        samples.append(
            Sample(
                LabelledExample(prompt=text, label=False, category="benign", tags=("benign",)), text
            )
        )
    return samples + _whole_request_samples(rng)


def typed_in_a_hurry(rng: random.Random, text: str) -> str:
    """Lower-case, no apostrophes, "u" for "you", one pair of letters swapped in one word."""
    words = plain_style(text.replace("'", "")).split()
    words = [{"you": "u", "your": "ur", "please": "pls"}.get(w, w) for w in words]
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if long_words:
        i = rng.choice(long_words)
        j = rng.randrange(1, len(words[i]) - 2)
        w = words[i]
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _whole_request_samples(rng: random.Random) -> list[Sample]:
    """Whole hand-written prompts and framed objectives (harmful-request head only).

    Framings (fiction, role-play, hypotheticals) wrap harmful and benign objectives
    alike, so the head learns that the frame says nothing and the objective decides.
    """
    samples = []

    def add(text: str, category: str, tags: tuple[str, ...], group: str) -> None:
        harmful = category != "benign"
        samples.append(
            Sample(LabelledExample(prompt=text, label=harmful, category=category, tags=tags), group)
        )
        if rng.random() < 0.3:  # the same request typed in a hurry, in the same CV group
            typed = LabelledExample(
                prompt=typed_in_a_hurry(rng, text),
                label=harmful,
                category=category,
                tags=(*tags, "typed"),
            )
            samples.append(Sample(typed, group))

    corpus = _pieces()
    for prompt in corpus.prompts_of("harmful"):
        add(prompt.prompt, prompt.category or "", ("whole",), prompt.prompt)
    for prompt in corpus.prompts_of("risky-benign"):
        add(prompt.prompt, "benign", ("risky-benign", "whole"), prompt.prompt)
    for prompt in corpus.prompts_of("benign"):
        add(prompt.prompt, "benign", ("benign", "whole"), prompt.prompt)
    frames = corpus.request_frames
    for category, objective in _harmful_prompts():
        add(rng.choice(frames).format(o=objective), category, ("framed",), objective)
    for kind, objective in _benign_prompts():
        if kind == "risky-benign" or rng.random() < 0.3:
            frame = rng.choice(frames)
            add(frame.format(o=objective), "benign", (kind, "framed"), objective)
    return samples


def _injection_samples(rng: random.Random) -> list[Sample]:
    import json

    corpus = _pieces()
    samples = []
    for frame in corpus.injection_frames:
        for payload in rng.sample(corpus.injection_payloads, 5):
            text, style = _styled(rng, frame.format(p=payload), 0.15)
            samples.append(
                Sample(
                    LabelledExample(prompt=text, label=True, category="injection", tags=(style,)),
                    frame,
                )
            )
    templates = json.loads((data_dir() / "jailbreak_templates.json").read_text(encoding="utf-8"))
    for template in templates:
        payload = rng.choice(corpus.injection_payloads)
        samples.append(
            Sample(
                LabelledExample(
                    prompt=f"{template['text']} Now {payload}.",
                    label=True,
                    category="injection",
                    tags=(template["family"],),
                ),
                template["name"],
            )
        )
    for text in corpus.benign_inputs:
        samples.append(Sample(LabelledExample(prompt=text, label=False, tags=("benign",)), text))
    # Plain requests, harmful or not, are not injections: the detector must not learn
    # "dangerous topic" as "attack on the instructions".
    for category, objective in _harmful_prompts() + _benign_prompts():
        text, style = _styled(rng, _prompt(rng, objective), 0.2)
        samples.append(
            Sample(
                LabelledExample(
                    prompt=text, label=False, category=category, tags=("plain-request", style)
                ),
                objective,
            )
        )
    return samples


def build_training_set(name: str, seed: int = 0) -> tuple[list[LabelledExample], list[str]]:
    """The training examples for scorer ``name`` and their CV groups, deterministic in ``seed``."""
    rng = random.Random(f"{name}:{seed}")
    builders: dict[str, Callable[[], list[Sample]]] = {
        "harmful_request": lambda: _request_samples(rng),
        "injection": lambda: _injection_samples(rng),
    }
    if name not in builders:
        raise ConfigError(f"Scorer '{name}' has no trained head. Trainable: {', '.join(LEARNED)}.")
    samples = builders[name]()
    kept = dedupe([s.example for s in samples])
    kept_ids = {id(e) for e in kept}
    groups = [s.group for s in samples if id(s.example) in kept_ids]
    return kept, groups


# --- Fitting ------------------------------------------------------------------------------


def lexical_vocabulary(name: str, examples: Sequence[LabelledExample]) -> list[str]:
    """Words and word pairs seen in at least two training texts.

    The texts are the prompts for ``harmful_request``; ``injection`` uses none.
    """
    from collections import Counter

    from redline.scorers._learned import terms

    if name != "harmful_request":
        return []
    texts = [e.prompt for e in examples]
    counts = Counter(t for text in texts for t in terms(text))
    return sorted(t for t, n in counts.items() if n >= 2)


def features_for(
    name: str, examples: Sequence[LabelledExample], vocabulary: Sequence[str] = ()
) -> np.ndarray:
    """The head's input features for ``examples``, computed exactly as the scorer does."""
    from redline.scorers._learned import LEXICAL_SCALE
    from redline.scorers.injection import injection_features

    if name == "injection":
        return injection_features([e.prompt for e in examples])[0]
    from redline.scorers._learned import encode_unique, lexical_features

    prompts = [e.prompt for e in examples]
    return np.hstack([encode_unique(prompts), lexical_features(prompts, vocabulary, LEXICAL_SCALE)])


def _rule_hits(name: str, examples: Sequence[LabelledExample]) -> dict[str, list[bool]]:
    """For each rule: whether it was right on every training example it fired on."""
    from redline.scorers.injection import rule_hit

    outcomes: dict[str, list[bool]] = {}
    for example in examples:
        if name == "injection":
            hit = rule_hit(example.prompt)
            if hit is not None:
                outcomes.setdefault(hit.rule, []).append(bool(example.label))
    return outcomes


def _best_threshold(
    y: np.ndarray, p: np.ndarray, *, guard: np.ndarray | None = None, max_guard_fpr: float = 0.03
) -> float:
    """The threshold with the best F1, among those whose FPR on ``guard`` items is low enough.

    When a range of thresholds ties (separable training data), the middle of the range.
    """
    scored: list[tuple[float, float]] = []
    for t in np.linspace(0.05, 0.95, 91):
        predicted = p >= t
        if guard is not None and guard.any() and predicted[guard].mean() > max_guard_fpr:
            continue
        tp = int((predicted & y).sum())
        scored.append((2 * tp / max(1, 2 * tp + int((predicted ^ y).sum())), float(t)))
    if not scored:
        return 0.95
    top = max(f1 for f1, _ in scored)
    ties = [t for f1, t in scored if f1 >= top - 1e-9]
    return round(float(np.median(ties)), 2)


def train(
    name: str,
    *,
    seed: int = 0,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LinearHead:
    """Build the training set for ``name``, fit and calibrate its head, and write both.

    Args:
        name: one of :data:`LEARNED`.
        seed: seeds the data generator and the cross-validation split.
        folder: where to write ``NAME.train.jsonl`` and ``NAME.head.json``
            (default: the package's data folder).
        progress: called with a line of news during long fits (the outcome head's epochs).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from redline.paths import home
    from redline.scorers._learned import embedding_memo
    from redline.scorers.encoder import MODEL_SHA256
    from redline.scorers.injection import injection_features

    name = ALIASES.get(name, name)
    if name == "outcome":
        from redline.scorers.outcome_training import HEAD_FILES, refit_outcome, train_outcome

        fine_tuned = train_outcome(seed=seed, folder=folder, progress=progress)
        if not HEAD_FILES:  # every labelled answer was in the fine-tune: nothing to refit on
            return fine_tuned
        return refit_outcome(seed=seed, folder=folder, progress=progress)
    folder = folder or data_dir()
    examples, groups = build_training_set(name, seed)
    train_path = folder / f"{name}.train.jsonl"
    write_examples(train_path, examples)
    multiclass = name == "harmful_request"
    vocabulary = lexical_vocabulary(name, examples)
    with embedding_memo(home() / "cache" / "scorer-embeddings.npz"):
        x = features_for(name, examples, vocabulary).astype(np.float64)
        template_best = (
            injection_features([e.prompt for e in examples])[1] if name == "injection" else None
        )
    if multiclass:
        classes = ["benign", "weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy"]
        y_class = np.array([classes.index(e.category or "benign") for e in examples])
    else:
        classes = ["negative", "positive"]
        y_class = np.array([int(bool(e.label)) for e in examples])
    y = np.array([e.label for e in examples], dtype=bool)
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    folds = list(splitter.split(x, y_class, groups))

    def out_of_fold(c: float) -> np.ndarray:
        z = np.zeros((len(x), len(classes) if multiclass else 1))
        for fit_idx, held_idx in folds:
            model = LogisticRegression(C=c, max_iter=500).fit(x[fit_idx], y_class[fit_idx])
            z[held_idx] = model.decision_function(x[held_idx]).reshape(len(held_idx), -1)
        return z

    def nll(z: np.ndarray, scale: float, shift: float = 0.0) -> float:
        if multiclass:
            s = z * scale
            s = s - s.max(axis=1, keepdims=True)
            logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            return float(-logp[np.arange(len(z)), y_class].mean())
        p = 1 / (1 + np.exp(-(scale * z[:, 0] + shift)))
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return float(-(y * np.log(p) + (~y) * np.log(1 - p)).mean())

    candidates = {c: out_of_fold(c) for c in (0.5, 2.0, 8.0)}
    c_best = min(candidates, key=lambda c: nll(candidates[c], 1.0))
    z = candidates[c_best]
    if multiclass:
        scale = min(np.linspace(0.2, 3.0, 57), key=lambda t: nll(z, float(t)))
        calibration = Calibration(scale=round(float(scale), 3))
        e = np.exp((z * scale) - (z * scale).max(axis=1, keepdims=True))
        p_harmful = 1 - e[:, 0] / e.sum(axis=1)
    else:
        platt = LogisticRegression(C=1e4).fit(z, y)
        calibration = Calibration(scale=float(platt.coef_[0, 0]), shift=float(platt.intercept_[0]))
        p_harmful = 1 / (1 + np.exp(-(calibration.scale * z[:, 0] + calibration.shift)))
    guard = np.array(["risky-benign" in e.tags for e in examples]) if multiclass else None
    threshold = _best_threshold(y, p_harmful, guard=guard)
    predicted = p_harmful >= threshold
    tp = int((predicted & y).sum())
    cv_f1 = 2 * tp / max(1, 2 * tp + int((predicted ^ y).sum()))

    final = LogisticRegression(C=c_best, max_iter=500).fit(x, y_class)
    weights = final.coef_ if multiclass else final.coef_[:1]
    rule_precision = {
        rule: round((sum(right) + 1) / (len(right) + 2), 4)
        for rule, right in _rule_hits(name, examples).items()
    }
    if template_best is not None:
        from redline.scorers.injection import TEMPLATE_MATCH

        matched = y[template_best >= TEMPLATE_MATCH]
        rule_precision["template-match"] = round((matched.sum() + 1) / (len(matched) + 2), 4)
    head = LinearHead(
        name=name,
        features=_FEATURES[name],
        classes=classes,
        weights=[[round(float(v), 6) for v in row] for row in weights],
        bias=[round(float(v), 6) for v in np.atleast_1d(final.intercept_)[: len(weights)]],
        calibration=calibration,
        threshold=threshold,
        rule_precision=rule_precision,
        vocabulary=vocabulary,
        lexical_scale=_lexical_scale(name),
        provenance=HeadProvenance(
            command=f"redline scorers train {name} --seed {seed}",
            seed=seed,
            train_sha256=hashlib.sha256(train_path.read_bytes()).hexdigest(),
            train_size=len(examples),
            encoder_sha256=MODEL_SHA256,
            regularisation_c=c_best,
            cv_f1=round(cv_f1, 4),
        ),
    )
    if name in THRESHOLD_ON_DEV:
        head = _threshold_on_dev(head)
    head.save(folder / f"{name}.head.json")
    return head


THRESHOLD_ON_DEV = ("harmful_request",)
"""Heads whose threshold is chosen on the shipped dev set instead of out-of-fold predictions.

For harmful requests the threshold must keep the false-positive rate on risky-looking
benign prompts low; grouped out-of-fold predictions over-estimate that rate (a held-out
objective's benign twin is still in the fit), so they chose a threshold that cost half
the recall. The dev set is hand-written and disjoint from both training and validation.
"""
MAX_RISKY_FPR = 0.03
"""The dev set's risky-benign false-positive rate the threshold may reach.

The target on held-out data is 5%; the dev set reads low (training data was written
after its errors were seen: a dev-chosen 4.2% came out as 11% on the next validation
set), so the threshold is chosen with a margin.
"""


def _threshold_on_dev(head: LinearHead) -> LinearHead:
    from redline.paths import home
    from redline.scorers._learned import embedding_memo
    from redline.scorers.datasets import read_examples
    from redline.scorers.harmful_request import BENIGN, request_features

    dev = read_examples(data_dir() / f"{head.name}.dev.jsonl")
    with embedding_memo(home() / "cache" / "scorer-embeddings.npz"):
        probabilities = head.proba(request_features([e.prompt for e in dev], head))
    p_harmful = 1.0 - probabilities[:, head.classes.index(BENIGN)]
    y = np.array([e.label for e in dev], dtype=bool)
    risky = np.array(["risky-benign" in e.tags for e in dev])
    threshold = _best_threshold(y, p_harmful, guard=risky, max_guard_fpr=MAX_RISKY_FPR)
    provenance = head.provenance.model_copy(
        update={
            "threshold_from": f"dev set {head.name}.dev.jsonl "
            f"(risky-benign FPR <= {MAX_RISKY_FPR:.0%})"
        }
    )
    return head.model_copy(update={"threshold": threshold, "provenance": provenance})


def _lexical_scale(name: str) -> float:
    from redline.scorers._learned import LEXICAL_SCALE

    return LEXICAL_SCALE if name != "injection" else 0.0


_FEATURES = {
    "harmful_request": "minilm(prompt) ++ lexical(prompt)",
    "injection": "minilm(input) ++ [max template cosine, mean of top-3 template cosines]",
}

__all__ = ["LEARNED", "Sample", "build_training_set", "features_for", "plain_style", "train"]
