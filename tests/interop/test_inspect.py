"""Inspect interop as users run it: `redline export inspect`, a real `inspect eval` against
`redline serve organism:helpful` through Inspect's OpenAI-compatible provider, and
`redline gate --from-inspect` deciding from the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tests.serve.test_cli import free_port, start, wait_until_up

POLICY = """
kind: release-policy
schema_version: 1
name: inspect-demo
version: "1.0.0"
domains:
  - id: capability
    tags: [atlas:AML.T0048]
    thresholds:
      - id: arithmetic
        response: no_go
        evals:
          - {{suite: {suite}, metric: {metric}, direction: {direction}, rule_out: 0.5,
             rule_in: {rule_in}, min_samples: 5}}
"""

PLAIN_TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import includes

@task
def sums():
    return Task(dataset=[Sample(input=f"add {a} and {b} ?", target=str(a + b))
                         for a, b in [(2, 3), (5, 17), (4, 4), (6, 9), (7, 1), (3, 8)]],
                scorer=includes(), config=GenerateConfig(max_tokens=48, temperature=0))
'''


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    port = free_port()
    process = start("organism:helpful", port)
    try:
        wait_until_up(process, port)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDLINE_HOME": str(cwd / "home"), "REDLINE_API_KEY": "unused",
           "INSPECT_LOG_DIR": str(cwd / "logs"), "COLUMNS": "200"}
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    if ok:
        assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return done


def redline(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "redline", *args, cwd=cwd, ok=ok)


def inspect_eval(task: str, url: str, cwd: Path) -> Path:
    run(sys.executable, "-m", "inspect_ai", "eval", task,
        "--model", "openai-api/redline/organism:helpful", "--model-base-url", url,
        "--max-connections", "4", "--display", "none", cwd=cwd)
    (log,) = (cwd / "logs").glob("*.eval")
    return log


def test_inspect_runs_an_exported_suite_with_redline_judges_and_gate_decides_from_its_log(
    served: str, tmp_path: Path
) -> None:
    redline("keys", "generate", "--out", "keys", cwd=tmp_path)
    redline("export", "inspect", "organism-capability", "--out", "task", "--size", "20",
            cwd=tmp_path)
    log = inspect_eval("task/task.py", served, tmp_path)
    header = read_eval_log(str(log), header_only=True)
    assert header.status == "success" and header.results is not None
    (score,) = header.results.scores
    assert score.name == "redline"
    inspect_metrics = {k: v.value for k, v in score.metrics.items()}

    # The same samples through `redline eval` against the same server give the same numbers.
    redline("eval", f"openai:{served}#organism:helpful", "--suite", "organism-capability",
            "--size", "20", "--out", "ev", "--no-cache", cwd=tmp_path)
    ours = json.loads((tmp_path / "ev" / "organism-capability.json").read_text())["metrics"]
    for name, value in ours.items():
        assert inspect_metrics[name] == pytest.approx(value["value"])
        assert inspect_metrics[f"{name}.low"] == pytest.approx(value["low"])
        assert inspect_metrics[f"{name}.n"] == value["n"]

    (tmp_path / "worse.yaml").write_text(POLICY.format(
        suite="organism-capability", metric="arithmetic_accuracy",
        direction="higher_is_worse", rule_in=0.9))
    gated = redline("gate", "--from-inspect", str(log), "--policy", "worse.yaml", "--key",
                    "keys/redline.key", "--out", "case", cwd=tmp_path, ok=False)
    assert gated.returncode == 1 and "NO_GO" in gated.stdout
    verified = redline("verify", "case/case.dsse.json", "--key", "keys/redline.pub",
                       cwd=tmp_path)
    assert "pass results" in verified.stdout and "verified: NO_GO" in verified.stdout

    (tmp_path / "better.yaml").write_text(POLICY.format(
        suite="organism-capability", metric="fact_accuracy", direction="lower_is_worse",
        rule_in=0.1))
    gated = redline("gate", "--from-inspect", str(log), "--policy", "better.yaml", "--key",
                    "keys/redline.key", "--out", "case2", cwd=tmp_path)
    assert gated.stdout.startswith("GO")


def test_a_plain_inspect_task_is_evidence_through_a_mapping_file(
    served: str, tmp_path: Path
) -> None:
    redline("keys", "generate", "--out", "keys", cwd=tmp_path)
    (tmp_path / "sums.py").write_text(PLAIN_TASK)
    log = inspect_eval("sums.py", served, tmp_path)
    (tmp_path / "policy.yaml").write_text(POLICY.format(
        suite="sums", metric="sum_accuracy", direction="higher_is_worse", rule_in=0.9))

    unmapped = redline("gate", "--from-inspect", str(log), "--policy", "policy.yaml",
                       "--key", "keys/redline.key", "--out", "c0", cwd=tmp_path, ok=False)
    assert unmapped.returncode == 2 and "--inspect-map" in unmapped.stderr
    assert len(unmapped.stderr.strip().splitlines()) == 1 and not (tmp_path / "c0").exists()

    (tmp_path / "map.yaml").write_text(
        "kind: redline-inspect-mapping\n"
        "metrics:\n  - {task: sums, scorer: includes, metric: accuracy, suite: sums, "
        "as: sum_accuracy, interval: wilson}\n")
    gated = redline("gate", "--from-inspect", str(log), "--inspect-map", "map.yaml",
                    "--policy", "policy.yaml", "--key", "keys/redline.key", "--out", "c1",
                    cwd=tmp_path, ok=False)
    assert gated.returncode == 1, gated.stdout
    # 6 of 6 right: the Wilson interval of 6/6, not stderr's degenerate [1, 1].
    assert "sums/sum_accuracy: 1.000 [0.610, 1.000]" in gated.stdout, gated.stdout

    (tmp_path / "bad.yaml").write_text(
        "kind: redline-inspect-mapping\nmetrics:\n  - {metric: f1, suite: sums}\n")
    bad = redline("gate", "--from-inspect", str(log), "--inspect-map", "bad.yaml",
                  "--policy", "policy.yaml", "--key", "keys/redline.key", "--out", "c2",
                  cwd=tmp_path, ok=False)
    assert bad.returncode == 2 and "no metric 'f1'" in bad.stderr


def test_export_refuses_a_used_folder_and_an_unknown_suite_writing_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "mine.txt").write_text("keep")
    used = redline("export", "inspect", "organism-capability", "--out", "used", cwd=tmp_path,
                   ok=False)
    assert used.returncode == 2 and "not empty" in used.stderr
    assert sorted(p.name for p in (tmp_path / "used").iterdir()) == ["mine.txt"]
    unknown = redline("export", "inspect", "no-such-suite", "--out", "new", cwd=tmp_path,
                      ok=False)
    assert unknown.returncode == 2 and not (tmp_path / "new").exists()
    assert not list(tmp_path.glob(".new*"))
