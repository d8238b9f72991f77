"""The gate: decide GO / GO_WITH_SAFEGUARDS / NO_GO / INCONCLUSIVE against a release policy."""

from redline.gate.decide import (
    RELEASES,
    Decision,
    EvalAssessment,
    Reason,
    Safeguards,
    ThresholdAssessment,
    Verdict,
    assess_eval,
    decide,
    describe_requirement,
)

__all__ = [
    "RELEASES",
    "Decision",
    "EvalAssessment",
    "Reason",
    "Safeguards",
    "ThresholdAssessment",
    "Verdict",
    "assess_eval",
    "decide",
    "describe_requirement",
]
