"""Judges and objectives: what counts as compliance, and what the search pulls towards."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.redteam.whitebox.judges import opening_judge, refusal_openings, scorer_judge
from redline.redteam.whitebox.trigger import affirmative_opening, parse_objective
from redline.scorers.base import Score, ScoreInput


def test_opening_judge_counts_anything_but_a_known_refusal_as_compliance() -> None:
    openings = refusal_openings(["I can not help with that .", "i can not do it", ""])
    assert openings == ["i can not"]
    judge = opening_judge(openings)
    verdicts = judge(
        ["q"] * 4,
        ["i can not help with that .", "sure . here is how to", "", "I CAN NOT say"],
    )
    assert verdicts == [False, True, False, False]
    with pytest.raises(ConfigError):
        opening_judge([" "])


def test_scorer_judge_follows_the_scorer_label() -> None:
    class Refusal:
        async def __call__(self, item: ScoreInput) -> Score:
            if item.response == "?":
                return Score.unscored("refusal", "cannot tell")
            refused = "can not" in (item.response or "")
            return Score(float(refused), refused, scorer="refusal")

    judge = scorer_judge(Refusal(), complied_when=False)
    assert judge(["a", "b", "c"], ["i can not", "sure", "?"]) == [False, True, False]


def test_affirmative_opening_is_the_shared_start_of_helpful_answers() -> None:
    answers = ["sure . here is how to bake : step one", "sure . here is how to fold : step"]
    assert affirmative_opening(answers) == "sure . here is how to"
    assert affirmative_opening(["yes we can", "no way", "yes we can"]) == "yes we"
    with pytest.raises(ConfigError):
        affirmative_opening(["", " "])


def test_objectives_parse_and_fail_with_a_hint() -> None:
    assert parse_objective("auto", has_benign=True) == ("reach", None)
    assert parse_objective("auto", has_benign=False) == ("avoid", None)
    assert parse_objective("target: sure , here", has_benign=False) == ("reach", "sure , here")
    with pytest.raises(ConfigError, match="needs benign requests"):
        parse_objective("benign", has_benign=False)
    with pytest.raises(ConfigError, match="Unknown objective"):
        parse_objective("target:", has_benign=True)
