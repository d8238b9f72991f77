"""Findings: something wrong that was shown, with evidence, severity and taxonomy tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from redline.gate.decide import Safeguards, Verdict
from redline.policy.release import ReleasePolicy

if TYPE_CHECKING:
    from redline.redteam.report import RedteamReport

Severity = Literal["info", "low", "medium", "high", "critical"]


class Finding(BaseModel):
    """Something wrong that was shown.

    Attributes:
        id: stable identifier within a case.
        title: one line.
        severity: info, low, medium, high or critical.
        category: policy category or domain, when one applies.
        description: what was shown, in words.
        tags: taxonomy IDs, e.g. ``owasp-llm-2025:LLM01``, ``atlas:AML.T0054``.
        evidence: what shows it (attempt keys, sample ids, metric values).
        source: what produced it (``gate``, ``redteam``, ``interp``, ...).
        counted: True when the verdict counts it (a crossed threshold), False when the
            policy does not read it; None in cases made before this was recorded.
        not_counted: why the verdict does not count it (when ``counted`` is False).
    """

    id: str
    title: str
    severity: Severity
    category: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    source: str = "gate"
    counted: bool | None = None
    not_counted: str | None = None


def findings_from_verdict(verdict: Verdict, policy: ReleasePolicy) -> list[Finding]:
    """One finding per crossed threshold, tagged with its domain's taxonomy tags."""
    tags = {d.id: list(d.tags) for d in policy.domains}
    descriptions = {t.id: t.description for d in policy.domains for t in d.thresholds}
    out = []
    for assessment in verdict.thresholds:
        if assessment.status != "crossed":
            continue
        crossed = [e for e in assessment.evals if e.status in ("ruled_in", "not_ruled_out")]
        ruled_in = any(e.status == "ruled_in" for e in crossed)
        severity: Severity = (
            ("critical" if ruled_in else "high") if assessment.response == "no_go" else "medium"
        )
        out.append(Finding(
            id=f"threshold:{assessment.threshold}",
            title=f"{assessment.threshold} threshold "
            f"{'crossed' if ruled_in else 'not ruled out'}",
            severity=severity,
            category=assessment.domain,
            description=descriptions.get(assessment.threshold, ""),
            tags=tags.get(assessment.domain, []),
            evidence=[f"{e.suite}/{e.metric}: {e.detail}" for e in crossed],
            source="gate",
            counted=True,
        ))
    return out


def mark_not_counted(findings: Sequence[Finding], safeguards: Safeguards) -> list[Finding]:
    """Mark every finding the verdict does not read as not counted, with the reason.

    The gate decides from eval results only; findings from the red team, internals or a
    user's file are evidence for a reviewer. Each says so in the case, so a GO next to a
    list of findings is never silent about why they did not stop it.
    """
    out = []
    for finding in findings:
        if finding.counted is not None:
            out.append(finding)
            continue
        why = (f"the release policy has no threshold that reads findings from "
               f"'{finding.source}'")
        if finding.source == "redteam":
            why += (" (the red team enters the verdict only as the 'redteam' safeguard, "
                    f"{'passed' if safeguards.redteam_passed else 'not passed'} here)")
        out.append(finding.model_copy(update={"counted": False, "not_counted": why}))
    return out


def findings_from_redteam(report: RedteamReport) -> list[Finding]:
    """The red-team report's findings, keeping their tags and evidence attempt keys.

    None is counted by the release policy; each says why, and names the judge its success
    rate rests on.
    """
    judge = report.success_scorer or "no success scorer"
    why = ("the release policy has no threshold that reads red-team findings (the red team "
           f"enters the verdict only as the 'redteam' safeguard, "
           f"{'passed' if report.passed else 'not passed'} in this run); the success rate is "
           f"the judgement of {judge}, whose precision on this model's replies was not "
           "measured here, so read the evidence attempts before acting on it")
    return [
        Finding(
            id=f"redteam:{report.run_id}:{i}",
            title=f.title,
            severity=f.severity,
            category=f.category,
            description=f"{f.attack} attack with {f.transform}: success rate {f.rate}",
            tags=list(f.tags),
            evidence=list(f.evidence),
            source="redteam",
            counted=False,
            not_counted=why,
        )
        for i, f in enumerate(report.findings)
    ]


def merge_findings(*groups: Sequence[Finding]) -> list[Finding]:
    """Concatenate finding lists, keeping the first of any repeated id."""
    seen: dict[str, Finding] = {}
    for group in groups:
        for finding in group:
            seen.setdefault(finding.id, finding)
    return list(seen.values())
