"""Client API keys (stored hashed) and per-key rate limits.

Keys are random 32-byte tokens (``rl-`` + urlsafe base64) shown once when made; the keys
file keeps only their sha256. A fast hash is the right choice here, unlike for passwords:
the keys have 256 bits of entropy, so there is nothing to brute-force, and checking must
cost microseconds on every request. The file is JSON, written with mode 0600.

Rate limits come in two kinds. ``rate`` and ``burst`` are a token bucket per key that lives
in the guard process: it smooths bursts, and with several replicas behind a load balancer
each replica enforces it on its own share. ``per_minute`` is counted in the store, in one
row per key and minute that every replica adds to with one atomic upsert
(:meth:`redline.store.Store.count_request`), so it holds for the key across all replicas
on one database. The windows are fixed minutes of the replicas' clocks (keep them in NTP
sync); a client may send up to ``per_minute`` at the end of one minute and again at the
start of the next. When the store cannot be reached the request is refused (503): a limit
that cannot be counted is not waived.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline import paths
from redline.errors import ConfigError

if TYPE_CHECKING:
    from redline.store import Store

log = logging.getLogger(__name__)

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
        per_minute: requests allowed per minute across all guard replicas (counted in
            the store); 0 means no such limit.
        created: when the key was made.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rate: float = Field(default=10.0, ge=0)
    burst: int = Field(default=20, ge=1)
    per_minute: int = Field(default=0, ge=0)
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


def add_key(
    path: str | Path, name: str, *, rate: float = 10.0, burst: int = 20, per_minute: int = 0
) -> str:
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
        record = ClientKey(name=name, sha256=hash_key(key), rate=rate, burst=burst,
                           per_minute=per_minute)
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


class SharedWindows:
    """Per-minute request counts in the store, shared by every guard replica on it.

    Args:
        store: the store the replicas share (PostgreSQL for replicas on several hosts).
        clock: seconds since the epoch (a test may pass its own).
    """

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._swept = 0

    async def retry_after(self, client: ClientKey) -> float:
        """Count one request of ``client``; 0 when it is within its limit, else seconds to wait.

        The count runs in a worker thread, so the event loop serves other requests while
        the database answers.

        Raises:
            StoreError: the store cannot be reached (the caller refuses the request).
        """
        if client.per_minute <= 0:
            return 0.0
        now = self.clock()
        window = int(now // 60)
        count = await asyncio.to_thread(self.store.count_request, client.name, window)
        if window > self._swept:
            self._swept = window
            asyncio.get_running_loop().run_in_executor(None, self._sweep, window - 2)
        if count <= client.per_minute:
            return 0.0
        return (window + 1) * 60.0 - now

    def _sweep(self, before: int) -> None:
        """Delete windows no limit reads any more (each replica, once a minute)."""
        try:
            self.store.forget_windows(before)
        except Exception:  # noqa: BLE001 - old rows cost space only; the next sweep retries
            log.warning("could not delete old rate windows", exc_info=True)


class Authenticator:
    """Looks up the client of a bearer token and enforces its rate limits.

    Args:
        keys: the key records; empty with ``required=False`` means open access.
        required: refuse requests without a known key.
        windows: where ``per_minute`` limits are counted; required when a key has one.

    Raises:
        ConfigError: a key has a ``per_minute`` limit and there is no store to count it.
    """

    def __init__(
        self, keys: KeyFile, *, required: bool = True, windows: SharedWindows | None = None
    ) -> None:
        self.required = required
        self._by_hash = {k.sha256: k for k in keys.keys}
        self._buckets = {k.name: TokenBucket(k.rate, k.burst) for k in keys.keys}
        limited = [k.name for k in keys.keys if k.per_minute > 0]
        if limited and windows is None:
            raise ConfigError(
                f"Client(s) {', '.join(limited)} have a per-minute limit, which is counted in "
                "the store; run the guard with a store (drop --no-store)."
            )
        self.windows = windows

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
        """0 when the client's token bucket allows a request now, else seconds to wait."""
        return self._buckets[client.name].take()

    async def per_minute_wait(self, client: ClientKey) -> float:
        """Count this request against the client's per-minute limit; 0 or seconds to wait.

        Raises:
            StoreError: the store that counts the limit cannot be reached.
        """
        if self.windows is None or client.per_minute <= 0:
            return 0.0
        return await self.windows.retry_after(client)


__all__ = [
    "Authenticator",
    "ClientKey",
    "KeyFile",
    "SharedWindows",
    "TokenBucket",
    "add_key",
    "default_keys_path",
    "hash_key",
    "load_keys",
    "revoke_key",
    "save_keys",
]
