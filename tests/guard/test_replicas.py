"""Guard replicas on one PostgreSQL: shared per-minute limits, readiness, per-replica logs.

The limits are counted by real guards (in-process apps on real sockets) and real stores on
a real PostgreSQL server; the store is made unreachable by dropping its database.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from redline.guard.auth import Authenticator, SharedWindows, add_key, load_keys
from redline.guard.eventlog import EventLog, verify_log
from redline.guard.policy import load_policy
from redline.guard.signing import Signer, load_or_create_signer
from redline.guard.sink import EventSink
from redline.store import Store
from redline.store.db import SCHEMA_HEAD
from redline.targets import MockTarget
from tests.store.test_postgres import pg_url, server_url  # noqa: F401 - fixtures


@contextmanager
def replica(
    tmp_path: Path, name: str, db_url: str, keys_path: Path, signer: Signer,
    clock: float | None = None,
) -> Iterator[tuple[str, Store]]:
    """One guard replica (its own log, the shared store) served on 127.0.0.1.

    ``clock``: a fixed time for the limit's windows, so a test never straddles a minute.
    """
    from redline.guard.proxy import Guard, GuardConfig, create_guard_app
    from redline.serve.server import background_server

    store = Store(db_url)
    sink = EventSink(EventLog(tmp_path / f"events-{name}.log", signer, checkpoint_every=20,
                              replica=name), store, flush_interval=0.05)
    windows = SharedWindows(store) if clock is None else SharedWindows(store,
                                                                        clock=lambda: clock)
    auth = Authenticator(load_keys(keys_path), windows=windows)
    guard = Guard(MockTarget(), load_policy(), sink, auth=auth,
                  config=GuardConfig(replica=name))
    with background_server(create_guard_app(guard)) as url:
        yield url.removesuffix("/v1"), store
    store.close()


async def _send(urls: list[str], key: str, n: int) -> list[int]:
    """``n`` requests spread over the replicas round-robin, 8 at a time."""
    statuses: list[int] = []
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(i: int) -> None:
            async with gate:
                response = await client.post(
                    f"{urls[i % len(urls)]}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]})
                statuses.append(response.status_code)

        await asyncio.gather(*(one(i) for i in range(n)))
    return statuses


def test_a_per_minute_limit_holds_across_two_replicas(
    tmp_path: Path, pg_url: str, signer: Signer  # noqa: F811
) -> None:
    keys = tmp_path / "keys.json"
    key = add_key(keys, "team", rate=0, per_minute=25)
    other = add_key(keys, "other", rate=0, per_minute=25)
    with ExitStack() as stack:
        urls = [stack.enter_context(replica(tmp_path, name, pg_url, keys, signer,
                                            clock=29_000_000 * 60.0 + 30))[0]
                for name in ("a", "b")]
        statuses = asyncio.run(_send(urls, key, 60))
        others = asyncio.run(_send(urls, other, 10))
        retry = httpx.post(f"{urls[0]}/v1/chat/completions",
                           headers={"Authorization": f"Bearer {key}"},
                           json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    # Exact, whichever replica each request hit: per-replica counting would let 50 by.
    assert sorted(statuses) == [200] * 25 + [429] * 35
    assert others == [200] * 10  # one client's limit is not another's
    assert retry.status_code == 429 and retry.headers["Retry-After"] == "30"
    assert "Limit of 25 requests per minute for client 'team'" in retry.json()["error"]["message"]
    events = [json.loads(line)["body"] for name in ("a", "b")
              for line in (tmp_path / f"events-{name}.log").read_text().splitlines()]
    served = {e["replica"] for e in events if e.get("kind") == "request"}
    assert served == {"a", "b"}


def test_store_unreachable_fails_closed_and_readiness_fails(
    tmp_path: Path, server_url: str, signer: Signer  # noqa: F811
) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"redline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    keys = tmp_path / "keys.json"
    limited = add_key(keys, "limited", rate=0, per_minute=1000)
    try:
        with replica(tmp_path, "a", db_url, keys, signer) as (url, _store):
            assert httpx.get(f"{url}/ready").json() == {"status": "ready", "replica": "a",
                                                        "problem": None}
            assert asyncio.run(_send([url], limited, 2)) == [200, 200]
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            ready = httpx.get(f"{url}/ready")
            assert ready.status_code == 503
            assert "does not answer" in ready.json()["problem"]
            assert "redline:redline" not in ready.text  # no password in what it says
            assert httpx.get(f"{url}/health").status_code == 200  # alive, just not ready
            refused = httpx.post(f"{url}/v1/chat/completions",
                                 headers={"Authorization": f"Bearer {limited}"},
                                 json={"model": "m", "messages": [{"role": "user",
                                                                   "content": "hi"}]})
            assert refused.status_code == 503  # a limit that cannot be counted is not waived
            assert refused.json()["error"]["code"] == "store_unavailable"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report = verify_log(tmp_path / "events-a.log")
    assert report.ok and report.events == 3 and report.replicas == ["a"]


def test_concurrent_counts_from_many_threads_are_exact(pg_url: str) -> None:  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    stores = [Store(pg_url) for _ in range(2)]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda i: stores[i % 2].count_request("c", 7), range(200)))
    assert sorted(counts) == list(range(1, 201))  # each request saw its own count
    assert stores[0].forget_windows(8) == 1
    for store in stores:
        store.close()


def test_per_minute_limits_need_a_store() -> None:
    from redline.errors import ConfigError
    from redline.guard.auth import ClientKey, KeyFile

    keys = KeyFile(keys=[ClientKey(name="a", sha256="0" * 64, per_minute=5)])
    with pytest.raises(ConfigError, match="drop --no-store"):
        Authenticator(keys)


def test_log_verify_checks_each_replica_log_and_catches_mixed_logs(tmp_path: Path) -> None:
    from redline.cli import app

    paths = []
    for name in ("r1", "r2"):
        signer = load_or_create_signer(tmp_path / f"{name}.key")
        path = tmp_path / f"events-{name}.log"
        with EventLog(path, signer, checkpoint_every=3, replica=name) as log:
            for i in range(5):
                log.append({"kind": "request", "request_id": f"{name}-{i}", "replica": name})
        paths.append(path)
    runner = CliRunner()
    ok = runner.invoke(app, ["log", "verify", *map(str, paths)])
    assert ok.exit_code == 0, ok.output
    assert "(replica r1)" in ok.output and "(replica r2)" in ok.output
    as_json = runner.invoke(app, ["log", "verify", "--json", *map(str, paths)])
    assert [r["replicas"] for r in json.loads(as_json.output)] == [["r1"], ["r2"]]

    # r2's writer appends an event of r1 (a misconfigured replica id): its chain is
    # intact, but the log says whose it is, so the mix is caught.
    signer = load_or_create_signer(tmp_path / "r2.key")
    with EventLog(paths[1], signer, replica="r2") as log:
        log.append({"kind": "request", "request_id": "x", "replica": "r1"})
    bad = runner.invoke(app, ["log", "verify", *map(str, paths)])
    assert bad.exit_code == 1
    assert "an event of replica 'r1' in a log that replica 'r2' opened" in bad.output


def test_watch_reads_several_replica_logs_together(tmp_path: Path) -> None:
    from redline.guard.events import RequestEvent
    from redline.watch import log_events

    paths = []
    for r, name in enumerate(("r1", "r2")):
        signer = load_or_create_signer(tmp_path / f"{name}.key")
        path = tmp_path / f"events-{name}.log"
        with EventLog(path, signer, replica=name) as log:
            for i in range(4):
                ts = f"2026-01-01T00:00:{2 * i + r:02d}.000000+00:00"
                log.append(RequestEvent(request_id=f"{name}-{i}", ts=ts, replica=name)
                           .model_dump(mode="json", exclude_none=True))
        paths.append(path)
    events = list(log_events(paths))
    assert [e.request_id for e in events] == [
        "r1-0", "r2-0", "r1-1", "r2-1", "r1-2", "r2-2", "r1-3", "r2-3"]

    from redline.cli import app

    result = CliRunner().invoke(app, ["watch", "--log", str(paths[0]), "--log", str(paths[1]),
                                      "--alert-log", str(tmp_path / "alerts.log")])
    assert result.exit_code == 0, result.output
    assert "8 requests" in result.output


def test_replicas_opening_a_new_database_at_once_all_start(pg_url: str) -> None:  # noqa: F811
    """Replicas started together on an empty database: one migrates, the others wait."""
    import subprocess
    import sys

    opening = "from redline.store import Store; s = Store(); print(s.revision()); s.close()"
    processes = [subprocess.Popen([sys.executable, "-c", opening], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env={**__import__("os").environ, "REDLINE_DB": pg_url})
                 for _ in range(4)]
    results = [(p.communicate(timeout=60)[0].strip(), p.returncode) for p in processes]
    assert results == [(SCHEMA_HEAD, 0)] * 4, [p.stderr for p in processes]
