"""The store's tables: runs, attempts, findings and traffic events (SQLAlchemy 2).

Schema changes go through an Alembic migration in ``migrations/versions``; a test checks
that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Run(Base):
    """One invocation of a redline job (red team, eval, audit, guard session)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    redline_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attempt(Base):
    """One prompt → response exchange with its scores, keyed by content hash within a run."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_run_key", "run_id", "key", unique=True),
        Index("ix_attempts_run_id", "run_id", "id"),  # one run's attempts in id order
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    probe: Mapped[str | None] = mapped_column(String(200))
    transform: Mapped[str | None] = mapped_column(String(200))
    attack: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64))
    messages: Mapped[list[Any]] = mapped_column(default=list)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response: Mapped[str | None] = mapped_column(Text)
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Finding(Base):
    """Something wrong that was shown, with the attempts that show it."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(Base):
    """One guarded request and its decision, as the guard saw it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The hash of the event-log record this row came from: unique, so re-ingesting is a no-op.
    log_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)


class RateWindow(Base):
    """Requests one client made in one minute, counted by every guard replica together.

    One row per (client, minute); replicas add to it with one atomic upsert, so a per-key
    limit holds across replicas without a server besides the database.
    """

    __tablename__ = "rate_windows"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Minutes since the Unix epoch (UTC): the fixed window the count belongs to.
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
