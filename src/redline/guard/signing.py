"""ed25519 signing keys for event-log checkpoints, kept in files only their owner can read.

The private key is PEM (PKCS#8) in a file with mode 0600; the public key sits next to it
with a ``.pub`` suffix so a verifier can be given the public half alone. A key's id is the
first 16 hex digits of the sha256 of its raw public bytes.
"""

from __future__ import annotations

import base64
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redline import paths
from redline.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )


def default_key_path() -> Path:
    """``$REDLINE_HOME/keys/log-signing.key``."""
    return paths.home() / "keys" / "log-signing.key"


def key_id(public: Ed25519PublicKey) -> str:
    """Short stable id of a public key: the first 16 hex digits of :func:`redline.keys.key_id`."""
    from redline.keys import key_id as full_key_id

    return full_key_id(public)[:16]


@dataclass(frozen=True)
class Signer:
    """A private key that signs checkpoints."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def key_id(self) -> str:
        """Id of the public half."""
        return key_id(self.private.public_key())

    def sign(self, message: bytes) -> str:
        """Base64 signature of ``message``."""
        return base64.b64encode(self.private.sign(message)).decode("ascii")


def load_or_create_signer(path: str | Path | None = None) -> Signer:
    """The signing key at ``path`` (default :func:`default_key_path`), created if missing.

    Raises:
        ConfigError: the file exists but is readable by others or is not an ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    file = Path(path) if path is not None else default_key_path()
    if not file.exists():  # several guards starting at once: one makes it, all use that one
        from redline.keys import ensure_key_pair

        return Signer(ensure_key_pair(file, file.with_suffix(file.suffix + ".pub"))[0], file)
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"Signing key {file} is readable by other users (mode {mode:o}). "
            f"Run: chmod 600 {file}"
        )
    try:
        loaded = serialization.load_pem_private_key(file.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{file} is not a PEM private key: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{file} is not an ed25519 key; make one by deleting it and restarting.")
    return Signer(loaded, file)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key from a PEM file (``.pub``), or the public half of a private key file.

    Raises:
        ConfigError: the file is missing or holds no ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read key {file}: {exc.strerror}.") from exc
    try:
        key: object = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{file} holds no PEM ed25519 key.") from exc
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{file} is not an ed25519 key.")
    return key


def verify_signature(public: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    """True when ``signature_b64`` is a valid signature of ``message``."""
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


__all__ = [
    "Signer",
    "default_key_path",
    "key_id",
    "load_or_create_signer",
    "load_public_key",
    "verify_signature",
]
