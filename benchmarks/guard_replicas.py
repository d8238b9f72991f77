"""Guard replicas behind HAProxy on one PostgreSQL: 20,000 requests, a replica killed midway.

Part 1 (src/redline/guard/replica_load.py): HAProxy (Debian package) balances two
`redline guard --replica` processes that share one PostgreSQL database. 20,000 chat
completions go through it; every fourth uses a key limited to --per-minute requests a
minute. At 10,000 the first replica is stopped (--kill term: SIGTERM, a graceful stop;
kill: SIGKILL) and started again. Checks: every request got an answer or an error, one
event per request across the two logs (and one row in the store), each log verifies
against its replica's public key (in process and with `redline log verify --public-key`),
and the limit held in every minute to within 5%.

Part 2: the latency the shared limit adds. One guard on the same PostgreSQL, two keys
that differ only in a per-minute limit (one so high it never refuses, so every request
is counted in PostgreSQL), sent in alternating rounds at --concurrency; the difference of
their p50 and p99 is the limit's cost. Also the bare cost of one count (the upsert, from
the event loop through a worker thread), one at a time.

    python benchmarks/guard_replicas.py --requests 20000 --kill term
    python benchmarks/guard_replicas.py --requests 20000 --kill kill --skip-latency

The PostgreSQL server comes from REDLINE_TEST_PG_URL or /tmp/redline-test-pg.url (written
by .ci/system-deps.sh); a fresh database is made on it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _server_url() -> str:
    url = os.environ.get("REDLINE_TEST_PG_URL")
    if url:
        return url
    file = Path(os.environ.get("REDLINE_TEST_PG_URL_FILE", "/tmp/redline-test-pg.url"))
    if not file.is_file():
        sys.exit("No PostgreSQL: run `bash .ci/system-deps.sh` or set REDLINE_TEST_PG_URL.")
    return file.read_text().strip()


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new empty database on the server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"redline_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_test(args: argparse.Namespace, server: str) -> bool:
    from redline.guard.replica_load import run_replica_load_test

    with fresh_database(server) as db, tempfile.TemporaryDirectory(prefix="rl-rep-") as folder:
        load_before = os.getloadavg()[0]
        result = run_replica_load_test(
            folder, db, requests=args.requests, concurrency=args.concurrency,
            per_minute=args.per_minute, limited_every=4, failure_rate=0.02,
            kill=args.kill, seed=args.seed)
        clis = []
        for name in ("r1", "r2"):
            cli = subprocess.run(
                [sys.executable, "-c", "from redline.cli import main; main()", "log", "verify",
                 f"{folder}/events-{name}.log", "--public-key", f"{folder}/{name}.key.pub"],
                capture_output=True, text=True, check=False)
            clis.append(cli)
    print(f"== load: {result.requests} requests through HAProxy to {result.replicas} replicas, "
          f"replica r1 stopped with SIG{result.kill.upper()} at {result.requests // 2}")
    print(f"statuses {dict(sorted(result.statuses.items()))}, unanswered {result.unanswered}, "
          f"client resends {result.resent}")
    print(f"events {result.events} (by replica {result.events_by_replica}; r1 after its "
          f"restart {result.served_after_restart}), duplicated {result.duplicated}, missing "
          f"{result.missing}; store rows {result.store_rows}")
    print(f"chains verify {result.chains_ok} {result.problems or ''}")
    for name, cli in zip(("r1", "r2"), clis, strict=True):
        print(f"  `redline log verify --public-key` {name}: exit {cli.returncode}: "
              f"{' '.join(cli.stdout.split())[:200]}")
    print(f"limit {result.per_minute}/min for the limited client; minute -> (sent, let by): "
          f"{result.limited_windows}; outside 5%: {result.limit_errors or 'none'}")
    print(f"wall {result.seconds:.1f} s ({result.rate:.0f} req/s), latency p50 "
          f"{result.latency_p50_ms:.1f} ms, p99 {result.latency_p99_ms:.1f} ms; r1 back "
          f"{result.kill_seconds:.1f} s after the stop; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores")
    return result.ok and all(cli.returncode == 0 for cli in clis)


def latency(args: argparse.Namespace, server: str) -> None:
    import httpx

    from redline.guard.auth import ClientKey, SharedWindows, add_key
    from redline.guard.loadtest import GuardProcess, free_port
    from redline.serve.app import create_app
    from redline.serve.server import background_server
    from redline.store import Store
    from redline.targets import MockTarget

    with fresh_database(server) as db, tempfile.TemporaryDirectory(prefix="rl-lat-") as folder:
        store = Store(db)
        windows = SharedWindows(store)
        client = ClientKey(name="probe", sha256="0" * 64, per_minute=10**9)

        async def counts(n: int) -> list[float]:
            times = []
            for _ in range(n):
                started = time.perf_counter()
                await windows.retry_after(client)
                times.append((time.perf_counter() - started) * 1000)
            return times

        one = asyncio.run(counts(2000))
        store.close()
        print(f"== one count (upsert ... returning, via a worker thread), 2000 in a row: "
              f"p50 {_pct(one, 0.5):.3f} ms, p99 {_pct(one, 0.99):.3f} ms")

        keys = Path(folder) / "keys.json"
        plain = add_key(keys, "plain", rate=0)
        limited = add_key(keys, "limited", rate=0, per_minute=10**9)
        port = free_port()
        with background_server(create_app(MockTarget(), model_name="m")) as upstream:
            guard = GuardProcess(
                ["--upstream", f"openai:{upstream}#m", "--keys", str(keys), "--db", db,
                 "--replica", "lat", "--log", f"{folder}/events.log",
                 "--signing-key", f"{folder}/lat.key"], port,
                {**os.environ, "REDLINE_HOME": f"{folder}/home"})
            guard.start()
            url = f"http://127.0.0.1:{port}/v1/chat/completions"

            async def round_(key: str, n: int) -> list[float]:
                times: list[float] = []
                queue = iter(range(n))
                async with httpx.AsyncClient(timeout=30) as http:

                    async def worker() -> None:
                        for i in queue:
                            started = time.perf_counter()
                            r = await http.post(url, headers={"Authorization": f"Bearer {key}"},
                                                json={"model": "m", "messages": [
                                                    {"role": "user", "content": f"q{i}"}]})
                            assert r.status_code == 200, r.text
                            times.append((time.perf_counter() - started) * 1000)

                    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
                return times

            results: dict[str, list[float]] = {"plain": [], "limited": []}
            per_round = args.latency_requests // 6
            asyncio.run(round_(plain, 200))  # warm-up
            for r in range(6):
                name = ("plain", "limited")[r % 2]
                results[name] += asyncio.run(round_(plain if name == "plain" else limited,
                                                    per_round))
            guard.stop()
    p = {k: (statistics.median(v), _pct(v, 0.99)) for k, v in results.items()}
    print(f"== end to end, one guard on PostgreSQL, concurrency {args.concurrency}, "
          f"{per_round * 3} requests per key in alternating rounds")
    for name in ("plain", "limited"):
        print(f"  {name:<8} p50 {p[name][0]:.2f} ms, p99 {p[name][1]:.2f} ms")
    print(f"  the shared per-minute limit adds p50 {p['limited'][0] - p['plain'][0]:+.2f} ms, "
          f"p99 {p['limited'][1] - p['plain'][1]:+.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-minute", type=int, default=1000)
    parser.add_argument("--kill", choices=["term", "kill"], default="term")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-requests", type=int, default=3000)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    server = _server_url()
    ok = True
    if not args.skip_load:
        ok = load_test(args, server)
    if not args.skip_latency:
        latency(args, server)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
