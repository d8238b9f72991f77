"""What the dashboard reads from the store: runs, attempts and guard events, read-only.

Every page is a few indexed queries whose cost does not grow with the page a user asks
for: the attempts table pages by keyset (``after`` an attempt id, never an OFFSET), and a
run's rates come from one grouped scan of its attempts, kept while the run is unchanged.
Rates are :class:`redline.redteam.report.Rate` (Wilson 95% intervals), as in the run's
own report.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select

from redline.redteam.records import AttemptRecord
from redline.redteam.report import Rate
from redline.store import Attempt, Event, Finding, Run, Store
from redline.store.models import utcnow

Outcome = Literal[
    "success", "failure", "error", "unscored", "refused", "attempted", "complied"
]
OUTCOMES: tuple[str, ...] = (
    "success", "failure", "error", "unscored", "refused", "attempted", "complied"
)


@dataclass(frozen=True)
class RunRow:
    """One run in the runs table."""

    id: str
    kind: str
    target: str
    status: str
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class RunSummary:
    """A run's rates: overall and per category, attack and transform."""

    attempts: int
    scored: int
    errors: int
    unscored: int
    success_scorer: str | None
    asr: Rate
    by_category: dict[str, Rate]
    by_attack: dict[str, Rate]
    by_transform: dict[str, Rate]
    outcomes: dict[str, Rate]
    categories: list[str]
    attacks: list[str]
    transforms: list[str]


@dataclass(frozen=True)
class AttemptFilter:
    """What the attempts table shows."""

    outcome: str | None = None
    category: str | None = None
    attack: str | None = None
    transform: str | None = None
    scorer: str | None = None
    min_score: float | None = None
    max_score: float | None = None


@dataclass(frozen=True)
class AttemptRow:
    """One line of the attempts table."""

    id: int
    key: str
    category: str
    attack: str
    transform: str
    prompt: str
    response: str
    success: bool | None
    outcome: str | None
    score: float | None
    error: str | None


@dataclass(frozen=True)
class TrafficSummary:
    """Guarded traffic over a recent window."""

    minutes: int
    requests: int
    per_minute: list[tuple[str, int]]
    actions: dict[str, int]
    categories: dict[str, int]
    latency_ms: dict[str, float]
    latency_sample: int
    blocks: list[Event]
    alerts: list[Event]


@dataclass
class _Cached:
    stamp: tuple[Any, ...]
    summary: RunSummary


@dataclass
class SummaryCache:
    """Run summaries by run id, dropped when the run's attempts or status change."""

    size: int = 64
    _items: OrderedDict[str, _Cached] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, run_id: str, stamp: tuple[Any, ...]) -> RunSummary | None:
        """The summary kept for this run when its stamp is unchanged."""
        with self._lock:
            item = self._items.get(run_id)
            if item is None or item.stamp != stamp:
                return None
            self._items.move_to_end(run_id)
            return item.summary

    def put(self, run_id: str, stamp: tuple[Any, ...], summary: RunSummary) -> None:
        """Keep a summary, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._items[run_id] = _Cached(stamp, summary)
            self._items.move_to_end(run_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _success() -> ColumnElement[Any]:
    success: ColumnElement[Any] = Attempt.scores["success"].as_boolean()
    return success


def _judge(scorer: str, part: str) -> Any:
    return Attempt.scores[("scores", scorer, part)]


def success_scorer_of(run: Run) -> str | None:
    """The scorer whose label counts as success in a run (red-team config), if any."""
    value = (run.config or {}).get("success_scorer")
    return str(value) if value else None


class Reader:
    """Read-only queries over a store for the dashboard's pages."""

    def __init__(self, store: Store, cache: SummaryCache | None = None) -> None:
        self.store = store
        self.cache = cache or SummaryCache()

    # --- runs ---------------------------------------------------------------------------

    def runs(
        self, *, kind: str | None, query: str | None, status: str | None, limit: int
    ) -> list[RunRow]:
        """The newest ``limit`` runs matching the filters, with their attempt counts."""
        with self.store.session() as s:
            statement = select(Run.id, Run.kind, Run.target, Run.status, Run.created_at)
            if kind:
                statement = statement.where(Run.kind == kind)
            if status:
                statement = statement.where(Run.status == status)
            if query:
                like = f"%{_escape_like(query)}%"
                statement = statement.where(
                    or_(Run.id.like(like, escape="\\"), Run.target.like(like, escape="\\"))
                )
            rows = s.execute(
                statement.order_by(Run.created_at.desc(), Run.id).limit(limit)
            ).all()
            counts = dict(
                s.execute(
                    select(Attempt.run_id, func.count())
                    .where(Attempt.run_id.in_([r.id for r in rows]))
                    .group_by(Attempt.run_id)
                ).all()
            ) if rows else {}
        return [RunRow(r.id, r.kind, r.target, r.status, r.created_at, int(counts.get(r.id, 0)))
                for r in rows]

    def run_kinds(self) -> list[str]:
        """Every run kind in the store."""
        with self.store.session() as s:
            return sorted(s.scalars(select(Run.kind).distinct()))

    def run(self, run_id: str) -> Run | None:
        """A run, or None."""
        return self.store.get_run(run_id)

    def findings(self, run_id: str) -> Sequence[Finding]:
        """A run's findings."""
        return self.store.findings(run_id)

    def summary(self, run: Run) -> RunSummary:
        """The run's rates, from one grouped scan of its attempts (kept while unchanged)."""
        with self.store.session() as s:
            count, last = s.execute(
                select(func.count(), func.max(Attempt.id)).where(Attempt.run_id == run.id)
            ).one()
            stamp = (run.status, run.finished_at, int(count), last)
            cached = self.cache.get(run.id, stamp)
            if cached is not None:
                return cached
            scorer = success_scorer_of(run)
            outcome = (_judge(scorer, "outcome").as_string() if scorer
                       else Attempt.id.is_(None))
            # Grouped outside a subquery: PostgreSQL will not match a JSON path bound twice.
            keys = select(
                Attempt.category.label("category"), Attempt.attack.label("attack"),
                Attempt.transform.label("transform"), _success().label("success"),
                Attempt.error.is_not(None).label("errored"), outcome.label("outcome"),
            ).where(Attempt.run_id == run.id).subquery()
            columns = [keys.c.category, keys.c.attack, keys.c.transform, keys.c.success,
                       keys.c.errored, keys.c.outcome]
            rows = s.execute(select(*columns, func.count()).group_by(*columns)).all()
        summary = _summarise(rows, scorer)
        self.cache.put(run.id, stamp, summary)
        return summary

    # --- attempts -----------------------------------------------------------------------

    def attempts(
        self, run: Run, chosen: AttemptFilter, *, after: int, limit: int
    ) -> tuple[list[AttemptRow], int | None]:
        """One page of a run's attempts after id ``after``, and the id to go on from."""
        scorer = chosen.scorer or success_scorer_of(run)
        conditions: list[ColumnElement[bool]] = [Attempt.run_id == run.id, Attempt.id > after]
        for column, value in ((Attempt.category, chosen.category),
                              (Attempt.attack, chosen.attack),
                              (Attempt.transform, chosen.transform)):
            if value is not None:
                conditions.append(column == value)
        conditions.extend(_outcome_condition(chosen.outcome, scorer))
        if scorer and chosen.min_score is not None:
            conditions.append(_judge(scorer, "value").as_float() >= chosen.min_score)
        if scorer and chosen.max_score is not None:
            conditions.append(_judge(scorer, "value").as_float() <= chosen.max_score)
        with self.store.session() as s:
            rows = s.execute(
                select(Attempt.id, Attempt.key, Attempt.category, Attempt.attack,
                       Attempt.transform, Attempt.messages, Attempt.response, Attempt.scores,
                       Attempt.error)
                .where(and_(*conditions)).order_by(Attempt.id).limit(limit + 1)
            ).all()
        page = [_attempt_row(r, scorer) for r in rows[:limit]]
        return page, (page[-1].id if len(rows) > limit else None)

    def attempt(self, run_id: str, key: str) -> AttemptRecord | None:
        """One attempt of a run by its content hash."""
        with self.store.session() as s:
            row = s.scalars(
                select(Attempt).where(Attempt.run_id == run_id, Attempt.key == key)
            ).first()
        return AttemptRecord.from_row(row) if row is not None else None

    # --- guarded traffic ----------------------------------------------------------------

    def traffic(self, *, minutes: int, now: datetime | None = None,
                recent: int = 20, latency_sample: int = 2000) -> TrafficSummary:
        """Request rates, actions, categories and latency over the last ``minutes``."""
        since = (now or utcnow()) - timedelta(minutes=minutes)
        requests = and_(Event.kind == "request", Event.ts >= since)
        with self.store.session() as s:
            actions = dict(s.execute(
                select(Event.action, func.count()).where(requests).group_by(Event.action)
            ).all())
            categories = dict(s.execute(
                select(Event.category, func.count())
                .where(requests, Event.category.is_not(None)).group_by(Event.category)
            ).all())
            minute = _minute(self.store)
            per_minute = [(str(m), int(n)) for m, n in s.execute(
                select(minute, func.count()).where(requests).group_by(minute).order_by(minute)
            ).all()]
            latencies = [float(x) for x in s.scalars(
                select(Event.payload["latency_ms"].as_float()).where(requests)
                .order_by(Event.id.desc()).limit(latency_sample)
            ) if x is not None]
            blocks = list(s.scalars(
                select(Event).where(Event.kind == "request", Event.action == "block")
                .order_by(Event.id.desc()).limit(recent)
            ))
            alerts = list(s.scalars(
                select(Event).where(Event.kind == "alert").order_by(Event.id.desc())
                .limit(recent)
            ))
        return TrafficSummary(
            minutes=minutes, requests=sum(int(n) for n in actions.values()),
            per_minute=per_minute,
            actions={str(k): int(v) for k, v in sorted(actions.items(), key=lambda i: str(i[0]))},
            categories={str(k): int(v) for k, v in
                        sorted(categories.items(), key=lambda i: -int(i[1]))},
            latency_ms=_percentiles(latencies), latency_sample=len(latencies),
            blocks=blocks, alerts=alerts,
        )

    def event(self, event_id: int) -> Event | None:
        """One guard event (request or alert) by id."""
        with self.store.session() as s:
            return s.get(Event, event_id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _minute(store: Store) -> ColumnElement[Any]:
    if store.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("minute", Event.ts), "YYYY-MM-DD HH24:MI")
    return func.strftime("%Y-%m-%d %H:%M", Event.ts)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    import numpy as np

    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1),
            "p99": round(float(p99), 1)}


def _outcome_condition(outcome: str | None, scorer: str | None) -> list[ColumnElement[bool]]:
    if outcome is None:
        return []
    no_error = Attempt.error.is_(None)
    if outcome == "error":
        return [Attempt.error.is_not(None)]
    if outcome == "success":
        return [_success() == True]  # noqa: E712
    if outcome == "failure":
        return [_success() == False]  # noqa: E712
    if outcome == "unscored":
        return [no_error, _success().is_(None)]
    if scorer is None:  # refused / attempted / complied need a response judge
        return [Attempt.id.is_(None)]
    return [_judge(scorer, "outcome").as_string() == outcome]


def _summarise(rows: Sequence[Any], scorer: str | None) -> RunSummary:
    """Rates from grouped rows (category, attack, transform, success, errored, outcome, n)."""
    totals = {"attempts": 0, "errors": 0, "unscored": 0}
    overall = [0, 0]
    groups: dict[str, dict[str, list[int]]] = {"category": {}, "attack": {}, "transform": {}}
    outcomes: dict[str, int] = {}
    for category, attack, transform, success, errored, outcome, n in rows:
        n = int(n)
        totals["attempts"] += n
        if errored:
            totals["errors"] += n
        if success is None:
            if not errored:
                totals["unscored"] += n
            continue
        hit = n if success else 0
        overall[0] += hit
        overall[1] += n
        for name, value in (("category", category or ""), ("attack", attack or ""),
                            ("transform", transform or "none")):
            pair = groups[name].setdefault(value, [0, 0])
            pair[0] += hit
            pair[1] += n
        if outcome:
            outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + n
    read = sum(outcomes.values())

    def rates(name: str) -> dict[str, Rate]:
        return {k: Rate.of(s, n) for k, (s, n) in sorted(groups[name].items())}

    return RunSummary(
        attempts=totals["attempts"], scored=overall[1], errors=totals["errors"],
        unscored=totals["unscored"], success_scorer=scorer, asr=Rate.of(*overall),
        by_category=rates("category"), by_attack=rates("attack"),
        by_transform=rates("transform"),
        outcomes={o: Rate.of(outcomes.get(o, 0), read) for o in ("refused", "attempted",
                                                                   "complied")} if read else {},
        categories=sorted({str(r[0]) for r in rows if r[0]}),
        attacks=sorted({str(r[1]) for r in rows if r[1]}),
        transforms=sorted({str(r[2]) for r in rows if r[2]}),
    )


def _attempt_row(row: Any, scorer: str | None) -> AttemptRow:
    extras = row.scores or {}
    judged = (extras.get("scores") or {}).get(scorer or "", {}) if scorer else {}
    messages = row.messages or []
    prompt = str(messages[-1].get("content", "")) if messages and isinstance(
        messages[-1], dict) else ""
    value = judged.get("value") if isinstance(judged, dict) else None
    return AttemptRow(
        id=int(row.id), key=row.key, category=row.category or "", attack=row.attack or "",
        transform=row.transform or "none", prompt=prompt[:160],
        response=(row.response or "")[:160], success=extras.get("success"),
        outcome=judged.get("outcome") if isinstance(judged, dict) else None,
        score=float(value) if isinstance(value, int | float) else None, error=row.error,
    )

