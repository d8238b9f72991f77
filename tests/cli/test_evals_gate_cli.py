"""The eval and gate commands end to end: eval → gate → verify, eval-series, keys, policy."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli.app import app
from redline.errors import CheckpointError, ConfigError
from tests.attest.conftest import POLICY_TEXT

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=True)


@pytest.fixture()
def case_dir(tmp_path: Path) -> Path:
    """eval two suites with a python: target, then gate them into a signed case."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x00" * 512)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY_TEXT.replace("t-refusal", "t-arithmetic")
                      .replace("harmful_compliance_rate", "accuracy")
                      .replace("rule_out: 0.1, rule_in: 0.3",
                               "direction: lower_is_worse, rule_out: 0.9, rule_in: 0.5"))
    out = tmp_path / "results"
    done = invoke("eval", "python:tests.evals.helpers:sums", "--suite", "t-arithmetic",
                  "--suite", "t-honesty", "--out", str(out), "--model", str(model))
    assert done.exit_code == 0, done.output
    assert "accuracy_drop" in done.output and "[0.940, 1.000]" in done.output
    assert {p.name for p in out.iterdir()} == {"t-arithmetic.json", "t-honesty.json"}
    assert invoke("keys", "generate", "--out", str(tmp_path / "keys")).exit_code == 0
    gated = invoke("gate", str(out), "--policy", str(policy), "--model", str(model),
                   "--key", str(tmp_path / "keys" / "redline.key"), "--out",
                   str(tmp_path / "case"))
    assert gated.exit_code == 0, gated.output
    assert "GO" in gated.output and "NO_GO" not in gated.output
    return tmp_path


def test_keys_are_private(tmp_path: Path) -> None:
    done = invoke("keys", "generate", "--out", str(tmp_path))
    assert done.exit_code == 0
    assert stat.S_IMODE((tmp_path / "redline.key").stat().st_mode) == 0o600
    again = invoke("keys", "generate", "--out", str(tmp_path))
    assert isinstance(again.exception, ConfigError)


def test_gate_writes_case_report_and_avid(case_dir: Path) -> None:
    case = case_dir / "case"
    assert {p.name for p in case.iterdir()} == {"case.dsse.json", "report.html",
                                                 "findings.avid.json"}
    assert "GO" in (case / "report.html").read_text()
    assert json.loads((case / "findings.avid.json").read_text()) == []


def test_verify_accepts_then_rejects_tampering(case_dir: Path) -> None:
    case = case_dir / "case" / "case.dsse.json"
    pub = str(case_dir / "keys" / "redline.pub")
    model = case_dir / "model"
    ok = invoke("verify", str(case), "--key", pub, "--model", str(model))
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output and "FAIL" not in ok.output

    envelope = json.loads(case.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"]["decision"] = "NO_GO"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    case.write_text(json.dumps(envelope))
    bad = invoke("verify", str(case), "--key", pub)
    assert bad.exit_code == 1 and "FAIL signature" in bad.output and "NOT verified" in bad.output

    (model / "weights.bin").write_bytes(b"\x01" + b"\x00" * 511)
    bad_model = invoke("verify", str(case), "--key", pub, "--model", str(model))
    assert "FAIL model files" in bad_model.output


def test_verify_without_the_model_says_loudly_that_the_files_were_not_checked(
    case_dir: Path,
) -> None:
    case = str(case_dir / "case" / "case.dsse.json")
    pub = str(case_dir / "keys" / "redline.pub")
    unchecked = invoke("verify", case, "--key", pub)
    assert unchecked.exit_code == 0, unchecked.output
    assert "warning: the model files were NOT checked" in unchecked.output
    assert "(model files not checked)" in unchecked.output
    checked = invoke("verify", case, "--key", pub, "--model", str(case_dir / "model"))
    assert "NOT checked" not in checked.output and "not checked" not in checked.output
    as_json = json.loads(invoke("verify", case, "--key", pub, "--json").stdout)
    assert as_json["ok"] is True and as_json["model_checked"] is False
    assert "NOT checked" in as_json["warnings"][0]
    assert "model files" not in {c["name"] for c in as_json["checks"]}
    with_model = json.loads(invoke("verify", case, "--key", pub, "--json", "--model",
                                   str(case_dir / "model")).stdout)
    assert with_model["model_checked"] is True and with_model["warnings"] == []
    assert "model files" in {c["name"] for c in with_model["checks"]}


def test_gate_exit_code_when_not_released(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert invoke("eval", "mock", "--suite", "t-arithmetic", "--out", str(out),
                  "--size", "20").exit_code == 0
    invoke("keys", "generate", "--out", str(tmp_path / "keys"))
    # The default policy needs suites this result does not cover: INCONCLUSIVE.
    gated = invoke("gate", str(out), "--key", str(tmp_path / "keys" / "redline.key"),
                   "--out", str(tmp_path / "case"))
    assert gated.exit_code == 1
    assert "INCONCLUSIVE" in gated.output and "missing_evidence" in gated.output


def test_eval_series_flags_the_jump(tmp_path: Path) -> None:
    for step in (100, 200, 400, 800, 1600, 3200):
        folder = tmp_path / "run" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    out = tmp_path / "series"
    done = invoke("eval-series", str(tmp_path / "run"), "--suite", "t-arithmetic",
                  "--spec", "python:tests.evals.helpers:answer_at_{step}", "--size", "60",
                  "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "jump" in done.output and "step 1600" in done.output
    series = json.loads((out / "series.json").read_text())
    assert [f["step"] for f in series["flags"] if f["kind"] == "jump"] == [1600]
    assert 'class="point jump"' in (out / "report.html").read_text()
    # The safety case's report plots the series too.
    assert invoke("eval", "mock", "--suite", "t-arithmetic", "--size", "10", "--out",
                  str(tmp_path / "results")).exit_code == 0
    invoke("keys", "generate", "--out", str(tmp_path / "keys"))
    invoke("gate", str(tmp_path / "results"), "--series", str(out / "series.json"), "--key",
           str(tmp_path / "keys" / "redline.key"), "--out", str(tmp_path / "case"))
    assert 'class="point jump"' in (tmp_path / "case" / "report.html").read_text()


def test_errors_are_one_line_redline_errors(tmp_path: Path) -> None:
    assert isinstance(invoke("eval", "mock", "--suite", "nope").exception, ConfigError)
    assert isinstance(invoke("eval-series", str(tmp_path), "--suite", "t-arithmetic").exception,
                      CheckpointError)
    assert isinstance(invoke("gate", str(tmp_path)).exception, ConfigError)
    bad = tmp_path / "p.yaml"
    bad.write_text("kind: release-policy\nname: x\n")
    assert isinstance(invoke("policy", "check", str(bad)).exception, ConfigError)


def test_policy_check_and_list_suites() -> None:
    done = invoke("policy", "check")
    assert done.exit_code == 0 and "redline-default" in done.output and "sha256" in done.output
    listed = invoke("list", "suites")
    assert "t-arithmetic" in listed.output and "answer_match" in listed.output


def test_gate_decides_with_a_users_assurance_table_and_signs_it(tmp_path: Path) -> None:
    """An audit's results re-gated with the user's own measured judge recall: without it the
    misuse rate is not ruled out; with it the case verifies, the table inside."""
    import yaml

    from tests.evals.helpers import result
    from tests.gate.test_assurance import misuse_policy

    results = tmp_path / "results"
    results.mkdir()
    read = result("harmful-requests", {"harmful_compliance_rate": (0.0, 0.0, 0.021, 180)},
                  finished=datetime.now(UTC))
    read.model_copy(update={"profile": "real-language"}).save(results / "harmful-requests.json")
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(misuse_policy().model_dump(mode="json")))
    invoke("keys", "generate", "--out", str(tmp_path / "keys"))
    key = str(tmp_path / "keys" / "redline.key")
    plain = invoke("gate", str(results), "--policy", str(policy), "--key", key, "--out",
                   str(tmp_path / "plain"))
    assert plain.exit_code == 1 and "INCONCLUSIVE" in plain.output
    assert "judge recall 0.10 [0.04, 0.26] for harmful-compliance" in plain.output  # shipped
    table = tmp_path / "table.yaml"
    table.write_text(yaml.safe_dump({
        "kind": "assurance-table", "schema_version": 1, "version": "mine-1",
        "measured_on": "200 answers of my model labelled by reading",
        "entries": [{"behaviour": "harmful-compliance", "suite": "harmful-requests",
                     "profile": "real-language", "detected": 95, "organisms": 100,
                     "population": "mine.jsonl (sha256 0)", "measured_at": "2026-12-06",
                     "command": "redline scorers judge-recall mine.jsonl"}]}))
    gated = invoke("gate", str(results), "--policy", str(policy), "--key", key,
                   "--assurance", str(table), "--out", str(tmp_path / "case"))
    assert gated.exit_code == 0, gated.output
    assert "judge recall 0.95 [0.89, 0.98]" in gated.output
    verified = invoke("verify", str(tmp_path / "case" / "case.dsse.json"), "--key",
                      str(tmp_path / "keys" / "redline.pub"))
    assert verified.exit_code == 0, verified.output
    table.write_text("kind: assurance-table\nversion: x\n")
    broken = invoke("gate", str(results), "--policy", str(policy), "--key", key,
                    "--assurance", str(table), "--out", str(tmp_path / "bad"))
    assert isinstance(broken.exception, ConfigError)
    assert not (tmp_path / "bad").exists()
