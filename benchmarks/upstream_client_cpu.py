"""CPU per request of the HTTP client stacks an ``openai:`` target can use, against the guard's.

The guard calls its upstream once per request, so the client stack's CPU is part of the
guard's. This measures, in one run and in alternating rounds, the CPU time (this process,
user + system) per POST of:

- ``aiohttp``: redline's :class:`~redline.targets.transport.FastSender` (aiohttp used
  directly, the second stack beside httpx);
- ``httpx+aiohttp``: ``httpx.AsyncClient`` over ``httpx_aiohttp.AiohttpTransport`` (one
  stack: httpx's API, aiohttp's connection pool and C parser);
- ``httpx``: ``httpx.AsyncClient`` with its default transport (httpcore on anyio);

each sending the guard's upstream request (a one-message chat, read to the end) at
--concurrency to a ``redline serve`` upstream in its own process. Then it measures the CPU
a ``redline guard`` process (rules policy, event log and SQLite store on) spends per
request, so each stack's difference reads as a share of the guard's CPU: the question is
whether keeping a second stack saves more than 10% of it.

    python benchmarks/upstream_client_cpu.py --requests 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np

from redline.guard.loadtest import GuardProcess, free_port, wait_until_ok
from redline.targets.transport import FastSender

HERE = Path(__file__).parent
HEADERS = {"Content-Type": "application/json"}

Post = Callable[[bytes], Awaitable[None]]


def body(i: int) -> bytes:
    return json.dumps({"model": "m", "max_tokens": 64, "messages": [
        {"role": "user", "content": f"Why is the sky blue? (Question {i}.)"}]}).encode()


async def run(post: Post, n: int, concurrency: int) -> float:
    """CPU seconds of this process per request, over ``n`` requests."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await post(body(i))

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) / n


async def clients(url: str, n: int, concurrency: int, rounds: int) -> dict[str, list[float]]:
    from httpx_aiohttp import AiohttpTransport

    fast = FastSender(max_connections=concurrency, timeout=60)
    limits = httpx.Limits(max_connections=concurrency)
    over_aiohttp = httpx.AsyncClient(transport=AiohttpTransport(limits=limits, trust_env=False),
                                     timeout=60, headers=HEADERS)
    plain = httpx.AsyncClient(limits=limits, timeout=60, headers=HEADERS, trust_env=False)

    async def post_fast(data: bytes) -> None:
        response = await fast.post(url, data, HEADERS)
        await response.aread()
        await response.aclose()
        assert response.status_code == 200

    def via(client: httpx.AsyncClient) -> Post:
        async def post(data: bytes) -> None:
            response = await client.send(client.build_request("POST", url, content=data),
                                         stream=True)
            await response.aread()
            await response.aclose()
            assert response.status_code == 200
        return post

    stacks = {"aiohttp": post_fast, "httpx+aiohttp": via(over_aiohttp), "httpx": via(plain)}
    results: dict[str, list[float]] = {name: [] for name in stacks}
    try:
        for post in stacks.values():
            await run(post, 200, concurrency)  # warm up: connections open, code paths hot
        for _ in range(rounds):
            for name, post in stacks.items():
                results[name].append(await run(post, n // rounds, concurrency))
    finally:
        await fast.aclose()
        await over_aiohttp.aclose()
        await plain.aclose()
    return results


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def guard_cpu(url: str, pid: int, n: int, concurrency: int) -> float:
    sender = FastSender(max_connections=concurrency, timeout=60)

    async def post(data: bytes) -> None:
        response = await sender.post(url, data, HEADERS)
        await response.aread()
        await response.aclose()
        assert response.status_code == 200

    try:
        await run(post, 200, concurrency)
        before = cpu_seconds(pid)
        await run(post, n, concurrency)
        return (cpu_seconds(pid) - before) / n
    finally:
        await sender.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--upstream-delay", type=float, default=0.02)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ,
           "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "REDLINE_BENCH_UPSTREAM_DELAY": str(args.upstream_delay)}
    upstream = subprocess.Popen(
        [sys.executable, "-c", "from redline.cli import main; main()", "serve",
         "python:guard_upstream_stub:answer", "--no-cache", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        if not wait_until_ok(f"{base}/models", 60):
            raise RuntimeError("the upstream did not start")
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at start", flush=True)
        per_stack = asyncio.run(clients(f"{base}/chat/completions", args.requests,
                                        args.concurrency, args.rounds))
        with tempfile.TemporaryDirectory(prefix="redline-bench-") as folder:
            guard = GuardProcess(
                ["--upstream", f"openai:{base}#m", "--no-auth",
                 "--db", f"sqlite:///{folder}/g.db", "--log", f"{folder}/g.log",
                 "--signing-key", f"{folder}/k.key", "-o", "concurrency=64"],
                free_port(), {**env, "REDLINE_HOME": folder})
            guard.start()
            try:
                assert guard.process is not None
                guard_ms = 1000 * asyncio.run(guard_cpu(
                    f"http://127.0.0.1:{guard.port}/v1/chat/completions", guard.process.pid,
                    args.requests, args.concurrency))
            finally:
                guard.stop()
    finally:
        upstream.terminate()
        upstream.wait()
    medians = {name: 1000 * float(np.median(v)) for name, v in per_stack.items()}
    print(f"client CPU per request, median of {args.rounds} rounds of "
          f"{args.requests // args.rounds} at concurrency {args.concurrency}:")
    for name, ms in medians.items():
        rounds = ", ".join(f"{1000 * v:.3f}" for v in per_stack[name])
        print(f"  {name:14s} {ms:.3f} ms  (rounds {rounds})")
    print(f"guard CPU per request (rules policy, log and store on): {guard_ms:.3f} ms")
    saved = medians["httpx+aiohttp"] - medians["aiohttp"]
    print(f"aiohttp used directly saves {saved:.3f} ms per request against httpx over the "
          f"aiohttp transport: {100 * saved / guard_ms:.1f}% of the guard's CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
