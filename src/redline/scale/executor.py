"""The Ray executor as one object a pipeline carries: ``redline audit --executor ray``.

An audit runs its policy's eval suites and its red team through :class:`RayExecutor` when
its settings hold one, and in its own process otherwise. Each step starts (or joins) the
cluster, runs its units as ``redline eval`` and ``redline redteam`` with ``--executor
ray`` do (same run ids, so a re-run audit resumes both from the store), and leaves
no Ray process behind for the audit's local steps (the searches).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from redline.evals.results import EvalResult
    from redline.evals.suite import Suite
    from redline.redteam.engine import RedteamConfig
    from redline.redteam.report import RedteamReport
    from redline.targets.base import Target


class RayExecutor(BaseModel):
    """Run eval suites and red teams on a Ray cluster, every attempt in the store.

    Args:
        address: a running cluster (``HOST:PORT``, ``ray://HOST:PORT``, ``auto``); None
            starts a local one for each step.
        options: the target's options (``-o key=value``), which every worker needs.
        cache: the response cache on the workers (None: each kind's default).
        suite_refs: suites as the user named them (``--suite``): a suite file is sent to
            the workers by its path, which they load it from.
    """

    address: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    cache: bool | None = None
    suite_refs: list[str] = Field(default_factory=list)

    async def suites(
        self,
        target: Target,
        suites: Sequence[Suite],
        *,
        seed: int,
        size: int | None,
        model_digest: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[EvalResult]:
        """``run_suites`` on the cluster: one result per suite, in order.

        Args:
            target: the target (its spec is loaded on the workers).
            suites: the suites (those named in :attr:`suite_refs` go by their reference,
                the others by name).
            seed: the suites' seed.
            size: samples per suite (None: each suite's own).
            model_digest: put into every result (as the local run does).
            progress: told how many samples are stored as the workers store them.

        Raises:
            ConfigError: Ray cannot be started or joined; a unit failed.
        """
        from redline.evals.suite import get_suite

        named = {get_suite(r).name: r for r in self.suite_refs}
        chosen = [named.get(s.name, s.name) for s in suites]
        return await asyncio.to_thread(self._suites, target.spec, chosen, seed, size,
                                       model_digest, progress)

    def _suites(self, spec: str, refs: list[str], seed: int, size: int | None,
                model_digest: str | None, progress: Callable[[int], None] | None
                ) -> list[EvalResult]:
        from redline.scale.cluster import Cluster
        from redline.scale.evals import eval_plan, run_plan, workers_store

        plan = eval_plan(spec, refs, seed=seed, size=size, options=self.options,
                         cache=self.cache is not False, model=None)
        plan.digest = False  # the audit has digested the model once, on the driver
        store = workers_store()
        try:
            cluster = Cluster(self.address)
            try:
                results = run_plan(plan, cluster, store, progress=None if progress is None
                                   else lambda done, _: progress(done))[0]
            finally:
                cluster.close()
        finally:
            store.close()
        return [r.model_copy(update={"model_digest": model_digest}) for r in results]

    async def redteam(self, config: RedteamConfig) -> RedteamReport:
        """``run_redteam`` on the cluster; the report is built from the store.

        Raises:
            ConfigError: Ray cannot be started or joined; a unit failed.
        """
        return await asyncio.to_thread(self._redteam, config)

    def _redteam(self, config: RedteamConfig) -> RedteamReport:
        from redline.scale.cluster import Cluster
        from redline.scale.evals import workers_store
        from redline.scale.redteam import RedteamPlan, run_redteam_on

        plan = RedteamPlan(config, self.options, self.cache)
        store = workers_store()
        try:
            cluster = Cluster(self.address)
            try:
                return run_redteam_on(plan, cluster, store)
            finally:
                cluster.close()
        finally:
            store.close()
