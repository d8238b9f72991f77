"""Writing a safety case to a folder: the signed envelope, the report and the AVID export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redline.attest.avid import avid_export
from redline.attest.case import SafetyCase, sign_case, write_envelope
from redline.evals.series import SeriesResult
from redline.report.html import evidence_links, render_case_report

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class CaseFiles:
    """Where a case's files were written."""

    envelope: Path
    report: Path
    avid: Path


def write_case_files(
    case: SafetyCase,
    out: Path,
    key: Ed25519PrivateKey,
    *,
    series: SeriesResult | None = None,
) -> CaseFiles:
    """Sign ``case`` and write ``case.dsse.json``, ``report.html`` and ``findings.avid.json``."""
    envelope = write_envelope(sign_case(case, key), out / "case.dsse.json")
    avid = out / "findings.avid.json"
    records = avid_export(case.findings, model_name=case.model.name,
                          reported=case.created_at.date())
    avid.write_text(json.dumps(records, indent=2), encoding="utf-8")
    report = out / "report.html"
    # The report links the evidence already written next to it (the audit writes its
    # searches, red team and results before the case).
    html = render_case_report(case, series=series, evidence=evidence_links(out))
    report.write_text(html, encoding="utf-8")
    return CaseFiles(envelope, report, avid)
