"""A user's suite, added by an installed entry point, by --plugin, or as a YAML file, runs with
``redline eval`` and ``redline audit`` without touching redline's package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = '''
from redline.evals import Sample, suite
from redline.evals.metrics import proportion


@suite("acme-greetings", version="1.0", scorers=[("answer_match", {"mode": "contains"})],
       metrics=[proportion("greets_back", "answer_match")], data="3 greetings from Acme")
def greetings(*, seed, size):
    """Does the model greet back?"""
    return [Sample.of(f"g{i}", text, "hello") for i, text in
            enumerate(["Hello there!", "Hi, how are you?", "Good morning!"])][:size]
'''

SUITE_YAML = """
kind: redline-suite
name: acme-yaml
version: "2.1"
summary: Does the model say hello?
data: 4 hand-written greetings
scorers: [{name: answer_match, config: {mode: contains}}]
metrics:
  - {kind: proportion, name: greets_back, scorer: answer_match}
  - {kind: proportion_by, name: greets_back, scorer: answer_match, key: tone}
samples:
  - {id: a, prompt: "Hello!", expected: hello, tone: warm}
  - {id: b, prompt: "Hey you.", expected: hello, tone: curt}
  - {id: c, prompt: "Good evening.", expected: hello, tone: warm}
  - {messages: [{role: system, content: Be terse.}, {role: user, content: Yo}], expected: hello,
     tone: curt}
"""

POLICY = """
kind: release-policy
schema_version: 1
name: acme
version: "1.0.0"
domains:
  - id: manners
    tags: [owasp-llm-2025:LLM09, atlas:AML.T0048]
    thresholds:
      - id: rude
        response: no_go
        evals:
          - {suite: SUITE, metric: greets_back, direction: lower_is_worse, rule_out: 0.01,
             rule_in: 0.0, min_samples: 3}
"""


def redline(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, str]:
    """A plugin package installed the way pip would: a module plus a dist-info with an
    entry point in the ``redline.plugins`` group."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_redline.py").write_text(PLUGIN)
    info = site / "acme_redline-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-redline\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[redline.plugins]\nacme = acme_redline\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path]),
            "REDLINE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}


def test_an_entry_point_suite_runs_with_eval_and_audit(installed: dict[str, str],
                                                       tmp_path: Path) -> None:
    done = redline("eval", "mock:hello!", "--suite", "acme-greetings", "--out", "res",
                   env=installed, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "res" / "acme-greetings.json").read_text())
    assert result["metrics"]["greets_back"]["value"] == 1.0
    assert result["data"] == "3 greetings from Acme"
    assert "acme-greetings" in redline("list", "suites", env=installed, cwd=tmp_path).stdout

    (tmp_path / "policy.yaml").write_text(POLICY.replace("SUITE", "acme-greetings"))
    audit = redline("audit", "mock:hello!", "--policy", "policy.yaml", "--no-redteam",
                    "--out", "case", env=installed, cwd=tmp_path)
    # A black-box mock has no backdoor evidence, but this policy does not ask for any.
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.strip().splitlines()[-1] == "GO"
    assert (tmp_path / "case" / "results" / "acme-greetings.json").is_file()


def test_a_plugin_module_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "my_suites.py").write_text(PLUGIN.replace("acme-greetings", "cli-greetings"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
           "REDLINE_HOME": str(tmp_path / "home")}
    done = redline("eval", "mock:hello", "--suite", "cli-greetings", "--plugin", "my_suites",
                   "--out", "res", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    missing = redline("eval", "mock:hello", "--suite", "x", "--plugin", "no_such_module",
                      env=env, cwd=tmp_path)
    assert missing.returncode != 0
    assert "Plugin 'no_such_module' could not be imported" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_yaml_suite_runs_with_eval_and_audit(tmp_path: Path) -> None:
    env = {**os.environ, "REDLINE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    (tmp_path / "greet.yaml").write_text(SUITE_YAML)
    done = redline("eval", "mock:well hello", "--suite", "./greet.yaml", "--out", "res",
                   env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "res" / "acme-yaml.json").read_text())
    assert result["suite_version"] == "2.1" and result["metrics"]["greets_back"]["n"] == 4
    assert result["metrics"]["greets_back/curt"]["n"] == 2
    assert result["samples"][3]["messages"][0]["role"] == "system"

    (tmp_path / "policy.yaml").write_text(POLICY.replace("SUITE", "acme-yaml"))
    audit = redline("audit", "mock:go away", "--policy", "policy.yaml", "--suite",
                    "./greet.yaml", "--no-redteam", "--out", "case", env=env, cwd=tmp_path)
    assert audit.returncode == 1, audit.stderr  # never greets back: NO_GO
    assert audit.stdout.strip().splitlines()[-1] == "NO_GO"


@pytest.mark.parametrize(
    ("text", "message"),
    [("kind: redline-suite\nname: x\nversion: '1'\nmetrics: []\nsamples: [{id: a}]",
      "sample 1 needs a 'prompt' or 'messages'"),
     ("kind: nope", "starts with 'kind: redline-suite'"),
     ("kind: redline-suite\nname: x\nversion: '1'\nscorers: [refusal]\nmetrics: [{kind: "
      "median, scorer: refusal}]\nsamples: [{prompt: a}]", "metric kind 'median'"),
     ("kind: redline-suite\nname: x\nversion: '1'\nscorers: [refusal]\nmetrics: [{kind: "
      "proportion, scorer: refusal}]\nsamples: [{prompt: a}, {prompt: a}]", "ask the same")],
)
def test_bad_suite_files_get_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    from redline.errors import ConfigError
    from redline.evals.files import load_suite_file

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_suite_file(path)


def test_plugin_flag_is_taken_from_anywhere_on_the_line() -> None:
    from redline.cli import split_plugins

    assert split_plugins(["eval", "t", "--plugin", "a", "-s", "x", "--plugin=b"]) == (
        ["eval", "t", "-s", "x"], ["a", "b"])
    assert split_plugins(["eval", "--", "--plugin", "a"]) == (["eval", "--", "--plugin", "a"], [])
