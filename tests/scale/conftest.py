"""The real local Ray cluster every scale test module runs on (2 CPUs, one per module)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require_system


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    require_system(importlib.util.find_spec("ray") is not None,
                   "ray (pip install 'redline[scale]')")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
