"""The gate: decide GO / GO_WITH_SAFEGUARDS / NO_GO / INCONCLUSIVE against a release policy."""

from redline.gate.decide import (
    RELEASES,
    AssuranceAssessment,
    ClassAssurance,
    Decision,
    EvalAssessment,
    Reason,
    Safeguards,
    ThresholdAssessment,
    Verdict,
    assess_assurance,
    assess_eval,
    decide,
    describe_requirement,
)

__all__ = [
    "RELEASES",
    "AssuranceAssessment",
    "ClassAssurance",
    "Decision",
    "EvalAssessment",
    "Reason",
    "Safeguards",
    "ThresholdAssessment",
    "Verdict",
    "assess_assurance",
    "assess_eval",
    "decide",
    "describe_requirement",
]
