"""Client API keys (stored hashed) and per-key rate limits.

Keys are random 32-byte tokens (``rl-`` + urlsafe base64) shown once when made; the keys
file keeps only their sha256. A fast hash is the right choice here, unlike for passwords:
the keys have 256 bits of entropy, so there is nothing to brute-force, and checking must
cost microseconds on every request. The file is JSON, written with mode 0600.

Rate limits are token buckets per key: ``rate`` requests per second on average, bursts of
up to ``burst``. Buckets live in the guard process; with several replicas behind a load
balancer each replica enforces its own share.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline import paths
from redline.errors import ConfigError

KEY_PREFIX = "rl-"


def default_keys_path() -> Path:
    """``$REDLINE_HOME/guard-keys.json``."""
    return paths.home() / "guard-keys.json"


def hash_key(key: str) -> str:
    """sha256 hex of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ClientKey(BaseModel):
    """One client's key record.

    Attributes:
        name: the client's name, recorded in events (never the key).
        sha256: sha256 of the key.
        rate: requests per second allowed on average; 0 means unlimited.
        burst: most requests allowed at once above the average.
        created: when the key was made.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rate: float = Field(default=10.0, ge=0)
    burst: int = Field(default=20, ge=1)
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class KeyFile(BaseModel):
    """The keys file."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    keys: list[ClientKey] = Field(default_factory=list)


def load_keys(path: str | Path) -> KeyFile:
    """Read a keys file (an absent file has no keys).

    Raises:
        ConfigError: the file is not a valid keys file.
    """
    file = Path(path)
    if not file.exists():
        return KeyFile()
    try:
        return KeyFile.model_validate_json(file.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"Keys file {file} is not valid: {str(exc).splitlines()[0]}") from exc


def save_keys(path: str | Path, keys: KeyFile) -> None:
    """Write a keys file atomically, readable by its owner only."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(keys.model_dump_json(indent=2))
    os.replace(tmp, file)


def add_key(path: str | Path, name: str, *, rate: float = 10.0, burst: int = 20) -> str:
    """Make a key for client ``name``, store its hash, and return the key (shown once).

    Raises:
        ConfigError: a client of that name already has a key.
    """
    keys = load_keys(path)
    if any(k.name == name for k in keys.keys):
        raise ConfigError(
            f"Client '{name}' already has a key in {path}; revoke it first with "
            f"`redline guard keys revoke {name}`."
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        record = ClientKey(name=name, sha256=hash_key(key), rate=rate, burst=burst)
    except ValidationError as exc:
        raise ConfigError(f"Invalid client key settings: {str(exc).splitlines()[0]}") from exc
    keys.keys.append(record)
    save_keys(path, keys)
    return key


def revoke_key(path: str | Path, name: str) -> None:
    """Remove client ``name``'s key.

    Raises:
        ConfigError: no such client.
    """
    keys = load_keys(path)
    kept = [k for k in keys.keys if k.name != name]
    if len(kept) == len(keys.keys):
        raise ConfigError(f"No client named '{name}' in {path}.")
    save_keys(path, KeyFile(keys=kept))


class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """Take one token; returns 0 on success, else seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class Authenticator:
    """Looks up the client of a bearer token and enforces its rate limit.

    Args:
        keys: the key records; empty with ``required=False`` means open access.
        required: refuse requests without a known key.
    """

    def __init__(self, keys: KeyFile, *, required: bool = True) -> None:
        self.required = required
        self._by_hash = {k.sha256: k for k in keys.keys}
        self._buckets = {k.name: TokenBucket(k.rate, k.burst) for k in keys.keys}

    def client(self, authorization: str | None) -> ClientKey | None:
        """The client whose key is in an ``Authorization: Bearer`` header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = hash_key(token.strip())
        found = self._by_hash.get(digest)
        # Constant-time confirmation of the dictionary hit.
        if found is not None and hmac.compare_digest(found.sha256, digest):
            return found
        return None

    def retry_after(self, client: ClientKey) -> float:
        """0 when the client may proceed now, else seconds to wait (rate limit hit)."""
        return self._buckets[client.name].take()


__all__ = [
    "Authenticator",
    "ClientKey",
    "KeyFile",
    "TokenBucket",
    "add_key",
    "default_keys_path",
    "hash_key",
    "load_keys",
    "revoke_key",
    "save_keys",
]
