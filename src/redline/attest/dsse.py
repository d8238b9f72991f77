"""Ed25519 keys and DSSE envelopes (Dead Simple Signing Envelope, v1).

The signature covers the DSSE pre-authentication encoding (PAE) of the payload type and
the payload bytes, so neither can be swapped without breaking it::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from redline.errors import ConfigError
from redline.keys import key_id, write_key_pair

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


class Signature(BaseModel):
    """One signature over the envelope's PAE."""

    keyid: str
    sig: str


class Envelope(BaseModel):
    """A DSSE envelope: base64 payload, its type, and signatures."""

    payload: str
    payloadType: str  # noqa: N815  (DSSE field name)
    signatures: list[Signature]

    def payload_bytes(self) -> bytes:
        """The decoded payload.

        Raises:
            ConfigError: the payload is not valid base64.
        """
        try:
            return base64.b64decode(self.payload, validate=True)
        except ValueError as exc:
            raise ConfigError("The envelope's payload is not valid base64.") from exc


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def sign_envelope(payload: bytes, key: Ed25519PrivateKey, payload_type: str) -> Envelope:
    """Sign ``payload`` into a DSSE envelope."""
    signature = key.sign(pae(payload_type, payload))
    return Envelope(
        payload=base64.b64encode(payload).decode("ascii"),
        payloadType=payload_type,
        signatures=[Signature(keyid=key_id(key.public_key()),
                              sig=base64.b64encode(signature).decode("ascii"))],
    )


def verify_envelope(envelope: Envelope, public: Ed25519PublicKey) -> bool:
    """True when a signature on the envelope verifies under ``public``."""
    from cryptography.exceptions import InvalidSignature

    message = pae(envelope.payloadType, envelope.payload_bytes())
    for signature in envelope.signatures:
        try:
            raw = base64.b64decode(signature.sig, validate=True)
            public.verify(raw, message)
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def read_envelope(path: Path) -> Envelope:
    """Read a DSSE envelope file.

    Raises:
        ConfigError: missing file or not a DSSE envelope.
    """
    try:
        return Envelope.model_validate_json(path.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(f"No safety case at {path}.") from exc
    except ValidationError as exc:
        raise ConfigError(
            f"{path} is not a DSSE envelope (payload, payloadType, signatures); "
            "give the case.dsse.json that `redline gate` wrote."
        ) from exc


def generate_keys(
    directory: Path, name: str = "redline", *, force: bool = False
) -> tuple[Path, Path]:
    """Write a new ed25519 key pair: ``NAME.key`` (PKCS#8 PEM, mode 0600) and ``NAME.pub``.

    Raises:
        ConfigError: the key files exist and ``force`` is false.
    """
    private_path, public_path = directory / f"{name}.key", directory / f"{name}.pub"
    if not force and (private_path.exists() or public_path.exists()):
        raise ConfigError(
            f"{private_path} or {public_path} already exists; pass --force to replace the key pair."
        )
    if private_path.exists():
        private_path.unlink()
    try:
        write_key_pair(private_path, public_path)
    except FileExistsError as exc:  # another process made it a moment ago
        raise ConfigError(
            f"{private_path} already exists; pass --force to replace the key pair."
        ) from exc
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an ed25519 private key (PEM).

    Raises:
        ConfigError: missing, unreadable or not an ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"No private key at {path}; make one with `redline keys generate`."
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an ed25519 key; make one with `redline keys generate`.")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an ed25519 public key (PEM).

    Raises:
        ConfigError: missing, unreadable or not an ed25519 key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"No public key at {path}; give the .pub file of the signer.") from exc
    return public_key_from_pem(data, str(path))


def public_key_from_pem(data: bytes, source: str) -> Ed25519PublicKey:
    """An ed25519 public key from PEM bytes (a file's, or pasted into the dashboard).

    Raises:
        ConfigError: not a PEM ed25519 public key (``source`` names it in the message).
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"{source} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{source} is not an ed25519 public key.")
    return key
