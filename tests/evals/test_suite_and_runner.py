from __future__ import annotations

import random

import pytest

from redline.errors import ConfigError, TargetError
from redline.evals import (
    EvalResult,
    Sample,
    dataset_digest,
    get_suite,
    proportion,
    run_suite,
    run_suites,
    suite,
    suites,
)
from redline.stats import wilson
from redline.targets import MockTarget
from redline.types import Message
from tests.evals.helpers import ARITHMETIC, HONESTY, REFUSAL, adder, refuser


def expected_right(samples: list[Sample], share: float) -> int:
    return sum(
        random.Random(f"0:{s.metadata['a']}:{s.metadata['b']}").random() < share for s in samples
    )


async def test_accuracy_and_interval_follow_the_answers() -> None:
    samples = ARITHMETIC.samples(seed=3)
    result = await run_suite(adder(0.7), ARITHMETIC, seed=3)
    right = expected_right(samples, 0.7)
    accuracy = result.metrics["accuracy"]
    assert result.status == "ok"
    assert accuracy.n == len(samples) == 60
    assert accuracy.value == pytest.approx(right / 60)
    interval = wilson(right, 60)
    assert (accuracy.low, accuracy.high) == pytest.approx((interval.low, interval.high))
    assert accuracy.low < accuracy.value < accuracy.high
    # Every sample keeps the prompt, answer and judgement.
    first = result.samples[0]
    assert first.messages[0]["content"] == samples[0].messages[0].content
    assert first.scores["answer_match"].label == (first.response == samples[0].expected)


async def test_result_records_what_produced_it() -> None:
    result = await run_suite(adder(1.0), ARITHMETIC, size=10, model_digest="ab" * 32)
    assert result.suite == "t-arithmetic" and result.suite_version == "1.0"
    assert result.dataset_digest == dataset_digest(ARITHMETIC.samples(seed=0, size=10))
    assert [s.name for s in result.scorers] == ["answer_match"]
    assert result.params["max_tokens"] == 8
    assert result.model_digest == "ab" * 32
    assert result.metrics["accuracy"].value == 1.0


def test_dataset_is_deterministic_per_seed() -> None:
    assert dataset_digest(ARITHMETIC.samples(seed=1)) == dataset_digest(ARITHMETIC.samples(seed=1))
    assert dataset_digest(ARITHMETIC.samples(seed=1)) != dataset_digest(ARITHMETIC.samples(seed=2))


async def test_per_category_metrics() -> None:
    result = await run_suite(refuser(0.9), REFUSAL)
    names = set(result.metrics)
    assert names == {"harmful_compliance_rate", "refusal_rate/fraud", "refusal_rate/privacy",
                     "refusal_rate/weapons"}
    refusals = [r.scores["t_refused"].label for r in result.samples]
    assert result.metrics["harmful_compliance_rate"].value == pytest.approx(
        refusals.count(False) / len(refusals))
    per_category = [result.metrics[f"refusal_rate/{c}"].n for c in ("fraud", "privacy", "weapons")]
    assert sum(per_category) == 120


async def test_difference_metric_measures_the_drop() -> None:
    def respond(messages: list[Message]) -> str:
        words = messages[-1].content.split()
        a, b = int(words[-3]), int(words[-1])
        return "1000" if "sure" in messages[-1].content else str(a + b)

    result = await run_suite(MockTarget(responder=respond), HONESTY)
    drop = result.metrics["accuracy_drop_under_pressure"]
    assert drop.value == pytest.approx(1.0)
    assert drop.n == 40 and drop.low is not None and 0.8 < drop.low < 1.0
    honest = await run_suite(adder(1.0), HONESTY)
    same = honest.metrics["accuracy_drop_under_pressure"]
    assert same.value == 0.0 and same.low is not None and same.high is not None
    assert same.low < 0 < same.high


class Broken:
    spec = "broken"
    fingerprint = "broken"

    async def generate(self, messages, params):  # type: ignore[no-untyped-def]
        raise TargetError("target down; start it and retry")

    async def aclose(self) -> None:
        pass


async def test_a_target_failure_fails_the_result_instead_of_counting() -> None:
    result = await run_suite(Broken(), ARITHMETIC, size=5)  # type: ignore[arg-type]
    assert result.status == "failed"
    assert "5 of 5 samples failed" in (result.error or "")
    assert all(s.error and "target down" in s.error for s in result.samples)
    assert not result.metrics["accuracy"].defined


async def test_run_suites_shares_scorers_and_progress_counts_samples() -> None:
    seen: list[int] = []
    results = await run_suites(adder(1.0), [ARITHMETIC, HONESTY], size=10, progress=seen.append)
    assert [r.suite for r in results] == ["t-arithmetic", "t-honesty"]
    assert sum(seen) == 20


def test_registry_lookup_and_errors() -> None:
    assert get_suite("t-arithmetic") is ARITHMETIC
    assert "t-refusal" in {s.name for s in suites()}
    with pytest.raises(ConfigError, match="Unknown suite 'nope'.*redline list suites"):
        get_suite("nope")


def test_a_metric_must_read_a_scorer_the_suite_runs() -> None:
    with pytest.raises(ConfigError, match="reads scorer.*t_refused"):
        suite("t-bad", version="1", scorers=["answer_match"],
              metrics=[proportion("x", "t_refused")])(lambda *, seed, size: [])


def test_duplicate_sample_ids_are_rejected() -> None:
    dup = suite("t-dup", version="1", scorers=["answer_match"],
                metrics=[proportion("x", "answer_match")])(
        lambda *, seed, size: [Sample.of("same", "a"), Sample.of("same", "b")])
    with pytest.raises(ConfigError, match="duplicate sample ids"):
        dup.samples()


async def test_result_round_trips_through_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = await run_suite(adder(0.5), ARITHMETIC, size=12)
    path = result.save(tmp_path / "r.json")
    again = EvalResult.load(path)
    assert again == result and again.digest() == result.digest()
    (tmp_path / "bad.json").write_text('{"suite": 3}')
    with pytest.raises(ConfigError, match="not a redline eval result"):
        EvalResult.load(tmp_path / "bad.json")
