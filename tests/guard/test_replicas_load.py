"""HAProxy (the Debian package) in front of two guard replicas on one PostgreSQL.

A scaled-down version of benchmarks/guard_replicas.py (20,000 requests): 2,000 requests
through HAProxy, one replica stopped and restarted at 1,000. Skips without HAProxy or
PostgreSQL, and fails instead in CI (REDLINE_REQUIRE_SYSTEM_DEPS=1), where
.ci/system-deps.sh installs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.guard.replica_load import haproxy_binary, run_replica_load_test
from tests.conftest import require_system
from tests.store.test_postgres import pg_url, server_url  # noqa: F401 - fixtures


@pytest.mark.slow
def test_two_replicas_behind_haproxy_survive_a_restart(
    tmp_path: Path, pg_url: str  # noqa: F811
) -> None:
    require_system(haproxy_binary() is not None, "HAProxy (apt-get install haproxy)")
    result = run_replica_load_test(tmp_path, pg_url, requests=2000, per_minute=100,
                                   limited_every=4, failure_rate=0.02, seed=3)
    assert result.unanswered == 0
    assert sum(result.statuses.values()) == 2000
    assert set(result.statuses) <= {200, 429, 502}
    assert result.statuses.get(502, 0) > 0  # injected upstream failures came back as errors
    # Exactly one event per request, across both replicas' logs, and one row each in the
    # store they share.
    assert (result.events, result.duplicated, result.missing) == (2000, 0, 0)
    assert result.store_rows == 2000
    assert result.chains_ok == {"r1": True, "r2": True}, result.problems
    # Both served, and the restarted one took traffic again once it was ready.
    assert min(result.events_by_replica.values()) > 200
    assert result.served_after_restart > 0
    # 500 requests of the limited client: the limit of 100 a minute holds across replicas.
    assert sum(sent for sent, _ in result.limited_windows.values()) == 500
    assert result.limit_errors == []
    assert result.ok
