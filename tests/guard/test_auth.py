import json
import stat
import time
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.guard.auth import Authenticator, TokenBucket, add_key, hash_key, load_keys, revoke_key


def test_keys_are_stored_hashed_and_private(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = add_key(path, "alice", rate=5, burst=2)
    raw = path.read_text()
    assert key not in raw and hash_key(key) in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(raw)["keys"][0]["name"] == "alice"
    with pytest.raises(ConfigError, match="already has a key"):
        add_key(path, "alice")
    auth = Authenticator(load_keys(path))
    assert auth.client(f"Bearer {key}").name == "alice"  # type: ignore[union-attr]
    assert auth.client(f"Bearer {key}x") is None
    assert auth.client(key) is None
    revoke_key(path, "alice")
    assert load_keys(path).keys == []


def test_token_bucket_allows_burst_then_rate() -> None:
    bucket = TokenBucket(rate=20.0, burst=3)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take()
    assert 0 < wait <= 0.05 + 1e-9
    time.sleep(wait + 0.01)
    assert bucket.take() == 0.0
    assert TokenBucket(rate=0, burst=1).take() == 0.0  # 0 means unlimited
