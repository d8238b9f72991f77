"""``redline redteam --executor ray``: a red-team run cut into units, rebuilt from the store.

The driver plans the run as the local engine would (:func:`~redline.redteam.engine.run_redteam`):
the same goals, transform chains and attacks. A static attack's attempts are known in
advance (every goal under every chain, in that order), so the driver lists them, charges
a ``--max-queries`` budget on them in that order, and cuts the list into units of
:func:`shard_size` attempts: whole batches of the runner, so every batch the target and
the scorers see is the one the local executor gives them (a scorer's numbers depend, in
their last digits, on what else is in its batch). An adaptive attack (fuzz,
pair, tap, crescendo, a white-box search) decides its next attempts from the answers to
its last ones, so it is one unit, as it is one loop locally.

A worker runs a unit through the local engine's own parts (the attack, the
:class:`~redline.redteam.runner.Runner`, the scorers), which write every attempt to the
store under its content key and replay what the store already has. So a retried unit
(its worker died) or a resumed run (its driver died) sends only what is missing, never
writes an attempt twice, and the report is built from the stored attempts in the local
engine's order: with greedy parameters it is the local executor's report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from redline._version import __version__
from redline.errors import ConfigError
from redline.redteam.engine import RedteamConfig, load_goals, load_plugins, save_findings
from redline.redteam.records import AttemptRecord, AttemptSpec
from redline.types import content_hash

if TYPE_CHECKING:
    from redline.redteam.attacks.base import Goal
    from redline.redteam.report import RedteamReport
    from redline.redteam.transforms import Chain
    from redline.scale.cluster import Cluster
    from redline.store import Store



def shard_size(config: RedteamConfig) -> int:
    """Attempts of a static attack per unit: two of the runner's batches.

    So a unit amortises its scheduling and a lost worker loses little.
    """
    return 2 * config.chunk_size()

STATIC = "static"


class RedteamUnit(BaseModel):
    """One attack on some goals under some chains; a Ray task's whole argument."""

    run_id: str
    store_url: str
    config: dict[str, Any]
    """The run's :class:`~redline.redteam.engine.RedteamConfig`."""
    options: dict[str, str] = Field(default_factory=dict)
    cache: bool | None = None
    attack: int
    """Index of the attack in the plan."""
    items: list[tuple[int, int]] | None = None
    """A static attack's attempts, as (goal, chain) indices in plan order (None: an
    adaptive attack, on every goal and chain)."""
    max_queries: int | None = None
    """What is left of the run's query budget for this (adaptive) unit."""
    deadline: float | None = None
    """Wall-clock time (``time.time()``) after which no attempt is started."""

    @property
    def target(self) -> str:
        """The target's spec."""
        return str(self.config["target"])

    @property
    def model(self) -> str | None:
        """No model files are digested into a red-team run."""
        return None

    @property
    def digest(self) -> bool:
        """No model files are digested into a red-team run."""
        return False


class RedteamUnitDone(BaseModel):
    """What a unit did: the counts the report sums, and its time."""

    written: int = 0
    replayed: int = 0
    queries: int = 0
    aux_queries: int = 0
    exhausted: str | None = None
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    load_seconds: float = 0.0


@dataclass
class RedteamPlan:
    """A red-team run as units: the goals, chains, attacks and static attempts in order."""

    config: RedteamConfig
    options: dict[str, str]
    cache: bool | None

    def __post_init__(self) -> None:
        from redline.redteam.attacks.base import make_attack
        from redline.redteam.probes import select_probes
        from redline.redteam.transforms import make_chain

        load_plugins(self.config.plugins)
        patterns, attack_specs, transform_specs, limit = self.config.plan()
        self.goals: list[Goal] = load_goals(select_probes(patterns), limit,
                                            self.config.categories)
        self.chains: list[Chain] = [make_chain(t) for t in transform_specs]
        self.attacks = [make_attack(a) for a in attack_specs]
        self.exhausted: str | None = None
        self.static: list[tuple[int, int, int, str]] = []
        """Static attempts the budget allows, in the local engine's order:
        (attack, goal, chain, key)."""
        self.adaptive: dict[int, int | None] = {}
        """Adaptive attacks to run, by index, with what is left of the query budget."""
        self._plan_budget()

    def _plan_budget(self) -> None:
        budget = self.config.max_queries
        params = self.config.params()
        seen: set[str] = set()
        used = 0
        for index, (name, _, _) in enumerate(self.attacks):
            if self.exhausted:
                break  # the local engine starts no attack once the budget is spent
            if budget is not None and self.adaptive:
                raise ConfigError(
                    "--max-queries with --executor ray needs at most one adaptive attack "
                    "(fuzz, pair, tap, crescendo, ...), placed last: what it spends is "
                    "only known once it has run. Drop --max-queries or run it locally."
                )
            if name.partition(":")[0] != STATIC:
                self.adaptive[index] = None if budget is None else budget - used
                continue
            for g, goal in enumerate(self.goals):
                for c, chain in enumerate(self.chains):
                    key = goal.spec(chain(goal.text), attack=name,
                                    transform=chain.spec).key(params)
                    if key in seen:
                        continue  # the runner makes a repeated attempt once, and charges once
                    if budget is not None and used >= budget:
                        self.exhausted = f"max queries ({budget}) reached"
                        break
                    seen.add(key)
                    used += 1
                    self.static.append((index, g, c, key))
                if self.exhausted:
                    break

    @cached_property
    def run_id(self) -> str:
        """A hash of everything that decides the attempts, so the same command resumes."""
        from redline.scale.evals import _stamp

        return content_hash("redteam", self.config.model_dump(mode="json"), self.options,
                            _stamp(self.config.target.partition(":")[2]))[:16]

    @property
    def total(self) -> int | None:
        """Attempts the run makes, if known in advance (not with an unbudgeted adaptive attack)."""
        if any(left is None for left in self.adaptive.values()):
            return None
        return len(self.static) + sum(left or 0 for left in self.adaptive.values())

    def units(self, run_id: str, store_url: str, deadline: float | None
              ) -> list[tuple[RedteamUnit, list[str]]]:
        """Every unit, with the keys of its attempts (empty for an adaptive one)."""
        config = self.config.model_dump(mode="json")
        common = RedteamUnit(run_id=run_id, store_url=store_url, config=config,
                             options=self.options, cache=self.cache, deadline=deadline, attack=0)
        groups: dict[int, list[tuple[int, int, str]]] = {}
        for attack, goal, chain, key in self.static:
            groups.setdefault(attack, []).append((goal, chain, key))
        out: list[tuple[RedteamUnit, list[str]]] = []
        step = shard_size(self.config)
        for attack, items in groups.items():  # each attack is one runner call locally
            for start in range(0, len(items), step):
                part = items[start : start + step]
                out.append((common.model_copy(update={
                    "attack": attack, "items": [(g, c) for g, c, _ in part]}),
                    [k for _, _, k in part]))
        out += [(common.model_copy(update={"attack": index, "max_queries": left}), [])
                for index, left in self.adaptive.items() if left is None or left > 0]
        return out

    def ordered(self, records: Sequence[AttemptRecord]) -> list[AttemptRecord]:
        """Records in the order the local engine stores them.

        Attack by attack; a static attack's in plan order, an adaptive one's as stored.
        """
        position = {key: i for i, (_, _, _, key) in enumerate(self.static)}
        attack_index: dict[str, int] = {}
        for i, (name, _, _) in enumerate(self.attacks):
            attack_index.setdefault(name, i)
        stored = {r.key: i for i, r in enumerate(records)}
        return sorted(records, key=lambda r: (attack_index.get(r.attack, len(self.attacks)),
                                              position.get(r.key, len(position) + stored[r.key])))


Progress = Callable[[int, int | None], None]
"""Called with (attempts stored, attempts in the run or None) as workers store them."""


def run_redteam_on(
    plan: RedteamPlan,
    cluster: Cluster,
    store: Store,
    *,
    run_id: str | None = None,
    resume: bool = False,
    retry_errors: bool = False,
    progress: Progress | None = None,
) -> RedteamReport:
    """Run (or resume) a red-team plan on the cluster and build its report from the store.

    Args:
        plan: the run.
        cluster: where the units run.
        store: the store every worker reaches (:func:`~redline.scale.evals.workers_store`).
        run_id: the run's id (default: the plan's hash, so the same command resumes).
        resume: the run must exist (``--resume RUN``).
        retry_errors: send the attempts that stored an error again.
        progress: told of stored attempts as the workers store them.

    Raises:
        ConfigError: no run to resume; an unknown scorer or a white-box attack on a target
            without internals (raised by the worker that found it).
        RedlineError: a unit failed or its workers died more than Ray retries.
    """
    from redline.redteam.report import build_report
    from redline.redteam.runner import stored_records

    started = time.monotonic()
    deadline = time.time() + plan.config.max_seconds if plan.config.max_seconds else None
    run_id = run_id or plan.run_id
    config = plan.config
    retried = 0
    found = check_run(store, run_id, config, resume=resume)
    if not found:
        store.create_run("redteam", config.target, config.model_dump(mode="json"),
                         run_id=run_id)
    elif retry_errors:
        errored = [r.key for r in stored_records(store, run_id).values() if r.error is not None]
        retried = store.forget_attempts(run_id, errored)

    units = plan.units(run_id, store.url, deadline)
    have = set(stored_keys(store, run_id, [k for _, keys in units for k in keys]))
    pending = [u for u, keys in units if not keys or not set(keys) <= have]
    replayed = sum(len(keys) for u, keys in units if keys and set(keys) <= have)
    if progress is not None:
        progress(len(have), plan.total)
    done = [RedteamUnitDone.model_validate(d) for d in cluster.run(
        pending, store=store, run_id=run_id, total=plan.total, progress=progress,
        execute=execute_redteam_unit)]
    by_attack = sorted(zip(pending, done, strict=True), key=lambda p: p[0].attack)

    notes = []
    if retried:
        notes.append(f"{retried} errored attempts of the earlier part were sent again")
    if not plan.goals:
        notes.append("no goals: the chosen probes and categories gave no prompts")
    notes += [n for _, d in by_attack for n in d.notes]
    exhausted = plan.exhausted or next((d.exhausted for _, d in by_attack if d.exhausted), None)
    status = "stopped" if exhausted else "finished"
    store.finish_run(run_id, status)
    records = plan.ordered(list(stored_records(store, run_id).values()))
    reached = {r.category for r in records}
    not_reached = sorted({g.category for g in plan.goals} - reached)
    if not_reached:
        notes.append(f"no attempts in categories {', '.join(not_reached)}: "
                     + (f"the budget ran out first ({exhausted})" if exhausted
                        else "the attacks sent none of their goals"))
    report = build_report(
        records, run_id=run_id, target=config.target, status=status,
        config=config.model_dump(mode="json"), success_scorer=config.success_scorer,
        redline_version=__version__, stop_reason=exhausted,
        duration_s=round(time.monotonic() - started, 3),
        queries=sum(d.queries for d in done), replayed=replayed + sum(d.replayed for d in done),
        aux_queries=sum(d.aux_queries for d in done), notes=notes,
        categories_not_reached=not_reached,
    )
    save_findings(store, run_id, report)
    return report


def check_run(store: Store, run_id: str, config: RedteamConfig, *, resume: bool) -> bool:
    """Whether the run is in the store already; it must be this plan's.

    Raises:
        ConfigError: ``resume`` and no such run; a run of that id made by another command.
    """
    found = store.get_run(run_id)
    if found is None:
        if resume:
            raise ConfigError(f"No run '{run_id}' in the store to resume; check --resume and "
                              "REDLINE_DB.")
        return False
    if found.kind != "redteam" or RedteamConfig.model_validate(found.config) != config:
        raise ConfigError(
            f"Run '{run_id}' in the store was made by another command ({found.kind} on "
            f"{found.target}); give another --run-id, or leave it out, or continue that run "
            f"with --resume {run_id}.")
    return True


def stored_keys(store: Store, run_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the run already has."""
    from redline.scale.units import stored_keys as keys_in

    return keys_in(store, run_id, keys)


def records_for(store: Store, run_id: str, keys: Sequence[str]) -> dict[str, AttemptRecord]:
    """The run's records of these keys, by key."""
    from redline.store.models import Attempt

    found: dict[str, AttemptRecord] = {}
    with store.session() as s:
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            for row in s.scalars(select(Attempt).where(Attempt.run_id == run_id,
                                                       Attempt.key.in_(part))):
                found[row.key] = AttemptRecord.from_row(row)
    return found


def execute_redteam_unit(data: dict[str, Any]) -> dict[str, Any]:
    """Run one unit (given as :class:`RedteamUnit` data) in this process.

    Ray calls this in its worker processes; any process that can reach the store can.
    Returns :class:`RedteamUnitDone` data.
    """
    from redline.scale.units import _state

    unit = RedteamUnit.model_validate(data)
    return _state.loop().run_until_complete(_execute(unit)).model_dump()


async def _execute(unit: RedteamUnit) -> RedteamUnitDone:
    from redline.redteam.attacks.base import AttackContext, make_attack, whitebox_model
    from redline.redteam.runner import Budget, Runner, stored_records
    from redline.scale.units import _state
    from redline.targets import resolve_target

    started = time.perf_counter()
    config = RedteamConfig.model_validate(unit.config)
    goals, chains = _work(config)
    name, run_attack, info = make_attack(config.plan()[1][unit.attack])
    store = _state.store(unit.store_url)
    params = config.params()
    specs: list[AttemptSpec] = []
    if unit.items is not None:  # a static shard: the static attack's attempts, in its order
        specs = [goals[g].spec(chains[c](goals[g].text), attack=name, transform=chains[c].spec)
                 for g, c in unit.items]
        stored = records_for(store, unit.run_id, [spec.key(params) for spec in specs])
        if len(stored) == len(specs):
            return RedteamUnitDone(replayed=len(stored), seconds=time.perf_counter() - started)
    else:  # an adaptive attack replays its earlier rounds from every stored attempt
        stored = stored_records(store, unit.run_id)

    seconds = None
    if unit.deadline is not None:
        seconds = unit.deadline - time.time()
        if seconds <= 0:
            return RedteamUnitDone(exhausted=f"max time ({config.max_seconds:g} s) reached",
                                   seconds=time.perf_counter() - started)
    target, _, load_seconds = await _state.target(unit)
    if info.whitebox:
        whitebox_model(target, name)
    scorers = {n: _state.named_scorer(n)
               for n in dict.fromkeys([*config.scorers, config.success_scorer])}
    runner = Runner(
        target, params=params, scorers=scorers, success_scorer=config.success_scorer,
        store=store, run_id=unit.run_id, concurrency=config.concurrency,
        budget=Budget(unit.max_queries, seconds), stored=stored,
        chunk_size=config.chunk_size(), judge_precision=config.judge_precision,
    )
    attacker = resolve_target(config.attacker, cache=unit.cache) if config.attacker else None
    judge = resolve_target(config.judge, cache=unit.cache) if config.judge else None
    helpers = [m for m in (attacker, judge) if m is not None]
    ctx = AttackContext(target, runner, goals, chains, seed=config.seed, attacker=attacker,
                        judge=judge, attack=name)
    notes = []
    try:
        if unit.items is not None:
            await ctx.attempts(specs)
        else:
            await run_attack(ctx)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - as locally: a failing attack never kills the run
        notes.append(f"attack {name} stopped early: {type(exc).__name__}: {exc}")
    finally:
        for model in helpers:
            await model.aclose()
    exhausted = runner.exhausted
    if exhausted is not None and exhausted.startswith("max queries"):
        # The unit had what the attacks before it left; the run's budget is what ran out.
        exhausted = f"max queries ({config.max_queries}) reached"
    return RedteamUnitDone(
        written=runner.used - runner.replayed, replayed=runner.replayed,
        queries=runner.queries, aux_queries=ctx.aux_queries, exhausted=exhausted, notes=notes,
        seconds=time.perf_counter() - started, load_seconds=load_seconds,
    )


_WORK: dict[str, tuple[list[Goal], list[Chain]]] = {}


def _work(config: RedteamConfig) -> tuple[list[Goal], list[Chain]]:
    """The run's goals and chains, made once per worker process and run."""
    from redline.redteam.probes import select_probes
    from redline.redteam.transforms import make_chain

    key = content_hash(config.model_dump(mode="json"))
    if key not in _WORK:
        load_plugins(config.plugins)
        patterns, _, transforms, limit = config.plan()
        _WORK[key] = (load_goals(select_probes(patterns), limit, config.categories),
                      [make_chain(t) for t in transforms])
    return _WORK[key]
