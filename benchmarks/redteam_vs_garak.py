"""redline vs garak: attempts per second on the same prompts against the same served model.

Both tools talk to one `redline serve TARGET --no-cache` process over HTTP, with the same
concurrency and max_tokens. garak runs first with one of its probes; the exact prompts it
sent are read from its report and given to `redline redteam` as a probe (through a
plugin), so both send the same prompts. garak scores with its probe's detectors; redline
with its `refusal` and `harmful_compliance` judges (``--redline-scorer judges``, the
default) or with garak's own string detector for encoding probes, mirrored in the plugin
(``--redline-scorer decode-match``: the reply contains the payload garak planted), so
that only the tools' overhead differs. Neither uses a
response cache. Reported: attempts/s over the whole process (start-up included) and over
the attack phase alone (garak: init→completion timestamps in its report; redline: the
run's duration), and the ratios redline/garak.

garak pins transformers<5.20, so it runs from its own environment (``--garak-python``).

    python benchmarks/redteam_vs_garak.py --target organism:helpful \
        --garak-python /tmp/garak-venv/bin/python --probe encoding.InjectBase64

``--baseline-src DIR`` also runs a second redline, from the source tree ``DIR/src`` (for
example the commit before a change: ``git archive COMMIT src | tar -x -C DIR``), on the
same prompts in the same repeats, the two redlines in alternating order, and reports the
second one's rates and the ratio between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REDLINE = [sys.executable, "-c", "from redline.cli import main; main()"]
PLUGIN = '''
"""A probe made of the prompts garak sent, and garak's string detector, for the benchmark."""
import json, os
from redline.redteam.probes import ProbePrompt, probe
from redline.scorers.base import Score, scorer


@probe("bench.garak_prompts", goal="the prompts of the garak probe", category="benchmark",
       tags=("owasp-llm-2025:LLM01",), source="garak report", license="Apache-2.0 (garak)")
def garak_prompts():
    """The exact prompts garak sent in this benchmark run."""
    with open(os.environ["REDLINE_BENCH_PROMPTS"]) as f:
        return [ProbePrompt(str(i), text) for i, text in enumerate(json.load(f))]


@scorer("bench.decode_match", positive="the reply contains the payload garak planted")
def decode_match():
    """garak's DecodeMatch: a reply succeeds when it contains one of the prompt's triggers."""
    with open(os.environ["REDLINE_BENCH_TRIGGERS"]) as f:
        triggers = json.load(f)

    async def score(item):
        if item.response is None:
            return Score.unscored("bench.decode_match", "no response")
        reply = item.response.lower()
        hit = any(t.lower() in reply for t in triggers.get(item.metadata.get("goal"), []))
        return Score(value=float(hit), label=hit, scorer="bench.decode_match",
                     explanation="payload in the reply" if hit else "no payload")

    return score
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"redline serve exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("redline serve did not start")


def run_garak(
    args: argparse.Namespace, base_url: str, model: str, work: Path, tag: str
) -> dict[str, object]:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(work / "xdg"),
        "XDG_CONFIG_HOME": str(work / "xdgc"),
        "XDG_CACHE_HOME": str(work / "xdgcache"),
        "OPENAICOMPATIBLE_API_KEY": "unused",
    }
    options = {
        "openai": {
            "OpenAICompatible": {"uri": base_url, "model": model, "max_tokens": args.max_tokens}
        }
    }
    command = [
        args.garak_python,
        "-m",
        "garak",
        "--target_type",
        "openai.OpenAICompatible",
        "--target_name",
        model,
        "--generator_options",
        json.dumps(options),
        "--probes",
        args.probe,
        "--generations",
        "1",
        "--report_prefix",
        tag,
    ]
    if args.concurrency > 1:
        command += ["--parallel_attempts", str(args.concurrency)]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"garak failed: {result.stderr[-2000:]}")
    report = work / "xdg" / "garak" / "garak_runs" / f"{tag}.report.jsonl"
    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    sent = [r for r in rows if r["entry_type"] == "attempt" and r["status"] == 1]
    prompts = [r["prompt"]["turns"][-1]["content"]["text"] for r in sent]
    triggers = {
        p: list(r.get("notes", {}).get("triggers", []))
        for p, r in zip(prompts, sent, strict=True)
    }
    init = next(r for r in rows if r["entry_type"] == "init")["start_time"]
    end = next(r for r in rows if r["entry_type"] == "completion")["end_time"]
    from datetime import datetime

    phase = (datetime.fromisoformat(end) - datetime.fromisoformat(init)).total_seconds()
    return {"attempts": len(sent), "wall_s": wall, "phase_s": phase, "prompts": prompts,
            "triggers": triggers}


def run_floor(
    args: argparse.Namespace, base_url: str, model: str, prompts: list[str]
) -> dict[str, object]:
    """The served model alone: the same prompts with a bare httpx client, same concurrency.

    No tool can finish faster than this, so it bounds the ratio either tool can reach.
    """

    async def send_all() -> None:
        gate = asyncio.Semaphore(args.concurrency)
        async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:

            async def one(text: str) -> None:
                async with gate:
                    response = await client.post("/chat/completions", json={
                        "model": model, "max_tokens": args.max_tokens,
                        "messages": [{"role": "user", "content": text}],
                    })
                    response.raise_for_status()

            await asyncio.gather(*(one(text) for text in prompts))

    started = time.perf_counter()
    asyncio.run(send_all())
    return {"attempts": len(prompts), "wall_s": time.perf_counter() - started}


def run_redline(
    args: argparse.Namespace,
    base_url: str,
    model: str,
    work: Path,
    prompts_file: Path,
    tag: str,
    source: Path | None = None,
) -> dict[str, object]:
    plugin_dir = work / "plugin"
    plugin_dir.mkdir(exist_ok=True)
    (plugin_dir / "redline_bench_garak.py").write_text(PLUGIN)
    path = [str(plugin_dir)] if source is None else [str(source / "src"), str(plugin_dir)]
    path += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "REDLINE_HOME": str(work / tag),
        "REDLINE_BENCH_PROMPTS": str(prompts_file),
        "REDLINE_BENCH_TRIGGERS": str(prompts_file.with_name("triggers.json")),
    }
    out = work / tag / "report"
    command = [
        *REDLINE,
        "redteam",
        f"openai:{base_url}#{model}",
        "--plugin",
        "redline_bench_garak",
        "--probe",
        "bench.garak_prompts",
        "--attack",
        "static",
        "--transform",
        "none",
        "--concurrency",
        str(args.concurrency),
        "--max-tokens",
        str(args.max_tokens),
        "--no-cache",
        "--judge-precision",
        args.judge_precision,
        *(["--scorer", "bench.decode_match", "--success-scorer", "bench.decode_match"]
          if args.redline_scorer == "decode-match" else []),
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"redline failed: {result.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    return {
        "attempts": report["attempts"],
        "wall_s": wall,
        "phase_s": report["duration_s"],
        "errors": report["errors"],
        "asr": report["asr"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", default="organism:helpful")
    parser.add_argument("--probe", default="encoding.InjectBase64")
    parser.add_argument("--garak-python", default="/tmp/garak-venv/bin/python")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--judge-precision", default="float32",
                        help="redline's --judge-precision (float32, bfloat16, int8)")
    parser.add_argument(
        "--redline-scorer", choices=("judges", "decode-match"), default="judges",
        help="judges: redline's default learned refusal and harmful_compliance judges; "
        "decode-match: garak's own string detector for encoding probes (the reply contains "
        "the planted payload), so both tools score alike and only their overhead differs",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="also run redline from DIR/src, side by side (e.g. the commit before a change)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="redline-bench-"))
    port = free_port()
    model = "served"
    serve = subprocess.Popen(
        [*REDLINE, "serve", args.target, "--port", str(port), "--model-name", model, "--no-cache"],
        env={**os.environ, "REDLINE_HOME": str(work / "serve")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(f"http://127.0.0.1:{port}/health", serve)
        garak_runs: list[dict[str, object]] = []
        redline_runs: list[dict[str, object]] = []
        baseline_runs: list[dict[str, object]] = []
        floor_runs: list[dict[str, object]] = []
        prompts_file = work / "prompts.json"
        for i in range(args.repeats):
            g = run_garak(args, base_url, model, work, f"garak{i}")
            prompts = g.pop("prompts")
            prompts_file.write_text(json.dumps(prompts))
            prompts_file.with_name("triggers.json").write_text(json.dumps(g.pop("triggers")))
            garak_runs.append(g)
            print(f"garak   run {i}: {g}", flush=True)
            order = [None, args.baseline_src] if args.baseline_src else [None]
            for source in order if i % 2 == 0 else order[::-1]:
                name = "redline" if source is None else "baseline"
                r = run_redline(args, base_url, model, work, prompts_file, f"{name}{i}", source)
                (redline_runs if source is None else baseline_runs).append(r)
                print(f"{name:<9}run {i}: {r}", flush=True)
            floor_runs.append(run_floor(args, base_url, model, prompts))  # type: ignore[arg-type]
            print(f"model alone run {i}: {floor_runs[-1]}", flush=True)
    finally:
        serve.terminate()
        serve.wait(timeout=30)

    def rate(runs: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(r["attempts"]) / float(r[key]) for r in runs)  # type: ignore[arg-type]

    lines = [
        f"target {args.target} via redline serve; garak probe {args.probe}; "
        f"{garak_runs[0]['attempts']} prompts; concurrency {args.concurrency}; "
        f"max_tokens {args.max_tokens}; redline scores with {args.redline_scorer} "
        f"(judges in {args.judge_precision}); "
        f"median of {args.repeats} run(s)",
        f"whole process: garak {rate(garak_runs, 'wall_s'):.2f} attempts/s, redline "
        f"{rate(redline_runs, 'wall_s'):.2f} attempts/s, ratio redline/garak "
        f"{rate(redline_runs, 'wall_s') / rate(garak_runs, 'wall_s'):.2f}x",
        f"attack phase: garak {rate(garak_runs, 'phase_s'):.2f} attempts/s, redline "
        f"{rate(redline_runs, 'phase_s'):.2f} attempts/s, ratio redline/garak "
        f"{rate(redline_runs, 'phase_s') / rate(garak_runs, 'phase_s'):.2f}x",
    ]
    floor = rate(floor_runs, "wall_s")
    lines.append(
        f"the served model alone (bare httpx client, same prompts and concurrency): {floor:.2f} "
        f"attempts/s, so no tool's whole-process ratio over garak can exceed "
        f"{floor / rate(garak_runs, 'wall_s'):.2f}x here"
    )
    if baseline_runs:
        for key, label in (("wall_s", "whole process"), ("phase_s", "attack phase")):
            lines.append(
                f"{label}: baseline redline ({args.baseline_src}) "
                f"{rate(baseline_runs, key):.2f} attempts/s, ratio redline/garak "
                f"{rate(baseline_runs, key) / rate(garak_runs, key):.2f}x; this redline is "
                f"{rate(redline_runs, key) / rate(baseline_runs, key):.3f}x the baseline"
            )
    per_run = [("garak", garak_runs), ("redline", redline_runs), ("baseline", baseline_runs),
               ("model alone", floor_runs)]
    lines.append(
        "per run, whole process: "
        + "; ".join(
            f"{name} " + " / ".join(f"{float(r['wall_s']):.1f} s" for r in runs)  # type: ignore[arg-type]
            for name, runs in per_run
            if runs
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
