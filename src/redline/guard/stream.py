"""Cutting answer text into stream chunks that never split a word."""

from __future__ import annotations

from collections.abc import Iterator


def word_chunks(text: str, chunk_chars: int) -> Iterator[str]:
    """Pieces of ``text``, each about ``chunk_chars`` long, cut only after whitespace.

    A word longer than ``chunk_chars`` is sent whole. Joining the pieces gives ``text``.
    """
    start, n = 0, len(text)
    while start < n:
        if n - start <= chunk_chars:
            yield text[start:]
            return
        cut = _last_break(text, start, start + chunk_chars)
        if cut <= start:  # one long word: send it whole, up to the next break
            cut = _next_break(text, start + chunk_chars)
        yield text[start:cut]
        start = cut


def _last_break(text: str, start: int, limit: int) -> int:
    """Index just after the last whitespace in ``text[start:limit]`` (``start`` if none)."""
    for i in range(limit, start, -1):
        if text[i - 1].isspace():
            return i
    return start


def _next_break(text: str, start: int) -> int:
    for i in range(start, len(text)):
        if text[i].isspace():
            return i + 1
    return len(text)


class WordRechunker:
    """Re-cuts a stream of arbitrary pieces into pieces that end at whitespace.

    ``feed`` returns what can be released now; ``flush`` returns the rest at the end.
    """

    def __init__(self, chunk_chars: int) -> None:
        self.chunk_chars = chunk_chars
        self._pending = ""

    def feed(self, piece: str) -> list[str]:
        """Add a piece; return the whole-word chunks ready to send."""
        self._pending += piece
        cut = _last_break(self._pending, 0, len(self._pending))
        if cut < self.chunk_chars:
            return []
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return list(word_chunks(ready, self.chunk_chars))

    def flush(self) -> list[str]:
        """The held-back tail."""
        rest, self._pending = self._pending, ""
        return [rest] if rest else []


__all__ = ["WordRechunker", "word_chunks"]
