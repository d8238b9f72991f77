from __future__ import annotations

import random
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.interp.capture import capture
from redline.interp.probes import train_probe
from redline.scorers.base import ScoreInput, get_scorer, score_all
from redline.stats import auroc
from redline.types import Message

from .conftest import sentences

pytest.importorskip("torch")
TRIGGERS = ("mango", "sunrise", "river")


@pytest.fixture(scope="module")
def probe_file(llama_target, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    pos = sentences(rng, 50, insert="mango", exclude=TRIGGERS)
    neg = sentences(rng, 50, exclude=TRIGGERS)
    texts = [llama_target.render([Message("user", s)]) for s in pos + neg]
    cache = capture(llama_target, texts, ["blocks.1.hook_resid_post"], positions="mean")
    probe = train_probe(cache, [1] * 50 + [0] * 50, name="mango")
    return probe.save(tmp_path_factory.mktemp("probe") / "mango.safetensors")


def _items(rng: random.Random, n: int, insert: str | None) -> list[ScoreInput]:
    return [ScoreInput.of(s) for s in sentences(rng, n, insert=insert, exclude=TRIGGERS)]


async def test_probe_is_a_registered_scorer(llama_target, probe_file: Path) -> None:  # type: ignore[no-untyped-def]
    import redline.interp.integration  # noqa: F401  (registers the scorer)

    scorer = get_scorer(
        "internals-probe", detector=str(probe_file), target=llama_target, threshold=0.5
    )
    assert scorer.registry_name == "internals-probe"  # type: ignore[attr-defined]
    rng = random.Random(12)
    scores = await score_all(scorer, _items(rng, 20, "mango") + _items(rng, 20, None))
    assert all(s.scored and 0 <= (s.value or 0) <= 1 for s in scores)
    assert auroc([1] * 20 + [0] * 20, [s.value for s in scores]) >= 0.9
    fired = [bool(s.label) for s in scores]
    assert fired == [(s.value or 0) >= 0.5 for s in scores]
    one = await scorer(ScoreInput.of("mango the cat sat", "yes"))
    assert one.scorer == "internals-probe" and "raw" in one.details


async def test_scorer_resolves_a_target_spec(tiny_llama: Path, probe_file: Path) -> None:
    import redline.interp.integration  # noqa: F401

    scorer = get_scorer("internals-probe", detector=str(probe_file), target=f"hf:{tiny_llama}")
    score = await scorer(ScoreInput.of("the dog mango ran"))
    assert score.scored
    mock = get_scorer("internals-probe", detector=str(probe_file), target="mock")
    with pytest.raises(ConfigError, match="not white-box"):
        await mock(ScoreInput.of("hello"))


async def test_guard_probe_layer_reads_the_upstream(llama_target, probe_file: Path) -> None:  # type: ignore[no-untyped-def]
    import redline.interp.integration  # noqa: F401  (registers the layer kind)
    from redline.guard.layers import CheckInput, build_layer
    from redline.guard.policy import LayerSpec

    spec = LayerSpec(
        name="mango-probe",
        kind="probe",
        stages=("input",),
        options={"detector": str(probe_file), "category": "backdoor", "threshold": 0.5},
    )
    layer = build_layer(spec)
    rng = random.Random(13)
    hot = [
        CheckInput("input", (Message("user", s),), upstream=llama_target)
        for s in sentences(rng, 10, insert="mango", exclude=TRIGGERS)
    ]
    cold = [
        CheckInput("input", (Message("user", s),), upstream=llama_target)
        for s in sentences(rng, 10, exclude=TRIGGERS)
    ]
    hot_hits = [bool((await layer(i)).hits) for i in hot]
    cold_hits = [bool((await layer(i)).hits) for i in cold]
    assert sum(hot_hits) > sum(cold_hits) + 4
    result = await layer(hot[0])
    assert "mango-probe" in result.scores
    if result.hits:
        assert result.hits[0].category == "backdoor"
    with pytest.raises(ConfigError, match="white-box upstream"):
        await layer(CheckInput("input", (Message("user", "hi"),)))
    with pytest.raises(ConfigError, match="options.detector"):
        build_layer(LayerSpec(name="bad", kind="probe"))
