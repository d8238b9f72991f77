"""The audit's seam to Ray (:class:`redline.scale.RayExecutor`) on a real local cluster:
its eval suites give the local results, and the executor is not written into the case."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import organism_target

pytestmark = pytest.mark.slow

SUITES = ("organism-capability", "organism-over-refusal")


def test_the_audit_s_suites_on_ray_equal_run_suites(cluster: Any) -> None:
    from redline.evals import get_suite, run_suites
    from redline.scale import RayExecutor

    target = organism_target("helpful")
    suites = [get_suite(name) for name in SUITES]
    stored: list[int] = []

    async def both() -> tuple[list[Any], list[Any]]:
        try:
            local = await run_suites(target, suites, seed=0, size=40, model_digest="d" * 64)
            ray = await RayExecutor(cache=False).suites(
                target, suites, seed=0, size=40, model_digest="d" * 64, progress=stored.append)
            return local, ray
        finally:
            await target.aclose()

    local, ray = asyncio.run(both())
    volatile = {"started_at", "finished_at"}
    assert [r.suite for r in ray] == list(SUITES)
    for mine, theirs in zip(ray, local, strict=True):
        assert mine.model_digest == "d" * 64
        assert mine.model_dump(exclude=volatile) == theirs.model_dump(exclude=volatile)
    assert stored and stored[-1] == 80  # progress counted every stored sample


def test_the_executor_is_not_written_into_the_audit_settings() -> None:
    from redline.audit.pipeline import AuditSettings
    from redline.scale import RayExecutor

    settings = AuditSettings(ray=RayExecutor(address="10.0.0.1:6379",
                                             options={"api_key": "secret"}))
    assert settings.ray is not None and settings.ray.address == "10.0.0.1:6379"
    assert "ray" not in settings.model_dump()  # an address or a key never reaches the case
