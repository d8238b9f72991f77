"""Neuron explanations: explain, simulate, score.

For every neuron of one MLP layer (``blocks.L.mlp.hook_post``):

1. **Record** its activation on every token of an explanation corpus and keep its
   top-activating contexts.
2. **Explain**: write a short explanation in words. The built-in explainer is a template
   over the tokens that account for most of the neuron's variance on the explanation
   corpus (``fires on "baker" (10), "pilot" (8); low on "the" (-3)``); any target can be
   the explainer instead (it is shown the top contexts and asked for the same form).
3. **Simulate**: predict the neuron's activation on each token of unseen text from the
   explanation text alone (the simulator never sees the recorded activations).
4. **Score**: Pearson correlation of simulated and real activations, pooled over every
   token of a held-out corpus the explanation was not written from.

Explanation grammar (what the simulator reads)::

    fires on "tok" (LEVEL), "tok" (LEVEL), ...; low on "tok" (LEVEL), ...; otherwise 0

``LEVEL`` is an integer from -10 to 10 on the neuron's own scale. A token may carry a
context, ``"tok" after "prev" (LEVEL)``, which applies only after that token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from redline.errors import ConfigError
from redline.interp.capture import ActivationCache, as_white_box, capture, hook_name

_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"(?:\s+after\s+"((?:[^"\\]|\\.)*)")?\s*\((-?\d+)\)')
_OTHERWISE = re.compile(r"otherwise\s+(-?\d+)")


class Context(BaseModel):
    """A window of text around one of a neuron's top activations.

    Attributes:
        tokens: the window's tokens, as text.
        activations: the neuron's activation on each.
        focus: index of the top activation in the window.
    """

    model_config = ConfigDict(frozen=True)

    tokens: tuple[str, ...]
    activations: tuple[float, ...]
    focus: int


class NeuronExplanation(BaseModel):
    """One neuron, explained and scored.

    Attributes:
        neuron: index in the layer.
        explanation: the explanation text (the simulator's only input).
        score: Pearson correlation of simulated and real activations on held-out text
            (nan when the neuron is constant there).
        max_activation: its largest activation on the explanation corpus.
        contexts: its top-activating contexts on the explanation corpus.
    """

    neuron: int
    explanation: str
    score: float
    max_activation: float
    contexts: tuple[Context, ...] = ()


class LayerExplanations(BaseModel):
    """Every neuron of one layer, with the score distribution.

    Attributes:
        target: the model's spec.
        hook: the hook point explained.
        explainer: ``template`` or the spec of the explaining target.
        n_explain_tokens: tokens the explanations were written from.
        n_heldout_tokens: tokens the scores were measured on.
        neurons: per-neuron results.
    """

    target: str
    hook: str
    explainer: str = "template"
    n_explain_tokens: int = 0
    n_heldout_tokens: int = 0
    neurons: list[NeuronExplanation]

    def scores(self) -> np.ndarray:
        """``[n_neurons]`` scores (nan for neurons that were constant)."""
        return np.array([n.score for n in self.neurons], dtype=float)

    def share_at_least(self, cutoff: float = 0.8) -> float:
        """Share of all neurons (constant ones count as failures) scoring >= ``cutoff``."""
        s = np.nan_to_num(self.scores(), nan=-1.0)
        return float((s >= cutoff).mean()) if len(s) else float("nan")

    def summary(self) -> dict[str, float]:
        """Distribution of the scores."""
        s = self.scores()
        ok = s[~np.isnan(s)]
        quartiles = np.percentile(ok, [10, 25, 50, 75, 90]) if len(ok) else [float("nan")] * 5
        return {
            "neurons": float(len(s)),
            "mean": float(ok.mean()) if len(ok) else float("nan"),
            "p10": float(quartiles[0]),
            "p25": float(quartiles[1]),
            "median": float(quartiles[2]),
            "p75": float(quartiles[3]),
            "p90": float(quartiles[4]),
            "share_ge_0.8": self.share_at_least(0.8),
            "share_ge_0.5": self.share_at_least(0.5),
            "constant": float(np.isnan(s).sum()),
        }


@dataclass
class TokenActivations:
    """Per-token activations of one layer over a corpus, flattened.

    Attributes:
        tokens: ``[n_tokens]`` token text.
        previous: ``[n_tokens]`` text of the token before (``""`` at a text's start).
        text_index: ``[n_tokens]`` which text each token came from.
        position: ``[n_tokens]`` position in its text.
        values: ``[n_tokens, d_mlp]`` activations.
    """

    tokens: np.ndarray
    previous: np.ndarray
    text_index: np.ndarray
    position: np.ndarray
    values: np.ndarray

    @classmethod
    def from_cache(cls, cache: ActivationCache, hook: str, tokenizer: Any) -> TokenActivations:
        """Flatten an ``all``-positions capture (``[batch, pos, d]`` with its mask)."""
        if cache.mask is None or cache.tokens is None:
            raise ConfigError("Neuron explanations need a capture with positions='all'.")
        mask = cache.mask.bool().numpy()
        ids = cache.tokens.numpy()
        vocab = _token_texts(tokenizer, ids[mask])
        rows, cols = np.nonzero(mask)
        previous = np.where(cols > 0, np.roll(vocab, 1), "")
        return cls(
            tokens=vocab,
            previous=previous,
            text_index=rows,
            position=cols,
            values=cache[hook].numpy()[mask].astype(np.float64),
        )


def _token_texts(tokenizer: Any, ids: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(ids, return_inverse=True)
    names = [tokenizer.decode([int(i)]).strip() for i in unique]
    return np.array(names, dtype=object)[inverse]


# --- explain ----------------------------------------------------------------------------


def explain_template(
    acts: TokenActivations,
    neuron: int,
    *,
    max_items: int = 16,
    max_context: int = 16,
    min_count: int = 3,
) -> str:
    """An explanation from the tokens (and token contexts) that carry a neuron's variance.

    Tokens are ranked by ``count * (mean - overall mean)^2`` (the variance between token
    types they account for) and the top ``max_items`` listed with their level on a -10..10
    scale. Then the contexts that matter most beyond the token itself (a token after a
    given previous token, ranked by what they leave unexplained) are added, up to
    ``max_context``: ``"sat" after "cat" (7)``.
    """
    values = acts.values[:, neuron]
    names, inverse, counts = np.unique(acts.tokens, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=values, minlength=len(names)) / counts
    centre = float(values.mean())
    weight = np.where(counts >= min_count, counts * (means - centre) ** 2, 0.0)
    chosen = [i for i in np.argsort(weight)[::-1][:max_items] if weight[i] > 0]
    if not chosen:
        return "otherwise 0"
    listed = np.isin(inverse, chosen)
    base = float(values[~listed].mean()) if (~listed).any() else centre
    predicted = np.where(listed, means[inverse], base)
    contexts = _top_contexts(acts, values, values - predicted, base, max_context, min_count)
    levels = [float(means[i]) for i in chosen] + [m + base for _, _, m in contexts]
    span = max(abs(v - base) for v in levels) or 1.0

    def level(value: float) -> int:
        return int(round(10 * (value - base) / span))

    items = [(str(names[i]), level(float(means[i]))) for i in chosen]
    high = [f'"{_quote(t)}" ({lvl})' for t, lvl in sorted(items, key=lambda x: -x[1]) if lvl > 0]
    low = [f'"{_quote(t)}" ({lvl})' for t, lvl in sorted(items, key=lambda x: x[1]) if lvl < 0]
    parts = []
    if high:
        parts.append("fires on " + ", ".join(high))
    if low:
        parts.append("low on " + ", ".join(low))
    if contexts:
        parts.append(
            "in context "
            + ", ".join(
                f'"{_quote(t)}" after "{_quote(p)}" ({level(m + base)})' for t, p, m in contexts
            )
        )
    parts.append("otherwise 0")
    return "; ".join(parts)


def _top_contexts(
    acts: TokenActivations,
    values: np.ndarray,
    residual: np.ndarray,
    base: float,
    k: int,
    min_count: int,
) -> list[tuple[str, str, float]]:
    """``(token, previous, mean value - base)`` of the pairs that explain most of ``residual``."""
    if k <= 0:
        return []
    pairs = np.char.add(np.char.add(acts.tokens.astype(str), "\x1f"), acts.previous.astype(str))
    names, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    mean_residual = np.bincount(inverse, weights=residual, minlength=len(names)) / counts
    weight = np.where(counts >= min_count, counts * mean_residual**2, 0.0)
    out = []
    for i in np.argsort(weight)[::-1][:k]:
        if weight[i] <= 0:
            break
        token, previous = str(names[i]).split("\x1f", 1)
        if not previous:
            continue
        out.append((token, previous, float(values[inverse == i].mean()) - base))
    return out


def _quote(token: str) -> str:
    return token.replace("\\", "\\\\").replace('"', '\\"')


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token)


EXPLAINER_PROMPT = """Here are the text windows where neuron {neuron} of a language model \
activates most. The token in [[double brackets]] is where it peaks.

{contexts}

Describe when the neuron fires, as a list of tokens with activation levels from -10 to 10, \
in exactly this form:
fires on "token" (10), "token" (6); low on "token" (-3); otherwise 0"""


def explainer_prompt(neuron: int, contexts: Sequence[Context]) -> str:
    """The prompt an explaining target gets for one neuron."""
    lines = []
    for c in contexts:
        shown = [f"[[{t}]]" if i == c.focus else t for i, t in enumerate(c.tokens)]
        lines.append(f"- {' '.join(shown)}  (peak {c.activations[c.focus]:.2f})")
    return EXPLAINER_PROMPT.format(neuron=neuron, contexts="\n".join(lines))


# --- simulate and score -----------------------------------------------------------------


@dataclass(frozen=True)
class ParsedExplanation:
    """What the simulator understood of an explanation."""

    levels: dict[str, float]
    after: dict[tuple[str, str], float]
    otherwise: float


def parse_explanation(explanation: str) -> ParsedExplanation:
    """Read the token levels out of an explanation (anything unparsed is ignored)."""
    levels: dict[str, float] = {}
    after: dict[tuple[str, str], float] = {}
    for token, prev, level in _ITEM.findall(explanation):
        if prev:
            after[(_unquote(token), _unquote(prev))] = float(level)
        else:
            levels[_unquote(token)] = float(level)
    other = _OTHERWISE.search(explanation)
    return ParsedExplanation(levels, after, float(other.group(1)) if other else 0.0)


def simulate(explanation: str, tokens: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """``[n_tokens]`` predicted activations from the explanation text alone."""
    parsed = parse_explanation(explanation)
    out = np.full(len(tokens), parsed.otherwise, dtype=float)
    lookup = np.vectorize(lambda t: parsed.levels.get(t, np.nan), otypes=[float])
    if parsed.levels and len(tokens):
        found = lookup(tokens)
        out = np.where(np.isnan(found), out, found)
    for (token, prev), level in parsed.after.items():
        out[(tokens == token) & (previous == prev)] = level
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; nan when either side is constant."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    sa, sb = a.std(), b.std()
    if sa < 1e-12 or sb < 1e-12:
        return float("nan") if sb < 1e-12 else 0.0
    return float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb))


def score_explanation(explanation: str, heldout: TokenActivations, neuron: int) -> float:
    """Pearson correlation of simulated and real activations over held-out tokens."""
    predicted = simulate(explanation, heldout.tokens, heldout.previous)
    return pearson(predicted, heldout.values[:, neuron])


# --- top contexts -----------------------------------------------------------------------


def top_contexts(
    acts: TokenActivations, neuron: int, *, k: int = 5, before: int = 8, after: int = 2
) -> list[Context]:
    """The ``k`` highest activations of a neuron, one per text, with a window of tokens."""
    values = acts.values[:, neuron]
    order = np.argsort(values)[::-1]
    starts = _text_starts(acts)
    seen: set[int] = set()
    out = []
    for flat in order:
        text = int(acts.text_index[flat])
        if text in seen:
            continue
        seen.add(text)
        begin, end = starts[text], starts[text + 1]
        lo, hi = max(begin, flat - before), min(end, flat + after + 1)
        out.append(
            Context(
                tokens=tuple(str(t) for t in acts.tokens[lo:hi]),
                activations=tuple(float(v) for v in values[lo:hi]),
                focus=int(flat - lo),
            )
        )
        if len(out) == k:
            break
    return out


def _text_starts(acts: TokenActivations) -> np.ndarray:
    n_texts = int(acts.text_index.max()) + 1 if len(acts.text_index) else 0
    counts = np.bincount(acts.text_index, minlength=n_texts)
    return np.concatenate([[0], np.cumsum(counts)])


# --- the whole layer --------------------------------------------------------------------

Explainer = Callable[[int, Sequence[Context]], str]


def record_layer(
    target: object,
    texts: Sequence[str],
    layer: int,
    *,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> TokenActivations:
    """Per-token MLP neuron activations of one layer over a corpus."""
    box = as_white_box(target)
    hook = hook_name(layer, "mlp.hook_post")
    cache = capture(box, texts, [hook], positions="all", batch_size=batch_size, progress=progress)
    return TokenActivations.from_cache(cache, hook, box.tokenizer)


def explain_layer(
    target: object,
    explain_texts: Sequence[str],
    heldout_texts: Sequence[str],
    layer: int,
    *,
    explainer: Explainer | None = None,
    explainer_name: str = "template",
    neurons: Sequence[int] | None = None,
    max_items: int = 16,
    max_context: int = 16,
    n_contexts: int = 5,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> LayerExplanations:
    """Explain, simulate and score every neuron (or the given ones) of an MLP layer.

    Args:
        target: a white-box target.
        explain_texts: corpus the explanations are written from.
        heldout_texts: corpus the scores are measured on (disjoint from the first).
        layer: block index.
        explainer: ``(neuron, top contexts) -> explanation``; default is the template
            over the explanation corpus's token statistics.
        explainer_name: recorded in the result.
        neurons: a subset of neurons (default all).
        max_items: most tokens a template explanation lists.
        max_context: most token-after-token contexts it adds.
        n_contexts: top contexts kept per neuron.
        batch_size: texts per forward pass.
        progress: called with a count of finished units (texts, then neurons).
    """
    overlap = set(explain_texts) & set(heldout_texts)
    if overlap:
        raise ConfigError(
            f"{len(overlap)} texts are in both the explanation and the held-out corpus; "
            "scores must be measured on text the explanations were not written from."
        )
    box = as_white_box(target)
    seen = record_layer(box, explain_texts, layer, batch_size=batch_size, progress=progress)
    unseen = record_layer(box, heldout_texts, layer, batch_size=batch_size, progress=progress)
    chosen = list(neurons) if neurons is not None else list(range(seen.values.shape[1]))
    results = []
    for neuron in chosen:
        contexts = top_contexts(seen, neuron, k=n_contexts)
        if explainer is None:
            text = explain_template(seen, neuron, max_items=max_items, max_context=max_context)
        else:
            text = explainer(neuron, contexts)
        results.append(
            NeuronExplanation(
                neuron=neuron,
                explanation=text,
                score=score_explanation(text, unseen, neuron),
                max_activation=float(seen.values[:, neuron].max()),
                contexts=tuple(contexts),
            )
        )
        if progress is not None:
            progress(1)
    return LayerExplanations(
        target=getattr(box, "spec", ""),
        hook=hook_name(layer, "mlp.hook_post"),
        explainer=explainer_name,
        n_explain_tokens=len(seen.tokens),
        n_heldout_tokens=len(unseen.tokens),
        neurons=results,
    )


def target_explainer(explainer: object, *, max_tokens: int = 96) -> Explainer:
    """Use any target as the explainer: it is shown the top contexts of each neuron."""
    import asyncio

    from redline.targets.base import Target
    from redline.types import GenerateParams, Message

    if not isinstance(explainer, Target):
        raise ConfigError("The explainer must be a target (anything with generate).")
    params = GenerateParams(max_tokens=max_tokens, temperature=0.0)

    def explain(neuron: int, contexts: Sequence[Context]) -> str:
        prompt = explainer_prompt(neuron, contexts)
        completion = asyncio.run(explainer.generate([Message("user", prompt)], params))
        return completion.text.strip()

    return explain


# --- the page ---------------------------------------------------------------------------


_RED, _BLUE = "220,40,40", "40,90,220"
"""Token backgrounds: positive activations red, negative blue, alpha by strength."""


def write_html(result: LayerExplanations, path: Path) -> Path:
    """A browsable page (``neurons.html``): the score histogram, then each neuron best first."""
    from redline.report.svg import histogram
    from redline.report.templating import render, svg

    rows = sorted(result.neurons, key=lambda n: -np.nan_to_num(n.score, nan=-2.0))
    neurons = []
    for n in rows:
        top = max((abs(a) for c in n.contexts for a in c.activations), default=1.0) or 1.0
        contexts = [
            [(tok, f"rgba({_RED if act > 0 else _BLUE},{min(1.0, abs(act) / top):.2f})",
              act, i == c.focus)
             for i, (tok, act) in enumerate(zip(c.tokens, c.activations, strict=True))]
            for c in n.contexts
        ]
        neurons.append({"neuron": n.neuron, "explanation": n.explanation, "contexts": contexts,
                        "score_text": "constant" if np.isnan(n.score) else f"{n.score:.3f}"})
    scores = result.scores()
    plot = histogram([float(x) for x in scores[~np.isnan(scores)]], title="Explanation scores",
                     x_label="score (Pearson of simulated vs real activation)", good_from=0.8)
    page = render("neurons.html", result=result, summary=result.summary(), neurons=neurons,
                  histogram=svg(plot))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
