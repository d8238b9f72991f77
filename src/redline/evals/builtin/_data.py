"""The shipped data of the real-language suites (``redline/evals/data/*.jsonl``)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "data"


@functools.cache
def rows(name: str) -> tuple[dict[str, Any], ...]:
    """The rows of ``data/NAME.jsonl``, in file order."""
    path = DATA / f"{name}.jsonl"
    with path.open(encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def ordered(items: list[Any], seed: int, key: str = "id") -> list[Any]:
    """``items`` in a fixed order per seed (a hash of seed and id): no item twice.

    A run of size k takes the first k, so smaller runs are subsets of larger ones.
    """
    def rank(item: Any) -> str:
        ident = item[key] if isinstance(item, dict) else getattr(item, key)
        return hashlib.sha256(f"{seed}:{ident}".encode()).hexdigest()

    return sorted(items, key=rank)


def balanced(items: list[dict[str, Any]], seed: int, by: str) -> list[dict[str, Any]]:
    """:func:`ordered` within each value of ``by``, then interleaved, so any prefix is balanced."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item[by], []).append(item)
    queues = [ordered(groups[k], seed) for k in sorted(groups)]
    out: list[dict[str, Any]] = []
    for i in range(max(len(q) for q in queues)):
        out.extend(q[i] for q in queues if i < len(q))
    return out
