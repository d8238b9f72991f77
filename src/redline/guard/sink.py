"""Where guard events go: the hash-chained log (at once) and the store (in batches).

The log is written in the request's own path, one ``write`` per event, so an answered
request always has its record; that costs about 0.05 ms. Store rows go through a bounded
queue to one background thread that, once a row arrives, waits ``flush_interval`` and
inserts what has come in one transaction (a row alone costs the database ten times what
it costs in a batch of 30), so a slow database adds no latency. The rows carry the hash of their log
record, so a batch written twice is stored once, and rows the full queue could not take
are counted in ``store_errors`` and can be copied in later from the log (``redline log
ingest``). ``close`` drains the queue, then closes the log.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from redline.guard.events import AlertEvent, RequestEvent

if TYPE_CHECKING:
    from redline.guard.eventlog import EventLog
    from redline.store import Store

log = logging.getLogger(__name__)

_STOP = object()


def store_row(
    event: RequestEvent | AlertEvent, log_hash: str | None, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``events`` table row of an event (``payload``: its JSON form, if already made)."""
    if payload is None:
        payload = event.model_dump(mode="json", exclude_none=True)
    if isinstance(event, RequestEvent):
        return {
            "kind": event.kind,
            "client": event.client[:64],
            "category": event.categories[0][:64] if event.categories else None,
            "action": event.action,
            "request_id": event.request_id[:64],
            "log_hash": log_hash,
            "payload": payload,
        }
    return {
        "kind": event.kind,
        "category": event.metric[:64],
        "action": event.severity,
        "request_id": event.alert_id[:64],
        "log_hash": log_hash,
        "payload": payload,
    }


class EventSink:
    """Sends each event to the log and to the store.

    Args:
        event_log: the hash-chained log, or None to keep no log.
        store: the store, or None to keep events out of the database.
        batch_size: most rows per store transaction.
        flush_interval: seconds the writer waits, after a row arrives, to fill its batch.
        max_pending: most rows waiting for the store; more are not queued (see above).
    """

    def __init__(
        self,
        event_log: EventLog | None,
        store: Store | None,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_pending: int = 100_000,
    ) -> None:
        self.event_log = event_log
        self.store = store
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.written = 0
        self.store_errors = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        if store is not None:
            self._thread = threading.Thread(target=self._writer, name="redline-events", daemon=True)
            self._thread.start()

    def emit(self, event: RequestEvent | AlertEvent) -> str | None:
        """Record one event; returns the hash of its log record (None without a log)."""
        log_hash = None
        payload = event.model_dump(mode="json", exclude_none=True)
        if self.event_log is not None:
            log_hash = self.event_log.append(payload)
        if self.store is not None:
            try:
                self._queue.put_nowait((event, log_hash, payload))
            except queue.Full:
                self.store_errors += 1
                log.warning("the store queue is full (%d rows); event %s is in the log only "
                            "(copy it in later with `redline log ingest`)",
                            self._queue.maxsize, log_hash)
        self.written += 1
        return log_hash

    def _writer(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._queue.qsize() < self.batch_size:
                # Let the batch fill: one wake-up per batch, not one per row (each would
                # take the GIL from the event loop); close() cuts the wait short.
                self._closing.wait(self.flush_interval)
            batch = [item]
            stopping = False
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._write([store_row(event, log_hash, payload) for event, log_hash, payload in batch])
            if stopping:
                return

    def _write(self, batch: list[dict[str, Any]]) -> None:
        assert self.store is not None
        for attempt in range(3):
            try:
                self.store.ingest_events(batch)
                return
            except Exception:  # noqa: BLE001 - the log keeps the event; the store is a copy
                log.warning("writing %d events to the store failed (try %d)", len(batch),
                            attempt + 1, exc_info=True)
        self.store_errors += len(batch)

    def close(self) -> None:
        """Drain the store queue, then close the log with a final signed checkpoint."""
        if self._thread is not None:
            self._closing.set()
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self.event_log is not None:
            self.event_log.close()


__all__ = ["EventSink", "store_row"]
