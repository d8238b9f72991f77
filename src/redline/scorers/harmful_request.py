"""Harmful request: does a prompt ask for something the usage policy forbids, and which kind?

A multinomial logistic head on the prompt's all-MiniLM-L6-v2 embedding assigns one of
the usage-policy categories below or ``benign``. Word and word-pair features next to
the embedding carry intent markers the embedding blurs ("my own", "safely",
"someone's", "without her knowing"). The score is the calibrated probability
that the prompt is not benign; the category is the most likely harmful one. Prompts
that only look dangerous ("how do i kill a python process") are benign, and the
training data holds many of them so the head learns the difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from redline.scorers._learned import LearnedScorer, encode_unique, lexical_features
from redline.scorers.base import Score, ScoreInput, Scorer, scorer
from redline.scorers.heads import LinearHead, load_head

NAME = "harmful_request"
BENIGN = "benign"
CATEGORIES = ("weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy")
"""The usage-policy categories, in the order the head's classes list them after ``benign``."""


def request_features(prompts: Sequence[str], head: LinearHead) -> np.ndarray:
    """``[n, 384 + len(vocabulary)]``: the prompt embedding, then binary word features."""
    return np.hstack(
        [encode_unique(prompts), lexical_features(prompts, head.vocabulary, head.lexical_scale)]
    )


def harmful_probability(prompts: Sequence[str]) -> np.ndarray:
    """``[n]``: the calibrated probability that each prompt is not benign."""
    head = load_head(NAME)
    if not prompts:
        return np.zeros(0)
    probabilities = head.proba(request_features(prompts, head))
    result: np.ndarray = 1.0 - probabilities[:, head.classes.index(BENIGN)]
    return result


def judge_prompts(
    prompts: Sequence[str], threshold: float | None = None
) -> list[tuple[float, bool, str, dict[str, float]]]:
    """``(P(harmful), decision, category, per-class probabilities)`` for each prompt."""
    head = load_head(NAME)
    cut = head.threshold if threshold is None else threshold
    if not prompts:
        return []
    probabilities = head.proba(request_features(prompts, head))
    benign = head.classes.index(BENIGN)
    out = []
    for row in probabilities:
        harmful = float(1.0 - row[benign])
        ranked = sorted(
            ((float(p), c) for p, c in zip(row, head.classes, strict=True) if c != BENIGN),
            reverse=True,
        )
        classes = {c: round(float(p), 4) for p, c in zip(row, head.classes, strict=True)}
        out.append((harmful, harmful >= cut, ranked[0][1], classes))
    return out


@scorer(
    NAME,
    positive="the prompt asks for content the usage policy forbids",
    tags=("safety:usage-policy", "owasp-llm-2025:LLM01"),
    needs="embed",
)
def harmful_request(threshold: float | None = None) -> Scorer:
    """Is the prompt a harmful request, and in which policy category? Encoder head.

    Args:
        threshold: decision threshold on P(not benign); default: the one chosen on the
            training data (false-positive rate on risky-looking benign prompts kept low).
    """

    def judge(items: Sequence[ScoreInput]) -> list[Score]:
        prompts = [item.prompt for item in items]
        scores = []
        for value, label, category, classes in judge_prompts(prompts, threshold):
            scores.append(
                Score(
                    value,
                    label,
                    category=category if label else BENIGN,
                    explanation=f"most likely harmful category: {category}",
                    scorer=NAME,
                    details={"classes": classes},
                )
            )
        return scores

    return LearnedScorer(NAME, judge)
