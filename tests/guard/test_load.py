"""A scaled-down load test: random upstream failures and a guard restart midway.

The full-size run (20,000 requests) is benchmarks/guard_load.py.
"""

from pathlib import Path

import pytest

from redline.guard.loadtest import run_load_test


@pytest.mark.slow
def test_every_request_answered_and_logged_once_across_a_restart(tmp_path: Path) -> None:
    result = run_load_test(tmp_path, requests=300, concurrency=16, failure_rate=0.1, seed=1)
    assert result.restarts == 1
    assert result.unanswered == 0
    assert sum(result.statuses.values()) == 300
    assert set(result.statuses) <= {200, 502}
    assert result.statuses.get(502, 0) > 0  # the injected failures surfaced as errors
    assert (result.events, result.duplicated, result.missing) == (300, 0, 0)
    assert result.chain_ok, result.problems
