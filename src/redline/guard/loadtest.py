"""Load-testing a guard: many requests, a failing upstream, a restart in the middle.

:func:`run_load_test` starts a flaky OpenAI-compatible upstream (in this process), a
``redline guard`` in a child process in front of it, and sends ``requests`` chat
completions at ``concurrency``, each with its own ``X-Request-ID``. Halfway through it
restarts the guard (SIGTERM, then a new process on the same port and log); requests that
find the port closed are retried until the new guard answers, since they never reached a
guard. At the end it checks that every request got an answer or an error, that the log has
exactly one event per request, and that the chain and its signatures verify.

The client keeps its connections alive (a pool of ``concurrency``), as real clients do; a
request that meets a kept-alive connection the stopping guard has just closed is resent
too (a graceful stop answers every request it started, so that request never reached the
app). ``keepalive=False`` opens a new connection per request instead.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from redline.errors import RedlineError
from redline.targets import MockTarget
from redline.types import Message


@dataclass
class LoadTestResult:
    """What a load test saw.

    Attributes:
        requests: requests sent.
        statuses: HTTP status -> count (every request has exactly one).
        unanswered: requests that got neither an answer nor an error status.
        connect_retries: tries that reached no guard app (during the restart) and were resent.
        events: request events in the log.
        duplicated: request ids with more than one event.
        missing: request ids with no event.
        chain_ok: the log's chain and signatures verify.
        restarts: guard restarts done.
        seconds: wall time of the load.
        keepalive: the client reused its connections.
        restart_seconds: from the SIGTERM until the new guard answered ``/health``.
        latency_p50_ms: median time to an answer or error status, resends included.
        latency_p99_ms: 99th percentile of the same.
        problems: what the log verification found wrong.
    """

    requests: int
    statuses: dict[int, int]
    unanswered: int
    connect_retries: int
    events: int
    duplicated: int
    missing: int
    chain_ok: bool
    restarts: int
    seconds: float
    keepalive: bool = True
    restart_seconds: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Requests per second over the whole load."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every request answered, exactly one event each, chain intact."""
        return (self.unanswered == 0 and self.duplicated == 0 and self.missing == 0
                and self.chain_ok and self.events == self.requests)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flaky_target(failure_rate: float, seed: int = 0) -> MockTarget:
    """A mock target that fails a random ``failure_rate`` of its calls."""
    rng = random.Random(seed)

    def answer(messages: Sequence[Message]) -> str:
        if rng.random() < failure_rate:
            raise RuntimeError("injected upstream failure")
        return f"answer to {messages[-1].content}"

    return MockTarget(responder=answer, spec="mock:flaky")


def wait_until_ok(
    url: str, timeout: float, *, alive: Callable[[], bool] = lambda: True, every: float = 0.1
) -> bool:
    """Poll ``url`` until it answers 200 (True), or ``alive()`` turns False or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(every)
    return False


def terminate(
    process: subprocess.Popen[bytes], stderr: IO[bytes] | None, timeout: float
) -> None:
    """SIGTERM a child, SIGKILL it after ``timeout`` s, and close its stderr file."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if stderr is not None:
        stderr.close()


class GuardProcess:
    """``redline guard`` (or another serving command, e.g. ``serve``) in a child process."""

    def __init__(
        self, args: list[str], port: int, env: dict[str, str], *, command: str = "guard"
    ) -> None:
        self.args, self.port, self.env, self.command = args, port, env, command
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait until ``/health`` answers."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting (then :meth:`wait_ready`)."""
        command = [sys.executable, "-c", "from redline.cli import main; main()", self.command,
                   *self.args, "--port", str(self.port)]
        # stderr goes to a file, not a pipe: a pipe nobody reads would block the child
        # once its buffer filled with log lines, stalling a long run.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=self._stderr)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/health`` answers.

        Raises:
            RedlineError: the process exited, or did not answer within ``timeout`` s.
        """
        process = self.process
        assert process is not None, "launch() first"
        if wait_until_ok(f"http://127.0.0.1:{self.port}/health", timeout,
                         alive=lambda: process.poll() is None):
            return
        if process.poll() is not None:
            raise RedlineError(f"`redline {self.command}` exited at start: {self.stderr_tail()}")
        self.stop()
        raise RedlineError(f"`redline {self.command}` did not start within {timeout:g} s.")

    def stderr_tail(self, chars: int = 500) -> str:
        """The end of what the child wrote to stderr."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip()[-chars:]

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (graceful: in-flight requests finish, the log gets a final checkpoint)."""
        if self.process is None:
            return
        terminate(self.process, self._stderr, timeout)
        self.process, self._stderr = None, None


@dataclass
class _Sent:
    statuses: dict[str, int | None] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    resent: int = 0


# Errors that mean the request reached no guard app: nobody listening (restart), or a
# kept-alive or queued connection that the stopping guard closed before reading it. A
# graceful stop finishes every request it started, so resending cannot make a double; the
# one-event-per-request check would catch one if it did.
_NOT_DELIVERED = ("ConnectError", "RemoteProtocolError", "ReadError", "WriteError")


async def _send_all(
    url: str, n: int, concurrency: int, restart_at: int | None, restart: asyncio.Event,
    *, keepalive: bool = True, headers: Callable[[int], dict[str, str]] | None = None,
) -> _Sent:
    import httpx

    sent = _Sent()
    not_delivered = tuple(getattr(httpx, name) for name in _NOT_DELIVERED)
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency,
                          max_keepalive_connections=concurrency if keepalive else 0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            for i in counter:
                if restart_at is not None and i == restart_at:
                    restart.set()
                rid = f"load-{i:06d}"
                sent_headers = {"X-Request-ID": rid, **(headers(i) if headers else {})}
                body = {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
                sent.statuses[rid] = None
                started = time.perf_counter()
                while True:
                    try:
                        response = await client.post(url, json=body, headers=sent_headers)
                        sent.statuses[rid] = response.status_code
                        sent.latencies_ms.append((time.perf_counter() - started) * 1000.0)
                        break
                    except not_delivered:
                        sent.resent += 1
                        await asyncio.sleep(0.05)
                    except httpx.HTTPError:
                        break  # no answer at all: counted as unanswered

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def run_load_test(
    folder: str | Path,
    *,
    requests: int = 20_000,
    concurrency: int = 16,
    failure_rate: float = 0.05,
    restart: bool = True,
    seed: int = 0,
    keepalive: bool = True,
) -> LoadTestResult:
    """Run the load test; guard files (log, keys) go under ``folder``.

    Args:
        folder: where the guard's log, keys and home go.
        requests: chat completions to send, each with its own request id.
        concurrency: requests in flight at once (and connections in the client's pool).
        failure_rate: share of upstream calls that fail (the guard answers those 502).
        restart: stop the guard with SIGTERM and start a new one when half are sent.
        seed: seed of the injected failures.
        keepalive: reuse connections (False: one new connection per request).
    """
    from redline.guard.eventlog import iter_events, verify_log
    from redline.serve.app import create_app
    from redline.serve.server import background_server

    work = Path(folder)
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "events.log"
    env = {**os.environ, "REDLINE_HOME": str(work / "home")}
    port = free_port()
    upstream_app = create_app(flaky_target(failure_rate, seed), model_name="flaky")
    with background_server(upstream_app) as upstream_url:
        args = ["--upstream", f"openai:{upstream_url}#flaky", "-o", "max_retries=0",
                "--no-auth", "--no-store", "--log", str(log_path),
                "--signing-key", str(work / "signing.key"), "--checkpoint-every", "500"]
        guard = GuardProcess(args, port, env)
        guard.start()
        restarted = 0
        restart_seconds: list[float] = []
        restart_event = asyncio.Event()

        async def main() -> _Sent:
            nonlocal restarted
            sender = asyncio.ensure_future(_send_all(
                f"http://127.0.0.1:{port}/v1/chat/completions", requests, concurrency,
                requests // 2 if restart else None, restart_event, keepalive=keepalive))
            if restart:
                waiter = asyncio.ensure_future(restart_event.wait())
                await asyncio.wait({sender, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if restart_event.is_set():
                    down = time.perf_counter()
                    await asyncio.to_thread(guard.stop)
                    await asyncio.to_thread(guard.start)
                    restarted += 1
                    restart_seconds.append(time.perf_counter() - down)
                waiter.cancel()
            return await sender

        started = time.perf_counter()
        sent = asyncio.run(main())
        seconds = time.perf_counter() - started
        guard.stop()
    counts = Counter(e.get("request_id") for e in iter_events(log_path)
                     if e.get("kind") == "request")
    ids = [f"load-{i:06d}" for i in range(requests)]
    report = verify_log(log_path)
    return LoadTestResult(
        requests=requests,
        statuses=dict(Counter(s for s in sent.statuses.values() if s is not None)),
        unanswered=sum(1 for s in sent.statuses.values() if s is None)
        + requests - len(sent.statuses),
        connect_retries=sent.resent,
        events=sum(counts.values()),
        duplicated=sum(1 for rid in ids if counts[rid] > 1),
        missing=sum(1 for rid in ids if counts[rid] == 0),
        chain_ok=report.ok,
        restarts=restarted,
        seconds=seconds,
        keepalive=keepalive,
        restart_seconds=round(sum(restart_seconds), 3),
        latency_p50_ms=_percentile(sent.latencies_ms, 0.50),
        latency_p99_ms=_percentile(sent.latencies_ms, 0.99),
        problems=[report.problem] if report.problem else [],
    )


__all__ = [
    "GuardProcess",
    "LoadTestResult",
    "flaky_target",
    "free_port",
    "run_load_test",
    "wait_until_ok",
]
