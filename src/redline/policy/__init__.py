"""Policies: the release policy the gate decides against (YAML, versioned, hashed)."""

from redline.policy.assurance import (
    DEFAULT_ASSURANCE,
    AssuranceEntry,
    AssuranceTable,
    load_assurance,
)
from redline.policy.release import (
    DEFAULT_POLICY,
    Alert,
    AssuranceRequirement,
    Domain,
    EvalRequirement,
    GuardRequirement,
    MonitoringRequirement,
    NamedRequirement,
    RedTeamRequirement,
    ReleasePolicy,
    SafeguardLevel,
    Threshold,
    load_policy,
    parse_policy,
)

__all__ = [
    "DEFAULT_ASSURANCE",
    "DEFAULT_POLICY",
    "Alert",
    "AssuranceEntry",
    "AssuranceRequirement",
    "AssuranceTable",
    "Domain",
    "EvalRequirement",
    "GuardRequirement",
    "MonitoringRequirement",
    "NamedRequirement",
    "RedTeamRequirement",
    "ReleasePolicy",
    "SafeguardLevel",
    "Threshold",
    "load_assurance",
    "load_policy",
    "parse_policy",
]
