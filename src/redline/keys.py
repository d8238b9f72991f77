"""ed25519 key files shared by every part that signs: safety cases and event logs.

The private key is PKCS#8 PEM in a file created with mode 0600 (never readable by others,
even briefly); the public key is PEM next to it. A key is named by the sha256 of its raw
public bytes. ``cryptography`` is imported only when a key is made or read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
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

    The private key appears whole or not at all: it is written to a temporary file (mode
    0600) and linked into place, which fails if the file exists. Another process never
    reads half a key.

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
    private_path.parent.mkdir(parents=True, exist_ok=True)
    if private_path.exists():
        raise FileExistsError(errno.EEXIST, "key exists", str(private_path))
    # Created 0600 from the start: the key never exists with wider permissions.
    fd, tmp = tempfile.mkstemp(dir=private_path.parent, prefix=f".{private_path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # exactly 0600, whatever the umask
        try:
            os.link(tmp, private_path)  # atomic, and fails when the key exists
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links: exclusive create instead
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_pem)
            os.chmod(private_path, 0o600)
    finally:
        os.unlink(tmp)
    _write_public(key, public_path)
    return key


def ensure_key_pair(private_path: Path, public_path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key pair at these paths, made first when there is none; True when made here.

    Safe when several processes start at once with no key yet (two audits in a fresh
    ``REDLINE_HOME``): exactly one creates the key, the others read that one.

    Raises:
        ConfigError: the private key file exists but is not an ed25519 PEM key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        return write_key_pair(private_path, public_path), True
    except FileExistsError:
        pass
    from redline.errors import ConfigError

    try:
        loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{private_path} is not a PEM private key; move it away and run "
                          "again to make a new one.") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{private_path} is not an ed25519 key; move it away and run again "
                          "to make a new one.")
    if not public_path.exists():  # the creator may not have written it yet: same bytes
        _write_public(loaded, public_path)
    return loaded, False


def _write_public(key: Ed25519PrivateKey, public_path: Path) -> None:
    """Write the public half atomically (a reader sees the old file or the whole new one)."""
    from cryptography.hazmat.primitives import serialization

    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd, tmp = tempfile.mkstemp(dir=public_path.parent, prefix=f".{public_path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(public_pem)
    os.chmod(tmp, 0o644)
    os.replace(tmp, public_path)
