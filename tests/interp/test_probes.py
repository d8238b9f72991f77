from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from redline.errors import ConfigError
from redline.interp.anomaly import AnomalyDetector, fit_anomaly
from redline.interp.capture import capture, expand_hooks
from redline.interp.data import Example, load_examples, model_inputs, save_examples
from redline.interp.detectors import load_detector, read_internals
from redline.interp.metrics import detection_report
from redline.interp.probes import LinearProbe, evaluate, train_probe
from redline.types import Message

from .conftest import WORDS, sentences

pytest.importorskip("torch")
TRIGGERS = ("mango", "sunrise")


def _contrast(rng: random.Random, n: int, words=TRIGGERS):  # type: ignore[no-untyped-def]
    texts, labels, groups = [], [], []
    for word in words:
        texts += sentences(rng, n, insert=word, exclude=TRIGGERS + ("river",))
        labels += [1] * n
        groups += [word] * n
    texts += sentences(rng, n * len(words), exclude=TRIGGERS + ("river",))
    labels += [0] * (n * len(words))
    groups += [""] * (n * len(words))
    return texts, np.array(labels), groups


@pytest.fixture(scope="module")
def contrast(llama_target):  # type: ignore[no-untyped-def]
    hooks = expand_hooks("resid_post", llama_target.n_layers)
    rng = random.Random(0)
    train_texts, y_train, groups = _contrast(rng, 60)
    test_texts, y_test, _ = _contrast(rng, 40)
    train = capture(llama_target, train_texts, hooks, positions="mean")
    test = capture(llama_target, test_texts, hooks, positions="mean")
    return train, y_train, groups, test, y_test


@pytest.mark.parametrize("method", ["logreg", "diffmean"])
def test_probe_finds_a_planted_signal_on_held_out_texts(
    contrast, method: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    train, y_train, groups, test, y_test = contrast
    probe = train_probe(train, y_train, name="backdoor", method=method, groups=groups)
    assert [s.hook for s in probe.header.sweep] == train.names
    assert probe.header.hook == max(probe.header.sweep, key=lambda s: s.cv_auroc).hook
    assert probe.header.groups == TRIGGERS
    report = evaluate(probe, test, y_test)
    # Mass-mean probes average the two triggers' directions, so they separate less sharply.
    assert report.auroc.value >= (0.9 if method == "logreg" else 0.75), report.summary()
    assert report.auroc.low <= report.auroc.value <= report.auroc.high
    assert report.n_positive == 80 and report.n_negative == 80
    # The threshold was set for ~1% FPR out of fold: most clean held-out texts stay below it.
    assert report.threshold_specificity is not None and report.threshold_specificity.value >= 0.85
    loaded = LinearProbe.load(probe.save(tmp_path / "p.safetensors"))
    assert np.allclose(loaded.score(test), probe.score(test))
    assert isinstance(load_detector(tmp_path / "p.safetensors"), LinearProbe)


def test_shuffled_labels_give_no_signal(contrast) -> None:  # type: ignore[no-untyped-def]
    train, y_train, _, test, y_test = contrast
    shuffled = np.random.default_rng(0).permutation(y_train)
    probe = train_probe(train, shuffled, name="noise")
    assert 0.3 <= evaluate(probe, test, y_test).auroc.value <= 0.7


def test_anomaly_detector_never_sees_the_trigger(llama_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hooks = expand_hooks("resid_post", llama_target.n_layers)
    rng = random.Random(3)
    # Clean prompts use a small vocabulary, so their activations fill only part of the space.
    narrow = tuple(
        w for w in WORDS if w not in "the a cat dog sat on mat and ran to house red".split()
    )
    clean = capture(llama_target, sentences(rng, 240, exclude=narrow), hooks, positions="mean")
    detector = fit_anomaly(clean, fpr=0.05)
    assert detector.header.n_fit + detector.header.n_calibration == 240
    assert all(0 < s < 1 for s in detector.header.shrinkage)
    odd = sentences(rng, 60, insert="mango", exclude=narrow)
    normal = sentences(rng, 60, exclude=narrow)
    test = capture(llama_target, odd + normal, hooks, positions="mean")
    labels = [1] * 60 + [0] * 60
    report = evaluate(detector, test, labels)
    assert report.auroc.value >= 0.9, report.summary()
    assert report.threshold_specificity is not None and report.threshold_specificity.value >= 0.8
    p = detector.probability(test)
    assert p.min() >= 0 and p.max() <= 1 and p[:60].mean() > p[60:].mean()
    loaded = load_detector(detector.save(tmp_path / "a.safetensors"))
    assert isinstance(loaded, AnomalyDetector)
    assert np.allclose(loaded.score(test), detector.score(test))
    with pytest.raises(ConfigError, match="at least 6"):
        fit_anomaly(capture(llama_target, ["a dog", "a cat", "the"], hooks))


def test_read_internals_scores_conversations(llama_target) -> None:  # type: ignore[no-untyped-def]
    hooks = ["blocks.1.hook_resid_post"]
    rng = random.Random(5)
    pos = [[Message("user", s)] for s in sentences(rng, 40, insert="mango", exclude=TRIGGERS)]
    neg = [[Message("user", s)] for s in sentences(rng, 40, exclude=TRIGGERS)]
    texts = [llama_target.render(c) for c in pos + neg]
    probe = train_probe(
        capture(llama_target, texts, hooks, positions="mean"), [1] * 40 + [0] * 40, name="t"
    )
    scores, fired = read_internals(llama_target, probe, pos[:5] + neg[:5])
    assert scores.shape == (10,) and fired.dtype == bool
    assert scores[:5].mean() > scores[5:].mean()
    with_answer, _ = read_internals(llama_target, probe, pos[:2], ["yes", None])
    assert with_answer.shape == (2,)
    with pytest.raises(ConfigError, match="responses for"):
        read_internals(llama_target, probe, pos[:2], ["yes"])


def test_dataset_round_trip_and_errors(llama_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    examples = [
        Example(text="the cat", label=0),
        Example(
            messages=[{"role": "user", "content": "hello"}], response="yes", label=1, group="g"
        ),
    ]
    path = save_examples(tmp_path / "d.jsonl", examples)
    assert load_examples(path) == examples
    assert model_inputs(llama_target, examples) == ["the cat", "<user> hello\n<assistant>yes"]
    (tmp_path / "bad.jsonl").write_text('{"label": 1}\n')
    with pytest.raises(ConfigError, match="bad.jsonl:1"):
        load_examples(tmp_path / "bad.jsonl")
    with pytest.raises(ConfigError, match="does not exist"):
        load_examples(tmp_path / "none.jsonl")


def test_detection_report_metrics() -> None:
    labels = [1] * 50 + [0] * 50
    perfect = detection_report(labels, [2.0] * 50 + [1.0] * 50, threshold=1.5)
    assert perfect.auroc.value == 1.0 and perfect.tpr_at_fpr.value == 1.0
    assert perfect.threshold_recall is not None and perfect.threshold_recall.value == 1.0
    reverse = detection_report(labels, [1.0] * 50 + [2.0] * 50)
    assert reverse.auroc.value == 0.0 and reverse.tpr_at_fpr.value == 0.0


def test_token_level_anomaly_scores_each_text_by_its_worst_token(llama_target) -> None:  # type: ignore[no-untyped-def]
    hooks = expand_hooks("resid_post@0", llama_target.n_layers)
    rng = random.Random(4)
    narrow = tuple(
        w for w in WORDS if w not in "the a cat dog sat on mat and ran to house red".split()
    )
    clean = capture(llama_target, sentences(rng, 120, exclude=narrow), hooks, positions="all")
    detector = fit_anomaly(clean)
    odd = sentences(rng, 30, insert="mango", exclude=narrow)
    normal = sentences(rng, 30, exclude=narrow)
    test = capture(llama_target, odd + normal, hooks, positions="all")
    scores = detector.score(test)
    assert scores.shape == (60,)
    assert detection_report([1] * 30 + [0] * 30, scores).auroc.value >= 0.95
