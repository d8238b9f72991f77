"""The safety case: an in-toto Statement v1 in a DSSE envelope, signed with ed25519.

- subject: the model, named with the sha256 digest over its files
  (:mod:`redline.attest.digest`);
- predicate (:class:`SafetyCase`): the full release policy and its digest, the assurance
  table its hidden-behaviour thresholds were decided with, the eval results with every
  sample, the findings (each counted by the verdict or listed as not counted, with the
  reason), the safeguards declared, the verdict with its reasons, the versions of redline
  and of each suite, and the time.

:func:`verify_case` checks the signature, the statement's form, the subject against the
predicate's file list (and against the model's files on disk when given), the policy
digest, the assurance table's digest, each result's metrics against its own samples (for
suites registered at the same version), and recomputes the verdict from the included
evidence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline._version import __version__
from redline.attest.digest import ModelDigest, digest_model, manifest_sha256
from redline.attest.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, sign_envelope, verify_envelope
from redline.attest.findings import (
    Finding,
    findings_from_verdict,
    mark_not_counted,
    merge_findings,
)
from redline.errors import ConfigError
from redline.evals.results import EvalResult
from redline.gate.decide import Safeguards, Verdict, decide
from redline.policy.assurance import AssuranceTable, load_assurance
from redline.policy.release import ReleasePolicy
from redline.types import canonical_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://redline.dev/attestation/safety-case/v1"


class Versions(BaseModel):
    """Versions of the software and suites behind a case."""

    redline: str
    suites: dict[str, str]


class SafetyCase(BaseModel):
    """The predicate: everything a third party needs to check the verdict."""

    schema_version: Literal[1] = 1
    model: ModelDigest
    target: str | None = None
    policy: ReleasePolicy
    policy_digest: str
    assurance: AssuranceTable | None = None
    """The assurance table (measured recalls of the searches) the verdict was decided with."""
    results: list[EvalResult]
    findings: list[Finding]
    safeguards: Safeguards
    verdict: Verdict
    versions: Versions
    created_at: datetime


class Subject(BaseModel):
    """An in-toto subject: a name and its digests."""

    name: str
    digest: dict[str, str]


class Statement(BaseModel):
    """An in-toto Statement v1 whose predicate is a safety case."""

    model_config = ConfigDict(populate_by_name=True)

    type_: str = Field(default=STATEMENT_TYPE, alias="_type")
    subject: list[Subject]
    predicateType: str = PREDICATE_TYPE  # noqa: N815  (in-toto field name)
    predicate: SafetyCase

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no whitespace): the signed payload."""
        return canonical_json(self.model_dump(mode="json", by_alias=True)).encode("utf-8")


def build_case(
    policy: ReleasePolicy,
    results: Sequence[EvalResult],
    model: ModelDigest,
    *,
    now: datetime,
    safeguards: Safeguards | None = None,
    findings: Sequence[Finding] = (),
    target: str | None = None,
    assurance: AssuranceTable | None = None,
) -> SafetyCase:
    """Decide and assemble a safety case (unsigned).

    The verdict is computed here from the same inputs the case records, so a verifier can
    recompute it. Crossed thresholds become findings alongside those given; a given finding
    the policy does not read is marked not counted, with the reason.

    Args:
        policy: the release policy.
        results: the eval results (the evidence).
        model: the digest of the model's files (the case's subject).
        now: the decision time.
        safeguards: what is in place; none when omitted.
        findings: findings besides the verdict's (red team, internals, a user's file).
        target: the target spec the results came from.
        assurance: the assurance table (default: the one shipped with redline).
    """
    in_place = safeguards or Safeguards()
    table = assurance or load_assurance()
    verdict = decide(policy, results, in_place, now=now, model_digest=model.sha256,
                     assurance=table)
    return SafetyCase(
        model=model,
        target=target,
        policy=policy,
        policy_digest=policy.digest(),
        assurance=table,
        results=list(results),
        findings=merge_findings(findings_from_verdict(verdict, policy),
                                mark_not_counted(findings, in_place)),
        safeguards=in_place,
        verdict=verdict,
        versions=Versions(redline=__version__,
                          suites={r.suite: r.suite_version for r in results}),
        created_at=now,
    )


def statement_for(case: SafetyCase) -> Statement:
    """Wrap a case in an in-toto statement whose subject is the model digest."""
    return Statement(
        subject=[Subject(name=case.model.name, digest={"sha256": case.model.sha256})],
        predicate=case,
    )


def sign_case(case: SafetyCase, key: Ed25519PrivateKey) -> Envelope:
    """Sign a case into a DSSE envelope."""
    return sign_envelope(statement_for(case).to_bytes(), key, IN_TOTO_PAYLOAD_TYPE)


def write_envelope(envelope: Envelope, path: Path) -> Path:
    """Write an envelope as JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(envelope.model_dump_json(indent=2), encoding="utf-8")
    return path


class Check(BaseModel):
    """One verification check."""

    name: str
    ok: bool
    detail: str


class VerifyReport(BaseModel):
    """Every check verify ran, and the case when it could be read."""

    checks: list[Check]
    case: SafetyCase | None = None

    @property
    def ok(self) -> bool:
        """True only when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)


def verify_case(
    envelope: Envelope,
    public_key: Ed25519PublicKey,
    *,
    model_path: Path | None = None,
    expected_policy: ReleasePolicy | None = None,
) -> VerifyReport:
    """Check a signed safety case; see the module docstring for what is checked."""
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name=name, ok=ok, detail=detail))

    try:
        signed = verify_envelope(envelope, public_key)
    except ConfigError as exc:  # a malformed envelope is a failed check, not a crash
        signed, why = False, f"malformed envelope: {exc}"
    else:
        why = "no signature verifies under the given public key"
    check("signature", signed, "ed25519 signature over the DSSE PAE verifies" if signed else why)

    try:
        statement = Statement.model_validate(json.loads(envelope.payload_bytes()))
    except (ConfigError, ValueError, ValidationError) as exc:
        check("statement", False, f"the payload is not a redline safety-case statement: {exc}")
        return VerifyReport(checks=checks)
    form_ok = (
        envelope.payloadType == IN_TOTO_PAYLOAD_TYPE
        and statement.type_ == STATEMENT_TYPE
        and statement.predicateType == PREDICATE_TYPE
        and len(statement.subject) == 1
    )
    check("statement", form_ok,
          "in-toto Statement v1 with one subject and a safety-case predicate" if form_ok
          else "payload type, statement type, predicate type or subject count is wrong")
    case = statement.predicate

    subject = statement.subject[0].digest.get("sha256") if statement.subject else None
    listed = manifest_sha256(case.model.files)
    subject_ok = subject == case.model.sha256 == listed
    check("subject", subject_ok,
          f"subject sha256 {subject} matches the predicate's file list" if subject_ok
          else f"subject {subject}, predicate {case.model.sha256}, file list {listed} differ")

    if model_path is not None:
        on_disk = digest_model(model_path)
        same = on_disk.sha256 == subject
        detail = f"the files at {model_path} digest to the subject"
        if not same:
            recorded = {f.path: f.sha256 for f in case.model.files}
            current = {f.path: f.sha256 for f in on_disk.files}
            changed = sorted(p for p in recorded.keys() | current.keys()
                             if recorded.get(p) != current.get(p))
            detail = f"the files at {model_path} differ from the subject: {', '.join(changed[:5])}"
        check("model files", same, detail)

    digest = case.policy.digest()
    policy_ok = digest == case.policy_digest == case.verdict.policy_digest
    detail = f"policy '{case.policy.name}' {case.policy.version} digests to {digest}"
    if not policy_ok:
        detail = (f"the included policy digests to {digest}, but the case records "
                  f"{case.policy_digest} and the verdict {case.verdict.policy_digest}")
    if expected_policy is not None and expected_policy.digest() != digest:
        policy_ok = False
        detail = (f"the case's policy {digest} is not the expected policy "
                  f"{expected_policy.digest()}")
    check("policy", policy_ok, detail)

    if case.assurance is not None or case.verdict.assurance_digest is not None:
        table_digest = case.assurance.digest() if case.assurance is not None else None
        table_ok = table_digest == case.verdict.assurance_digest or (
            case.verdict.assurance_digest is None and table_digest is not None)
        check("assurance table", table_ok,
              f"{case.assurance.cite()}" if table_ok and case.assurance is not None
              else f"the included assurance table digests to {table_digest}, the verdict "
              f"records {case.verdict.assurance_digest}")

    mismatched = _results_inconsistent(case.results)
    check("results", not mismatched,
          "every result's metrics follow from its samples (where its suite is known)"
          if not mismatched else f"metrics that do not follow from their samples: "
          f"{', '.join(mismatched[:5])}")

    recomputed = decide(case.policy, case.results, case.safeguards,
                        now=case.verdict.decided_at, model_digest=case.model.sha256,
                        assurance=case.assurance)
    same_verdict = recomputed.model_dump(mode="json") == case.verdict.model_dump(mode="json")
    check("verdict", same_verdict,
          f"recomputed {recomputed.decision} from the included results" if same_verdict
          else f"the case says {case.verdict.decision}, the included evidence gives "
          f"{recomputed.decision}" + ("" if recomputed.decision != case.verdict.decision
                                       else " with different reasons"))
    return VerifyReport(checks=checks, case=case)


def _results_inconsistent(results: Sequence[EvalResult]) -> list[str]:
    """``suite/metric`` names whose recorded value differs from a recomputation."""
    from redline.evals.metrics import compute_metrics
    from redline.evals.suite import get_suite

    bad = []
    for result in results:
        try:
            suite = get_suite(result.suite)
        except ConfigError:
            continue
        if suite.version != result.suite_version or not result.samples:
            continue
        recomputed = compute_metrics(suite.metrics, result.samples)
        for name, recorded in result.metrics.items():
            again = recomputed.get(name)
            if again is None or not _close(recorded.model_dump(), again.model_dump()):
                bad.append(f"{result.suite}/{name}")
    return bad


def _close(a: dict[str, object], b: dict[str, object]) -> bool:
    for key in a.keys() | b.keys():
        x, y = a.get(key), b.get(key)
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif x != y:
            return False
    return True


def load_case(envelope: Envelope) -> SafetyCase:
    """The case inside an envelope, without checking anything (for reports)."""
    return Statement.model_validate(json.loads(envelope.payload_bytes())).predicate


def model_digest_for(path: Path | None, target: str) -> ModelDigest:
    """Digest the model files when there are any, else name the target by its spec.

    A target without local files (an API endpoint) gets a subject digest over its spec
    string, which says what was tested but cannot be checked against files.
    """
    if path is not None:
        return digest_model(path)
    from redline.attest.digest import FileDigest
    from redline.types import content_hash

    spec = FileDigest(path=f"target-spec:{target}", sha256=content_hash(target), size=0)
    return ModelDigest(name=target, sha256=manifest_sha256([spec]), files=[spec])
