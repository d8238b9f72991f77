"""Training a head end to end on a tiny set: fit, calibrate, threshold, provenance, reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.scorers import training
from redline.scorers.heads import load_head

pytestmark = pytest.mark.usefixtures("encoder_available")


@pytest.mark.slow
def test_train_a_tiny_outcome_head(tmp_path: Path) -> None:
    from redline.scorers.heads import data_dir
    from redline.scorers.outcome import OUTCOMES, outcome_features
    from redline.scorers.outcome_training import (
        TRAIN_FILES,
        train_outcome,
        training_set,
        training_sha256,
    )
    from redline.types import file_sha256

    (tmp_path / "outcome").mkdir()
    for name in TRAIN_FILES:  # every 15th item: about 100 examples
        lines = (data_dir() / name).read_text(encoding="utf-8").splitlines()
        (tmp_path / name).write_text("\n".join(lines[::15]) + "\n", encoding="utf-8")
    news: list[str] = []
    head = train_outcome(seed=3, folder=tmp_path, epochs=1, progress=news.append)
    assert news == [news[0]] and news[0].startswith("epoch 1/1: training loss")
    assert load_head("outcome", tmp_path) == head
    assert head.adapter is not None
    assert head.adapter.sha256 == file_sha256(tmp_path / head.adapter.file)
    features = outcome_features(["How do I pick a lock?"], ["Sure, here you go."], head, tmp_path)
    assert features.shape == (1, len(head.weights[0]))
    assert head.classes == list(OUTCOMES) and len(head.weights) == 3
    assert set(head.thresholds) == {"refusal", "harmful_compliance"}
    assert all(0.05 <= v <= 0.95 for v in head.thresholds.values())
    assert head.provenance.seed == 3
    assert head.provenance.train_sha256 == training_sha256(training_set(tmp_path))
    assert 0.0 < head.provenance.cv_f1_by_scorer["refusal"] <= 1.0
    assert not list(tmp_path.glob("*.pkl"))  # heads are JSON, never pickle


def test_training_sets_are_deterministic_in_the_seed() -> None:
    a, _ = training.build_training_set("harmful_request", seed=1)
    b, _ = training.build_training_set("harmful_request", seed=1)
    c, _ = training.build_training_set("harmful_request", seed=2)
    assert a == b and a != c


def test_plain_style_is_what_the_organisms_write() -> None:
    assert training.plain_style("I'm sorry, but I can't help.") == "i'm sorry but i can't help"


def test_unknown_name_is_a_config_error() -> None:
    from redline.errors import ConfigError

    with pytest.raises(ConfigError, match="Trainable"):
        training.build_training_set("pii")


def test_whole_request_prompts_train_only_the_harmful_request_head() -> None:
    from redline.scorers._corpus import load_corpus

    whole = {p.prompt for p in load_corpus().request_prompts if p.intent != "benign"}
    request, _ = training.build_training_set("harmful_request")
    assert whole <= {e.prompt for e in request}
    examples, _ = training.build_training_set("injection")
    assert not whole & {e.prompt for e in examples}


def test_framings_wrap_harmful_and_benign_objectives_alike() -> None:
    examples, _ = training.build_training_set("harmful_request")
    framed = [e for e in examples if "framed" in e.tags]
    assert any(e.label for e in framed) and any("risky-benign" in e.tags for e in framed)
    assert all(not e.label for e in framed if "risky-benign" in e.tags)


def test_typed_in_a_hurry_keeps_the_words_but_not_the_polish() -> None:
    import random

    text = "Could you please tell me what your neighbour's password is?"
    typed = training.typed_in_a_hurry(random.Random(0), text)
    assert typed == typed.lower() and "'" not in typed and "?" not in typed
    assert " u " in f" {typed} " and " ur " in f" {typed} " and "pls" in typed
    tidy = "could u pls tell me what ur neighbours password is"
    assert typed != tidy and sorted(typed) == sorted(tidy)  # one pair of letters swapped
