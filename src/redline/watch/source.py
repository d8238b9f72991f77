"""Reading guard events back: from the store or from an event log, once or following."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from redline.guard.events import RequestEvent, parse_event
from redline.store import Store


def store_events(
    store: Store, *, follow: bool = False, poll: float = 1.0, after_id: int = 0,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[RequestEvent]:
    """Request events of the store in arrival order; with ``follow``, wait for new ones."""
    last = after_id
    while True:
        rows = store.events(after_id=last, limit=5000, kind="request")
        for row in rows:
            last = row.id
            event = parse_event(row.payload)
            if isinstance(event, RequestEvent):
                yield event
        if rows:
            continue
        if not follow or stop():
            return
        time.sleep(poll)


def log_events(
    path: str | Path, *, follow: bool = False, poll: float = 1.0,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[RequestEvent]:
    """Request events of an event log in order; with ``follow``, tail the file.

    Lines are parsed without checking the chain; run ``redline log verify`` for that.
    """
    from redline.guard.eventlog import LogRecord

    with Path(path).open("r", encoding="utf-8") as handle:
        pending = ""
        while True:
            chunk = handle.readline()
            if chunk:
                pending += chunk
                if not pending.endswith("\n"):
                    continue  # a record still being written
                record = LogRecord.model_validate_json(pending)
                pending = ""
                if record.type == "event" and record.body.get("kind") == "request":
                    event = parse_event(record.body)
                    if isinstance(event, RequestEvent):
                        yield event
                continue
            if not follow or stop():
                return
            time.sleep(poll)


__all__ = ["log_events", "store_events"]
