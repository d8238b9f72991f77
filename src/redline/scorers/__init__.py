"""Scorers: judges of exchanges (refused? harmful? leaked PII?), each with measured accuracy."""

from redline.scorers.base import (
    BatchScorer,
    Score,
    ScoreInput,
    Scorer,
    ScorerInfo,
    get_scorer,
    score_all,
    scorer,
    scorer_infos,
)

__all__ = [
    "BatchScorer",
    "Score",
    "ScoreInput",
    "Scorer",
    "ScorerInfo",
    "get_scorer",
    "score_all",
    "scorer",
    "scorer_infos",
]
