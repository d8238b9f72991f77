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


def balanced(items: list[Any], seed: int, by: str) -> list[Any]:
    """:func:`ordered` within each value of ``by``, then interleaved, so any prefix is balanced.

    ``by`` is a key of dict rows, or of a sample's metadata.
    """
    groups: dict[str, list[Any]] = {}
    for item in items:
        value = item[by] if isinstance(item, dict) else item.metadata[by]
        groups.setdefault(str(value), []).append(item)
    queues = [ordered(groups[k], seed) for k in sorted(groups)]
    return [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
