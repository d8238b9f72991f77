"""Reading guard events back: from the store or from an event log, once or following."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
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
    path: str | Path | Sequence[str | Path], *, follow: bool = False, poll: float = 1.0,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[RequestEvent]:
    """Request events of one event log, or of several read together; with ``follow``, tail them.

    One log's events come in file order. Several logs (one per guard replica) are read in
    rounds: each round takes what every log holds so far (up to 5,000 records each) and
    yields it in order of arrival time, so replicas' traffic interleaves as it happened.
    Lines are parsed without checking the chain; run ``redline log verify`` for that.
    """
    from redline.guard.eventlog import LogRecord

    paths = [path] if isinstance(path, str | Path) else list(path)
    with ExitStack() as stack:
        handles = [stack.enter_context(Path(p).open("r", encoding="utf-8")) for p in paths]
        pending = [""] * len(handles)
        while True:
            batch: list[RequestEvent] = []
            for i, handle in enumerate(handles):
                for _ in range(5000):
                    chunk = handle.readline()
                    if not chunk:
                        break
                    pending[i] += chunk
                    if not pending[i].endswith("\n"):
                        continue  # a record still being written
                    record = LogRecord.model_validate_json(pending[i])
                    pending[i] = ""
                    if record.type == "event" and record.body.get("kind") == "request":
                        event = parse_event(record.body)
                        if isinstance(event, RequestEvent):
                            batch.append(event)
            if len(handles) > 1:
                batch.sort(key=lambda e: e.ts)
            yield from batch
            if batch:
                continue
            if not follow or stop():
                return
            time.sleep(poll)


__all__ = ["log_events", "store_events"]
