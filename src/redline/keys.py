"""ed25519 key files shared by every part that signs: safety cases and event logs.

The private key is PKCS#8 PEM in a file created with mode 0600 (never readable by others,
even briefly); the public key is PEM next to it. A key is named by the sha256 of its raw
public bytes. ``cryptography`` is imported only when a key is made or read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )


def key_id(public: Ed25519PublicKey) -> str:
    """sha256 hex of the raw public key bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def write_key_pair(private_path: Path, public_path: Path) -> Ed25519PrivateKey:
    """Make a new key and write both halves; the private file must not exist yet.

    Raises:
        FileExistsError: ``private_path`` exists (callers decide whether to replace it).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: the key never exists with wider permissions.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    os.chmod(private_path, 0o600)  # exactly 0600, whatever the umask
    public_path.write_bytes(public_pem)
    return key
