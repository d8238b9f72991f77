"""The runner: sends attempts to a target, scores them and appends them to the store.

- **Concurrency**: at most ``concurrency`` target calls in flight (the target's own cache,
  :class:`~redline.targets.cache.CachedTarget`, answers repeats without a call).
- **Append-only log**: every attempt is written once, keyed by its content hash
  (:meth:`AttemptSpec.key`), in chunks (a chunk is scored and written while the next one
  is generated), so a killed run loses at most the two chunks in flight.
- **Resume**: records already in the store for the run are replayed instead of sent; as
  long as attacks ask in a deterministic order (they do: one round at a time), a resumed
  run makes exactly the attempts an uninterrupted run would.
- **Budgets**: ``max_queries`` counts distinct attempts (replayed ones included, so a
  resumed run stops where the uninterrupted one would) and is charged in the order the
  specs are given; ``max_seconds`` stops new attempts after that much wall time, and
  does not start a chunk that the run's pace so far (seconds per attempt answered) says
  would end after it: on a slow model one chunk can take minutes. Under a time budget a
  chunk starts only once the previous one is answered, so the pace is known.
- **Isolation**: a target error becomes an error attempt; a scorer that fails leaves that
  score unscored; neither stops the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redline.redteam.records import AttemptRecord, AttemptSpec, ScoreRecord
from redline.scorers.base import Score, ScoreInput, Scorer, score_all
from redline.targets.base import Target
from redline.types import Completion, GenerateParams, messages_to_dicts

if TYPE_CHECKING:
    from redline.scorers.encoder import Precision
    from redline.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """Limits of a run: distinct attempts and wall-clock seconds (None: unlimited)."""

    max_queries: int | None = None
    max_seconds: float | None = None


class Runner:
    """Sends, scores and logs attempts for one run.

    Args:
        target: the model under test.
        params: sampling parameters of every attempt.
        scorers: scorers by name; every attempt with a response is judged by each.
        success_scorer: the scorer whose positive label means the attack succeeded.
        store: where attempts are appended (None: kept in memory only).
        run_id: the run the attempts belong to (needed with a store).
        concurrency: most target calls in flight.
        budget: query and time limits.
        stored: records from an earlier part of the same run, replayed on resume.
        on_record: called with every record as it is settled (progress bars).
        chunk_size: attempts generated, scored and written together.
        judge_precision: the precision the scorers' encoder computes in (float32,
            bfloat16, int8; see :func:`redline.scorers.encoder.encoder_precision`).
    """

    def __init__(
        self,
        target: Target,
        *,
        params: GenerateParams,
        scorers: Mapping[str, Scorer],
        success_scorer: str | None,
        store: Store | None = None,
        run_id: str | None = None,
        concurrency: int = 16,
        budget: Budget = Budget(),
        stored: Mapping[str, AttemptRecord] | None = None,
        on_record: Callable[[AttemptRecord], None] | None = None,
        chunk_size: int = 64,
        judge_precision: Precision = "float32",
    ) -> None:
        if store is not None and run_id is None:
            raise ValueError("a run_id is needed to log attempts to a store")
        self.target = target
        self.params = params
        self.scorers = dict(scorers)
        self.success_scorer = success_scorer
        self.store = store
        self.run_id = run_id
        self.budget = budget
        self.chunk_size = max(1, chunk_size)
        self.judge_precision = judge_precision
        self.on_record = on_record
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._stored = dict(stored or {})
        self._settled: dict[str, AttemptRecord] = {}
        self._pending: dict[str, asyncio.Future[AttemptRecord | None]] = {}
        self._started = time.monotonic()
        self.used = 0
        self.queries = 0
        self._sent = 0
        self.replayed = 0
        self.exhausted: str | None = None

    # --- budget -----------------------------------------------------------------------

    def _take(self) -> bool:
        if self.exhausted:
            return False
        if self.budget.max_queries is not None and self.used >= self.budget.max_queries:
            self.exhausted = f"max queries ({self.budget.max_queries}) reached"
            return False
        if (self.budget.max_seconds is not None
                and time.monotonic() - self._started >= self.budget.max_seconds):
            self.exhausted = f"max time ({self.budget.max_seconds:g} s) reached"
            return False
        self.used += 1
        return True

    @property
    def remaining(self) -> int | None:
        """Attempts left in the query budget (None: unlimited)."""
        if self.budget.max_queries is None:
            return None
        return max(0, self.budget.max_queries - self.used)

    # --- running ----------------------------------------------------------------------

    async def run(self, specs: Sequence[AttemptSpec]) -> list[AttemptRecord | None]:
        """Make the attempts; None for those the budget did not allow.

        Repeated specs (same key) are made once and share one record.
        """
        slots: list[AttemptRecord | asyncio.Future[AttemptRecord | None] | None] = []
        fresh: list[tuple[str, AttemptSpec]] = []
        loop = asyncio.get_running_loop()
        for spec in specs:
            key = spec.key(self.params)
            known = self._settled.get(key) or self._pending.get(key)
            if known is not None:
                slots.append(known)
                continue
            if not self._take():
                slots.append(None)
                continue
            replay = self._stored.pop(key, None)
            if replay is not None:
                self.replayed += 1
                self._settle(replay)
                slots.append(replay)
                continue
            future: asyncio.Future[AttemptRecord | None] = loop.create_future()
            self._pending[key] = future
            fresh.append((key, spec))
            slots.append(future)
        await self._make_all(fresh)
        out: list[AttemptRecord | None] = []
        for slot in slots:
            out.append(await slot if isinstance(slot, asyncio.Future) else slot)
        return out

    def _out_of_time(self, chunk: int = 0) -> bool:
        """Whether time is up, or a chunk of ``chunk`` more attempts would end after it."""
        limit = self.budget.max_seconds
        if limit is None:
            return False
        elapsed = time.monotonic() - self._started
        if elapsed >= limit:
            self.exhausted = self.exhausted or f"max time ({limit:g} s) reached"
            return True
        if not chunk or not self.queries:
            return False
        # The pace so far, with the attempts still being generated ahead of this chunk.
        waiting = max(0, self._sent - self.queries)
        if elapsed + (waiting + chunk) * elapsed / self.queries < limit:
            return False
        self.exhausted = self.exhausted or (
            f"max time ({limit:g} s) reached: at {elapsed / self.queries:.1f} s per attempt, "
            f"the next {chunk} would end after it")
        return True

    def _drop(self, chunk: Sequence[tuple[str, AttemptSpec]]) -> None:
        """Give back the budget of attempts that time ran out for; they come back as None."""
        for key, _ in chunk:
            self._pending.pop(key).set_result(None)
            self.used -= 1

    def _settle(self, record: AttemptRecord) -> None:
        self._settled[record.key] = record
        if self.on_record is not None:
            self.on_record(record)

    async def _make_all(self, fresh: Sequence[tuple[str, AttemptSpec]]) -> None:
        """Generate chunk by chunk; a chunk is scored and written while the next generates."""
        previous: tuple[Sequence[tuple[str, AttemptSpec]], asyncio.Future[Any]] | None = None
        try:
            for start in range(0, len(fresh), self.chunk_size):
                chunk = fresh[start : start + self.chunk_size]
                if previous is not None and self.budget.max_seconds is not None:
                    # Under a time budget the next chunk waits for the previous one's
                    # answers, so its pace is known (scoring still overlaps generation).
                    await asyncio.wait([previous[1]])
                if self._out_of_time(len(chunk)):
                    self._drop(chunk)
                    continue
                self._sent += len(chunk)
                task = asyncio.ensure_future(
                    asyncio.gather(*(self._generate(spec) for _, spec in chunk)))
                if previous is not None:
                    await self._finish(*previous)
                previous = (chunk, task)
            if previous is not None:
                await self._finish(*previous)
        except BaseException as exc:
            if previous is not None and not previous[1].done():
                previous[1].cancel()
            for key, _ in fresh:
                future = self._pending.pop(key, None)
                if future is not None and not future.done():
                    future.set_exception(exc)
            raise

    async def _finish(self, chunk: Sequence[tuple[str, AttemptSpec]], task: asyncio.Future[Any]
                      ) -> None:
        completions: list[tuple[Completion | None, str | None, float]] = await task
        answered = [i for i, (c, _, _) in enumerate(completions) if c is not None]
        items = [self._score_input(chunk[i][1], completions[i][0]) for i in answered]
        judged = await self.score(items)
        scores: dict[int, dict[str, ScoreRecord]] = dict(zip(answered, judged, strict=True))
        records = [
            self._record(key, spec, *completions[i], scores.get(i, {}))
            for i, (key, spec) in enumerate(chunk)
        ]
        await asyncio.to_thread(self._write, records)
        for record in records:
            self._pending.pop(record.key).set_result(record)
            self._settle(record)

    async def _generate(
        self, spec: AttemptSpec
    ) -> tuple[Completion | None, str | None, float]:
        async with self._semaphore:
            started = time.perf_counter()
            try:
                completion = await self.target.generate(spec.messages, self.params)
            except Exception as exc:  # noqa: BLE001 - one failing attempt never kills the run
                log.debug("attempt failed: %s", exc, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"
                return None, error, (time.perf_counter() - started) * 1000
            finally:
                self.queries += 1
        elapsed = (time.perf_counter() - started) * 1000
        if completion.finish_reason == "error":
            return None, f"target reported an error: {completion.text[:300]}", elapsed
        return completion, None, elapsed

    @staticmethod
    def _score_input(spec: AttemptSpec, completion: Completion | None) -> ScoreInput:
        return ScoreInput(
            messages=spec.messages,
            response=completion.text if completion else None,
            metadata={"goal": spec.goal, "category": spec.category, "probe": spec.probe,
                      "attack": spec.attack, "transform": spec.transform,
                      # A transform hides the request (base64, a template): judge the
                      # answer against the request itself.
                      **({"request": spec.goal}
                         if spec.transform != "none" and len(spec.messages) == 1 else {})},
        )

    async def score(self, items: Sequence[ScoreInput]) -> list[dict[str, ScoreRecord]]:
        """Judge items with every scorer; a failing scorer leaves its scores unscored."""
        out: list[dict[str, ScoreRecord]] = [{} for _ in items]
        if not items:
            return out
        from redline.scorers.encoder import encoder_precision

        with encoder_precision(self.judge_precision):
            for name, scorer in self.scorers.items():
                scores = await _score_isolated(name, scorer, items)
                for judged, score in zip(out, scores, strict=True):
                    judged[name] = ScoreRecord(
                        value=score.value, label=score.label, category=score.category,
                        explanation=score.explanation[:500], outcome=_outcome(score),
                    )
        return out

    def _record(
        self,
        key: str,
        spec: AttemptSpec,
        completion: Completion | None,
        error: str | None,
        latency_ms: float,
        scores: dict[str, ScoreRecord],
    ) -> AttemptRecord:
        success = None
        if completion is not None and self.success_scorer is not None:
            judged = scores.get(self.success_scorer)
            success = judged.label if judged is not None else None
        return AttemptRecord(
            key=key, attack=spec.attack, probe=spec.probe, prompt_id=spec.prompt_id,
            category=spec.category, goal=spec.goal, transform=spec.transform,
            messages=messages_to_dicts(spec.messages), params=self.params.to_dict(),
            response=completion.text if completion else None,
            finish_reason=completion.finish_reason if completion else "error",
            scores=scores, success=success, error=error, latency_ms=round(latency_ms, 3),
            cached=bool(completion and completion.cached), tags=list(spec.tags),
            meta=dict(spec.meta),
        )

    def _write(self, records: Sequence[AttemptRecord]) -> None:
        if self.store is None or not records:
            return
        write_attempts(self.store, self.run_id or "", records)


def _outcome(score: Score) -> Any:
    """The most likely outcome a response judge read, or None for other scorers."""
    outcome = score.details.get("outcome")
    if not isinstance(outcome, Mapping) or not outcome:
        return None
    return max(outcome, key=lambda k: float(outcome[k]))


async def _score_isolated(name: str, scorer: Scorer, items: Sequence[ScoreInput]) -> list[Score]:
    try:
        scores = await score_all(scorer, items)
        if len(scores) == len(items):
            return scores
        raise ValueError(f"returned {len(scores)} scores for {len(items)} items")
    except Exception as exc:  # noqa: BLE001 - retried one by one below
        log.warning("scorer %s failed on a batch (%s); scoring one by one", name, exc)
    out: list[Score] = []
    for item in items:
        try:
            out.append(await scorer(item))
        except Exception as exc:  # noqa: BLE001 - one failing scorer never kills the run
            out.append(Score.unscored(name, f"scorer failed: {type(exc).__name__}: {exc}"))
    return out


def write_attempts(store: Store, run_id: str, records: Sequence[AttemptRecord]) -> None:
    """Append records in one transaction; keys the run already has are skipped."""
    from redline.store.models import Attempt

    rows = [{"run_id": run_id, **r.to_row()} for r in records]
    dialect = store.engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for row in rows:
            store.add_attempt(**row)
        return
    dialect_insert: Any
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    statement = dialect_insert(Attempt).on_conflict_do_nothing(index_elements=["run_id", "key"])
    with store.session() as session:
        session.execute(statement, rows)


def stored_records(store: Store, run_id: str) -> dict[str, AttemptRecord]:
    """Every record a run already has, by key (for resuming)."""
    return {row.key: AttemptRecord.from_row(row) for row in store.attempts(run_id)}
