"""Guards on real sockets (127.0.0.1) in front of scripted upstreams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redline.guard.auth import Authenticator, KeyFile
from redline.guard.eventlog import EventLog
from redline.guard.policy import UsagePolicy, load_policy, parse_policy
from redline.guard.signing import Signer, load_or_create_signer
from redline.guard.sink import EventSink
from redline.store import Store
from redline.targets import MockTarget
from redline.targets.base import Target


@dataclass
class RunningGuard:
    url: str
    log_path: Path
    signer: Signer
    guard: Any
    store: Store | None


def policy_with(**changes: Any) -> UsagePolicy:
    """The default policy with top-level fields replaced."""
    data = load_policy().model_dump(mode="json")
    data.update(changes)
    return parse_policy(data)


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path / "keys" / "signing.key")


@pytest.fixture
def start_guard(tmp_path: Path, signer: Signer) -> Iterator[Callable[..., Any]]:
    """``with start_guard(upstream=..., policy=...) as g:`` serves a guard on 127.0.0.1."""
    from redline.guard.proxy import Guard, GuardConfig, create_guard_app
    from redline.serve.server import background_server

    @contextmanager
    def start(
        upstream: Target | None = None,
        policy: UsagePolicy | None = None,
        keys: KeyFile | None = None,
        store: bool = False,
        config: GuardConfig | None = None,
        checker: Any = None,
        **extras: Any,  # Guard's other keywords (telemetry, metrics)
    ) -> Iterator[RunningGuard]:
        log_path = tmp_path / "events.log"
        the_store = Store(f"sqlite:///{tmp_path / 'guard.db'}") if store else None
        sink = EventSink(EventLog(log_path, signer, checkpoint_every=50), the_store,
                         flush_interval=0.05)
        guard = Guard(upstream or MockTarget(), policy or load_policy(), sink,
                      auth=Authenticator(keys) if keys is not None else None,
                      config=config, checker=checker, **extras)
        with background_server(create_guard_app(guard)) as url:
            yield RunningGuard(url, log_path, signer, guard, the_store)
        if the_store is not None:
            the_store.close()

    yield start
