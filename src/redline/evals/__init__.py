"""Evals: suites, runs with 95% intervals, and checkpoint series with jump flags.

A suite is a versioned dataset + scorers + metrics; a series evaluates checkpoints in
order, fits a trend per metric and flags capability jumps.

>>> from redline.evals import get_suite, run_suite
"""

import importlib
from typing import TYPE_CHECKING, Any

from redline.evals import matching as _matching  # noqa: F401  (registers answer_match)
from redline.evals.metrics import (
    Metric,
    compute_metrics,
    difference,
    mean,
    proportion,
    proportion_by,
)
from redline.evals.results import (
    EvalResult,
    MetricValue,
    SampleRecord,
    ScoreRecord,
    ScorerRecord,
    load_results,
)
from redline.evals.suite import (
    DatasetFactory,
    Sample,
    ScorerRef,
    Suite,
    dataset_digest,
    get_suite,
    suite,
    suites,
)

if TYPE_CHECKING:
    from redline.evals.runner import run_suite, run_suites
    from redline.evals.series import (
        Checkpoint,
        CheckpointResults,
        MetricTrend,
        SeriesFlag,
        SeriesResult,
        TrendPoint,
        analyse_series,
        discover_checkpoints,
        run_series,
    )

# Imported on first use: the organism plugin, which every command loads, needs suites and
# metrics, not runs, series, trends and the release policy.
_HOME = {
    **dict.fromkeys(("run_suite", "run_suites"), "runner"),
    **dict.fromkeys(
        (
            "Checkpoint",
            "CheckpointResults",
            "MetricTrend",
            "SeriesFlag",
            "SeriesResult",
            "TrendPoint",
            "analyse_series",
            "discover_checkpoints",
            "run_series",
        ),
        "series",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'redline.evals' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"redline.evals.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Checkpoint",
    "CheckpointResults",
    "DatasetFactory",
    "EvalResult",
    "Metric",
    "MetricTrend",
    "MetricValue",
    "Sample",
    "SampleRecord",
    "ScoreRecord",
    "ScorerRecord",
    "ScorerRef",
    "SeriesFlag",
    "SeriesResult",
    "Suite",
    "TrendPoint",
    "analyse_series",
    "compute_metrics",
    "dataset_digest",
    "difference",
    "discover_checkpoints",
    "get_suite",
    "load_results",
    "mean",
    "proportion",
    "proportion_by",
    "run_series",
    "run_suite",
    "run_suites",
    "suite",
    "suites",
]
