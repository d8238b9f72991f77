"""The store on PostgreSQL: the same schema, idempotent attempts, guard events and watch.

Where the server comes from, in order: ``REDLINE_TEST_PG_URL``; the URL file that
``.ci/system-deps.sh`` writes (``REDLINE_TEST_PG_URL_FILE``, default
``/tmp/redline-test-pg.url``); else a throwaway cluster this module starts itself with the
Debian ``initdb``/``pg_ctl`` (as the ``postgres`` user when run as root) on a free port of
127.0.0.1, stopped at the end. Without any of these the tests skip (fail in CI).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_system

URL_FILE = os.environ.get("REDLINE_TEST_PG_URL_FILE", "/tmp/redline-test-pg.url")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL server's maintenance database."""
    require_system(__import__("importlib").util.find_spec("psycopg") is not None,
                   "psycopg (pip install 'redline[postgres]')")
    url = os.environ.get("REDLINE_TEST_PG_URL")
    if not url and Path(URL_FILE).is_file():
        url = Path(URL_FILE).read_text().strip()
    if url:
        yield url
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    require_system(bool(initdb and pg_ctl), "PostgreSQL (apt-get install postgresql)")
    assert initdb and pg_ctl
    base = Path("/tmp") / f"redline-pg-{uuid.uuid4().hex[:8]}"  # short: socket paths are limited
    data = base / "data"
    base.mkdir(mode=0o777)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-o", options, "-w", "-t", "60",
                                 "-l", str(base / "log"), "start"]), check=True,
                   capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"redline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_create_exactly_the_models_schema(pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from redline.store import Store
    from redline.store.models import Base

    store = Store(pg_url)
    assert store.engine.dialect.name == "postgresql"
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    Store(pg_url).close()  # opening again is a no-op migration
    store.close()


def test_runs_attempts_findings_round_trip(pg_url: str) -> None:
    from redline.store import Store

    store = Store(pg_url)
    run = store.create_run("redteam", "mock", {"seed": 1})
    assert store.add_attempt(run.id, "k1", messages=[{"role": "user", "content": "héllo"}],
                             scores={"refusal": 0.2}, latency_ms=1.5)
    assert not store.add_attempt(run.id, "k1")  # the unique (run_id, key) index holds
    assert store.attempt_keys(run.id) == {"k1"}
    store.add_finding(run.id, title="t", severity="high", tags=["a"], evidence=["k1"])
    store.finish_run(run.id)
    assert store.get_run(run.id).status == "finished"  # type: ignore[union-attr]
    assert store.attempts(run.id)[0].messages[0]["content"] == "héllo"
    assert [f.title for f in store.findings(run.id)] == ["t"]
    store.close()


def test_guard_events_are_stored_once_and_watch_reads_them(pg_url: str, tmp_path: Path) -> None:
    from redline.guard.eventlog import EventLog
    from redline.guard.events import RequestEvent
    from redline.guard.signing import load_or_create_signer
    from redline.guard.sink import EventSink, store_row
    from redline.store import Store
    from redline.watch import WatchConfig, Watcher, store_events

    store = Store(pg_url)
    sink = EventSink(EventLog(tmp_path / "e.log", load_or_create_signer(tmp_path / "k.key")),
                     store, flush_interval=0.05)
    events = [RequestEvent(request_id=f"r{i}", client="ann", action="block" if i % 10 == 0
                           else "allow", categories=["cyber"] if i % 10 == 0 else [])
              for i in range(120)]
    hashes = [sink.emit(e) for e in events]
    sink.close()
    # Writing the same log records again (a retry, `redline log ingest`) adds nothing.
    assert store.ingest_events([store_row(e, h) for e, h in zip(events, hashes, strict=True)]) == 0
    rows = store.events(kind="request")
    assert [r.request_id for r in rows] == [f"r{i}" for i in range(120)]
    watcher = Watcher(WatchConfig(reference=100, drift_every=0))
    watcher.observe_all(store_events(store))
    assert watcher.n == 120 and watcher.by_action["block"] == 12
    store.close()
