"""Attestation: signed safety cases (in-toto + DSSE + ed25519), verification, AVID export."""

from redline.attest.avid import avid_export, avid_report
from redline.attest.case import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Check,
    SafetyCase,
    Statement,
    VerifyReport,
    build_case,
    load_case,
    model_digest_for,
    sign_case,
    statement_for,
    verify_case,
    write_envelope,
)
from redline.attest.digest import FileDigest, ModelDigest, digest_model
from redline.attest.dsse import (
    Envelope,
    generate_keys,
    load_private_key,
    load_public_key,
    read_envelope,
)
from redline.attest.findings import Finding, findings_from_verdict, merge_findings

__all__ = [
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Check",
    "Envelope",
    "FileDigest",
    "Finding",
    "ModelDigest",
    "SafetyCase",
    "Statement",
    "VerifyReport",
    "avid_export",
    "avid_report",
    "build_case",
    "digest_model",
    "findings_from_verdict",
    "generate_keys",
    "load_case",
    "load_private_key",
    "load_public_key",
    "merge_findings",
    "model_digest_for",
    "read_envelope",
    "sign_case",
    "statement_for",
    "verify_case",
    "write_envelope",
]
