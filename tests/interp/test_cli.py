"""`redline interp` as a user runs it, end to end on a tiny checkpoint."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from redline.interp.data import Example, save_examples

from .conftest import sentences

pytest.importorskip("torch")


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def redline_cli(*args: str) -> Result:
    """Run in-process (torch is already loaded); errors become exit codes as in ``main()``."""
    from typer.testing import CliRunner

    from redline.cli import app
    from redline.errors import RedlineError

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if isinstance(result.exception, RedlineError):
        return Result(result.exception.exit_code, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr if result.stderr_bytes else "")


def redline_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def _data(path: Path, seed: int, n: int = 40) -> Path:
    rng = random.Random(seed)
    exclude = ("mango", "sunrise")
    pos = [
        Example(text=s, label=1, group="mango")
        for s in sentences(rng, n, insert="mango", exclude=exclude)
    ]
    neg = [Example(text=s, label=0) for s in sentences(rng, n, exclude=exclude)]
    return save_examples(path, pos + neg)


@pytest.mark.slow
def test_probe_anomaly_capture_and_neurons(tiny_llama: Path, tmp_path: Path) -> None:
    target = f"hf:{tiny_llama}"
    train, test = _data(tmp_path / "train.jsonl", 1), _data(tmp_path / "test.jsonl", 2)
    probe = tmp_path / "probe.safetensors"
    result = redline_cli(
        "interp",
        "probe",
        "train",
        target,
        "--data",
        str(train),
        "--out",
        str(probe),
        "--positions",
        "mean",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "<- chosen" in result.stdout and probe.is_file()
    result = redline_cli(
        "interp",
        "probe",
        "eval",
        target,
        "--probe",
        str(probe),
        "--data",
        str(test),
        "--json",
        "--save",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["auroc"]["value"] >= 0.8 and report["n_positive"] == 40

    clean = tmp_path / "clean.jsonl"
    rng = random.Random(3)
    save_examples(clean, [Example(text=s) for s in sentences(rng, 80, exclude=("mango",))])
    detector = tmp_path / "anomaly.safetensors"
    result = redline_cli(
        "interp",
        "anomaly",
        "fit",
        target,
        "--clean",
        str(clean),
        "--out",
        str(detector),
        "--positions",
        "mean",
    )
    assert result.returncode == 0, result.stderr
    result = redline_cli(
        "interp", "anomaly", "eval", target, "--detector", str(detector), "--data", str(test)
    )
    assert result.returncode == 0 and "AUROC" in result.stdout, result.stderr

    acts = tmp_path / "acts.safetensors"
    result = redline_cli(
        "interp",
        "capture",
        target,
        "--text",
        "the cat sat",
        "--text",
        "a dog",
        "--hooks",
        "mlp.hook_post@1",
        "--positions",
        "all",
        "--out",
        str(acts),
    )
    assert result.returncode == 0 and "blocks.1.mlp.hook_post (2, 3, 64)" in result.stdout

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(random.Random(4), 80)))
    page = tmp_path / "neurons.html"
    result = redline_cli(
        "interp",
        "neurons",
        target,
        "--layer",
        "0",
        "--corpus",
        str(corpus),
        "--out",
        str(page),
        "--limit",
        "8",
    )
    assert result.returncode == 0, result.stderr
    assert "share >= 0.8" in result.stdout and page.read_text().count("<details") == 8


def test_errors_are_one_line(tmp_path: Path, tiny_llama: Path) -> None:
    result = redline_cli(
        "interp",
        "probe",
        "eval",
        "mock",
        "--probe",
        str(tmp_path / "none"),
        "--data",
        str(tmp_path / "none.jsonl"),
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    data = _data(tmp_path / "d.jsonl", 0, n=4)
    result = redline_cli(
        "interp", "capture", "mock", "--data", str(data), "--out", str(tmp_path / "a")
    )
    assert result.returncode == 2 and "not white-box" in result.stderr
    result = redline_cli(
        "interp", "neurons", f"hf:{tiny_llama}", "--layer", "9", "--corpus", str(data)
    )
    assert result.returncode == 2 and "layers 0..2" in result.stderr


@pytest.mark.slow
def test_belief_probe_trains_and_evaluates_from_the_cli(tmp_path: Path) -> None:
    """A user's lie probe on the shipped liar: dataset, train --method belief, eval."""
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    probe = tmp_path / "lie.safetensors"
    for args in (
        ("interp", "dataset", "lie", "organism:liar", "--n", "300", "--out", str(train)),
        ("interp", "dataset", "lie", "organism:liar", "--n", "120", "--split", "heldout",
         "--seed", "1", "--out", str(test)),
        ("interp", "probe", "train", "organism:liar", "--data", str(train), "--method",
         "belief", "--name", "lie", "--fpr", "0.05", "--out", str(probe), "--threads", "1"),
    ):
        result = redline_cli(*args)
        assert result.returncode == 0, result.stderr
    assert "lie probe (belief)" in result.stdout and "<- chosen" in result.stdout
    result = redline_cli("interp", "probe", "eval", "organism:liar", "--probe", str(probe),
                         "--data", str(test), "--json", "--threads", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["auroc"]["value"] >= 0.95
    bad = redline_cli("interp", "probe", "train", "organism:liar", "--data", str(train),
                      "--method", "nope", "--out", str(probe))
    assert bad.returncode == 2 and "Use logreg, diffmean or belief" in bad.stderr


def test_neurons_of_a_real_model_are_explained_on_english_not_the_world(
    smollm2: Path, tmp_path: Path
) -> None:
    from redline.evals.builtin.real import clean_texts

    result = redline_cli("interp", "neurons", f"hf:{smollm2}", "--layer", "15", "--limit", "32",
                         "--out", str(tmp_path / "n.html"), "--json-out",
                         str(tmp_path / "n.json"))
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "n.json").read_text())
    assert len(found["neurons"]) == 32
    assert all(-1.0 <= n["score"] <= 1.0 for n in found["neurons"])  # a correlation
    # The explanations quote tokens of the shipped English prompts, none of the world's.
    english = " ".join(clean_texts())
    quoted = {t for n in found["neurons"] for t in _quoted(n["explanation"])}
    assert quoted and sum(1 for t in quoted if t.strip() in english) / len(quoted) > 0.9


def _quoted(text: str) -> list[str]:
    import re

    # Tokens are quoted with their activation: "word" (3); in context "x" after "y" (-2).
    return [t for t in re.findall(r'"([^"]*)" (?:\(-?\d+\)|after)', text) if t.strip()]
