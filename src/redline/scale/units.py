"""Units of distributed eval work, and running one in a worker process.

A unit is one target with some suite shards (a slice of a suite's samples, cut on
multiples of :data:`~redline.evals.runner.CHUNK`, so every batch the target sees is the
one the local executor gives it). A worker runs each shard through the same
:func:`~redline.evals.runner.score_chunk` as ``redline eval``, and writes one store
attempt per sample, keyed by :func:`attempt_key`, in one transaction per chunk. So a
unit that is run again (a retried worker, a resumed driver) skips what is stored and
never writes a sample twice, and the driver rebuilds each suite's result from the store.

The worker process keeps its last target loaded, its scorers and its store connection
between units, so the many shards of one target pay for loading it once per process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from redline.evals.results import SampleRecord, ScoreRecord
from redline.store import Attempt, Store
from redline.types import content_hash

if TYPE_CHECKING:
    from redline.evals.suite import Sample, Suite
    from redline.scorers.base import Scorer
    from redline.targets.base import Target


class Shard(BaseModel):
    """Samples ``start`` to ``stop`` (exclusive) of one suite."""

    suite: str
    start: int
    stop: int


class EvalUnit(BaseModel):
    """One target and the suite shards to run on it; a Ray task's whole argument."""

    run_id: str
    store_url: str
    target: str
    options: dict[str, str] = Field(default_factory=dict)
    cache: bool = True
    model: str | None = None
    """Model files to digest into the results (None: the target's own folder)."""
    digest: bool = True
    """Digest the model's files into the results (``eval`` does; ``eval-series`` does not)."""
    seed: int = 0
    size: int | None = None
    shards: list[Shard]


class TargetRequest(Protocol):
    """What a worker needs to load a unit's target (an eval or a red-team unit)."""

    @property
    def target(self) -> str: ...  # noqa: D102
    @property
    def options(self) -> dict[str, str]: ...  # noqa: D102
    @property
    def cache(self) -> bool | None: ...  # noqa: D102
    @property
    def model(self) -> str | None: ...  # noqa: D102
    @property
    def digest(self) -> bool: ...  # noqa: D102


class UnitDone(BaseModel):
    """What a unit did, for progress and for measuring the executor's overhead."""

    written: int
    skipped: int
    seconds: float
    load_seconds: float


def attempt_key(target: str, suite: Suite, sample_id: str) -> str:
    """The store key of one sample's attempt within a run."""
    return content_hash("eval-sample", target, suite.name, suite.version, sample_id)


def suite_samples(suite: Suite, *, seed: int, size: int | None) -> list[Sample]:
    """The suite's samples, made once per process for each (suite, seed, size)."""
    key = (suite.name, suite.version, seed, size)
    if key not in _state.samples:
        _state.samples[key] = list(suite.samples(seed=seed, size=size))
    return _state.samples[key]


def shard_work(unit: EvalUnit, shard: Shard) -> tuple[Suite, list[Sample], list[str]]:
    """A shard's suite, its samples and their attempt keys."""
    from redline.evals import get_suite

    suite = get_suite(shard.suite)
    samples = suite_samples(suite, seed=unit.seed, size=unit.size)[shard.start : shard.stop]
    return suite, samples, [attempt_key(unit.target, suite, s.id) for s in samples]


def stored_keys(store: Store, run_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the run already has in the store."""
    found: set[str] = set()
    with store.session() as s:
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            found.update(s.scalars(
                select(Attempt.key).where(Attempt.run_id == run_id, Attempt.key.in_(part))
            ))
    return found


def count_attempts(store: Store, run_id: str) -> int:
    """How many attempts the run has stored (progress across every worker)."""
    with store.session() as s:
        return int(s.scalar(select(func.count()).where(Attempt.run_id == run_id)) or 0)


def execute_unit(data: dict[str, Any]) -> dict[str, Any]:
    """Run one unit (given as :class:`EvalUnit` data) in this process; :class:`UnitDone` data.

    Ray calls this in its worker processes; any process that can reach the store can.
    """
    unit = EvalUnit.model_validate(data)
    loop = _state.loop()
    return loop.run_until_complete(_execute(unit)).model_dump()


async def _execute(unit: EvalUnit) -> UnitDone:
    from redline.evals.runner import CHUNK, score_chunk

    started = time.perf_counter()
    store = _state.store(unit.store_url)
    work: list[tuple[Suite, list[Sample], list[str]]] = []
    skipped = 0
    for shard in unit.shards:
        suite, samples, keys = shard_work(unit, shard)
        done = stored_keys(store, unit.run_id, keys)
        skipped += len(done)
        if len(done) < len(keys):
            work.append((suite, samples, keys))
    if not work:
        return UnitDone(written=0, skipped=skipped, seconds=time.perf_counter() - started,
                        load_seconds=0.0)

    target, identity, load_seconds = await _state.target(unit)
    written = 0
    for suite, samples, keys in work:
        scorers = _state.scorers_of(suite)
        for start in range(0, len(samples), CHUNK):
            chunk, chunk_keys = samples[start : start + CHUNK], keys[start : start + CHUNK]
            # Re-read: another attempt of this unit (a retry) may have written it since.
            if len(stored_keys(store, unit.run_id, chunk_keys)) == len(chunk_keys):
                skipped += len(chunk)
                continue
            records = await score_chunk(target, suite, chunk, suite.params, scorers)
            written += _write(store, unit.run_id, chunk_keys, records,
                              {"generate": suite.params.to_dict(), **identity})
    return UnitDone(written=written, skipped=skipped, seconds=time.perf_counter() - started,
                    load_seconds=load_seconds)


def _write(store: Store, run_id: str, keys: Sequence[str], records: Sequence[SampleRecord],
           params: dict[str, Any]) -> int:
    rows: list[dict[str, Any]] = [
        {"key": key, "messages": record.messages, "response": record.response,
         "error": record.error, "params": params,
         "scores": {name: score.model_dump(mode="json") for name, score in record.scores.items()}}
        for key, record in zip(keys, records, strict=True)
    ]
    try:
        with store.session() as s:
            s.add_all(Attempt(run_id=run_id, **row) for row in rows)
        return len(rows)
    except IntegrityError:  # some were written meanwhile: add the others one by one
        return sum(store.add_attempt(run_id, **row) for row in rows)


def records_of(store: Store, run_id: str) -> dict[str, Attempt]:
    """Every attempt of a run by key."""
    return {a.key: a for a in store.attempts(run_id)}


def sample_record(sample: Sample, attempt: Attempt) -> SampleRecord:
    """The :class:`SampleRecord` that ``redline eval`` makes, from the sample and its attempt."""
    return SampleRecord(
        id=sample.id, messages=list(attempt.messages), expected=sample.expected,
        metadata=dict(sample.metadata), response=attempt.response, error=attempt.error,
        scores={name: ScoreRecord.model_validate(score)
                for name, score in (attempt.scores or {}).items()},
    )


class _WorkerState:
    """What one worker process keeps between units: a loop, stores, a target, scorers."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stores: dict[str, Store] = {}
        self._target: tuple[str, Target, dict[str, Any]] | None = None
        self._scorers: dict[str, Scorer] = {}
        self.samples: dict[tuple[str, str, int, int | None], list[Sample]] = {}

    def loop(self) -> asyncio.AbstractEventLoop:
        # One loop for the process: a loaded target may hold tasks or clients bound to it.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def scorers_of(self, suite: Suite) -> dict[str, Scorer]:
        """The suite's scorers by name, each made once per process and configuration."""
        from redline.scorers.base import get_scorer

        mine = {}
        for ref in suite.scorers:
            key = content_hash(ref.name, dict(ref.config))
            if key not in self._scorers:
                self._scorers[key] = get_scorer(ref.name, **dict(ref.config))
            mine[ref.name] = self._scorers[key]
        return mine

    def named_scorer(self, name: str) -> Scorer:
        """A scorer with its default configuration, made once per process."""
        from redline.scorers.base import get_scorer

        key = content_hash(name, {})
        if key not in self._scorers:
            self._scorers[key] = get_scorer(name)
        return self._scorers[key]

    def store(self, url: str) -> Store:
        if url not in self._stores:
            self._stores[url] = Store(url)
        return self._stores[url]

    async def target(self, unit: TargetRequest) -> tuple[Target, dict[str, Any], float]:
        """The unit's target, loaded once; its identity (fingerprint, model digest)."""
        from redline.attest.digest import digest_model
        from redline.evals.runner import model_path_of
        from redline.targets import resolve_target

        key = content_hash(unit.target, unit.options, unit.cache, unit.model, unit.digest)
        if self._target is not None and self._target[0] == key:
            return self._target[1], self._target[2], 0.0
        if self._target is not None:  # one model at a time: checkpoints are loaded in turn
            old, self._target = self._target[1], None
            await old.aclose()
        started = time.perf_counter()
        target = resolve_target(unit.target, cache=unit.cache, **unit.options)
        files = (Path(unit.model) if unit.model else model_path_of(target)) if unit.digest else None
        identity = {
            "target_fingerprint": target.fingerprint,
            "model_digest": digest_model(files).sha256 if files is not None else None,
        }
        self._target = (key, target, identity)
        return target, identity, time.perf_counter() - started


_state = _WorkerState()
