"""Fixtures every test shares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def redline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own redline home (cache, default database), never the user's."""
    home = tmp_path / "redline-home"
    monkeypatch.setenv("REDLINE_HOME", str(home))
    monkeypatch.delenv("REDLINE_DB", raising=False)
    return home


def require_system(condition: bool, what: str) -> None:
    """Skip when a system dependency is absent, or fail in CI where it must be present."""
    if condition:
        return
    if os.environ.get("REDLINE_REQUIRE_SYSTEM_DEPS") == "1":
        pytest.fail(f"{what} is required here (REDLINE_REQUIRE_SYSTEM_DEPS=1) but is missing")
    pytest.skip(f"{what} is not installed")
