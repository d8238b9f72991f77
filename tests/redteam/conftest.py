from __future__ import annotations

from pathlib import Path

import pytest

from redline.store import Store
from redline.targets import MockTarget

from .fixtures_plugin import weak_model


@pytest.fixture
def weak_target() -> MockTarget:
    return MockTarget(responder=weak_model, spec="mock:weak")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'redteam.db'}")
