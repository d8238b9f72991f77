"""Latency and throughput the guard adds, against calling the upstream directly, same run.

An upstream (`redline serve` on a stand-in model that answers after --upstream-delay
seconds, in its own process) is called at --concurrency by a client in this process,
directly and through `redline guard` (its own process, event log and SQLite store on),
in alternating rounds so both see the same machine load. Reports p50/p99 latency and
throughput of each and the guard's additions and ratio, for the rule layers (the default
policy) and, with --encoder, the encoder classifier layer too: checked before the upstream
call, and with ``overlap: true`` (checked while the upstream generates). With --relay it
first measures a bare relay process (``guard_relay_stub.py``: uvicorn and the same aiohttp
sender, no checks, no events): the floor that any proxy process adds on this machine, so
the guard's own share can be read off.

Every request's prompt is distinct (a numbered question), so the encoder layer cannot
save work by meeting the same text twice in one batch. Each path has one client for the
whole run (its connections stay open between rounds, as a real client's do), and the
--concurrency workers start spread over one upstream delay, so requests arrive the way
steady traffic at that concurrency does. With --burst they all start at once at the start
of every round instead: a wave of simultaneous requests that the upstream's fixed delay
keeps in step for several round trips, which measures how the guard takes a sudden
burst (its CPU per request times the wave's size) rather than steady traffic.

The client sends through the aiohttp sender the guard uses for its upstream
(``redline.targets.transport``), the same on both paths: httpx's default transport costs
a client about 2 ms of CPU per request, which on a small machine competes with the guard
and the upstream for the same cores.
The load average before each run is printed, since absolute numbers on a shared machine
depend on it.

With --baseline-src DIR (repeatable) another guard runs from the redline source tree in DIR (for
example ``git archive COMMIT src | tar -x -C DIR``), measured in the same alternating
rounds, so two versions of the guard compare under the same load; with --traced a third
guard runs with OpenTelemetry export on (OTLP/HTTP to a local sink process that accepts
and drops the batches) and ``--metrics``. Each extra path prints its added latency and its
difference to the current guard.

With --trials N the whole measurement runs N times, each with fresh upstream, relay and
guard processes, and the median of the trials is reported with each trial's added p50.
Rounds within one trial agree closely, but trials do not: on 2 cores, where the kernel
happens to place the client, the upstream and the guard (alone on a core, or sharing one)
moves the added p50 by about 0.6 ms for the whole life of the processes (pinning them by
hand: 1.4 ms with the guard alone on a core, 2.0 ms sharing it). One trial samples one
placement; the median of several is the number to quote.

    python benchmarks/guard_latency.py --requests 3000 --concurrency 16 --relay --encoder
    python benchmarks/guard_latency.py --requests 3000 --rounds 3 --concurrency 16 --trials 7
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
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from redline.guard.loadtest import GuardProcess, free_port
from redline.guard.policy import DEFAULT_POLICY
from redline.targets.transport import FastSender

HERE = Path(__file__).parent
HEADERS = {"Content-Type": "application/json"}
PROMPTS = [
    "What is the boiling point of water at sea level?",
    "Summarise the plot of Hamlet in two sentences.",
    "How do I reverse a list in Python?",
    "Give me three tips for a job interview.",
    "Translate 'good morning' into French.",
    "Why is the sky blue?",
]


def prompt(i: int) -> str:
    """A distinct prompt per request: repeated texts would share one encoder pass."""
    return f"{PROMPTS[i % len(PROMPTS)]} (Question {i}.)"


async def load(
    client: FastSender, url: str, first: int, n: int, concurrency: int, spread: float
) -> tuple[np.ndarray, float]:
    """Send requests ``first .. first + n - 1``; worker k starts ``k * spread / concurrency``
    seconds in. Returns the latencies (ms) and the requests per second."""
    latencies: list[float] = []
    counter = iter(range(first, first + n))

    async def worker(k: int) -> None:
        await asyncio.sleep(k * spread / concurrency)
        for i in counter:
            body = json.dumps({
                "model": "m",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": prompt(i)}],
            }).encode()
            start = time.perf_counter()
            response = await client.post(url, body, HEADERS)
            answer = await response.aread()
            await response.aclose()
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {answer[:200]!r}")

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    wall = time.perf_counter() - start
    return np.asarray(latencies), n / wall


async def measure(
    direct: str, guarded: str, n: int, concurrency: int, rounds: int, spread: float,
    others: dict[str, str] | None = None, pids: dict[str, int] | None = None,
) -> dict[str, float]:
    """Direct and guarded (and ``others``: name -> URL) in alternating rounds.

    Keys ``direct_*`` and ``guard_*``, and ``NAME:guard_*`` for each other path; with
    ``pids`` (path name -> process id) also ``*_cpu_ms``, that process's CPU time per
    request, which on a loaded machine is steadier than its latency.
    """
    urls = {"direct": direct, "guard": guarded, **(others or {})}
    pids = pids or {}
    lat: dict[str, list[np.ndarray]] = {name: [] for name in urls}
    tps: dict[str, list[float]] = {name: [] for name in urls}
    cpu: dict[str, float] = {name: 0.0 for name in urls}
    senders = {name: FastSender(max_connections=concurrency, timeout=60) for name in urls}
    try:
        for name, url in urls.items():  # warm every path up
            await load(senders[name], url, 0, 64, concurrency, spread)
        per_round = n // rounds
        for r in range(rounds):
            first = 64 + r * per_round  # each prompt is sent once on each path
            for name, url in urls.items():
                before = _cpu_seconds(pids[name]) if name in pids else 0.0
                latencies, tp = await load(senders[name], url, first, per_round,
                                           concurrency, spread)
                if name in pids:
                    cpu[name] += _cpu_seconds(pids[name]) - before
                lat[name].append(latencies)
                tps[name].append(tp)
    finally:
        for sender in senders.values():
            await sender.aclose()
    result: dict[str, float] = {}
    for name in urls:
        values = np.concatenate(lat[name])
        key = name if name in ("direct", "guard") else f"{name}:guard"
        result[f"{key}_p50"] = float(np.percentile(values, 50))
        result[f"{key}_p99"] = float(np.percentile(values, 99))
        result[f"{key}_rps"] = float(np.mean(tps[name]))
        if name in pids:
            result[f"{key}_cpu_ms"] = 1000 * cpu[name] / (per_round * rounds)
    return result


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, m: dict[str, float]) -> None:
    print(
        f"{name}: direct p50 {m['direct_p50']:.1f} ms p99 {m['direct_p99']:.1f} ms "
        f"{m['direct_rps']:.0f} req/s | proxied p50 {m['guard_p50']:.1f} ms p99 "
        f"{m['guard_p99']:.1f} ms {m['guard_rps']:.0f} req/s | added p50 "
        f"{m['guard_p50'] - m['direct_p50']:+.1f} ms, "
        f"p99 {m['guard_p99'] - m['direct_p99']:+.1f} ms, "
        f"throughput ratio {m['guard_rps'] / m['direct_rps']:.2f}"
        + (f", guard CPU {m['guard_cpu_ms']:.2f} ms/request" if "guard_cpu_ms" in m else "")
    )
    for key in sorted(k.removesuffix(":guard_p50") for k in m if k.endswith(":guard_p50")):
        p50, p99 = m[f"{key}:guard_p50"], m[f"{key}:guard_p99"]
        print(f"  {key}: p50 {p50:.1f} ms p99 {p99:.1f} ms {m[f'{key}:guard_rps']:.0f} req/s "
              f"| added p50 {p50 - m['direct_p50']:+.1f} ms, p99 {p99 - m['direct_p99']:+.1f} "
              f"ms | this guard minus {key}: p50 {m['guard_p50'] - p50:+.2f} ms, "
              f"p99 {m['guard_p99'] - p99:+.2f} ms"
              + (f" | CPU {m[f'{key}:guard_cpu_ms']:.2f} ms/request"
                 if f"{key}:guard_cpu_ms" in m else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=1,
                        help="repeat the whole measurement with fresh processes (see above) "
                        "and report the median of the trials")
    parser.add_argument("--upstream-delay", type=float, default=0.1)
    parser.add_argument("--encoder", action="store_true",
                        help="also measure the encoder layer, checked before the upstream "
                        "call and overlapped with it (overlap: true)")
    parser.add_argument("--relay", action="store_true",
                        help="first measure a bare relay process (guard_relay_stub.py: no "
                        "checks, no events), the floor any proxy adds here")
    parser.add_argument("--baseline-src", type=Path, action="append", default=[],
                        help="also measure a guard run from this redline source tree "
                        "(DIR/src), in the same rounds; may be repeated (named by DIR)")
    parser.add_argument("--traced", action="store_true",
                        help="also measure a guard with OTLP span export and --metrics on")
    parser.add_argument("--burst", action="store_true",
                        help="start all workers at once each round (see above)")
    args = parser.parse_args()
    policies = {"rules": yaml.safe_load(DEFAULT_POLICY.read_text())}
    if args.encoder:
        with_encoder = yaml.safe_load(DEFAULT_POLICY.read_text())
        for layer in with_encoder["layers"]:
            if layer["name"] == "encoder":
                layer["enabled"] = True
        policies["rules+encoder"] = with_encoder
        overlapped = yaml.safe_load(yaml.safe_dump(with_encoder))
        for layer in overlapped["layers"]:
            if layer["name"] == "encoder":
                layer["overlap"] = True
        policies["rules+encoder (overlap)"] = overlapped
    runs = (f"concurrency {args.concurrency}, {args.requests} requests"
            f"{', burst starts' if args.burst else ''}")
    trials: dict[str, list[dict[str, float]]] = {}
    for trial in range(args.trials):
        if args.trials > 1:
            print(f"trial {trial + 1} of {args.trials}", flush=True)
        for name, m in run_trial(args, policies, runs).items():
            trials.setdefault(name, []).append(m)
    if args.trials > 1:
        print(f"median of {args.trials} trials (fresh processes each):")
        for name, ms in trials.items():
            p50 = [m["guard_p50"] - m["direct_p50"] for m in ms]
            p99 = [m["guard_p99"] - m["direct_p99"] for m in ms]
            ratio = [m["guard_rps"] / m["direct_rps"] for m in ms]
            for key in sorted(k.removesuffix(":guard_p50") for k in ms[0]
                              if k.endswith(":guard_p50")):
                d50 = [m["guard_p50"] - m[f"{key}:guard_p50"] for m in ms]
                d99 = [m["guard_p99"] - m[f"{key}:guard_p99"] for m in ms]
                print(f"{name}: this guard minus {key}: p50 {np.median(d50):+.2f} ms (trials "
                      f"{', '.join(f'{a:+.2f}' for a in sorted(d50))}), p99 "
                      f"{np.median(d99):+.2f} ms (trials {min(d99):+.2f} to {max(d99):+.2f})")
                if f"{key}:guard_cpu_ms" in ms[0]:
                    dcpu = [m["guard_cpu_ms"] - m[f"{key}:guard_cpu_ms"] for m in ms]
                    print(f"{name}: this guard's CPU minus {key}'s: {np.median(dcpu):+.3f} "
                          f"ms/request (trials {', '.join(f'{a:+.3f}' for a in sorted(dcpu))})")
            print(f"{name}: added p50 {np.median(p50):+.1f} ms (trials "
                  f"{', '.join(f'{a:+.1f}' for a in sorted(p50))}), added p99 "
                  f"{np.median(p99):+.1f} ms (trials {min(p99):+.1f} to {max(p99):+.1f}), "
                  f"throughput ratio {np.median(ratio):.2f} (trials {min(ratio):.2f} to "
                  f"{max(ratio):.2f})")
    return 0


def run_trial(args: argparse.Namespace, policies: dict[str, Any],
              runs: str) -> dict[str, dict[str, float]]:
    """One measurement of every path, with its own upstream, relay and guard processes."""
    results: dict[str, dict[str, float]] = {}
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "REDLINE_BENCH_UPSTREAM_DELAY": str(args.upstream_delay),
    }
    upstream = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from redline.cli import main; main()",
            "serve",
            "python:guard_upstream_stub:answer",
            "--no-cache",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    direct = f"http://127.0.0.1:{port}/v1"
    spread = 0.0 if args.burst else args.upstream_delay
    try:
        _wait(direct)
        if args.relay:
            relay_port = free_port()
            relay = subprocess.Popen(
                [sys.executable, str(HERE / "guard_relay_stub.py"), "--upstream", direct,
                 "--port", str(relay_port)], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            try:
                _wait(f"http://127.0.0.1:{relay_port}/v1")
                print(f"relay: load average {os.getloadavg()[0]:.2f} (1 min) at start",
                      flush=True)
                m = asyncio.run(measure(
                    f"{direct}/chat/completions",
                    f"http://127.0.0.1:{relay_port}/v1/chat/completions",
                    args.requests, args.concurrency, args.rounds, spread))
            finally:
                relay.terminate()
                relay.wait()
            report(f"bare relay, no guard ({runs})", m)
            results["bare relay"] = m
        with tempfile.TemporaryDirectory(prefix="redline-bench-") as folder:
            for number, (name, policy) in enumerate(policies.items()):
                path = Path(folder) / f"policy{number}.yaml"
                path.write_text(yaml.safe_dump(policy))
                guard_port = free_port()
                guard = GuardProcess(
                    [
                        "--upstream",
                        f"openai:{direct}#m",
                        "--policy",
                        str(path),
                        "--no-auth",
                        "--db",
                        f"sqlite:///{folder}/policy{number}.db",
                        "--log",
                        f"{folder}/policy{number}.log",
                        "--signing-key",
                        f"{folder}/k.key",
                        "-o",
                        "concurrency=64",
                    ],
                    guard_port,
                    {**env, "REDLINE_HOME": folder},
                )
                guard.start()
                extra = _extra_guards(args, guard, folder, number, env)
                print(f"{name}: load average {os.getloadavg()[0]:.2f} (1 min) at start",
                      flush=True)
                try:
                    m = asyncio.run(measure(
                        f"{direct}/chat/completions",
                        f"http://127.0.0.1:{guard_port}/v1/chat/completions",
                        args.requests,
                        args.concurrency,
                        args.rounds,
                        spread,
                        {key: f"http://127.0.0.1:{g.port}/v1/chat/completions"
                         for key, g in extra.items()},
                        {key: g.process.pid for key, g in [("guard", guard), *extra.items()]
                         if g.process is not None},
                    ))
                finally:
                    guard.stop()
                    for other in extra.values():
                        other.stop()
                report(f"{name} (upstream delay {args.upstream_delay * 1000:.0f} ms, {runs})", m)
                results[name] = m
    finally:
        upstream.terminate()
        upstream.wait()
    return results


def _extra_guards(args: argparse.Namespace, guard: GuardProcess, folder: str, number: int,
                  env: dict[str, str]) -> dict[str, GuardProcess]:
    """The --baseline-src and --traced guards, started, with the same arguments."""
    extra: dict[str, GuardProcess] = {}

    def variant(tag: str, more: list[str], variant_env: dict[str, str]) -> GuardProcess:
        arguments = [a.replace(f"policy{number}.", f"policy{number}-{tag}.")
                     if a.endswith((".db", ".log")) else a for a in guard.args]
        process = GuardProcess([*arguments, *more], free_port(), variant_env)
        process.start()
        return process

    for tree in args.baseline_src:
        src = str(tree.resolve() / "src")
        extra[tree.name] = variant(tree.name, [], {
            **env, "REDLINE_HOME": folder,
            "PYTHONPATH": f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"})
    if args.traced:
        sink_port = free_port()
        sink = subprocess.Popen([sys.executable, str(HERE / "otlp_sink.py"), str(sink_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        traced = variant("traced", ["--metrics"], {
            **env, "REDLINE_HOME": folder,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}"})
        stop = traced.stop

        def stop_both(timeout: float = 60.0) -> None:
            stop(timeout)
            sink.terminate()
            sink.wait()

        traced.stop = stop_both  # type: ignore[method-assign]
        extra["traced"] = traced
    return extra


def _wait(base: str) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the upstream did not start")


if __name__ == "__main__":
    sys.exit(main())
