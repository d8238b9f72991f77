"""GCG: a gradient-guided adversarial suffix (or prefix) for one harmful request.

Greedy coordinate gradient search (Zou et al., 2023) over a slot of tokens after the
request, pulling the answer towards an affirmative opening (``target:TEXT``, or the
opening of the target's answers to benign requests). Candidates the loss likes are
checked by a real generation and a judge; the search stops once one complies.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError
from redline.redteam.whitebox.budget import QueryBudget
from redline.redteam.whitebox.judges import Judge, opening_judge, refusal_openings
from redline.redteam.whitebox.results import GCGResult, QueryCount
from redline.redteam.whitebox.search import Progress, SearchConfig, coordinate_search
from redline.redteam.whitebox.tokens import Position, TokenModel
from redline.redteam.whitebox.trigger import (
    REFUSAL_TOKENS,
    Generator,
    evidence_attempt,
    objective_continuations,
    white_box,
)
from redline.threads import torch_threads
from redline.types import GenerateParams

if TYPE_CHECKING:
    from redline.targets.hf import HFTarget

ATTACK_NAME = "gcg"
DEFAULT_CONFIG = SearchConfig(length=8, candidates=32, eval_prompts=1, check_at=0.5, stop_at=1.0)


def gcg_attack(
    target: Any,
    request: str,
    *,
    benign_requests: Sequence[str] = (),
    judge: Judge | None = None,
    max_queries: int = 2000,
    objective: str = "auto",
    position: Position = "suffix",
    config: SearchConfig | None = None,
    params: GenerateParams | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
) -> GCGResult:
    """Search tokens that make the target comply with ``request``.

    Args:
        target: an ``hf:`` target (or spec string).
        request: the harmful request.
        benign_requests: requests whose answers give the affirmative opening (``benign``).
        judge: decides compliance; by default anything but the target's refusal opening.
        max_queries: the query budget (gradient rows, candidate rows and generations).
        objective: ``auto``, ``refusal``, ``benign`` or ``target:TEXT``; ``auto`` without
            benign requests means ``target:sure, here is``.
        position: ``suffix`` (after the request, as in GCG) or ``prefix``.
        config: search knobs; eight slot tokens by default.
        params: generation parameters of the checks.
        progress: per-step callback.
        threads: torch CPU threads while searching (None: unchanged).

    Raises:
        ConfigError: an empty request, a bad objective or a target without weights.
    """
    if not request.strip():
        raise ConfigError("GCG needs a non-empty request.")
    with torch_threads(threads):
        return _gcg(
            white_box(target), request, benign_requests=benign_requests, judge=judge,
            max_queries=max_queries, objective=objective, position=position, config=config,
            params=params, progress=progress,
        )


def _gcg(
    hf: HFTarget,
    request: str,
    *,
    benign_requests: Sequence[str],
    judge: Judge | None,
    max_queries: int,
    objective: str,
    position: Position,
    config: SearchConfig | None,
    params: GenerateParams | None,
    progress: Progress | None,
) -> GCGResult:
    started = time.perf_counter()
    config = config or DEFAULT_CONFIG
    params = params or GenerateParams(max_tokens=32)
    if objective == "auto" and not benign_requests:
        objective = "target:sure, here is"
    budget = QueryBudget(max_queries)
    tm = TokenModel(hf)
    gen = Generator(hf, budget, params, position)
    baseline = gen.answer([request], "", "baseline")
    judge = judge or opening_judge(refusal_openings([baseline[0].text]))
    mode, continuations, described = objective_continuations(
        tm, gen, objective, [request], baseline, benign_requests, REFUSAL_TOKENS
    )
    prompts = tm.slot_prompts([request], position)
    judge_fn = judge
    answers: dict[tuple[int, ...], str] = {}

    def check(ids: tuple[int, ...]) -> float:
        answer = gen.answer([request], tm.decode(ids), "check")[0]
        answers[ids] = answer.text
        return float(judge_fn([request], [answer.text])[0])

    trace = coordinate_search(
        tm, prompts, continuations, mode, budget, config, check=check, progress=progress
    )
    suffix = tm.decode(trace.best)
    final = budget.can_spend(1) and trace.best not in answers
    response = gen.answer([request], suffix, "final")[0].text if final else answers.get(
        trace.best, ""
    )
    complied = bool(judge([request], [response])[0]) if response else False
    loss = trace.losses[-1] if trace.losses else float("nan")
    return GCGResult(
        target=hf.spec,
        request=request,
        suffix=suffix,
        suffix_tokens=list(trace.best),
        position=position,
        objective=described,
        complied=complied,
        loss=loss,
        queries=QueryCount(total=budget.used, limit=max_queries, by_purpose=dict(budget.spent)),
        steps=trace.steps,
        stopped=trace.stopped,
        evidence=[
            evidence_attempt(ATTACK_NAME, gen, request, suffix, response, "stop", complied)
        ],
        seconds=time.perf_counter() - started,
    )
