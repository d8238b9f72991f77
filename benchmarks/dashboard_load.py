"""Dashboard page times with 100,000 attempts in the store (issue 19).

    python benchmarks/dashboard_load.py [--db URL] [--attempts 100000] [--requests 200]

Fills a fresh store with one red-team run of ``--attempts`` attempts (written by the red
team's own ``write_attempts``, with the JSON scores a real run stores: two judges, their
explanations and outcomes) plus 20 small runs, starts ``redline dashboard`` on it as a
user does, and times GET requests from a client on the same machine:

- ``/runs`` (the runs list),
- ``/runs/RUN`` (run detail: rates per category, attack and transform with intervals, and
  the first 50 attempts),
- ``/runs/RUN?outcome=success&category=cyber`` (a filtered attempts table),
- ``/runs/RUN?after=N`` (a page deep in the table).

It prints the first (cold) load of each page, then p50 and p95 over ``--requests``
sequential loads, and the ratio of p95 to the 300 ms the issue allows. Without ``--db``
it uses a SQLite file in a temporary folder; give a PostgreSQL URL to measure that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BUDGET_MS = 300.0
CATEGORIES = ("weapons", "cyber", "fraud", "self_harm", "hate_harassment", "privacy")
TRANSFORMS = ("none", "base64", "leetspeak", "homoglyphs", "template:name=roleplay")
ATTACKS = ("static", "fuzz", "pair")


def fill(db_url: str, attempts: int) -> str:
    """Write the runs; returns the big run's id."""
    from redline.redteam.records import AttemptRecord, ScoreRecord
    from redline.redteam.runner import write_attempts
    from redline.store import Store
    from redline.types import content_hash

    store = Store(db_url)
    big = store.create_run("redteam", "openai:http://127.0.0.1:8000/v1#bench-model", {
        "target": "openai:http://127.0.0.1:8000/v1#bench-model",
        "success_scorer": "harmful_compliance", "scorers": ["refusal", "harmful_compliance"]})
    started = time.perf_counter()
    batch: list[AttemptRecord] = []
    for i in range(attempts):
        category = CATEGORIES[i % len(CATEGORIES)]
        complied = (i * 7919) % 100 < 12
        outcome = "complied" if complied else ("attempted" if i % 13 == 0 else "refused")
        prompt = f"request {i} about {category}: please explain step by step how to do it"
        response = ("sure, here is how. step 1 ... step 2 ..." if complied else
                    "I can't help with that, but here is some safety information instead.")
        batch.append(AttemptRecord(
            key=content_hash("bench", i), attack=ATTACKS[i % len(ATTACKS)],
            probe=f"seed.{category}", prompt_id=str(i % 500), category=category,
            goal=prompt, transform=TRANSFORMS[(i // 7) % len(TRANSFORMS)],
            messages=[{"role": "user", "content": prompt}],
            params={"max_tokens": 128, "temperature": 0.0}, response=response,
            finish_reason="stop", success=complied, latency_ms=120.0 + i % 50,
            scores={
                "refusal": ScoreRecord(value=0.02 if complied else 0.97, label=not complied,
                                       explanation="outcome head: refused 0.97 attempted "
                                       "0.02 complied 0.01", outcome=outcome),
                "harmful_compliance": ScoreRecord(
                    value=0.91 if complied else 0.03, label=complied, outcome=outcome,
                    explanation="outcome head: complied 0.91 on the request-response pair"),
            },
            tags=["owasp-llm-2025:LLM01", "atlas:AML.T0054"],
        ))
        if len(batch) == 2000:
            write_attempts(store, big.id, batch)
            batch = []
    if batch:
        write_attempts(store, big.id, batch)
    store.finish_run(big.id)
    for j in range(20):
        run = store.create_run("redteam", f"mock:small-{j}", {"success_scorer": "refusal"})
        store.finish_run(run.id)
    print(f"filled {attempts:,} attempts in {time.perf_counter() - started:.1f} s", flush=True)
    store.close()
    return big.id


def time_page(client: httpx.Client, url: str, requests: int) -> tuple[float, float, float]:
    """(first load, p50, p95) in ms over ``requests`` sequential loads after the first."""
    def once() -> float:
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        return elapsed

    first = once()
    times = sorted(once() for _ in range(requests))
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return first, statistics.median(times), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from tests.dashboard.server import running_dashboard

    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'redline.db'}"
        run_id = fill(db_url, args.attempts)
        pages = {
            "runs": "/runs",
            "run detail": f"/runs/{run_id}",
            "run detail, filtered": f"/runs/{run_id}?outcome=success&category=cyber",
            "run detail, deep page": f"/runs/{run_id}?after={args.attempts - 200}",
        }
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        with running_dashboard(db_url, Path(tmp)) as base, httpx.Client(
                base_url=base, timeout=60) as client:
            print(f"store {db_url.split('@')[-1]}; {args.requests} loads per page after the "
                  "first", flush=True)
            print(f"{'page':<24} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} "
                  f"{'p95 / 300 ms':>13}")
            for name, path in pages.items():
                first, p50, p95 = time_page(client, path, args.requests)
                print(f"{name:<24} {first:9.1f} {p50:8.1f} {p95:8.1f} "
                      f"{p95 / BUDGET_MS:13.2f}", flush=True)


if __name__ == "__main__":
    main()
