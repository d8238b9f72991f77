from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from redline.errors import ConfigError
from redline.interp.neurons import (
    explain_layer,
    parse_explanation,
    pearson,
    record_layer,
    score_explanation,
    simulate,
    target_explainer,
    top_contexts,
    write_html,
)
from redline.targets.mock import MockTarget

from .conftest import sentences

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def corpora():  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    return sentences(rng, 200), sentences(rng, 200)


def test_parse_and_simulate() -> None:
    text = (
        'fires on "cat" (10), "d\\"og" (4); low on "the" (-3); "sat" after "cat" (7); otherwise 1'
    )
    parsed = parse_explanation(text)
    assert parsed.levels == {"cat": 10.0, 'd"og': 4.0, "the": -3.0}
    assert parsed.after == {("sat", "cat"): 7.0}
    assert parsed.otherwise == 1.0
    tokens = np.array(["the", "cat", "sat", "sat", 'd"og', "x"], dtype=object)
    previous = np.array(["", "the", "cat", "dog", "sat", 'd"og'], dtype=object)
    assert simulate(text, tokens, previous).tolist() == [-3, 10, 7, 1, 4, 1]
    assert simulate("no idea", tokens, previous).tolist() == [0] * 6
    assert pearson(np.arange(5), np.arange(5) * 2 + 1) == pytest.approx(1.0)
    assert pearson(np.zeros(5), np.arange(5)) == 0.0


def test_explanations_predict_held_out_activations(llama_target, corpora, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen, unseen = corpora
    result = explain_layer(llama_target, seen, unseen, 0)
    assert len(result.neurons) == 64 and result.hook == "blocks.0.mlp.hook_post"
    scores = result.scores()
    # A layer-0 neuron of a tiny model mostly reads the current token, so templates work.
    assert np.nanmean(scores) > 0.5
    # An explanation written for another neuron predicts this one much worse.
    heldout = record_layer(llama_target, unseen, 0)
    swapped = [
        score_explanation(result.neurons[(i + 1) % 64].explanation, heldout, i) for i in range(64)
    ]
    assert np.nanmean(scores) > np.nanmean(swapped) + 0.3
    summary = result.summary()
    assert summary["neurons"] == 64 and 0 <= summary["share_ge_0.8"] <= 1
    assert result.share_at_least(-1.0) == 1.0
    first = result.neurons[0]
    assert first.contexts and first.contexts[0].activations[
        first.contexts[0].focus
    ] == pytest.approx(first.max_activation, rel=1e-5)
    page = write_html(result, tmp_path / "n.html").read_text()
    assert page.count("<details") == 64 and "blocks.0.mlp.hook_post" in page


def test_top_contexts_are_one_per_text(llama_target, corpora) -> None:  # type: ignore[no-untyped-def]
    acts = record_layer(llama_target, corpora[0][:50], 1)
    contexts = top_contexts(acts, 3, k=5)
    peaks = [c.activations[c.focus] for c in contexts]
    assert peaks == sorted(peaks, reverse=True)
    assert peaks[0] == pytest.approx(acts.values[:, 3].max(), rel=1e-6)


def test_a_target_can_explain(llama_target, corpora) -> None:  # type: ignore[no-untyped-def]
    explainer = MockTarget(['fires on "cat" (10); otherwise 0'])
    result = explain_layer(
        llama_target,
        corpora[0][:60],
        corpora[1][:60],
        1,
        explainer=target_explainer(explainer),
        explainer_name="mock",
        neurons=[0, 1],
    )
    assert [n.explanation for n in result.neurons] == ['fires on "cat" (10); otherwise 0'] * 2
    prompt = explainer.calls[0][0][0].content
    assert "[[" in prompt and "neuron 0" in prompt
    with pytest.raises(ConfigError, match="both the explanation and the held-out"):
        explain_layer(llama_target, corpora[0][:5], corpora[0][:5], 0)


def test_template_adds_contexts_when_the_previous_token_matters() -> None:
    from redline.interp.neurons import TokenActivations, explain_template

    rng = np.random.default_rng(0)
    words = np.array(["the", "cat", "sat", "dog", "ran"], dtype=object)

    def corpus(n: int) -> TokenActivations:
        tokens = words[rng.integers(0, 5, n)]
        previous = np.concatenate([[""], tokens[:-1]]).astype(object)
        # The neuron fires on "sat" only right after "cat".
        values = ((tokens == "sat") & (previous == "cat")).astype(float) + rng.normal(0, 0.05, n)
        return TokenActivations(tokens, previous, np.zeros(n, int), np.arange(n), values[:, None])

    seen, unseen = corpus(4000), corpus(4000)
    with_context = explain_template(seen, 0)
    assert '"sat" after "cat"' in with_context
    plain = explain_template(seen, 0, max_context=0)
    assert "after" not in plain
    assert score_explanation(with_context, unseen, 0) > 0.9 > score_explanation(plain, unseen, 0)
