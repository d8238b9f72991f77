"""The audit: everything redline knows how to check, gated by a release policy and signed."""

from redline.audit.pipeline import AuditOutcome, AuditSettings, policy_suites, run_audit

__all__ = ["AuditOutcome", "AuditSettings", "policy_suites", "run_audit"]
