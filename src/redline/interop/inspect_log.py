"""Inspect eval logs as evidence for the release policy (``redline gate --from-inspect``).

Each mapped metric of a log becomes a metric of a redline :class:`EvalResult` named after
a suite the policy reads. Without a mapping file, a log written by a task from
``redline export inspect`` maps to its own suite: every metric ``NAME`` with its
``NAME.low``, ``NAME.high`` and ``NAME.n``, and every sample with its redline scores (so
``redline verify`` recomputes the metrics). Any other Inspect task needs a mapping file::

    kind: redline-inspect-mapping
    metrics:
      - task: gpqa               # the Inspect task name (optional: any task)
        scorer: choice           # the Inspect scorer name (optional: any scorer)
        metric: accuracy         # the Inspect metric
        suite: capability        # the suite the policy names
        as: gpqa_accuracy        # the metric name the policy names (default: metric)
        interval: wilson         # a proportion of the scored samples (default: auto)

An Inspect metric needs an interval to be evidence: ``NAME.low``/``NAME.high`` from a
redline task, else the scorer's ``stderr`` metric (value ± 1.96 stderr), else the log is
refused with a line saying so. ``interval: wilson`` reads the metric as a proportion of the
scored samples and gives its Wilson interval, which stays honest at 0 and 1 where
value ± 1.96 stderr collapses to a point. A log that did not finish (status other than ``success``)
is never evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redline._version import __version__
from redline.errors import ConfigError
from redline.evals.results import EvalResult, MetricValue, SampleRecord, ScoreRecord, ScorerRecord
from redline.types import content_hash

Z95 = 1.959963984540054


class MetricMap(BaseModel):
    """One Inspect metric read as one redline metric."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    task: str | None = None
    scorer: str | None = None
    metric: str
    suite: str
    as_: str | None = Field(default=None, alias="as")
    interval: Literal["auto", "wilson", "stderr"] = "auto"
    """``wilson``: the metric is a proportion of n scored samples (accuracy); ``stderr``:
    value ± 1.96 × the scorer's stderr; ``auto``: the log's own interval, else stderr."""


class InspectMapping(BaseModel):
    """The mapping file."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "redline-inspect-mapping"
    metrics: list[MetricMap]


def load_mapping(path: Path) -> InspectMapping:
    """Read a mapping file (YAML).

    Raises:
        ConfigError: missing or not a mapping file.
    """
    import yaml

    try:
        mapping = InspectMapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise ConfigError(f"No Inspect mapping file at {path}.") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path} is not an Inspect mapping file (kind, metrics: [{{metric, "
                          f"suite}}]): {str(exc).splitlines()[0]}") from exc
    if mapping.kind != "redline-inspect-mapping":
        raise ConfigError(f"{path}: a mapping file starts with 'kind: redline-inspect-mapping'.")
    return mapping


def results_from_inspect(log_path: Path, mapping: InspectMapping | None = None
                         ) -> list[EvalResult]:
    """The redline results an Inspect log gives (one per suite).

    Raises:
        ConfigError: inspect_ai is not installed, the file is not an Inspect log, the eval
            did not finish, or a mapped metric is missing or has no interval.
    """
    try:
        from inspect_ai.log import read_eval_log
    except ImportError as exc:
        raise ConfigError("Reading Inspect logs needs inspect_ai: pip install inspect-ai") from exc
    try:
        log = read_eval_log(str(log_path))
    except FileNotFoundError as exc:
        raise ConfigError(f"No Inspect log at {log_path}.") from exc
    except Exception as exc:  # inspect_ai raises several kinds for a file it cannot read
        raise ConfigError(f"{log_path} is not an Inspect eval log: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                          ) from exc
    if log.status != "success" or log.results is None:
        raise ConfigError(f"{log_path}: the Inspect eval ended '{log.status}'; only a finished "
                          "eval is evidence. Run it again to the end.")
    spec = log.eval
    meta = spec.metadata or {}
    own_suite = meta.get("redline_suite")
    if mapping is None:
        if not own_suite:
            raise ConfigError(f"{log_path} is not from a `redline export inspect` task; give "
                              "--inspect-map FILE to say which metric is which (docs/inspect.md).")
        mapping = InspectMapping(metrics=[
            MetricMap(metric=name, suite=str(own_suite))
            for score in log.results.scores for name in score.metrics
            if name.rsplit(".", 1)[-1] not in ("low", "high", "n")])
    by_suite: dict[str, dict[str, MetricValue]] = {}
    for item in mapping.metrics:
        if item.task is not None and item.task != spec.task:
            continue
        value = _metric(log.results.scores, item, log_path)
        by_suite.setdefault(item.suite, {})[item.as_ or item.metric] = value
    if not by_suite:
        raise ConfigError(f"{log_path}: no metric of task '{spec.task}' is in the mapping.")
    samples = _samples(log) if own_suite else []
    results = []
    for suite, metrics in by_suite.items():
        mine = suite == own_suite
        results.append(EvalResult(
            suite=suite,
            suite_version=str(meta.get("redline_suite_version") if mine else spec.task_version),
            measures=f"Inspect task {spec.task} ({log_path.name})",
            data=f"{log.results.total_samples} samples of Inspect dataset "
                 f"{spec.dataset.name or spec.task}",
            dataset_digest=content_hash(spec.dataset.model_dump(mode="json")),
            seed=int(spec.model_generate_config.seed or 0),
            target=spec.model + (f" @ {spec.model_base_url}" if spec.model_base_url else ""),
            target_fingerprint=content_hash(spec.model, spec.model_base_url),
            scorers=[ScorerRecord(name=s.name, config=dict(s.options or {}))
                     for s in spec.scorers or []],
            params=spec.model_generate_config.model_dump(mode="json", exclude_none=True),
            redline_version=__version__,
            started_at=_time(log.stats.started_at),
            finished_at=_time(log.stats.completed_at),
            status="ok", metrics=metrics, samples=samples if mine else []))
    return results


def _metric(scores: list[Any], item: MetricMap, log_path: Path) -> MetricValue:
    for score in scores:
        if item.scorer is not None and item.scorer not in (score.name, score.scorer):
            continue
        metrics = score.metrics
        if item.metric not in metrics:
            continue
        value = float(metrics[item.metric].value)
        n = int(metrics[f"{item.metric}.n"].value) if f"{item.metric}.n" in metrics \
            else int(score.scored_samples or 0)
        if item.interval == "wilson":
            from redline.stats import wilson

            bounds = wilson(round(value * n), n)
            return MetricValue.of(value, bounds.low, bounds.high, n)
        if item.interval == "auto" and f"{item.metric}.low" in metrics \
                and f"{item.metric}.high" in metrics:
            return MetricValue.of(value, float(metrics[f"{item.metric}.low"].value),
                                  float(metrics[f"{item.metric}.high"].value), n)
        if "stderr" in metrics:
            half = Z95 * float(metrics["stderr"].value)
            return MetricValue.of(value, value - half, value + half, n)
        raise ConfigError(f"{log_path}: metric '{item.metric}' has no interval in the log; add "
                          "stderr() to its scorer's metrics, or 'interval: wilson' to the "
                          "mapping when it is a proportion.")
    where = f" of scorer '{item.scorer}'" if item.scorer else ""
    raise ConfigError(f"{log_path}: no metric '{item.metric}'{where} in the log; check the "
                      "mapping file's names against `inspect log dump`.")


def _samples(log: Any) -> list[SampleRecord]:
    out = []
    for sample in log.samples or []:
        for score in (sample.scores or {}).values():
            meta = score.metadata or {}
            if "redline_scores" not in meta:
                continue
            own = meta.get("redline_sample", {})
            out.append(SampleRecord(
                id=str(own.get("id", sample.id)), messages=own.get("messages", []),
                expected=own.get("expected"), metadata=own.get("metadata", {}),
                response=score.answer,
                scores={k: ScoreRecord.model_validate(v)
                        for k, v in meta["redline_scores"].items()}))
    return out


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)
