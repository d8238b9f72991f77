"""The event sink: every event in the log at once, in the store in batches, nothing lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from redline.guard.eventlog import EventLog, iter_records, verify_log
from redline.guard.events import RequestEvent
from redline.guard.signing import Signer
from redline.guard.sink import EventSink
from redline.store import Store


class CountingStore:
    """A store that records each batch it is given, optionally held until released."""

    def __init__(self, store: Store, hold: threading.Event | None = None) -> None:
        self.store, self.hold = store, hold
        self.batches: list[int] = []

    def ingest_events(self, rows: list[dict[str, Any]]) -> int:
        if self.hold is not None:
            self.hold.wait(10)
        self.batches.append(len(rows))
        return self.store.ingest_events(rows)


def event(i: int) -> RequestEvent:
    return RequestEvent(request_id=f"r{i}", prompt_sha256=f"{i:064x}")


def test_store_rows_are_batched_and_close_flushes_every_one(
    tmp_path: Path, signer: Signer
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    counting = CountingStore(store)
    log_path = tmp_path / "events.log"
    sink = EventSink(EventLog(log_path, signer, checkpoint_every=100), counting,  # type: ignore[arg-type]
                     flush_interval=30.0)  # only close (or a full batch) ends a batch here
    threads = [threading.Thread(target=lambda k=k: [sink.emit(event(k * 250 + i))
                                                    for i in range(250)]) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    assert sum(counting.batches) == 1000
    assert len(counting.batches) <= 3  # batch_size 500: a batch fills or close ends it
    rows = store.events(limit=5000)
    log_hashes = [r.hash for r in iter_records(log_path) if r.type == "event"]
    assert sorted(r.log_hash for r in rows) == sorted(log_hashes)
    assert len(set(log_hashes)) == 1000
    assert verify_log(log_path).ok
    store.close()


def test_writer_waits_to_fill_a_batch(tmp_path: Path, signer: Signer) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    counting = CountingStore(store)
    sink = EventSink(None, counting, flush_interval=0.5)  # type: ignore[arg-type]
    for i in range(20):
        sink.emit(event(i))
    sink.close()
    assert counting.batches == [20]  # one transaction, not one per row
    store.close()


def test_a_full_queue_keeps_the_event_in_the_log_and_counts_it(
    tmp_path: Path, signer: Signer
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    release = threading.Event()
    counting = CountingStore(store, hold=release)
    log_path = tmp_path / "events.log"
    sink = EventSink(EventLog(log_path, signer), counting,  # type: ignore[arg-type]
                     batch_size=1, flush_interval=0.0, max_pending=2)
    for i in range(10):  # the writer holds one row; two wait; the rest do not fit
        sink.emit(event(i))
    release.set()
    sink.close()
    assert sink.store_errors == 10 - sum(counting.batches) and sink.store_errors >= 5
    assert len([r for r in iter_records(log_path) if r.type == "event"]) == 10
    store.close()
