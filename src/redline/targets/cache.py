"""An on-disk response cache for deterministic generations.

The key is the sha256 of (target spec, target fingerprint, messages, parameters), so a
changed model, prompt or parameter never hits a stale answer. Sampled generations without
a seed are never cached. The cache is a SQLite file (``$REDLINE_HOME/cache.sqlite``),
safe to share between threads and processes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from redline import paths
from redline.targets.base import Target, generate_many, stream
from redline.types import Completion, GenerateParams, Message, content_hash, messages_to_dicts


class ResponseCache:
    """A key/value store of completions in a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def default(cls) -> ResponseCache:
        """The cache under redline's home folder."""
        return cls(paths.home() / "cache.sqlite")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._conn = conn
        return self._conn

    @staticmethod
    def key(target: Target, messages: Sequence[Message], params: GenerateParams) -> str:
        """The cache key of one generation."""
        return content_hash(
            target.spec, target.fingerprint, messages_to_dicts(messages), params.to_dict()
        )

    def get(self, key: str) -> Completion | None:
        """The cached completion for ``key``, marked ``cached=True``, or None."""
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT value FROM completions WHERE key = ?", (key,))
                .fetchone()
            )
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return Completion(**data, cached=True)

    def put(self, key: str, completion: Completion) -> None:
        """Store a completion (errors are never stored)."""
        if completion.finish_reason == "error":
            return
        value = json.dumps(completion.to_dict())
        with self._lock:
            conn = self._connection()
            conn.execute("INSERT OR REPLACE INTO completions VALUES (?, ?)", (key, value))
            conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CachedTarget:
    """A target wrapped in a :class:`ResponseCache`; everything else passes through."""

    def __init__(self, inner: Target, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def spec(self) -> str:
        """The inner target's spec."""
        return self.inner.spec

    @property
    def fingerprint(self) -> str:
        """The inner target's fingerprint."""
        return self.inner.fingerprint

    def __getattr__(self, name: str) -> Any:
        # White-box access (forward, model, tokenizer) goes straight to the inner target.
        return getattr(self.inner, name)

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """Answer from the cache when possible."""
        if not params.deterministic:
            return await self.inner.generate(messages, params)
        key = self.cache.key(self.inner, messages, params)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        completion = await self.inner.generate(messages, params)
        self.cache.put(key, completion)
        return completion

    async def generate_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerateParams
    ) -> list[Completion]:
        """Answer many, sending only the cache misses to the inner target, batched."""
        if not params.deterministic:
            return await generate_many(self.inner, conversations, params)
        keys = [self.cache.key(self.inner, c, params) for c in conversations]
        results: list[Completion | None] = [self.cache.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            fresh = await generate_many(self.inner, [conversations[i] for i in missing], params)
            for i, completion in zip(missing, fresh, strict=True):
                self.cache.put(keys[i], completion)
                results[i] = completion
        return [r for r in results if r is not None]

    async def stream(
        self, messages: Sequence[Message], params: GenerateParams
    ) -> AsyncIterator[str]:
        """Stream from the inner target, or replay a cached answer in one piece."""
        key = self.cache.key(self.inner, messages, params) if params.deterministic else None
        hit = self.cache.get(key) if key else None
        if hit is not None:
            yield hit.text
            return
        pieces: list[str] = []
        async for piece in stream(self.inner, messages, params):
            pieces.append(piece)
            yield piece
        if key:
            self.cache.put(key, Completion(text="".join(pieces)))

    async def aclose(self) -> None:
        """Close the inner target and the cache file."""
        await self.inner.aclose()
        self.cache.close()
