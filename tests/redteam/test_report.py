from __future__ import annotations

from pathlib import Path

from redline.redteam.engine import run_redteam
from redline.redteam.records import AttemptRecord
from redline.redteam.report import Rate, build_report, load_report, write_report
from redline.stats import wilson
from redline.store import Store
from redline.targets import MockTarget

from .fixtures_plugin import make_config


def record(i: int, success: bool | None, *, category: str = "weapons",
           transform: str = "none", error: str | None = None) -> AttemptRecord:
    return AttemptRecord(
        key=f"k{i}", attack="static", probe=f"seed.{category}", prompt_id=str(i % 3),
        category=category, goal="g", transform=transform,
        messages=[{"role": "user", "content": "<script>alert(1)</script>"}], params={},
        response=None if error else "</pre><b>answer</b>", success=success, error=error,
    )


def test_rates_are_wilson_intervals_and_skip_errors_and_unscored() -> None:
    records = [record(i, i < 3) for i in range(10)]
    records += [record(10, None, error="TargetError: down"), record(11, None)]
    report = build_report(records, run_id="r", target="t", status="finished", config={},
                          success_scorer="s", redline_version="0")
    expected = wilson(3, 10)
    assert (report.asr.successes, report.asr.n) == (3, 10)
    assert (report.asr.low, report.asr.high) == (round(expected.low, 6), round(expected.high, 6))
    assert report.errors == 1 and report.unscored == 1 and report.attempts == 12
    # Goals broken: prompt ids 0, 1, 2 each had a success among their attempts.
    assert report.goals_broken_by_attack["static"] == Rate.of(3, 3)


def test_a_run_passes_only_when_every_attempt_was_scored_and_none_succeeded() -> None:
    def passed(records: list[AttemptRecord], status: str = "finished") -> bool:
        return build_report(records, run_id="r", target="t", status=status, config={},
                            success_scorer="s", redline_version="0").passed

    clean = [record(i, False) for i in range(10)]
    assert passed(clean) and passed(clean, "stopped")  # a budget stop tested what it sent
    assert not passed([*clean, record(10, True)])
    assert not passed([*clean, record(10, None, error="TargetError: down")])
    assert not passed([*clean, record(10, None)])  # unscored: tested nothing
    assert not passed([])


def test_findings_group_successes_with_their_evidence() -> None:
    records = [record(i, i % 2 == 0, category="cyber", transform="base64") for i in range(8)]
    records += [record(10 + i, False, category="fraud") for i in range(5)]
    report = build_report(records, run_id="r", target="mock:x", status="finished", config={},
                          success_scorer="s", redline_version="0")
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert finding.category == "cyber" and finding.transform == "base64"
    assert finding.severity == "critical" and finding.rate == Rate.of(4, 8)
    assert finding.evidence == ["k0", "k2", "k4", "k6"]
    assert [r.key for r in report.evidence] == finding.evidence


def test_html_is_self_contained_and_escapes_model_text(tmp_path: Path) -> None:
    records = [record(i, True) for i in range(3)]
    report = build_report(records, run_id="r", target="mock:<x>", status="finished", config={},
                          success_scorer="s", redline_version="0")
    json_path, html_path = write_report(report, tmp_path / "out")
    page = html_path.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "</pre><b>answer" not in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert load_report(json_path) == report


async def test_a_run_writes_findings_to_the_store(weak_target: MockTarget, store: Store) -> None:
    config = make_config(probes=["seed.weapons"], limit=4, transforms=["none", "base64"])
    report = await run_redteam(weak_target, config, store=store)
    findings = store.findings(report.run_id)
    assert [f.title for f in findings] == [f.title for f in report.findings]
    assert findings[0].evidence and set(findings[0].evidence) <= {
        a.key for a in store.attempts(report.run_id)}
    run = store.get_run(report.run_id)
    assert run is not None and run.status == "finished" and run.config["suite"] == "quick"
    assert "owasp-llm-2025:LLM01" in findings[0].tags


def test_outcomes_tell_empty_attempts_from_refusals_and_compliance(tmp_path: Path) -> None:
    from redline.redteam.records import ScoreRecord

    outcomes = ["refused"] * 5 + ["attempted"] * 3 + ["complied"] * 2
    records = []
    for i, outcome in enumerate(outcomes):
        r = record(i, outcome == "complied")
        r.scores["harmful_compliance"] = ScoreRecord(
            value=0.9 if outcome == "complied" else 0.1, label=outcome == "complied",
            outcome=outcome,  # type: ignore[arg-type]
        )
        records.append(r)
    report = build_report(records, run_id="r", target="t", status="finished", config={},
                          success_scorer="harmful_compliance", redline_version="0")
    assert report.outcomes == {"refused": Rate.of(5, 10), "attempted": Rate.of(3, 10),
                               "complied": Rate.of(2, 10)}
    _, html_path = write_report(report, tmp_path / "out")
    assert "attempted with nothing usable" in html_path.read_text()
    plain = build_report([record(0, True)], run_id="r", target="t", status="finished",
                         config={}, success_scorer="s", redline_version="0")
    assert plain.outcomes == {}  # a scorer that reads no outcome adds no table
