"""The append-only, hash-chained event log, with ed25519-signed checkpoints.

One JSON record per line. Each record holds its sequence number, the hash of the record
before it and a body, and its own hash is the sha256 of the canonical JSON of those
fields; so editing, deleting or reordering any record breaks the chain. Every
``checkpoint_every`` events (and on close) a ``checkpoint`` record is appended whose body
signs the chain head with ed25519; so rewriting the chain from some point on, with fresh
hashes, breaks a signature. The latest checkpoint is also written to ``<log>.head`` so that
cutting records off the end is caught too.

A log has one writer at a time (an exclusive lock on ``<log>.lock``); a writer that
reopens a log continues its chain. Guard replicas behind one load balancer each write
their own log, and name their replica in its ``open`` records (and in every event), so
each log verifies on its own and a reader knows whose it is. Records are written with
one ``write`` each, so a record that a request was answered for survives the guard
process crashing; the file is fsynced at each checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from redline._version import __version__
from redline.errors import ConfigError, StoreError
from redline.types import canonical_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from redline.guard.signing import Signer

GENESIS = "0" * 64
RecordType = Literal["open", "event", "checkpoint"]


class LogRecord(BaseModel):
    """One line of the log."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    prev: str
    ts: str
    type: RecordType
    body: dict[str, Any]
    hash: str

    @staticmethod
    def digest(seq: int, prev: str, ts: str, type_: str, body: dict[str, Any]) -> str:
        """The hash a record with these fields must carry."""
        data = {"seq": seq, "prev": prev, "ts": ts, "type": type_, "body": body}
        return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def record_line(
    seq: int, prev: str, ts: str, type_: str, body: dict[str, Any]
) -> tuple[str, bytes]:
    """The hash of a record and its line: ``canonical_json`` of the record, plus a newline.

    The same bytes as ``canonical_json(LogRecord(...).model_dump())``, with the body
    serialised once instead of twice (the record's keys sort as body, hash, prev, seq, ts,
    type; the other fields are hex, ISO time and a fixed word, which JSON leaves as they
    are). On the guard's request path; a test checks the two agree.
    """
    head = '{"body":' + canonical_json(body)
    tail = f',"prev":"{prev}","seq":{seq},"ts":"{ts}","type":"{type_}"}}'
    digest = hashlib.sha256((head + tail).encode("utf-8")).hexdigest()
    return digest, f'{head},"hash":"{digest}"{tail}\n'.encode()


def checkpoint_message(seq: int, head: str, events: int) -> bytes:
    """The bytes a checkpoint signs: the chain head it vouches for."""
    return canonical_json({"events": events, "head": head, "seq": seq}).encode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EventLog:
    """Appends events to a hash-chained log file.

    Args:
        path: the log file (created with its folder if missing).
        signer: the checkpoint signing key.
        checkpoint_every: events between signed checkpoints.
        replica: the guard replica that writes it, named in its ``open`` records.

    Raises:
        ConfigError: another process holds the log, or its last record is damaged.
    """

    def __init__(
        self, path: str | Path, signer: Signer, *, checkpoint_every: int = 1000,
        replica: str | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ConfigError(f"checkpoint_every must be at least 1, got {checkpoint_every}.")
        self.path = Path(path)
        self.replica = replica
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _acquire_lock(self.path.with_name(self.path.name + ".lock"))
        try:
            self._seq, self._head, self._events, self._since_checkpoint = _resume(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._closed = False
        self._append("open", self._open_body())

    def _open_body(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives import serialization

        raw = self.signer.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        body = {
            "key_id": self.signer.key_id,
            "public_key": base64.b64encode(raw).decode("ascii"),
            "redline_version": __version__,
            "pid": os.getpid(),
        }
        if self.replica is not None:
            body["replica"] = self.replica
        return body

    @property
    def head(self) -> str:
        """Hash of the last record written."""
        return self._head

    @property
    def events(self) -> int:
        """Events in the log so far (all writers, all sessions)."""
        return self._events

    def append(self, body: dict[str, Any]) -> str:
        """Append one event; returns the hash of its record (the chain's new head)."""
        with self._lock:
            if self._closed:
                raise StoreError(f"The event log {self.path} is closed; no more events can go in.")
            digest, _ = self._append("event", body)
            self._events += 1
            self._since_checkpoint += 1
            if self._since_checkpoint >= self.checkpoint_every:
                self._checkpoint()
            return digest

    def checkpoint(self) -> None:
        """Sign the chain head now (no-op if nothing was appended since the last one)."""
        with self._lock:
            if self._since_checkpoint and not self._closed:
                self._checkpoint()

    def close(self) -> None:
        """Write a final checkpoint, fsync, and release the lock."""
        with self._lock:
            if self._closed:
                return
            self._checkpoint()
            self._closed = True
            os.close(self._fd)
            os.close(self._lock_fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(self, type_: RecordType, body: dict[str, Any]) -> tuple[str, bytes]:
        """Write one record; returns its hash and its line."""
        seq, prev, ts = self._seq + 1, self._head, _now()
        digest, line = record_line(seq, prev, ts, type_, body)
        os.write(self._fd, line)
        self._seq, self._head = seq, digest
        return digest, line

    def _checkpoint(self) -> None:
        seq = self._seq + 1
        signature = self.signer.sign(checkpoint_message(seq - 1, self._head, self._events))
        body = {"key_id": self.signer.key_id, "events": self._events, "sig": signature}
        _, line = self._append("checkpoint", body)
        os.fsync(self._fd)
        self._since_checkpoint = 0
        _write_head(self.path, line)


def _acquire_lock(path: Path) -> int:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise ConfigError(
            f"Another process is writing the event log {path.with_suffix('')}. "
            "Give each guard replica its own --log file."
        ) from exc
    return fd


def _write_head(path: Path, line: bytes) -> None:
    """Keep the last checkpoint's record (its log line) beside the log."""
    head = path.with_name(path.name + ".head")
    tmp = head.with_name(head.name + ".tmp")
    tmp.write_bytes(line)
    os.replace(tmp, head)


def _last_line(path: Path) -> str | None:
    """The last complete line of a file, read from its end."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return None
        block = 1 << 16
        data = b""
        pos = size
        while pos > 0:
            step = min(block, pos)
            pos -= step
            handle.seek(pos)
            data = handle.read(step) + data
            if data.count(b"\n") >= 2 or pos == 0:
                break
    if not data.endswith(b"\n"):
        raise ConfigError(
            f"The event log {path} ends in a partly written record (the writer was killed "
            "mid-write). Check it with `redline log verify`, then move it aside to start a new log."
        )
    return data[:-1].rsplit(b"\n", 1)[-1].decode("utf-8")


def _resume(path: Path) -> tuple[int, str, int, int]:
    """(last seq, head hash, event count, events since checkpoint) of an existing log."""
    if not path.exists():
        return -1, GENESIS, 0, 0
    line = _last_line(path)
    if line is None:
        return -1, GENESIS, 0, 0
    try:
        record = LogRecord.model_validate_json(line)
    except ValueError as exc:
        raise ConfigError(
            f"The last record of the event log {path} is not valid; run `redline log verify "
            f"{path}` and move the log aside to start a new one."
        ) from exc
    expected = LogRecord.digest(record.seq, record.prev, record.ts, record.type, record.body)
    if record.hash != expected:
        raise ConfigError(
            f"The last record of the event log {path} does not match its hash; the log was "
            f"changed. Run `redline log verify {path}`."
        )
    # The event count and the distance to the last checkpoint need a pass over the file.
    events = since = 0
    for rec in iter_records(path):
        if rec.type == "event":
            events += 1
            since += 1
        elif rec.type == "checkpoint":
            since = 0
    return record.seq, record.hash, events, since


def iter_records(path: str | Path) -> Iterator[LogRecord]:
    """Every record of a log, in file order (no checking; see :func:`verify_log`)."""
    with Path(path).open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield LogRecord.model_validate_json(line)


def iter_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """The bodies of the event records of a log, in order."""
    for record in iter_records(path):
        if record.type == "event":
            yield record.body


class VerifyReport(BaseModel):
    """What ``redline log verify`` found.

    Attributes:
        ok: the chain is intact and every checkpoint signature is valid.
        records: records read.
        events: event records among them.
        checkpoints: valid signed checkpoints.
        signed_events: events covered by the last valid checkpoint.
        unsigned_tail: records after the last checkpoint (chained, but not yet signed).
        key_ids: the keys that signed the checkpoints.
        replicas: the guard replicas its ``open`` records name (one for a replica's log).
        trusted_key: where the verifying public key came from.
        problem: the first problem found, with its line number; None when ok.
    """

    ok: bool
    records: int
    events: int
    checkpoints: int
    signed_events: int
    unsigned_tail: int
    key_ids: list[str]
    trusted_key: str
    replicas: list[str] = []
    problem: str | None = None


def verify_log(
    path: str | Path, public_key: Ed25519PublicKey | None = None, *, key_source: str = ""
) -> VerifyReport:
    """Check a log's chain, its checkpoint signatures and its ``.head`` file.

    Args:
        path: the log file.
        public_key: the key the checkpoints must be signed with. ``None`` trusts the key
            the log's first ``open`` record names, which catches accidental damage and
            edits by someone without the private key, but not a whole log rewritten with a
            new key; pass the key to rule that out.
        key_source: where ``public_key`` came from, for the report.
    """
    from redline.guard.signing import key_id as _key_id
    from redline.guard.signing import verify_signature

    file = Path(path)
    if not file.exists():
        raise ConfigError(f"No event log at {file}.")
    trusted = public_key
    trusted_source = key_source or ("given key" if public_key is not None else "")
    prev, expected_seq = GENESIS, 0
    records = events = checkpoints = signed = tail = 0
    key_ids: list[str] = []
    replicas: list[str] = []
    writer: str | None = None
    last_checkpoint: LogRecord | None = None

    def report(problem: str | None) -> VerifyReport:
        return VerifyReport(
            ok=problem is None, records=records, events=events, checkpoints=checkpoints,
            signed_events=signed, unsigned_tail=tail, key_ids=key_ids,
            trusted_key=trusted_source or "none", replicas=replicas, problem=problem,
        )

    with file.open("r", encoding="utf-8", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                try:
                    record = LogRecord.model_validate_json(line)
                except ValueError:
                    return report(f"line {number}: not a log record (damaged or inserted line)")
                if record.seq != expected_seq:
                    return report(
                        f"line {number}: sequence number {record.seq}, expected {expected_seq} "
                        "(a record was deleted, inserted or moved)"
                    )
                if record.prev != prev:
                    return report(
                        f"line {number}: does not chain to the record before it "
                        "(a record was deleted, inserted or moved)"
                    )
                digest = LogRecord.digest(
                    record.seq, record.prev, record.ts, record.type, record.body
                )
                if digest != record.hash:
                    return report(f"line {number}: content does not match its hash (edited)")
                records += 1
                tail += 1
                if record.type == "event":
                    events += 1
                    named = record.body.get("replica")
                    if named is not None and named != writer:
                        return report(
                            f"line {number}: an event of replica '{named}' in a log that "
                            f"replica '{writer}' opened (logs of two replicas were mixed)"
                        )
                elif record.type == "open":
                    writer = record.body.get("replica")
                    if writer is not None and writer not in replicas:
                        replicas.append(str(writer))
                if record.type == "open" and trusted is None:
                    trusted = _public_from_open(record)
                    trusted_source = "key named in the log (pass --public-key to pin it)"
                elif record.type == "checkpoint":
                    if trusted is None:
                        return report(f"line {number}: checkpoint before any key is known")
                    message = checkpoint_message(record.seq - 1, record.prev, events)
                    sig = str(record.body.get("sig", ""))
                    if record.body.get("events") != events or not verify_signature(
                        trusted, sig, message
                    ):
                        return report(
                            f"line {number}: checkpoint signature is not valid for the chain "
                            "before it (records were changed and re-hashed, or a foreign key)"
                        )
                    checkpoints += 1
                    signed, tail = events, 0
                    last_checkpoint = record
                    kid = _key_id(trusted)
                    if kid not in key_ids:
                        key_ids.append(kid)
                prev, expected_seq = record.hash, record.seq + 1
        except UnicodeDecodeError:
            return report(f"bytes that are not UTF-8 after line {records} (damaged)")
    head_file = file.with_name(file.name + ".head")
    if head_file.exists():
        try:
            head = LogRecord.model_validate_json(head_file.read_text(encoding="utf-8"))
        except ValueError:
            return report(f"{head_file.name} is damaged")
        if last_checkpoint is None or head.seq > last_checkpoint.seq:
            return report(
                f"the log ends before checkpoint {head.seq} named in {head_file.name} "
                "(records were cut off the end)"
            )
        # The head file may lag a crash; it must then name an earlier checkpoint we saw.
        if head.seq == last_checkpoint.seq and head.hash != last_checkpoint.hash:
            return report(f"{head_file.name} names a different checkpoint than the log holds")
    return report(None)


def _public_from_open(record: LogRecord) -> Ed25519PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(str(record.body["public_key"]), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (KeyError, ValueError):
        return None


__all__ = [
    "GENESIS",
    "record_line",
    "EventLog",
    "LogRecord",
    "VerifyReport",
    "checkpoint_message",
    "iter_events",
    "iter_records",
    "verify_log",
]
