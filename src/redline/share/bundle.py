"""A share bundle: findings in open formats, redacted, in a folder signed as a whole.

The folder holds plain files another team's tools can read, and one signature over them::

    BUNDLE/
      avid.json          AVID 0.2 reports, OWASP LLM Top 10 2025 and MITRE ATLAS references
      findings.json      each finding with its taxonomy tags and the ids of its probes
      probes.jsonl       one probe per line: the messages that showed a finding, the
                         scorer and label that say it was shown, and (only when exported
                         with outputs) the model's reply, redacted
      bundle.dsse.json   an in-toto Statement v1 in a DSSE envelope, signed with ed25519;
                         its subjects are the three files above with their sha256

A changed byte in any file, a file added or a file removed fails verification, and so
does a signature from another key. Every free text (titles, descriptions, prompts, goals,
replies) goes through :func:`redline.scorers.pii.redact`, the code behind
``redline scorers redact``, before it is written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline._version import __version__
from redline.attest.avid import avid_report
from redline.attest.case import STATEMENT_TYPE, Subject
from redline.attest.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    sign_envelope,
    verify_envelope,
)
from redline.attest.findings import Finding
from redline.errors import ConfigError
from redline.types import canonical_json, file_sha256

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

PREDICATE_TYPE = "https://redline.dev/attestation/share-bundle/v1"
ENVELOPE = "bundle.dsse.json"
AVID = "avid.json"
FINDINGS = "findings.json"
PROBES = "probes.jsonl"
SIGNED_FILES = (AVID, FINDINGS, PROBES)
REDACTION = "redline.scorers.pii.redact: pii and secret groups (as `redline scorers redact`)"


class ProbeDefinition(BaseModel):
    """What to send to see a finding again, and how to tell that it was seen.

    Attributes:
        id: unique within the bundle.
        finding: the id of the finding it reproduces.
        messages: the conversation sent (redacted).
        scorer: the scorer that judges the reply.
        label: the scorer label that shows the finding (True for "complied", False when
            the finding is a missing refusal, say).
        params: generation parameters of the original exchange.
        category: policy category, when there is one.
        goal: the request behind the prompt, untransformed (redacted).
        attack: the attack that produced the prompt (red-team findings).
        transform: the transform chain applied to the goal (red-team findings).
        tags: taxonomy tags.
        output: the model's reply (redacted); only with ``--include-outputs``.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    finding: str
    messages: list[dict[str, str]]
    scorer: str
    label: bool = True
    params: dict[str, Any] = Field(default_factory=dict)
    category: str | None = None
    goal: str = ""
    attack: str | None = None
    transform: str | None = None
    tags: list[str] = Field(default_factory=list)
    output: str | None = None


class SharedFinding(BaseModel):
    """A finding as shared: redacted text, taxonomy tags split out, its probes named."""

    finding: Finding
    owasp_llm_2025: list[str]
    mitre_atlas: list[str]
    probes: list[str]


class BundleManifest(BaseModel):
    """The signed predicate: where the findings came from and how they were cleaned."""

    schema_version: Literal[1] = 1
    kind: Literal["redline.share.bundle"] = "redline.share.bundle"
    source: Literal["case", "run"]
    source_id: str
    model_name: str
    redline_version: str = __version__
    created_at: datetime
    include_outputs: bool
    redaction: str = REDACTION
    findings: int
    probes: int


class BundleStatement(BaseModel):
    """An in-toto Statement v1 whose subjects are the bundle's files."""

    model_config = ConfigDict(populate_by_name=True)

    type_: str = Field(default=STATEMENT_TYPE, alias="_type")
    subject: list[Subject]
    predicateType: str = PREDICATE_TYPE  # noqa: N815  (in-toto field name)
    predicate: BundleManifest

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes: the signed payload."""
        return canonical_json(self.model_dump(mode="json", by_alias=True)).encode("utf-8")


class Bundle(BaseModel):
    """A bundle's content, read back after its signature and file digests verified."""

    manifest: BundleManifest
    findings: list[SharedFinding]
    probes: list[ProbeDefinition]
    avid: list[dict[str, Any]]
    digest: str
    """sha256 of the signed statement: names this exact bundle."""


def redact_text(text: str) -> str:
    """The redaction every shared text gets (the same call as ``redline scorers redact``)."""
    from redline.scorers.pii import redact

    return redact(text)


def taxonomy(tags: list[str], scheme: str) -> list[str]:
    """The ids of ``tags`` in ``scheme``: ``["owasp-llm-2025:LLM01"]`` → ``["LLM01"]``."""
    return sorted({t.partition(":")[2] for t in tags if t.partition(":")[0] == scheme})


def write_bundle(
    out: Path,
    findings: list[Finding],
    probes: list[ProbeDefinition],
    manifest: BundleManifest,
    key: Ed25519PrivateKey,
) -> Path:
    """Redact, write and sign a bundle folder at ``out``, all or nothing.

    The files are written into a temporary folder next to ``out`` and renamed into place
    only once signed, so a failure leaves nothing half-written.

    Raises:
        ConfigError: ``out`` exists already.
    """
    if out.exists():
        raise ConfigError(f"{out} already exists; choose a new --out folder for the bundle.")
    clean = [_redact_finding(f) for f in findings]
    probes = [_redact_probe(p, keep_output=manifest.include_outputs) for p in probes]
    by_finding: dict[str, list[str]] = {}
    for probe in probes:
        by_finding.setdefault(probe.finding, []).append(probe.id)
    shared = [
        SharedFinding(finding=f, owasp_llm_2025=taxonomy(f.tags, "owasp-llm-2025"),
                      mitre_atlas=taxonomy(f.tags, "atlas"), probes=by_finding.get(f.id, []))
        for f in clean
    ]
    reported = manifest.created_at.date()
    avid = [avid_report(f, model_name=manifest.model_name, reported=reported) for f in clean]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (staging / AVID).write_text(json.dumps(avid, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        (staging / FINDINGS).write_text(
            json.dumps([s.model_dump(mode="json") for s in shared], indent=2,
                       ensure_ascii=False) + "\n", encoding="utf-8")
        (staging / PROBES).write_text(
            "".join(canonical_json(p.model_dump(mode="json", exclude_none=True)) + "\n"
                    for p in probes), encoding="utf-8")
        statement = BundleStatement(
            subject=[Subject(name=name, digest={"sha256": file_sha256(staging / name)})
                     for name in SIGNED_FILES],
            predicate=manifest.model_copy(update={"findings": len(shared),
                                                  "probes": len(probes)}),
        )
        envelope = sign_envelope(statement.to_bytes(), key, IN_TOTO_PAYLOAD_TYPE)
        (staging / ENVELOPE).write_text(envelope.model_dump_json(indent=2), encoding="utf-8")
        os.chmod(staging, 0o755)  # mkdtemp makes it 0700; a bundle is meant to be shared
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def read_bundle(folder: Path, public: Ed25519PublicKey) -> Bundle:
    """Verify a bundle and read it.

    Raises:
        ConfigError: one line saying what failed: no bundle there, a signature that does
            not verify under ``public``, a file whose bytes differ from the signed digest,
            a file missing or added, or content that is not what redline writes.
    """
    from redline.types import content_hash

    path = folder / ENVELOPE
    if not folder.is_dir() or not path.is_file():
        raise ConfigError(f"No share bundle at {folder}; give the folder "
                          "`redline share export --out` wrote (it holds bundle.dsse.json).")
    try:
        envelope = Envelope.model_validate_json(path.read_bytes())
        payload = envelope.payload_bytes()
    except (ValidationError, ConfigError) as exc:
        raise ConfigError(f"{path} is not a DSSE envelope; the bundle is damaged, ask its "
                          "sender for it again.") from exc
    if not verify_envelope(envelope, public):
        raise ConfigError(f"{path}: the signature does not verify under the given key; the "
                          "bundle was changed or signed by another key.")
    try:
        statement = BundleStatement.model_validate(json.loads(payload))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"{path} is signed but is not a redline share bundle statement.") from exc
    if envelope.payloadType != IN_TOTO_PAYLOAD_TYPE or statement.predicateType != PREDICATE_TYPE:
        raise ConfigError(f"{path} is signed but is not a redline share bundle statement.")
    signed = {s.name: s.digest.get("sha256") for s in statement.subject}
    present = {p.name for p in folder.iterdir() if p.name != ENVELOPE}
    if sorted(signed) != sorted(SIGNED_FILES):
        raise ConfigError(f"{path} signs {sorted(signed)}, not the bundle's files.")
    extra = sorted(present - set(signed))
    if extra:
        raise ConfigError(f"{folder / extra[0]} is not in the signed bundle; remove it or ask "
                          "the sender for the bundle again.")
    for name, digest in signed.items():
        file = folder / name
        if not file.is_file():
            raise ConfigError(f"{file} is missing from the bundle; ask the sender for it again.")
        if file_sha256(file) != digest:
            raise ConfigError(f"{file} differs from the signed bundle (sha256 mismatch); "
                              "it was changed after signing.")
    try:
        shared = [SharedFinding.model_validate(x)
                  for x in json.loads((folder / FINDINGS).read_text(encoding="utf-8"))]
        probes = [ProbeDefinition.model_validate_json(line) for line in
                  (folder / PROBES).read_text(encoding="utf-8").splitlines() if line.strip()]
        avid = json.loads((folder / AVID).read_text(encoding="utf-8"))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"{folder} is signed but its files are not what redline writes: "
                          f"{str(exc).splitlines()[0]}") from exc
    return Bundle(manifest=statement.predicate, findings=shared, probes=probes, avid=avid,
                  digest=content_hash(json.loads(payload)))


def _redact_finding(finding: Finding) -> Finding:
    return finding.model_copy(update={
        "title": redact_text(finding.title),
        "description": redact_text(finding.description),
        "evidence": [redact_text(e) for e in finding.evidence],
    })


def _redact_probe(probe: ProbeDefinition, *, keep_output: bool) -> ProbeDefinition:
    return probe.model_copy(update={
        "messages": [{**m, "content": redact_text(m.get("content", ""))} for m in probe.messages],
        "goal": redact_text(probe.goal),
        "output": redact_text(probe.output) if keep_output and probe.output is not None
        else None,
    })
