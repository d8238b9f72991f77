"""``redline eval`` and ``eval-series`` on an executor: plan units, resume, run, collect.

The driver never loads a model. It names the run by a hash of what is asked (targets,
suites with versions, seed, size, options), so the same command run again after a
killed driver finds its run in the store, sends only the units with samples still
missing, and rebuilds every result from the stored attempts. Attempts that stored an
error (a target that was down) are forgotten on resume and sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from redline.errors import StoreError
from redline.evals.results import EvalResult
from redline.evals.runner import CHUNK, suite_result
from redline.evals.series import Checkpoint, CheckpointResults
from redline.evals.suite import get_suite
from redline.scale.cluster import Cluster
from redline.scale.units import (
    EvalUnit,
    Shard,
    attempt_key,
    records_of,
    sample_record,
    shard_work,
    suite_samples,
)
from redline.store import Store
from redline.types import content_hash

SHARD = 2 * CHUNK
"""Samples per shard of ``redline eval``: a few batches, so a unit amortises its
scheduling and a lost worker loses little."""


@dataclass(frozen=True)
class Job:
    """One target and the suites to run on it (``eval``: one; ``eval-series``: one a checkpoint)."""

    target: str
    suites: tuple[str, ...]
    """Suite names, or suite files as absolute paths (workers load them by reference)."""
    model: str | None = None


@dataclass
class Plan:
    """The run: its id, its jobs and what every worker needs to run them."""

    kind: str
    jobs: list[Job]
    seed: int
    size: int | None
    options: dict[str, str]
    cache: bool
    shard_size: int | None
    digest: bool = True

    @cached_property
    def run_id(self) -> str:
        """A hash of everything that decides the results, so a re-run finds its run."""
        suites = {ref: get_suite(ref) for job in self.jobs for ref in job.suites}
        return content_hash(
            self.kind,
            [[j.target, j.model, _stamp(j.target.partition(":")[2]), _stamp(j.model),
              [(suites[r].name, suites[r].version) for r in j.suites]] for j in self.jobs],
            self.seed, self.size, self.options,
        )[:16]

    def units(self, store_url: str) -> list[EvalUnit]:
        """Every unit of the plan: one per shard, or one per job when not sharded."""
        units = []
        for job in self.jobs:
            shards = []
            for ref in job.suites:
                n = len(suite_samples(get_suite(ref), seed=self.seed, size=self.size))
                step = self.shard_size or max(n, 1)
                shards += [Shard(suite=ref, start=i, stop=min(i + step, n))
                           for i in range(0, n, step)]
            groups = [[s] for s in shards] if self.shard_size else [shards]
            units += [
                EvalUnit(run_id=self.run_id, store_url=store_url, target=job.target,
                         options=self.options, cache=self.cache, model=job.model,
                         digest=self.digest, seed=self.seed, size=self.size, shards=group)
                for group in groups
            ]
        return units


Progress = Callable[[int, int | None], None]
"""Called with (attempts stored, attempts in the run, None when not known in advance) as
workers store them."""


def run_plan(plan: Plan, cluster: Cluster, store: Store, *,
             progress: Progress | None = None) -> list[list[EvalResult]]:
    """Run (or resume) a plan on the cluster; the results of each job, suite by suite.

    Raises:
        StoreError: the store is not reachable by path from the workers (relative SQLite).
        ConfigError: a suite or target that does not resolve; a unit that failed.
    """
    started = datetime.now(UTC)
    run_id = plan.run_id
    if store.get_run(run_id) is None:
        store.create_run(plan.kind, plan.jobs[0].target if len(plan.jobs) == 1 else
                         f"{len(plan.jobs)} checkpoints", _config(plan), run_id=run_id)
    else:
        errored = [k for k, a in records_of(store, run_id).items() if a.error is not None]
        store.forget_attempts(run_id, errored)
    units = plan.units(store.url)
    total = sum(s.stop - s.start for u in units for s in u.shards)
    stored = set(records_of(store, run_id))
    pending = [u for u in units
               if not all(set(shard_work(u, s)[2]) <= stored for s in u.shards)]
    if progress is not None:
        progress(len(stored), total)
    cluster.run(pending, store=store, run_id=run_id, total=total, progress=progress)
    results = collect(plan, store, started=started)
    store.finish_run(run_id, "finished" if all(r.status == "ok" for rs in results for r in rs)
                     else "failed")
    return results


def collect(plan: Plan, store: Store, *, started: datetime) -> list[list[EvalResult]]:
    """Each job's results, rebuilt from the run's attempts in the store.

    Raises:
        StoreError: a sample has no attempt (the run is incomplete).
    """
    stored = records_of(store, plan.run_id)
    out = []
    for job in plan.jobs:
        results = []
        for ref in job.suites:
            suite = get_suite(ref)
            samples = suite_samples(suite, seed=plan.seed, size=plan.size)
            attempts = [stored.get(attempt_key(job.target, suite, s.id)) for s in samples]
            missing = sum(a is None for a in attempts)
            if missing:
                raise StoreError(
                    f"Run {plan.run_id} has {missing} of {len(samples)} samples of {suite.name} "
                    f"on {job.target} missing from the store at {store.url}; run the same "
                    "command again to finish it."
                )
            first = attempts[0].params if attempts and attempts[0] is not None else {}
            results.append(suite_result(
                suite, samples,
                [sample_record(s, a) for s, a in zip(samples, attempts, strict=True) if a],
                target=job.target, fingerprint=str(first.get("target_fingerprint", "")),
                seed=plan.seed, params=suite.params,
                model_digest=first.get("model_digest"), started=started,
            ))
        out.append(results)
    return out


def workers_store() -> Store:
    """The store (``REDLINE_DB``) by a URL every worker can open: a SQLite path made absolute.

    SQLite serves the workers of one machine; a cluster of several needs PostgreSQL
    (``REDLINE_DB=postgresql+psycopg://...``) that every node reaches.
    """
    from redline import paths

    url = paths.database_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    return Store(url)


def eval_plan(target: str, suites: Sequence[str], *, seed: int, size: int | None,
              options: dict[str, str], cache: bool, model: Path | None) -> Plan:
    """``redline eval``: one target, each suite cut into shards of :data:`SHARD` samples."""
    return Plan("eval", [Job(target, _refs(suites), str(model.resolve()) if model else None)],
                seed, size, options, cache, SHARD)


def series_plan(checkpoints: Sequence[tuple[Checkpoint, str]], suites: Sequence[str], *,
                seed: int, size: int | None, options: dict[str, str]) -> Plan:
    """``redline eval-series``: one unit per checkpoint (its target spec), every suite whole."""
    refs = _refs(suites)
    return Plan("eval-series", [Job(spec, refs) for _, spec in checkpoints], seed, size,
                options, False, None, digest=False)


def series_runs(checkpoints: Sequence[Checkpoint],
                results: list[list[EvalResult]]) -> list[CheckpointResults]:
    """Pair each checkpoint with its results, in training order."""
    return [CheckpointResults(checkpoint=c, results=r)
            for c, r in zip(checkpoints, results, strict=True)]


def _stamp(where: str | None) -> list[tuple[str, int, int]]:
    """Names, sizes and modification times of a local model's files (empty if not a path).

    In the run id, so a model retrained in the same folder starts a new run instead of
    resuming from the old weights' samples; the driver reads only the file metadata.
    """
    path = Path(where) if where else None
    if path is None or not path.exists():
        return []
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]


def _refs(suites: Sequence[str]) -> tuple[str, ...]:
    # A suite file is named by its absolute path, so workers in any folder load it.
    from redline.evals.files import is_suite_file

    return tuple(str(Path(s).resolve()) if is_suite_file(s) else s for s in suites)


def _config(plan: Plan) -> dict[str, object]:
    return {"jobs": [[j.target, list(j.suites), j.model] for j in plan.jobs], "seed": plan.seed,
            "size": plan.size, "options": plan.options, "cache": plan.cache}
