"""AVID-format JSON export of findings, tagged with OWASP LLM 2025 and MITRE ATLAS IDs.

Each finding becomes one AVID report (data_version 0.2, the schema of ``avidtools``):
``affects`` names the model, ``problemtype`` says it is an LLM evaluation detection,
``impact.avid`` places it in the AVID taxonomy (risk domain, SEP view, lifecycle), and
the OWASP and ATLAS tags go into ``references`` with their IDs, names and links, so the
export stays inside the AVID schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from redline.attest.findings import Finding

OWASP_LLM_2025: dict[str, str] = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}

MITRE_ATLAS: dict[str, str] = {
    "AML.T0018": "Manipulate AI Model (backdoor)",
    "AML.T0020": "Poison Training Data",
    "AML.T0024": "Exfiltration via AI Inference API",
    "AML.T0043": "Craft Adversarial Data",
    "AML.T0048": "External Harms",
    "AML.T0051": "LLM Prompt Injection",
    "AML.T0054": "LLM Jailbreak",
    "AML.T0056": "Extract LLM System Prompt",
    "AML.T0057": "LLM Data Leakage",
}

# AVID SEP-view categories implied by each tag; the risk domain follows the letter.
_SEP_VIEW: dict[str, tuple[str, ...]] = {
    "owasp-llm-2025:LLM01": ("S0403: Adversarial Example", "S0400: Model Bypass"),
    "owasp-llm-2025:LLM02": ("S0301: Information Leak",),
    "owasp-llm-2025:LLM03": ("S0200: Supply Chain Compromise",),
    "owasp-llm-2025:LLM04": ("S0201: Model Compromise", "S0600: Data Poisoning"),
    "owasp-llm-2025:LLM07": ("S0301: Information Leak",),
    "owasp-llm-2025:LLM09": ("E0402: Generative Misinformation",),
    "owasp-llm-2025:LLM10": ("S0302: Excessive Queries",),
    "atlas:AML.T0048": ("P0400: Safety",),
}
_RISK_DOMAIN = {"S": "Security", "E": "Ethics", "P": "Performance"}

OWASP_URL = "https://genai.owasp.org/llm-top-10/"
ATLAS_URL = "https://atlas.mitre.org/techniques/{id}"


def _references(tags: Sequence[str]) -> list[dict[str, Any]]:
    refs = []
    for tag in tags:
        scheme, _, ident = tag.partition(":")
        if scheme == "owasp-llm-2025":
            name = OWASP_LLM_2025.get(ident, "")
            refs.append({"type": "owasp-llm-2025", "label": f"{ident}:2025 {name}".strip(),
                         "url": OWASP_URL})
        elif scheme == "atlas":
            name = MITRE_ATLAS.get(ident, "")
            refs.append({"type": "mitre-atlas", "label": f"{ident} {name}".strip(),
                         "url": ATLAS_URL.format(id=ident)})
    return refs


def avid_report(
    finding: Finding, *, model_name: str, reported: date, developer: str = "",
    deployer: str = "",
) -> dict[str, Any]:
    """One finding as an AVID report (a plain JSON-ready dict)."""
    sep = sorted({s for tag in finding.tags for s in _SEP_VIEW.get(tag, ())})
    domains = sorted({_RISK_DOMAIN[s[0]] for s in sep}) or ["Security"]
    return {
        "data_type": "AVID",
        "data_version": "0.2",
        "metadata": {"report_id": f"redline:{finding.id}"},
        "affects": {
            "developer": [developer] if developer else [],
            "deployer": [deployer] if deployer else [],
            "artifacts": [{"type": "Model", "name": model_name}],
        },
        "problemtype": {
            "classof": "LLM Evaluation",
            "type": "Detection",
            "description": {"lang": "eng", "value": finding.title},
        },
        "metrics": [
            {
                "name": finding.category or finding.source,
                "detection_method": {
                    "type": "Static Threshold",
                    "name": f"redline {finding.source}",
                },
                "features": {"severity": finding.severity, "evidence": list(finding.evidence)},
            }
        ],
        "references": _references(finding.tags),
        "description": {"lang": "eng", "value": finding.description or finding.title},
        "impact": {
            "avid": {
                "risk_domain": domains,
                "sep_view": sep,
                "lifecycle_view": ["L05: Evaluation"],
                "taxonomy_version": "0.2",
            }
        },
        "reported_date": reported.isoformat(),
    }


def avid_export(
    findings: Sequence[Finding], *, model_name: str, reported: date
) -> list[dict[str, Any]]:
    """Every finding as an AVID report."""
    return [avid_report(f, model_name=model_name, reported=reported) for f in findings]
