"""Scale: run evals and red teams on a Ray cluster, with every attempt in the store.

``redline eval``, ``eval-series`` and ``redteam`` with ``--executor ray`` split the work
into units (one target × one suite shard; one checkpoint; one attack × chain × shard of
goals), run each as a Ray task that keeps its model loaded, and rebuild the results from
the store, so a killed worker's unit is retried and a killed driver resumes with nothing
lost or done twice. Ray is imported only when a cluster is made
(``pip install 'redline[scale]'``).

>>> from redline.scale import Cluster, eval_plan, run_plan
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.scale.cluster import Cluster
    from redline.scale.evals import Plan, eval_plan, run_plan, series_plan, series_runs
    from redline.scale.executor import RayExecutor
    from redline.scale.redteam import RedteamPlan, RedteamUnit, run_redteam_on
    from redline.scale.units import EvalUnit, Shard, UnitDone, execute_unit

_HOMES = {
    "Cluster": "cluster", "Plan": "evals", "eval_plan": "evals", "run_plan": "evals",
    "series_plan": "evals", "series_runs": "evals", "RayExecutor": "executor",
    "RedteamPlan": "redteam", "RedteamUnit": "redteam", "run_redteam_on": "redteam",
    "EvalUnit": "units", "Shard": "units", "UnitDone": "units", "execute_unit": "units",
}


def __getattr__(name: str) -> Any:
    # Lazy: a pipeline that only carries a RayExecutor in its settings does not pay for
    # importing the eval and red-team runners.
    if name not in _HOMES:
        raise AttributeError(f"module 'redline.scale' has no attribute '{name}'")
    return getattr(importlib.import_module(f"redline.scale.{_HOMES[name]}"), name)


__all__ = [
    "Cluster",
    "EvalUnit",
    "Plan",
    "RayExecutor",
    "RedteamPlan",
    "RedteamUnit",
    "Shard",
    "UnitDone",
    "eval_plan",
    "execute_unit",
    "run_plan",
    "run_redteam_on",
    "series_plan",
    "series_runs",
]
