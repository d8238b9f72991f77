"""Load-testing guard replicas: HAProxy in front of two guards on one PostgreSQL.

:func:`run_replica_load_test` starts a flaky OpenAI-compatible upstream (in this process),
``replicas`` ``redline guard --replica`` child processes that share one store (the
database at ``db_url``), and HAProxy (the Debian package) balancing between them with
health checks on ``/ready``. It sends ``requests`` chat completions through HAProxy, each
with its own ``X-Request-ID``; every ``limited_every``-th request uses the key of a
client limited to ``per_minute`` requests per minute, the others an unlimited key. When
half are sent it stops the first replica (SIGTERM: a graceful stop that finishes the
requests it started, or SIGKILL with ``kill="kill"``) and starts it again on the same
port, log and replica id.

At the end it checks what a load balancer in front of replicas must keep true: every
request got an answer or an error; across the replicas' logs each request has exactly one
event (and one row in the store); each replica's log verifies against its own public
key; and in every minute the limited client got at most ``per_minute`` requests past the
limit, however the load balancer spread them.

HAProxy retries a request on the other replica only when it could not be delivered
(``retry-on conn-failure empty-response``): a refused connection, or a kept-alive
connection that the stopping replica closed before reading a request. The one-event
check would catch a retry that produced a second event.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

from redline.errors import ConfigError, RedlineError
from redline.guard.loadtest import (
    GuardProcess,
    _percentile,
    _send_all,
    _Sent,
    flaky_target,
    free_port,
    terminate,
    wait_until_ok,
)

HAPROXY_CONFIG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    retries 3
    option redispatch
    retry-on conn-failure empty-response
frontend guards_in
    bind 127.0.0.1:{port}
    default_backend guards
backend guards
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 250ms fastinter 100ms downinter 250ms fall 2 rise 2
{servers}
"""


@dataclass
class ReplicaLoadResult:
    """What a replica load test saw.

    Attributes:
        requests: requests sent through the load balancer.
        replicas: guard replicas behind it.
        statuses: HTTP status -> count (every request has exactly one).
        unanswered: requests that got neither an answer nor an error status.
        resent: tries the client had to resend (the load balancer itself unreachable).
        events: request events in all the replicas' logs together.
        events_by_replica: replica -> its events.
        served_after_restart: events the restarted replica logged after it came back.
        duplicated: request ids with more than one event (in any logs).
        missing: request ids with no event.
        store_rows: request rows in the shared store.
        chains_ok: replica -> its log verifies against its public key.
        problems: what verification found wrong.
        per_minute: the limited client's limit.
        limited_windows: minute -> (requests the limited client sent, requests let past
            the limit).
        kill: how the replica was stopped (``term`` or ``kill``).
        kill_seconds: from stopping the replica until it answered ``/ready`` again.
        seconds: wall time of the load.
        latency_p50_ms: median time to an answer or error, at the client.
        latency_p99_ms: 99th percentile of the same.
    """

    requests: int
    replicas: int
    statuses: dict[int, int]
    unanswered: int
    resent: int
    events: int
    events_by_replica: dict[str, int]
    served_after_restart: int
    duplicated: int
    missing: int
    store_rows: int
    chains_ok: dict[str, bool]
    per_minute: int
    limited_windows: dict[int, tuple[int, int]]
    kill: str
    kill_seconds: float
    seconds: float
    latency_p50_ms: float
    latency_p99_ms: float
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Requests per second over the whole load."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def limit_errors(self) -> list[str]:
        """Minutes where the limit did not hold to within 5% (too many or too few let by)."""
        bad = []
        for window, (sent, allowed) in sorted(self.limited_windows.items()):
            if allowed > self.per_minute * 1.05:
                bad.append(f"minute {window}: {allowed} let past a limit of {self.per_minute}")
            elif allowed < min(sent, self.per_minute) * 0.95:
                bad.append(f"minute {window}: only {allowed} of {sent} let by under a limit "
                           f"of {self.per_minute}")
        return bad

    @property
    def ok(self) -> bool:
        """Every request answered, one event each, every chain intact, the limit held."""
        return (self.unanswered == 0 and self.duplicated == 0 and self.missing == 0
                and self.events == self.requests and all(self.chains_ok.values())
                and len(self.chains_ok) == self.replicas and not self.limit_errors)


def haproxy_binary() -> str | None:
    """The ``haproxy`` executable, or None (``apt-get install haproxy``)."""
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)


class HAProxy:
    """HAProxy in the foreground, balancing ``127.0.0.1:port`` over guard replicas."""

    def __init__(self, folder: Path, port: int, backends: dict[str, int]) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise ConfigError("HAProxy is not installed; run `apt-get install -y haproxy`.")
        self.binary, self.port = binary, port
        servers = "\n".join(f"    server {name} 127.0.0.1:{p} check"
                            for name, p in backends.items())
        self.config = folder / "haproxy.cfg"
        self.config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start it and wait until a guard answers ``/ready`` through it.

        Raises:
            RedlineError: it exited or no guard answered through it in time.
        """
        checked = subprocess.run([self.binary, "-c", "-f", str(self.config)],
                                 capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RedlineError(f"HAProxy rejected its config: {checked.stderr.strip()[-500:]}")
        self._stderr = tempfile.TemporaryFile()
        process = subprocess.Popen([self.binary, "-db", "-f", str(self.config)],
                                   stdout=subprocess.DEVNULL, stderr=self._stderr)
        self.process = process
        if wait_until_ok(f"http://127.0.0.1:{self.port}/ready", timeout,
                         alive=lambda: process.poll() is None):
            return
        self._stderr.seek(0)
        said = self._stderr.read().decode(errors="replace")[-500:]
        self.stop()
        raise RedlineError(f"No guard answered through HAProxy within {timeout:g} s: {said}")

    def stop(self) -> None:
        """Stop it (SIGTERM: it closes its connections)."""
        if self.process is None:
            return
        terminate(self.process, self._stderr, 10)
        self.process, self._stderr = None, None


def _minute(ts: str) -> int:
    return int(datetime.fromisoformat(ts).timestamp() // 60)


def run_replica_load_test(
    folder: str | Path,
    db_url: str,
    *,
    requests: int = 20_000,
    replicas: int = 2,
    concurrency: int = 16,
    failure_rate: float = 0.02,
    per_minute: int = 300,
    limited_every: int = 4,
    kill: Literal["term", "kill"] = "term",
    seed: int = 0,
) -> ReplicaLoadResult:
    """Run the load test; guard logs, keys and HAProxy's config go under ``folder``.

    Args:
        folder: where the replicas' logs, keys and home go.
        db_url: the store every replica shares (an empty PostgreSQL database).
        requests: chat completions to send through HAProxy.
        replicas: guard processes behind it.
        concurrency: requests in flight at once.
        failure_rate: share of upstream calls that fail (answered 502 by the guard).
        per_minute: the limited client's per-minute limit, shared by the replicas.
        limited_every: every this many requests uses the limited client's key.
        kill: stop the first replica gracefully (``term``) or at once (``kill``).
        seed: seed of the injected upstream failures.
    """
    from redline.guard.auth import add_key
    from redline.guard.eventlog import iter_records, verify_log
    from redline.guard.signing import load_public_key
    from redline.serve.app import create_app
    from redline.serve.server import background_server
    from redline.store import Store

    work = Path(folder)
    work.mkdir(parents=True, exist_ok=True)
    keys_path = work / "keys.json"
    bulk_key = add_key(keys_path, "bulk", rate=0, per_minute=0)
    limited_key = add_key(keys_path, "limited", rate=0, per_minute=per_minute)
    env = {**os.environ, "REDLINE_HOME": str(work / "home")}
    names = [f"r{i + 1}" for i in range(replicas)]
    ports = {name: free_port() for name in names}
    upstream_app = create_app(flaky_target(failure_rate, seed), model_name="flaky")
    with background_server(upstream_app) as upstream_url:
        guards = {
            name: GuardProcess(
                ["--upstream", f"openai:{upstream_url}#flaky", "-o", "max_retries=0",
                 "--keys", str(keys_path), "--db", db_url, "--replica", name,
                 "--log", str(work / f"events-{name}.log"),
                 "--signing-key", str(work / f"{name}.key"), "--checkpoint-every", "500"],
                ports[name], env)
            for name in names
        }
        for guard in guards.values():
            guard.launch()
        for guard in guards.values():
            guard.wait_ready()
        balancer = HAProxy(work, free_port(), ports)
        balancer.start()
        victim = guards[names[0]]
        kill_seconds: list[float] = []
        kill_event = asyncio.Event()

        def headers(i: int) -> dict[str, str]:
            key = limited_key if i % limited_every == 0 else bulk_key
            return {"Authorization": f"Bearer {key}"}

        def stop_and_restart() -> None:
            down = time.perf_counter()
            if kill == "kill" and victim.process is not None:
                victim.process.send_signal(signal.SIGKILL)
                victim.process.wait()
                victim.process = None
            else:
                victim.stop()
            victim.launch()
            if not wait_until_ok(f"http://127.0.0.1:{victim.port}/ready", 60.0, every=0.05):
                raise RedlineError("The restarted replica was not ready within 60 s.")
            kill_seconds.append(time.perf_counter() - down)

        async def main() -> _Sent:
            sender = asyncio.ensure_future(_send_all(
                f"http://127.0.0.1:{balancer.port}/v1/chat/completions", requests, concurrency,
                requests // 2, kill_event, headers=headers))
            waiter = asyncio.ensure_future(kill_event.wait())
            await asyncio.wait({sender, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if kill_event.is_set():
                await asyncio.to_thread(stop_and_restart)
            waiter.cancel()
            return await sender

        started = time.perf_counter()
        try:
            sent = asyncio.run(main())
        finally:
            seconds = time.perf_counter() - started
            balancer.stop()
            for guard in guards.values():
                guard.stop()
    store = Store(db_url)
    store_rows = len(store.events(limit=requests * 2, kind="request"))
    store.close()

    counts: Counter[str] = Counter()
    by_replica: Counter[str] = Counter()
    after_restart = 0
    limited: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    chains: dict[str, bool] = {}
    problems: list[str] = []
    for name in names:
        log_path = work / f"events-{name}.log"
        report = verify_log(log_path, load_public_key(work / f"{name}.key.pub"),
                            key_source=f"{name}.key.pub")
        chains[name] = report.ok and report.replicas == [name]
        if not chains[name]:
            problems.append(f"{name}: {report.problem or f'replicas {report.replicas}'}")
        opens = 0
        for record in iter_records(log_path):
            if record.type == "open":
                opens += 1
            if record.type != "event" or record.body.get("kind") != "request":
                continue
            body = record.body
            counts[str(body.get("request_id"))] += 1
            by_replica[str(body.get("replica"))] += 1
            after_restart += name == names[0] and opens > 1
            if body.get("client") == "limited":
                window = limited[_minute(str(body["ts"]))]
                window[0] += 1
                window[1] += body.get("status_code") != 429
    ids = [f"load-{i:06d}" for i in range(requests)]
    statuses = sent.statuses
    return ReplicaLoadResult(
        requests=requests,
        replicas=replicas,
        statuses=dict(Counter(s for s in statuses.values() if s is not None)),
        unanswered=sum(1 for s in statuses.values() if s is None) + requests - len(statuses),
        resent=sent.resent,
        events=sum(counts.values()),
        events_by_replica=dict(sorted(by_replica.items())),
        served_after_restart=after_restart,
        duplicated=sum(1 for rid in ids if counts[rid] > 1),
        missing=sum(1 for rid in ids if counts[rid] == 0),
        store_rows=store_rows,
        chains_ok=chains,
        per_minute=per_minute,
        limited_windows={w: (c[0], c[1]) for w, c in sorted(limited.items())},
        kill=kill,
        kill_seconds=round(sum(kill_seconds), 3),
        seconds=seconds,
        latency_p50_ms=_percentile(sent.latencies_ms, 0.50),
        latency_p99_ms=_percentile(sent.latencies_ms, 0.99),
        problems=problems,
    )


__all__ = ["HAProxy", "ReplicaLoadResult", "haproxy_binary", "run_replica_load_test"]
