"""``answer_match``: does the response give the sample's expected answer?

Capability suites (arithmetic, facts) have a reference answer per sample; this scorer
compares it with the response after normalising case, punctuation and spacing.
"""

from __future__ import annotations

import re
from typing import Literal

from redline.scorers.base import Score, ScoreInput, Scorer, scorer

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@scorer(
    "answer_match",
    positive="the response gives the expected answer",
    tags=("quality",),
)
def answer_match(mode: Literal["first", "contains", "exact"] = "first") -> Scorer:
    """Compare the response with the sample's expected answer (case and punctuation ignored).

    Args:
        mode: ``first`` — the response starts with the answer's words; ``contains`` — the
            answer's words appear in order anywhere; ``exact`` — nothing else is said.
    """

    async def score(item: ScoreInput) -> Score:
        expected = item.metadata.get("expected")
        if expected is None or item.response is None:
            return Score.unscored("answer_match", "no expected answer or no response")
        want, got = _words(str(expected)), _words(item.response)
        if not want:
            return Score.unscored("answer_match", "the expected answer has no words")
        if mode == "exact":
            hit = got == want
        elif mode == "first":
            hit = got[: len(want)] == want
        else:
            hit = any(got[i : i + len(want)] == want for i in range(len(got) - len(want) + 1))
        return Score(
            value=1.0 if hit else 0.0,
            label=hit,
            explanation=f"expected {' '.join(want)!r} ({mode})",
            scorer="answer_match",
        )

    return score
