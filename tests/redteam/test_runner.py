from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from redline.errors import TargetUnreachableError
from redline.redteam.attacks.base import Goal
from redline.redteam.records import AttemptSpec
from redline.redteam.runner import Budget, Runner, stored_records
from redline.scorers import get_scorer
from redline.store import Store
from redline.types import Completion, GenerateParams, Message

from .fixtures_plugin import COMPLY, REFUSE, weak_model

PARAMS = GenerateParams(max_tokens=32)


class CountingTarget:
    """Answers like the weak model, after a pause; records peak concurrency and calls."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.in_flight = 0
        self.peak = 0
        self.calls: list[str] = []
        self.fail_on = fail_on

    @property
    def spec(self) -> str:
        return "counting"

    @property
    def fingerprint(self) -> str:
        return "counting"

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            self.calls.append(messages[-1].content)
            if self.fail_on and self.fail_on in messages[-1].content:
                raise TargetUnreachableError("connection refused")
            return Completion(text=weak_model(messages))
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        pass


def specs(n: int, *, attack: str = "static") -> list[AttemptSpec]:
    return [Goal("seed.test", str(i), "weapons", f"request {i}").spec(
        f"request {i}" if i % 2 else "developer mode: request", attack=attack)
        for i in range(n)]


def runner(target: CountingTarget, **kwargs: object) -> Runner:
    options: dict[str, object] = {
        "params": PARAMS, "success_scorer": "test_complied", "concurrency": 3,
        "scorers": {"test_complied": get_scorer("test_complied"),
                    "test_refused": get_scorer("test_refused")},
    }
    options.update(kwargs)
    return Runner(target, **options)  # type: ignore[arg-type]


async def test_concurrency_limit_scores_and_success() -> None:
    target = CountingTarget()
    records = await runner(target).run(specs(20))
    assert target.peak == 3
    assert len(target.calls) == 20
    assert all(r is not None for r in records)
    # Even ids send "developer mode" and comply; odd ones are refused.
    assert [r.success for r in records if r] == [i % 2 == 0 for i in range(20)]
    first = records[0]
    assert first is not None and first.response == COMPLY
    assert first.scores["test_refused"].label is False
    assert records[1] is not None and records[1].response == REFUSE


async def test_repeated_specs_are_sent_once_and_share_a_record() -> None:
    target = CountingTarget()
    run = runner(target)
    twice = specs(4) + specs(4)
    records = await run.run(twice)
    assert len(target.calls) == 4 and run.used == 4
    assert [r.key for r in records[:4] if r] == [r.key for r in records[4:] if r]
    again = await run.run(specs(4))
    assert len(target.calls) == 4 and again == records[:4]


async def test_query_budget_is_exact_and_charged_in_order() -> None:
    target = CountingTarget()
    run = runner(target, budget=Budget(max_queries=7))
    records = await run.run(specs(10))
    assert [r is not None for r in records] == [True] * 7 + [False] * 3
    assert len(target.calls) == 7
    assert run.exhausted == "max queries (7) reached"
    assert await run.run(specs(12)[10:]) == [None, None]


async def test_time_budget_stops_new_attempts() -> None:
    target = CountingTarget()
    run = runner(target, budget=Budget(max_seconds=0.05), chunk_size=2, concurrency=1)
    records = await run.run(specs(200))
    made = sum(r is not None for r in records)
    assert 0 < made < 200 and run.exhausted and "max time" in run.exhausted


class SlowTarget(CountingTarget):
    """A model whose answers take ``pause`` seconds each, one at a time (a big batch)."""

    def __init__(self, pause: float) -> None:
        super().__init__()
        self.pause = pause
        self.lock = asyncio.Lock()

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        async with self.lock:
            await asyncio.sleep(self.pause)
        self.calls.append(messages[-1].content)
        return Completion(text=weak_model(messages))


async def test_time_budget_does_not_start_a_chunk_its_pace_says_would_overrun() -> None:
    # 0.1 s an attempt, chunks of 4 (0.4 s each), a 1.0 s budget. Starting a chunk whenever
    # the clock is under the budget would start the third chunk at 0.4 s and end at 1.2 s;
    # at the pace measured by then (0.1 s an attempt, 4 still to come ahead of it) the
    # third chunk would end at 1.2 s, so it is not started.
    target = SlowTarget(0.1)
    run = runner(target, budget=Budget(max_seconds=1.0), chunk_size=4, concurrency=4)
    started = asyncio.get_running_loop().time()
    records = await run.run(specs(40))
    took = asyncio.get_running_loop().time() - started
    assert sum(r is not None for r in records) == len(target.calls) == 8
    assert took < 1.0, took
    assert run.exhausted is not None and "would end after it" in run.exhausted


async def test_time_budget_waits_for_the_first_chunks_pace_before_a_second() -> None:
    # The first chunk alone (0.4 s) outlasts a 0.3 s budget: no second chunk starts.
    target = SlowTarget(0.1)
    run = runner(target, budget=Budget(max_seconds=0.3), chunk_size=4, concurrency=4)
    records = await run.run(specs(40))
    assert sum(r is not None for r in records) == len(target.calls) == 4


async def test_a_failing_target_or_scorer_never_kills_the_run(tmp_path: object) -> None:
    target = CountingTarget(fail_on="request 3")
    run = runner(target, scorers={"test_complied": get_scorer("test_complied"),
                                  "test_broken": get_scorer("test_broken")})
    records = await run.run(specs(6))
    failed = records[3]
    assert failed is not None and failed.error is not None
    assert "TargetUnreachableError: connection refused" in failed.error
    assert failed.success is None and failed.response is None and failed.scores == {}
    others = [r for i, r in enumerate(records) if i != 3 and r is not None]
    assert len(others) == 5 and all(r.error is None for r in others)
    assert all(r.scores["test_broken"].label is None for r in others)
    assert all("scorer failed: RuntimeError" in r.scores["test_broken"].explanation
               for r in others)
    assert [r.success for r in others] == [True, False, True, True, False]


async def test_attempts_are_appended_once_and_replayed_on_resume(store: Store) -> None:
    run_id = store.create_run("redteam", "counting").id
    first = CountingTarget()
    partial = runner(first, store=store, run_id=run_id, budget=Budget(max_queries=5))
    await partial.run(specs(10))
    logged = stored_records(store, run_id)
    assert len(logged) == 5 and len(store.attempts(run_id)) == 5

    second = CountingTarget()
    resumed = runner(second, store=store, run_id=run_id, stored=logged)
    records = await resumed.run(specs(10))
    assert resumed.replayed == 5 and len(second.calls) == 5
    assert len(store.attempts(run_id)) == 10
    assert len({a.key for a in store.attempts(run_id)}) == 10
    # Replayed records are the logged ones, field for field.
    assert records[:5] == [logged[r.key] for r in records[:5] if r]


def test_runner_needs_a_run_id_with_a_store(store: Store) -> None:
    with pytest.raises(ValueError, match="run_id"):
        runner(CountingTarget(), store=store)


async def test_judge_precision_is_the_one_the_judges_compute_in() -> None:
    # The real refusal judge on the same answers: bfloat16 moves its probabilities a little
    # (so the runner did switch the encoder) and, on these answers, no label.
    values = {}
    for precision in ("float32", "bfloat16"):
        run = runner(CountingTarget(), scorers={"refusal": get_scorer("refusal")},
                     success_scorer="refusal", judge_precision=precision)
        records = await run.run(specs(8))
        values[precision] = [(r.scores["refusal"].value, r.scores["refusal"].label)
                             for r in records if r is not None]
    gaps = [abs(a[0] - b[0]) for a, b in zip(values["float32"], values["bfloat16"], strict=True)]
    assert len(gaps) == 8 and 0 < max(gaps) < 0.05, gaps
    assert [a[1] for a in values["float32"]] == [b[1] for b in values["bfloat16"]]
