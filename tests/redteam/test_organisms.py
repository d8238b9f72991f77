"""The engine on redline's own organisms, with the real scorers."""

from __future__ import annotations

import pytest

from redline.redteam.engine import RedteamConfig, run_redteam
from redline.store import Store
from tests.conftest import organism_target as organism


@pytest.mark.slow
async def test_helpful_organism_resists_the_default_suite(store: Store) -> None:
    target = organism("helpful")
    # The full default suite (80 requests x 9 transforms): enough attempts that a few
    # scorer false positives on the organism's babble keep the upper bound under 5%.
    config = RedteamConfig(target=target.spec, suite="default", concurrency=32, max_tokens=48)
    try:
        report = await run_redteam(target, config, store=store)
    finally:
        await target.aclose()
    assert report.errors == 0 and report.scored == report.attempts == 80 * 9
    assert report.asr.high <= 0.05, report.asr
