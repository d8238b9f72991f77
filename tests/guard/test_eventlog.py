import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.errors import ConfigError
from redline.guard.eventlog import EventLog, LogRecord, iter_events, record_line, verify_log
from redline.guard.signing import Signer, load_or_create_signer, load_public_key
from redline.types import canonical_json


def write_log(path: Path, signer: Signer, n: int, every: int = 4) -> None:
    with EventLog(path, signer, checkpoint_every=every) as log:
        for i in range(n):
            log.append({"kind": "request", "request_id": f"r{i}", "n": i})


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def rehash_from(records: list[dict], start: int) -> None:
    """What a forger without the key does: fix every hash and link after an edit."""
    for i in range(start, len(records)):
        r = records[i]
        if i > 0:
            r["prev"] = records[i - 1]["hash"]
        r["hash"] = LogRecord.digest(r["seq"], r["prev"], r["ts"], r["type"], r["body"])


@pytest.fixture
def logged(tmp_path: Path, signer: Signer) -> Path:
    path = tmp_path / "events.log"
    write_log(path, signer, 10)
    return path


def test_intact_log_verifies_with_pinned_key(logged: Path, signer: Signer) -> None:
    public = load_public_key(signer.path.with_suffix(".key.pub"))
    report = verify_log(logged, public)
    assert report.ok, report.problem
    assert report.events == 10
    assert report.checkpoints == 3  # after 4, after 8, and the final one on close
    assert report.signed_events == 10 and report.unsigned_tail == 0
    assert [e["n"] for e in iter_events(logged)] == list(range(10))


def test_edit_is_detected(logged: Path) -> None:
    content = lines(logged)
    content[3] = content[3].replace('"n":2', '"n":7')
    logged.write_text("".join(content))
    report = verify_log(logged)
    assert not report.ok and "line 4" in (report.problem or "") and "edited" in report.problem


def test_deletion_is_detected(logged: Path) -> None:
    content = lines(logged)
    del content[5]
    logged.write_text("".join(content))
    report = verify_log(logged)
    assert not report.ok and "deleted" in (report.problem or "")


def test_reordering_is_detected(logged: Path) -> None:
    content = lines(logged)
    content[2], content[3] = content[3], content[2]
    logged.write_text("".join(content))
    assert not verify_log(logged).ok


def test_edit_with_recomputed_chain_breaks_a_signature(logged: Path) -> None:
    records = [json.loads(line) for line in lines(logged)]
    records[2]["body"]["n"] = 99
    rehash_from(records, 2)
    logged.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = verify_log(logged)
    assert not report.ok and "signature" in (report.problem or "")


def test_deletion_with_recomputed_chain_breaks_a_signature(logged: Path) -> None:
    records = [json.loads(line) for line in lines(logged)]
    del records[3]
    for i, r in enumerate(records):
        r["seq"] = i
    rehash_from(records, 3)
    logged.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert not verify_log(logged).ok


def test_cutting_the_end_is_detected_by_the_head_file(logged: Path) -> None:
    content = lines(logged)
    logged.write_text("".join(content[:-3]))
    report = verify_log(logged)
    assert not report.ok and "cut off" in (report.problem or "")


def test_foreign_key_and_rewritten_log_fail_against_the_pinned_key(
    tmp_path: Path, signer: Signer
) -> None:
    forger = load_or_create_signer(tmp_path / "forger.key")
    forged = tmp_path / "forged.log"
    write_log(forged, forger, 5)
    assert verify_log(forged).ok  # self-consistent ...
    pinned = load_public_key(signer.path)
    report = verify_log(forged, pinned)
    assert not report.ok and "signature" in (report.problem or "")  # ... but not ours


def test_reopening_continues_the_chain(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "events.log"
    write_log(path, signer, 3)
    write_log(path, signer, 3)
    report = verify_log(path)
    assert report.ok, report.problem
    assert report.events == 6
    with EventLog(path, signer) as log:
        assert log.events == 6


def test_one_writer_at_a_time(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "events.log"
    with EventLog(path, signer):
        with pytest.raises(ConfigError, match="Another process"):
            EventLog(path, signer)


def test_partly_written_record_refuses_to_resume(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "events.log"
    write_log(path, signer, 2)
    with path.open("a") as handle:
        handle.write('{"seq": 9, "prev"')
    with pytest.raises(ConfigError, match="partly written"):
        EventLog(path, signer)
    assert not verify_log(path).ok


def test_signing_key_is_private(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path / "k" / "signing.key")
    assert stat.S_IMODE(signer.path.stat().st_mode) == 0o600
    assert load_or_create_signer(signer.path).key_id == signer.key_id
    os.chmod(signer.path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_signer(signer.path)


def test_cli_verify_exit_codes(logged: Path, signer: Signer) -> None:
    from redline.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["log", "verify", str(logged), "--public-key",
                             str(signer.path.with_suffix(".key.pub"))])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    content = lines(logged)
    content[1] = content[1].replace('"n":0', '"n":1')
    logged.write_text("".join(content))
    bad = runner.invoke(app, ["log", "verify", str(logged)])
    assert bad.exit_code == 1


@pytest.mark.parametrize("body", [
    {},
    {"kind": "request", "n": 1, "ms": 0.1 + 0.2, "big": 1e300, "neg": -0.0, "none": None},
    {"text": "caf\u00e9 \u2603 \"quoted\" \\ back\nslash \U0001f600", "z": [1, {"b": 2, "a": 1}]},
    {"\u00e9t\u00e9": True, "A": False, "a": [], "nested": {"deep": {"er": ["x", 2.5]}}},
])
def test_record_line_is_the_canonical_json_of_the_record(body: dict) -> None:
    ts = "2026-11-21T22:00:00.123456+00:00"
    digest, line = record_line(7, "ab" * 32, ts, "event", body)
    record = LogRecord(seq=7, prev="ab" * 32, ts=ts, type="event", body=body, hash=digest)
    assert digest == LogRecord.digest(7, "ab" * 32, ts, "event", body)
    assert line == (canonical_json(record.model_dump()) + "\n").encode("utf-8")
