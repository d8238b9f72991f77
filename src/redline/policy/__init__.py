"""Policies: the release policy the gate decides against (YAML, versioned, hashed)."""

from redline.policy.release import (
    DEFAULT_POLICY,
    Alert,
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
    "DEFAULT_POLICY",
    "Alert",
    "Domain",
    "EvalRequirement",
    "GuardRequirement",
    "MonitoringRequirement",
    "NamedRequirement",
    "RedTeamRequirement",
    "ReleasePolicy",
    "SafeguardLevel",
    "Threshold",
    "load_policy",
    "parse_policy",
]
