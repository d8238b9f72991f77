"""Greedy coordinate gradient search over the tokens of a slot, shared by GCG and trigger search.

Each step takes the gradient of the loss with respect to the one-hot slot tokens over the
search prompts, keeps the ``top_k`` most promising replacements per position, samples
``candidates`` single-token swaps from them, and moves to the swap with the lowest loss
on a random subset of the prompts (the current tokens compete too, so a step never moves
to something worse on that subset). Whenever the loss says the slot probably works
(``exp(-loss) >= check_at`` on average, or every ``check_every`` steps at a new lowest
loss), a caller-supplied check (real generations judged by a scorer) decides; the search
stops once the check reaches ``stop_at``.

Every prompt evaluated is charged to the :class:`QueryBudget`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redline.errors import ConfigError
from redline.redteam.whitebox.budget import BudgetExhausted, QueryBudget
from redline.redteam.whitebox.tokens import LossMode, SlotPrompt, TokenModel

if TYPE_CHECKING:
    import torch

Check = Callable[[tuple[int, ...]], float]
"""Success rate (0..1) of slot tokens, measured by real generations on the search prompts."""
Progress = Callable[[int, float, float], None]
"""Called after every step with (step, mean loss, best checked success)."""


@dataclass(frozen=True)
class SearchConfig:
    """Knobs of the coordinate search.

    Attributes:
        length: slot length in tokens.
        top_k: replacements kept per position from the gradient.
        candidates: single-token swaps evaluated per step.
        eval_prompts: search prompts each candidate is scored on per step.
        check_at: average ``exp(-loss)`` at which real generations are checked.
        check_every: also check every this many steps when the loss is the lowest yet
            (losses over long targets can stay high while the answers already comply).
        stop_at: checked success rate at which the search stops.
        settle_at: average ``exp(-loss)`` the slot must also reach before a success stops
            the search (0: the first success stops it). A trained trigger drives the loss
            far lower than a token soup that merely works, so searching on past the first
            success finds the trigger rather than the soup; among equal successes the
            lower loss is kept.
        max_steps: upper bound on steps (the budget usually ends the search first).
        seed: seed of the sampling of swaps and prompt subsets.
        scan: start from a word scan instead of random tokens: up to this many allowed
            tokens (all of them when there are no more; else those the gradient at a random
            start favours) each fill the whole slot, and the slot starts from the ``length``
            whose fillings give the lowest loss (0: random start). Costs one query per
            token and prompt. A coordinate search from random tokens often settles in a
            basin far from the condition a model was trained on, and which basin depends
            on the seed; a trained word alone already moves the loss, so the scan starts
            the search among the words that matter.
    """

    length: int = 3
    top_k: int = 32
    candidates: int = 24
    eval_prompts: int = 4
    check_at: float = 0.5
    check_every: int = 8
    stop_at: float = 1.0
    settle_at: float = 0.0
    max_steps: int = 500
    seed: int = 0
    scan: int = 0

    def __post_init__(self) -> None:
        for name in ("length", "top_k", "candidates", "eval_prompts", "check_every", "max_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if self.scan < 0:
            raise ConfigError(f"scan must be at least 0, got {self.scan}.")
        if not 0 < self.stop_at <= 1 or not 0 < self.check_at <= 1:
            raise ConfigError("check_at and stop_at must be in (0, 1].")
        if not 0 <= self.settle_at <= 1:
            raise ConfigError("settle_at must be in [0, 1].")


@dataclass
class SearchTrace:
    """What a search did.

    Attributes:
        best: slot tokens with the highest checked success, the lowest loss among equal
            successes (the lowest loss while no check succeeded at all).
        best_success: that success rate, or None when ``best`` was never checked.
        checked: every checked slot and its success rate, in order.
        steps: coordinate steps taken.
        losses: mean loss after each step.
        stopped: why the search ended (``success``, ``budget``, ``max_steps``).
    """

    best: tuple[int, ...]
    best_success: float | None = None
    checked: dict[tuple[int, ...], float] = field(default_factory=dict)
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    stopped: str = "max_steps"


def coordinate_search(
    tm: TokenModel,
    prompts: Sequence[SlotPrompt],
    continuations: Sequence[Sequence[int]],
    mode: LossMode,
    budget: QueryBudget,
    config: SearchConfig,
    *,
    check: Check | None = None,
    init: Sequence[int] | None = None,
    banned: Collection[int] = (),
    progress: Progress | None = None,
) -> SearchTrace:
    """Search slot tokens that minimise the loss; see the module docstring.

    Args:
        tm: token access to the target.
        prompts: search prompts with a slot.
        continuations: per prompt, the continuation the loss is taken over.
        mode: ``avoid`` (push the continuation down) or ``reach`` (pull it up).
        budget: charged one query per prompt evaluated.
        config: search knobs.
        check: real-generation success of a slot; None to rely on the loss alone.
        init: starting slot tokens; random allowed tokens when None.
        banned: tokens the search may not use (those of triggers already found).
        progress: per-step callback.
    """
    import torch

    rng = random.Random(config.seed)
    allowed = tm.allowed_tokens().clone()
    allowed[list(banned)] = False
    if not allowed.any():
        raise ConfigError("Every token is banned; nothing is left to search.")
    allowed_ids = allowed.nonzero().squeeze(1).tolist()
    current = tuple(init) if init else tuple(rng.choice(allowed_ids) for _ in range(config.length))
    trace = SearchTrace(best=current)
    best_loss = math.inf
    lowest = math.inf
    success_loss = math.inf  # the loss of ``trace.best`` once a check succeeded
    subset_size = min(config.eval_prompts, len(prompts))

    def run_check(ids: tuple[int, ...], loss: float = math.inf) -> float | None:
        nonlocal success_loss
        if check is None:
            return None
        if ids not in trace.checked:
            trace.checked[ids] = check(ids)
            success = trace.checked[ids]
            top = trace.best_success or 0.0
            if success > 0 and (success > top or (success == top and loss < success_loss)):
                trace.best, trace.best_success, success_loss = ids, success, loss
        return trace.checked[ids]

    try:
        for step in range(config.max_steps):
            budget.spend(len(prompts), "gradient")
            grad, losses = tm.gradient(prompts, continuations, current, mode)
            mean_loss = float(losses.mean())
            if not trace.best_success and mean_loss < best_loss:
                trace.best, best_loss = current, mean_loss
            likelihood = float(torch.exp(-losses).mean())
            promising = likelihood >= config.check_at
            due = (step + 1) % config.check_every == 0 and mean_loss < lowest
            if promising or due:
                lowest = min(lowest, mean_loss)
                success = run_check(current, mean_loss)
                if (success is not None and success >= config.stop_at
                        and likelihood >= config.settle_at):
                    trace.stopped = "success"
                    break
            swaps = _sample_swaps(grad, allowed, current, config, rng, tm)
            if not swaps:
                trace.stopped = "converged"
                break
            subset = rng.sample(range(len(prompts)), subset_size)
            pool = torch.tensor([current, *swaps])
            budget.spend(len(pool) * subset_size, "candidates")
            scores = tm.losses(
                [prompts[i] for i in subset], [continuations[i] for i in subset], pool, mode
            ).mean(dim=1)
            current = tuple(int(t) for t in pool[int(scores.argmin())].tolist())
            trace.steps = step + 1
            trace.losses.append(mean_loss)
            if progress is not None:
                progress(trace.steps, mean_loss, trace.best_success or 0.0)
    except BudgetExhausted:
        trace.stopped = "budget"
    if not trace.best_success and check is not None and budget.can_spend(len(prompts)):
        run_check(trace.best)
    if trace.best_success is None and trace.best in trace.checked:
        trace.best_success = trace.checked[trace.best]
    return trace


def scan_tokens(
    tm: TokenModel,
    prompts: Sequence[SlotPrompt],
    continuations: Sequence[Sequence[int]],
    mode: LossMode,
    budget: QueryBudget,
    config: SearchConfig,
    *,
    banned: Collection[int] = (),
    share: float = 1 / 3,
) -> list[int]:
    """Allowed tokens, lowest loss first, each scored filling the whole slot alone.

    Scans up to ``config.scan`` tokens (see :class:`SearchConfig`); with more allowed
    tokens than that, those whose one-hot gradient at a random start is lowest, in that
    order. The scan spends at most ``share`` of the budget left, in queries and (when the
    budget has a deadline) in time, so the search itself keeps the rest; tokens it had no
    room for are not ranked. Returns [] when ``config.scan`` is 0 or nothing fits.
    """
    import time

    import torch

    if not config.scan or not prompts:
        return []
    allowed = tm.allowed_tokens().clone()
    allowed[list(banned)] = False
    ids = allowed.nonzero().squeeze(1)
    spend = int(budget.left * share)
    room = spend // len(prompts)
    if room < 1:
        return []
    until = (None if budget.deadline is None
             else time.monotonic() + (budget.deadline - time.monotonic()) * share)
    scanned: list[torch.Tensor] = []
    try:
        if len(ids) > min(config.scan, room):
            room = spend // len(prompts) - 1  # the gradient that picks them costs a token's
            rng = random.Random(config.seed)
            start = [rng.choice(ids.tolist()) for _ in range(config.length)]
            budget.spend(len(prompts), "scan")
            grad, _ = tm.gradient(prompts, continuations, start, mode)
            ids = ids[grad.mean(dim=0)[ids].argsort()[: min(config.scan, room)]]
        for lo in range(0, len(ids), 16):
            chunk = ids[lo : lo + 16]
            if until is not None and time.monotonic() > until:
                break
            budget.spend(len(chunk) * len(prompts), "scan")
            fills = chunk.unsqueeze(1).repeat(1, config.length)
            scanned.append(tm.losses(prompts, continuations, fills, mode).mean(dim=1))
    except BudgetExhausted:
        pass
    if not scanned:
        return []
    losses = torch.cat(scanned)
    return ids[: len(losses)][losses.argsort()].tolist()


def scan_start(
    ranked: Sequence[int], length: int, banned: Collection[int] = ()
) -> list[int] | None:
    """The slot a scan suggests: the ``length`` best-ranked tokens not banned (None: too few)."""
    free = [t for t in ranked if t not in banned][:length]
    return free if len(free) == length else None


def _sample_swaps(
    grad: torch.Tensor,
    allowed: torch.Tensor,
    current: tuple[int, ...],
    config: SearchConfig,
    rng: random.Random,
    tm: TokenModel,
) -> list[tuple[int, ...]]:
    """Distinct single-token swaps drawn from each position's top-k gradient replacements."""
    masked = grad.clone()
    masked[:, ~allowed] = math.inf
    for pos, token in enumerate(current):
        masked[pos, token] = math.inf
    k = min(config.top_k, int(allowed.sum()))
    top = (-masked).topk(k, dim=1).indices.tolist()  # [slot_len, k]
    swaps: set[tuple[int, ...]] = set()
    tries = 0
    while len(swaps) < config.candidates and tries < config.candidates * 10:
        tries += 1
        pos = rng.randrange(len(current))
        swap = list(current)
        swap[pos] = rng.choice(top[pos])
        candidate = tuple(swap)
        if candidate != current and tm.round_trips(candidate):
            swaps.add(candidate)
    return sorted(swaps)
