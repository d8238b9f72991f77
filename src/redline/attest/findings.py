"""Findings: something wrong that was shown, with evidence, severity and taxonomy tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from redline.gate.decide import Verdict
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
    """

    id: str
    title: str
    severity: Severity
    category: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    source: str = "gate"


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
        ))
    return out


def findings_from_redteam(report: RedteamReport) -> list[Finding]:
    """The red-team report's findings, keeping their tags and evidence attempt keys."""
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
