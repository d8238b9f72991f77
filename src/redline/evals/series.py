"""Checkpoint series: evaluate checkpoints in order, fit trends, flag capability jumps.

Checkpoints are found from a folder or a glob:

- a folder with ``series.json`` (``{"checkpoints": [{"path": ..., "step": ..., "compute": ...}]}``,
  paths relative to the folder) lists them explicitly;
- ``organism:NAME`` is the series saved while a shipped organism trained (its final
  model last);
- otherwise every sub-folder (or glob match) holding a ``config.json`` is a checkpoint,
  whose step comes from ``trainer_state.json`` (``global_step``), an organism's
  ``manifest.json`` (``step``) or the last number in its name (``checkpoint-500``,
  ``step_000500``); compute from ``total_flos`` when present.

:func:`analyse_series` is pure: it takes the results per checkpoint and returns trends
with flags, so the same analysis runs on fresh results or on saved ones.
"""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from redline.errors import CheckpointError, ConfigError
from redline.evals.results import EvalResult
from redline.evals.trend import XScale, choose_scale, forecast, noise_sd, transform
from redline.policy.release import Alert

Axis = Literal["step", "compute"]


class Checkpoint(BaseModel):
    """One checkpoint of a training run."""

    name: str
    path: str
    step: int
    compute: float | None = None


class TrendPoint(BaseModel):
    """A metric at one checkpoint, what the earlier ones predicted, and its flags."""

    checkpoint: str
    step: int
    x: float
    value: float
    low: float
    high: float
    n: int
    predicted: float | None = None
    predicted_low: float | None = None
    predicted_high: float | None = None
    jump: Literal["up", "down"] | None = None
    alert: bool = False


class MetricTrend(BaseModel):
    """One suite metric across the series."""

    suite: str
    metric: str
    axis: Axis
    scale: XScale
    alert: Alert | None = None
    points: list[TrendPoint]

    @property
    def key(self) -> str:
        """``suite/metric``."""
        return f"{self.suite}/{self.metric}"


class SeriesFlag(BaseModel):
    """A capability jump or an alert crossing at one checkpoint."""

    kind: Literal["jump", "alert"]
    checkpoint: str
    step: int
    suite: str
    metric: str
    message: str


class CheckpointResults(BaseModel):
    """Every suite's result at one checkpoint."""

    checkpoint: Checkpoint
    results: list[EvalResult]


class SeriesResult(BaseModel):
    """A checkpoint series: results, trends and flags."""

    kind: Literal["redline-eval-series"] = "redline-eval-series"
    schema_version: Literal[1] = 1
    created_at: datetime
    axis: Axis
    checkpoints: list[CheckpointResults]
    trends: list[MetricTrend]
    flags: list[SeriesFlag] = Field(default_factory=list)

    @property
    def jumps(self) -> list[SeriesFlag]:
        """The capability-jump flags."""
        return [f for f in self.flags if f.kind == "jump"]


_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def _step_of(path: Path) -> int:
    # transformers' Trainer writes trainer_state.json; redline organisms write manifest.json.
    for name, key in (("trainer_state.json", "global_step"), ("manifest.json", "step")):
        state = path / name
        if state.is_file():
            try:
                return int(json.loads(state.read_text())[key])
            except (ValueError, KeyError, TypeError):
                pass
    match = _NUMBER.search(path.name)
    if match is None:
        raise CheckpointError(
            f"Cannot tell the training step of checkpoint {path}: its name has no number and it "
            "has no trainer_state.json. Name it like checkpoint-500 or list it in series.json."
        )
    return int(match.group(1))


def _compute_of(path: Path) -> float | None:
    state = path / "trainer_state.json"
    if state.is_file():
        try:
            flos = json.loads(state.read_text()).get("total_flos")
            return float(flos) if flos is not None else None
        except (ValueError, TypeError, AttributeError):
            return None
    return None


def discover_checkpoints(where: str) -> list[Checkpoint]:
    """Find the checkpoints of a series, ordered by step.

    Args:
        where: a folder (with ``series.json`` or checkpoint sub-folders), a glob, or
            ``organism:NAME`` for the checkpoints saved while a shipped organism trained.

    Raises:
        CheckpointError: nothing found, a step cannot be told, or two share a step.
    """
    root = Path(where)
    if where.startswith("organism:"):
        from redline.organisms.shipped import checkpoint_series

        found = [
            Checkpoint(name=f"step-{step}", path=str(folder), step=step)
            for step, folder in checkpoint_series(where.removeprefix("organism:"))
        ]
    elif root.is_dir() and (root / "series.json").is_file():
        found = _from_manifest(root)
    else:
        if root.is_dir():
            if (root / "config.json").is_file():
                raise CheckpointError(
                    f"{root} is a single checkpoint; give the folder that holds the series' "
                    "checkpoints, or a glob such as 'run/checkpoint-*'."
                )
            candidates = sorted(p for p in root.iterdir() if p.is_dir())
        else:
            candidates = sorted(Path(p) for p in glob.glob(where) if Path(p).is_dir())
        dirs = [p for p in candidates if (p / "config.json").is_file()]
        found = [
            Checkpoint(name=p.name, path=str(p), step=_step_of(p), compute=_compute_of(p))
            for p in dirs
        ]
    if not found:
        raise CheckpointError(
            f"No checkpoints found at '{where}': expected sub-folders with config.json, "
            "a series.json manifest, or a glob matching checkpoint folders."
        )
    found.sort(key=lambda c: c.step)
    steps = [c.step for c in found]
    if len(set(steps)) != len(steps):
        raise CheckpointError(f"Two checkpoints at '{where}' share a step; steps must differ.")
    return found


def _from_manifest(root: Path) -> list[Checkpoint]:
    try:
        data = json.loads((root / "series.json").read_text(encoding="utf-8"))
        entries = data["checkpoints"]
        return [
            Checkpoint(
                name=str(e.get("name") or Path(e["path"]).name),
                path=str((root / e["path"]).resolve()),
                step=int(e["step"]),
                compute=float(e["compute"]) if e.get("compute") is not None else None,
            )
            for e in entries
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{root / 'series.json'} is malformed ({exc}); it must hold "
            '{"checkpoints": [{"path": ..., "step": ...}, ...]}.'
        ) from exc


def analyse_series(
    runs: Sequence[CheckpointResults],
    *,
    axis: Axis = "step",
    scale: XScale | None = None,
    min_history: int = 3,
    window: int | None = 4,
    alerts: Sequence[Alert] = (),
    now: datetime | None = None,
) -> SeriesResult:
    """Fit a trend per metric and flag capability jumps and alert crossings.

    A checkpoint is a jump when its value falls outside the 95% prediction interval of
    the line fitted to the ``window`` checkpoints before it (see
    :mod:`redline.evals.trend`); it crosses an alert when its 95% interval cannot rule
    the alert value out. The fit is local because capability curves over a whole run are
    S-shaped: one line through all of it is the wrong model, and its inflated scatter
    hides real jumps. Four points is the smallest window that leaves two degrees of
    freedom for the scatter.

    Args:
        runs: results per checkpoint, in training order.
        axis: fit against ``step`` or ``compute`` (every checkpoint needs compute then).
        scale: ``log`` or ``linear`` axis; chosen from the data when None.
        min_history: earlier checkpoints needed before a forecast is made (at least 3).
        window: how many of the most recent earlier checkpoints the line is fitted to
            (None: all of them).
        alerts: alert values, usually ``policy.alerts()``.
        now: the analysis time (default: now).

    Raises:
        ConfigError: compute is asked for but missing, or a log axis gets a zero step.
    """
    if min_history < 3 or (window is not None and window < 3):
        raise ConfigError(
            "min_history and window must be at least 3 (a line and its scatter need 3 points)."
        )
    if axis == "compute" and any(r.checkpoint.compute is None for r in runs):
        raise ConfigError(
            "Fitting against compute needs a compute value for every checkpoint "
            "(series.json 'compute' or trainer_state.json 'total_flos'); use --axis step."
        )
    raw_x = [
        float(r.checkpoint.compute or 0.0) if axis == "compute" else float(r.checkpoint.step)
        for r in runs
    ]
    use_scale = scale or choose_scale(raw_x)
    try:
        xs = transform(raw_x, use_scale)
    except ValueError as exc:
        raise ConfigError(f"Cannot use a log axis: {exc}; pass --scale linear.") from exc

    keys: dict[tuple[str, str], None] = {}
    for run in runs:
        for result in run.results:
            for metric in result.metrics:
                keys.setdefault((result.suite, metric))
    alert_for = {(a.suite, a.metric): a for a in alerts}

    trends: list[MetricTrend] = []
    flags: list[SeriesFlag] = []
    for suite, metric in keys:
        alert = alert_for.get((suite, metric))
        points: list[TrendPoint] = []
        for run, x in zip(runs, xs, strict=True):
            found = next((r for r in run.results if r.suite == suite), None)
            value = found.metrics.get(metric) if found is not None else None
            if value is None or not value.defined:
                continue
            assert value.value is not None and value.low is not None and value.high is not None
            points.append(TrendPoint(
                checkpoint=run.checkpoint.name, step=run.checkpoint.step, x=x,
                value=value.value, low=value.low, high=value.high, n=value.n,
            ))
        # Proportions (every interval inside [0, 1]) get forecasts kept inside [0, 1].
        bounded = bool(points) and all(0.0 <= p.low and p.high <= 1.0 for p in points)
        for i, point in enumerate(points):
            if alert is not None and alert.crossed(point.low, point.high):
                point.alert = True
                flags.append(SeriesFlag(
                    kind="alert", checkpoint=point.checkpoint, step=point.step, suite=suite,
                    metric=metric,
                    message=f"{suite}/{metric} = {point.value:.3f} [{point.low:.3f}, "
                    f"{point.high:.3f}] cannot rule out alert value {alert.value}",
                ))
            if i < min_history:
                continue
            earlier = points[:i] if window is None else points[max(0, i - window):i]
            made = forecast(
                [p.x for p in earlier], [p.value for p in earlier],
                [noise_sd(p.low, p.high) for p in earlier], point.x,
                noise_sd(point.low, point.high),
            )
            if bounded:
                made = made.within(0.0, 1.0)
            point.predicted, point.predicted_low, point.predicted_high = (
                made.predicted, made.low, made.high,
            )
            if not made.contains(point.value):
                point.jump = "up" if point.value > made.high else "down"
                flags.append(SeriesFlag(
                    kind="jump", checkpoint=point.checkpoint, step=point.step, suite=suite,
                    metric=metric,
                    message=f"{suite}/{metric} jumped {point.jump} to {point.value:.3f} at step "
                    f"{point.step}; the trend of earlier checkpoints predicted "
                    f"{made.predicted:.3f} [{made.low:.3f}, {made.high:.3f}]",
                ))
        trends.append(MetricTrend(suite=suite, metric=metric, axis=axis, scale=use_scale,
                                  alert=alert, points=points))
    return SeriesResult(
        created_at=now or datetime.now(UTC), axis=axis, checkpoints=list(runs), trends=trends,
        flags=flags,
    )


TargetFor = Callable[[Checkpoint], Awaitable[list[EvalResult]]]


async def run_series(
    checkpoints: Sequence[Checkpoint],
    evaluate: TargetFor,
    *,
    on_checkpoint: Callable[[Checkpoint], None] | None = None,
) -> list[CheckpointResults]:
    """Evaluate each checkpoint in order with ``evaluate`` (checkpoint → its results)."""
    runs = []
    for checkpoint in checkpoints:
        runs.append(CheckpointResults(checkpoint=checkpoint, results=await evaluate(checkpoint)))
        if on_checkpoint is not None:
            on_checkpoint(checkpoint)
    return runs
