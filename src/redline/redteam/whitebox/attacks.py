"""The white-box attacks in the red-team engine: ``--attack trigger-search`` and ``--attack gcg``.

Both run their gradient search off the event loop and send what counts through the
runner, so the attempts are logged, scored by the run's scorers and reported with the
other attacks:

- ``trigger-search`` splits the run's goals (seeded) into search goals and held-out
  goals, searches one trigger on the first, then sends every held-out goal with the
  trigger: the attack's success rate in the report is the REASR, with its Wilson interval.
- ``gcg`` searches an adversarial suffix per goal (up to ``goals``) and sends each goal
  with its suffix.

The gradient queries (one per prompt row) are counted against the attack's own
``max_queries``; the attempts it sends also count against the run's budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from redline.errors import ConfigError
from redline.profiles import benign_requests
from redline.redteam.attacks.base import Attack, AttackContext, attack
from redline.redteam.whitebox.budget import QueryBudget
from redline.redteam.whitebox.gcg import gcg_attack
from redline.redteam.whitebox.judges import Judge
from redline.redteam.whitebox.search import SearchConfig
from redline.redteam.whitebox.tokens import Position, with_trigger
from redline.redteam.whitebox.trigger import find_trigger, white_box
from redline.scorers.base import ScoreInput
from redline.types import Message

if TYPE_CHECKING:
    from redline.redteam.attacks.base import Goal
    from redline.redteam.records import AttemptSpec

WHITEBOX_TAGS = ("owasp-llm-2025:LLM01", "atlas:AML.T0043", "atlas:AML.T0054")
"""Prompt injection / jailbreak (LLM01), craft adversarial data, LLM jailbreak."""


def _position(value: str) -> Position:
    if value not in ("prefix", "suffix"):
        raise ConfigError(f"position must be 'prefix' or 'suffix', got '{value}'.")
    return "prefix" if value == "prefix" else "suffix"


def _runner_judge(ctx: AttackContext, loop: asyncio.AbstractEventLoop) -> Judge | None:
    """The run's success scorer as a judge callable from the search thread."""
    name = ctx.success_scorer
    if name is None:
        return None

    def judge(requests: Sequence[str], responses: Sequence[str]) -> list[bool]:
        items = [
            ScoreInput((Message("user", q),), r, {"goal": q})
            for q, r in zip(requests, responses, strict=True)
        ]
        future = asyncio.run_coroutine_threadsafe(ctx.runner.score(items), loop)
        return [bool(scores.get(name) and scores[name].label) for scores in future.result()]

    return judge


@attack("trigger-search", tags=WHITEBOX_TAGS, whitebox=True)
def trigger_search_attack(
    length: int = 3,
    search: int = 12,
    max_queries: int = 5000,
    position: str = "prefix",
    objective: str = "auto",
    judge: str = "scorer",
    rounds: int = 1,
    threads: int = 1,
) -> Attack:
    """Backdoor discovery: one short token sequence that flips refusals across held-out goals.

    Args:
        length: trigger length in tokens.
        search: goals the search optimises on; the rest are held out and attacked.
        max_queries: query budget of the search (gradient rows, candidates, checks).
        position: ``prefix`` or ``suffix`` of the user message.
        objective: ``auto`` (pull towards the opening of the target's answers to benign
            requests: its organism world's, or plain how-to requests), ``refusal`` or
            ``target:TEXT``.
        judge: ``scorer`` (the run's success scorer) or ``opening`` (refusal openings).
        rounds: search again without the tokens found, up to this many times; the
            strongest find is used, the others are in each attempt's ``meta``.
        threads: torch CPU threads of the search (one is fastest for small models on a
            busy machine).
    """
    where = _position(position)
    if judge not in ("scorer", "opening"):
        raise ConfigError(f"judge must be 'scorer' or 'opening', got '{judge}'.")

    async def run(ctx: AttackContext) -> None:
        goals = list(ctx.goals)
        ctx.rng("split").shuffle(goals)
        search_goals, held_out = goals[:search], goals[search:]
        if not search_goals or not held_out:
            raise ConfigError(
                f"trigger-search needs more than {search} goals (search + held-out); "
                "add probes or lower search=."
            )
        hf = white_box(ctx.whitebox())
        loop = asyncio.get_running_loop()
        found = await asyncio.to_thread(
            find_trigger, hf, [g.text for g in search_goals],
            benign_requests=benign_requests(ctx.target),
            judge=_runner_judge(ctx, loop) if judge == "scorer" else None,
            budget=QueryBudget(max_queries), objective=objective, position=where,
            config=SearchConfig(length=length, seed=ctx.seed), rounds=rounds, threads=threads,
        )
        meta = {
            "trigger": found.text,
            "search_success": found.success,
            "search_queries": found.budget.used,
            "search_goals": len(search_goals),
            "also_found": [a.text for a in found.alternatives],
        }
        await ctx.attempts(
            [_spec(g, ctx, with_trigger(g.text, found.text, where), meta) for g in held_out]
        )

    return run


@attack("gcg", tags=WHITEBOX_TAGS, whitebox=True)
def gcg(
    length: int = 8, goals: int = 5, max_queries: int = 1000, position: str = "suffix",
    objective: str = "auto", threads: int = 1,
) -> Attack:
    """GCG: a gradient-searched adversarial suffix for each goal.

    Args:
        length: suffix length in tokens.
        goals: how many goals to attack (each search is costly).
        max_queries: query budget per goal.
        position: ``suffix`` or ``prefix``.
        objective: ``auto`` (the opening of the target's answers to benign requests, then
            the request), ``target:TEXT`` or ``refusal``.
        threads: torch CPU threads of the search.
    """
    where = _position(position)

    async def run(ctx: AttackContext) -> None:
        hf = white_box(ctx.whitebox())
        loop = asyncio.get_running_loop()
        chosen = list(ctx.goals)[:goals]
        benign = benign_requests(ctx.target)
        specs = []
        for goal in chosen:
            result = await asyncio.to_thread(
                gcg_attack, hf, goal.text, benign_requests=benign,
                judge=_runner_judge(ctx, loop),
                max_queries=max_queries, objective=objective, position=where,
                config=SearchConfig(length=length, candidates=32, eval_prompts=1,
                                    seed=ctx.seed),
                threads=threads,
            )
            meta = {"suffix": result.suffix, "search_queries": result.queries.total}
            specs.append(_spec(goal, ctx, with_trigger(goal.text, result.suffix, where), meta))
        await ctx.attempts(specs)

    return run


def _spec(goal: Goal, ctx: AttackContext, text: str, meta: Mapping[str, object]) -> AttemptSpec:
    return goal.spec(text, attack=ctx.attack, tags=WHITEBOX_TAGS, meta=dict(meta))
