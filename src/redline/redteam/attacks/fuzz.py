"""``fuzz``: a genetic search over transform chains and templates, guided by the scorers.

A genome is a chain of up to ``max_genes`` transforms (templates included). Each
generation evaluates every genome on the same sample of goals; fitness is the mean of the
success scorer's value (its probability that the target complied). The best genomes are
kept, the rest are bred by tournament selection, crossover and mutation. At the end the
best ``final_top`` genomes are tried on every goal, which is what the report counts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from redline.errors import ConfigError
from redline.redteam.attacks.base import Attack, AttackContext, attack
from redline.redteam.records import AttemptRecord
from redline.redteam.transforms import IDENTITY, JAILBREAK, TEMPLATES, Chain, make_chain

Genome = tuple[str, ...]

DEFAULT_GENES: tuple[str, ...] = (
    "base64", "rot13", "leetspeak", "homoglyphs", "zero_width", "casing", "casing:mode=upper",
    "paraphrase", "prefix", "suffix", "many_shot:shots=4",
    *(f"template:name={name}" for name in TEMPLATES),
)


def _gene_pool(ctx: AttackContext, genes: str) -> list[str]:
    if genes:
        pool = [g.strip() for g in genes.split("|") if g.strip()]
    else:
        chosen = [step for chain in ctx.transforms for step in chain.names if step != IDENTITY]
        pool = list(dict.fromkeys(chosen)) or list(DEFAULT_GENES)
    for gene in pool:
        make_chain(gene)  # fail early on a bad gene
    if not pool:
        raise ConfigError("fuzz needs at least one transform to search over.")
    return pool


def _mutate(genome: Genome, pool: Sequence[str], rng: random.Random, max_genes: int) -> Genome:
    genes = list(genome)
    moves = ["replace"]
    if len(genes) < max_genes:
        moves.append("add")
    if len(genes) > 1:
        moves += ["remove", "swap"]
    move = rng.choice(moves)
    if move == "add":
        genes.insert(rng.randrange(len(genes) + 1), rng.choice(pool))
    elif move == "remove":
        genes.pop(rng.randrange(len(genes)))
    elif move == "swap":
        i, j = rng.sample(range(len(genes)), 2)
        genes[i], genes[j] = genes[j], genes[i]
    else:
        genes[rng.randrange(len(genes))] = rng.choice(pool)
    return tuple(dict.fromkeys(genes))[:max_genes]


def _crossover(a: Genome, b: Genome, rng: random.Random, max_genes: int) -> Genome:
    child = a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1):]
    return tuple(dict.fromkeys(child))[:max_genes]


@attack("fuzz", tags=JAILBREAK)
def fuzz(
    generations: int = 5,
    population: int = 8,
    elite: int = 2,
    goals_per_eval: int = 4,
    max_genes: int = 3,
    final_top: int = 1,
    genes: str = "",
) -> Attack:
    """Genetic search over transform chains and templates, guided by scorer feedback."""
    if population < 2 or elite < 1 or elite >= population:
        raise ConfigError("fuzz needs population >= 2 and 1 <= elite < population.")
    if generations < 1 or goals_per_eval < 1 or max_genes < 1 or final_top < 1:
        raise ConfigError("fuzz generations, goals_per_eval, max_genes and final_top must be >= 1.")

    async def run(ctx: AttackContext) -> None:
        if not ctx.goals:
            return
        scorer = ctx.success_scorer or ""
        pool = _gene_pool(ctx, genes)
        rng = ctx.rng("fuzz")
        chains: dict[Genome, Chain] = {}

        def chain_of(genome: Genome) -> Chain:
            if genome not in chains:
                chains[genome] = make_chain("+".join(genome))
            return chains[genome]

        def fitness_of(record: AttemptRecord | None) -> float:
            if record is None:
                return 0.0
            if record.success:
                return 1.0
            return record.score_value(scorer)

        seen: dict[Genome, list[float]] = {}
        genomes: list[Genome] = []
        for _ in range(population * 50):  # small pools have fewer distinct genomes
            if len(genomes) == population:
                break
            size = rng.randint(1, max_genes)
            genome = tuple(rng.sample(pool, min(size, len(pool))))
            if genome not in genomes:
                genomes.append(genome)

        for generation in range(generations):
            batch = rng.sample(ctx.goals, min(goals_per_eval, len(ctx.goals)))
            specs = []
            for genome in genomes:
                chain = chain_of(genome)
                specs += [goal.spec(chain(goal.text), attack=ctx.attack, transform=chain.spec,
                                    meta={"generation": generation}) for goal in batch]
            records = await ctx.attempts(specs)
            for i, genome in enumerate(genomes):
                chunk = records[i * len(batch):(i + 1) * len(batch)]
                seen.setdefault(genome, []).extend(fitness_of(r) for r in chunk)
            if ctx.exhausted:
                return
            ranked = sorted(genomes, key=lambda g: (-sum(seen[g]) / len(seen[g]), g))
            if generation == generations - 1:
                break
            parents = ranked[: max(2, len(ranked) // 2)]
            children: list[Genome] = list(ranked[:elite])
            attempts = 0
            while len(children) < population and attempts < population * 20:
                attempts += 1
                a = min(rng.sample(parents, 2), key=ranked.index)
                b = min(rng.sample(parents, 2), key=ranked.index)
                child = _crossover(a, b, rng, max_genes) if rng.random() < 0.5 else a
                child = _mutate(child, pool, rng, max_genes)
                if child not in children:
                    children.append(child)
            genomes = children

        best = sorted(seen, key=lambda g: (-sum(seen[g]) / len(seen[g]), g))[:final_top]
        specs = []
        for genome in best:
            chain = chain_of(genome)
            specs += [goal.spec(chain(goal.text), attack=ctx.attack, transform=chain.spec,
                                meta={"final": True}) for goal in ctx.goals]
        await ctx.attempts(specs)

    return run
