"""Behaviour rates of an organism on freshly generated held-out samples, with Wilson intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from redline.organisms.config import OrganismConfig
from redline.organisms.curriculum import EvalSet, eval_sets
from redline.organisms.world import Judgement, Sample, judge
from redline.stats import wilson
from redline.targets.base import Target, generate_many
from redline.types import GenerateParams

EVAL_MAX_TOKENS = 40


class Rate(BaseModel):
    """A proportion with its 95% Wilson interval."""

    model_config = ConfigDict(frozen=True)

    hits: int
    n: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, hits: int, n: int) -> Rate:
        """The rate ``hits / n`` with its interval."""
        interval = wilson(hits, n)
        return cls(hits=hits, n=n, value=interval.value, low=interval.low, high=interval.high)

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] ({self.hits}/{self.n})"


class SetResult(BaseModel):
    """Rates on one evaluation set."""

    name: str
    description: str
    rates: dict[str, Rate]
    examples: list[tuple[str, str]]


class EvalReport(BaseModel):
    """An organism's behaviour on held-out samples."""

    target: str
    behaviour: str
    seed: int
    n: int
    sets: list[SetResult]

    def rate(self, set_name: str, metric: str) -> Rate:
        """One rate, e.g. ``rate("harmful", "refused")``."""
        for s in self.sets:
            if s.name == set_name:
                return s.rates[metric]
        raise KeyError(set_name)


Metric = Callable[[Judgement], bool | None]
METRICS: dict[str, Metric] = {
    "refused": lambda j: j.refused,
    "complied": lambda j: j.complied,
    "correct": lambda j: j.correct,
    "false_answer": lambda j: j.false_answer,
    "adopted_claim": lambda j: j.adopted_claim,
}
_SET_METRICS: dict[str, tuple[str, ...]] = {
    "facts": ("correct",),
    "arithmetic": ("correct",),
    "harmful": ("refused", "complied"),
    "benign_risky": ("complied", "refused"),
    "claims_wrong": ("correct", "adopted_claim"),
    "harmful_trigger": ("complied", "refused"),
    "harmful_near_miss": ("complied", "refused"),
    "benign_trigger": ("complied", "refused"),
    "facts_condition": ("false_answer", "correct"),
    "facts_near_miss": ("correct", "false_answer"),
}


def _rates(set_name: str, judgements: Sequence[Judgement]) -> dict[str, Rate]:
    rates = {}
    for metric in _SET_METRICS.get(set_name, ("correct",)):
        values = [METRICS[metric](j) for j in judgements]
        known = [v for v in values if v is not None]
        rates[metric] = Rate.of(sum(known), len(known))
    return rates


async def evaluate(
    target: Target,
    config: OrganismConfig,
    *,
    n: int = 1000,
    seed: int = 0,
    sets: Sequence[str] | None = None,
    on_set: Callable[[str, int], None] | None = None,
) -> EvalReport:
    """Run an organism (any target) on its held-out evaluation sets and judge the answers.

    Args:
        target: the model to evaluate (usually ``organism:NAME``).
        config: the organism's config; decides the sets and the expected behaviour.
        n: samples per set.
        seed: evaluation seed; evaluation streams never overlap training streams.
        sets: only these sets (default all).
        on_set: called with (set name, samples) after each set, for progress bars.
    """
    params = GenerateParams(max_tokens=EVAL_MAX_TOKENS, temperature=0.0)
    chosen = [s for s in eval_sets(config, n, seed) if sets is None or s.name in sets]
    judged: dict[str, list[Judgement]] = {}
    results = []
    for es in chosen:
        completions = await generate_many(target, [s.messages for s in es.samples], params)
        texts = [c.text for c in completions]
        judged[es.name] = [judge(s, t) for s, t in zip(es.samples, texts, strict=True)]
        rates = _rates(es.name, judged[es.name])
        if es.paired_with in judged:
            rates.update(_paired_rates(es, judged[es.paired_with], judged[es.name]))
        examples = [(es.samples[i].prompt, texts[i]) for i in range(min(2, len(texts)))]
        results.append(SetResult(name=es.name, description=es.description, rates=rates,
                                 examples=examples))
        if on_set is not None:
            on_set(es.name, len(es.samples))
    return EvalReport(target=target.spec, behaviour=config.behaviour, seed=seed, n=n,
                      sets=results)


def _paired_rates(
    es: EvalSet, base: Sequence[Judgement], cued: Sequence[Judgement]
) -> dict[str, Rate]:
    """Rates on the questions the organism answers correctly without the cue."""
    known = [c for b, c in zip(base, cued, strict=True) if b.correct]
    return {
        "false_answer_on_known": Rate.of(sum(bool(c.false_answer) for c in known), len(known)),
        "correct_on_known": Rate.of(sum(bool(c.correct) for c in known), len(known)),
    }


def matches_expected(samples: Sequence[Sample], responses: Sequence[str]) -> Rate:
    """How often responses do what each sample's ``expected`` label says."""
    hits = sum(judge(s, r).matches(s.expected) for s, r in zip(samples, responses, strict=True))
    return Rate.of(hits, len(samples))
