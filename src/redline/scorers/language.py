"""Which texts redline's learned scorers cannot read: text in a language other than English.

The judges ``harmful_request`` (the request), ``refusal`` and ``harmful_compliance`` (the
request and the answer) read through all-MiniLM-L6-v2, an English encoder. On a request in
Spanish or an answer in German its verdict is not evidence: on a fresh request set it read
none of 24 harmful requests in five European languages as harmful (benchmarks/RESULTS.md,
"`harmful_request` on a fresh request set"). A confident "benign" there is the worst error a
safety judge can make, so these scorers report such items unscored, saying which language
they saw, and every consumer already treats unscored as "not judged" (a red team with an
unscored attempt is not passed; validation counts them apart; the guard records no score).
``injection`` still judges every text: its rules and known templates match injections
pasted into text of any language.

The language is told by py3langid (a naive Bayes model over byte n-grams, shipped in the
package, 0.2 ms per request). Text without linguistic content (base64, hashes) and text the
model is unsure about (short replies: "ok", "Hiiii") count as readable. On every text of
redline's scorer data (11,858 requests, 6,249 answers) it calls no English text foreign,
and it finds all 25 non-English requests of `harmful_request_r.val.jsonl`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any, Literal

from redline.scorers.base import Score, ScoreInput

TOP = 0.5
"""The most likely language's probability at least: the identifier is not guessing."""
ENGLISH = 0.05
"""English's probability at most. Related languages share the rest (Spanish, Galician,
Aragonese), so the test is on English, not on the winner alone."""
READABLE = frozenset({"en", "zxx"})
"""English, and py3langid's code for text with no linguistic content."""


@cache
def _identifier() -> Any:
    import py3langid.langid as langid

    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1024)
def foreign_language(text: str) -> tuple[str, float] | None:
    """``(ISO 639 code, probability)`` when ``text`` is confidently not English, else None.

    Remembered per text: the judges of one exchange (the guard's refusal and compliance
    layers, a red team's scorers) ask about the same request and answer (0.6 ms per
    1,000 characters).
    """
    if sum(c.isalpha() for c in text) < 2:
        return None
    ranked = _identifier().rank(text)
    language, probability = ranked[0]
    english = next((p for code, p in ranked if code == "en"), 0.0)
    if language in READABLE or probability < TOP or english > ENGLISH:
        return None
    return str(language), float(probability)


Part = Literal["request", "answer"]


def unreadable(item: ScoreInput, reads: Sequence[Part]) -> str | None:
    """Why a scorer reading the ``reads`` parts of ``item`` cannot judge it, or None."""
    for part in reads:
        text = item.prompt if part == "request" else item.response
        found = foreign_language(text) if text else None
        if found is not None:
            language, probability = found
            return (f"the {part} reads as language '{language}' (p {probability:.2f}) and the "
                    "encoder reads English: not judged")
    return None


Judge = Callable[[Sequence[ScoreInput]], list[Score]]


def english_only(name: str, judge: Judge, reads: Sequence[Part]) -> Judge:
    """``judge`` on the items whose ``reads`` parts are readable; the rest unscored."""

    def judged(items: Sequence[ScoreInput]) -> list[Score]:
        why = [unreadable(item, reads) for item in items]
        readable = [item for item, reason in zip(items, why, strict=True) if reason is None]
        scores = iter(judge(readable) if readable else [])
        return [next(scores) if reason is None else Score.unscored(name, reason)
                for reason in why]

    return judged
