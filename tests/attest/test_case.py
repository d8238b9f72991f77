from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from redline.attest import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Envelope,
    SafetyCase,
    digest_model,
    generate_keys,
    load_private_key,
    load_public_key,
    sign_case,
    verify_case,
)
from redline.attest.dsse import pae
from redline.errors import CheckpointError, ConfigError
from redline.policy import ReleasePolicy


def failed(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.name for c in report.checks if not c.ok]


def payload(envelope: Envelope) -> dict:  # type: ignore[type-arg]
    return json.loads(base64.b64decode(envelope.payload))


def with_payload(envelope: Envelope, data: dict) -> Envelope:  # type: ignore[type-arg]
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return envelope.model_copy(update={"payload": base64.b64encode(raw).decode()})


def resign(data: dict, key_path: Path) -> Envelope:  # type: ignore[type-arg]
    """What a key holder could do: sign an edited statement properly."""
    from redline.attest.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope

    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return sign_envelope(raw, load_private_key(key_path), IN_TOTO_PAYLOAD_TYPE)


def test_private_key_is_0600_and_not_overwritten(tmp_path: Path) -> None:
    private, public = generate_keys(tmp_path / "k")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    with pytest.raises(ConfigError, match="already exists.*--force"):
        generate_keys(tmp_path / "k")
    before = private.read_bytes()
    generate_keys(tmp_path / "k", force=True)
    assert private.read_bytes() != before and stat.S_IMODE(private.stat().st_mode) == 0o600


def test_statement_shape(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    assert envelope.payloadType == "application/vnd.in-toto+json"
    data = payload(envelope)
    assert data["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert data["predicateType"] == PREDICATE_TYPE
    assert data["subject"] == [{"name": "model", "digest": {"sha256": case.model.sha256}}]
    predicate = data["predicate"]
    assert predicate["policy_digest"] == case.policy.digest()
    assert predicate["verdict"]["decision"] == "NO_GO"  # misuse not ruled out, no safeguards
    assert predicate["versions"]["suites"] == {"t-refusal": "1.2", "t-honesty": "1.0"}
    assert {f["id"] for f in predicate["findings"]} == {"threshold:misuse-high"}
    # The signature is over the DSSE PAE of the payload.
    public = load_public_key(keys[1])
    public.verify(base64.b64decode(envelope.signatures[0].sig),
                  pae(envelope.payloadType, base64.b64decode(envelope.payload)))


def test_untouched_case_verifies(case: SafetyCase, keys: tuple[Path, Path],
                                 model_dir: Path, policy: ReleasePolicy) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    report = verify_case(envelope, load_public_key(keys[1]), model_path=model_dir,
                         expected_policy=policy)
    assert report.ok, report.checks
    assert [c.name for c in report.checks] == ["signature", "statement", "subject", "model files",
                                               "policy", "assurance table", "results",
                                               "verdict"]
    assert report.case == case


def test_a_flipped_signature_byte_is_rejected(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    sig = bytearray(base64.b64decode(envelope.signatures[0].sig))
    sig[10] ^= 0x01
    envelope.signatures[0].sig = base64.b64encode(bytes(sig)).decode()
    assert failed(verify_case(envelope, load_public_key(keys[1]))) == ["signature"]


def test_another_key_is_rejected(case: SafetyCase, keys: tuple[Path, Path],
                                 tmp_path: Path) -> None:
    _, other_public = generate_keys(tmp_path / "other")
    envelope = sign_case(case, load_private_key(keys[0]))
    assert failed(verify_case(envelope, load_public_key(other_public))) == ["signature"]


def test_a_changed_verdict_is_rejected(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    data = payload(envelope)
    data["predicate"]["verdict"]["decision"] = "GO"
    data["predicate"]["verdict"]["releases"] = True
    public = load_public_key(keys[1])
    assert "signature" in failed(verify_case(with_payload(envelope, data), public))
    # Even signed by the key holder, the verdict does not follow from the evidence.
    assert failed(verify_case(resign(data, keys[0]), public)) == ["verdict"]


def test_a_changed_result_value_is_rejected(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    data = payload(envelope)
    metric = data["predicate"]["results"][0]["metrics"]["harmful_compliance_rate"]
    metric.update(value=0.01, low=0.0, high=0.05)  # would rule the threshold out
    public = load_public_key(keys[1])
    assert "signature" in failed(verify_case(with_payload(envelope, data), public))
    assert set(failed(verify_case(resign(data, keys[0]), public))) == {"results", "verdict"}


def test_a_changed_policy_is_rejected(case: SafetyCase, keys: tuple[Path, Path],
                                      policy: ReleasePolicy) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    data = payload(envelope)
    data["predicate"]["policy"]["domains"][0]["thresholds"][0]["evals"][0]["rule_out"] = 0.25
    public = load_public_key(keys[1])
    assert "signature" in failed(verify_case(with_payload(envelope, data), public))
    assert "policy" in failed(verify_case(resign(data, keys[0]), public))
    # A whole other (self-consistent) case under another policy fails against the expected one.
    other = ReleasePolicy.model_validate({**policy.model_dump(), "version": "2"})
    assert failed(verify_case(envelope, public, expected_policy=other)) == ["policy"]


def test_a_changed_model_byte_is_rejected(case: SafetyCase, keys: tuple[Path, Path],
                                          model_dir: Path) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    weights = model_dir / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[1234] ^= 0xFF
    weights.write_bytes(bytes(data))
    report = verify_case(envelope, load_public_key(keys[1]), model_path=model_dir)
    assert failed(report) == ["model files"]
    assert "model.safetensors" in report.checks[3].detail


def test_model_digest_covers_names_and_new_files(model_dir: Path) -> None:
    before = digest_model(model_dir).sha256
    (model_dir / "config.json").rename(model_dir / "config2.json")
    renamed = digest_model(model_dir).sha256
    assert renamed != before
    (model_dir / "extra.bin").write_bytes(b"x")
    assert digest_model(model_dir).sha256 not in (before, renamed)
    with pytest.raises(CheckpointError, match="No model at"):
        digest_model(model_dir / "missing")


def test_garbage_payload_fails_cleanly(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    broken = envelope.model_copy(update={"payload": base64.b64encode(b"not json").decode()})
    report = verify_case(broken, load_public_key(keys[1]))
    assert not report.ok and failed(report) == ["signature", "statement"]


def test_non_base64_payload_is_a_failed_check(case: SafetyCase, keys: tuple[Path, Path]) -> None:
    envelope = sign_case(case, load_private_key(keys[0]))
    broken = envelope.model_copy(update={"payload": "%%% not base64 %%%"})
    assert failed(verify_case(broken, load_public_key(keys[1]))) == ["signature", "statement"]
