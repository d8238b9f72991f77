"""A stand-in model for the guard benchmarks: answers after a fixed delay (see guard_latency)."""

import asyncio
import os

DELAY = float(os.environ.get("REDLINE_BENCH_UPSTREAM_DELAY", "0.1"))


async def answer(messages: list[dict[str, str]]) -> str:
    await asyncio.sleep(DELAY)
    return "Here is a short, harmless answer to your question about " + messages[-1]["content"]
