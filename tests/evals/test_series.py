from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from redline.errors import CheckpointError, ConfigError
from redline.evals import (
    Checkpoint,
    CheckpointResults,
    analyse_series,
    discover_checkpoints,
    run_series,
    run_suites,
)
from redline.evals.trend import choose_scale, forecast, t975
from redline.policy import Alert
from redline.stats import wilson
from tests.evals.helpers import ARITHMETIC, adder, result

STEPS = [100, 200, 400, 800, 1600, 3200, 6400, 12800]


def runs_from(
    accuracies: list[float], n: int = 200, steps: list[int] = STEPS
) -> list[CheckpointResults]:
    out = []
    for step, acc in zip(steps, accuracies, strict=True):
        w = wilson(round(acc * n), n)
        out.append(CheckpointResults(
            checkpoint=Checkpoint(name=f"checkpoint-{step}", path=f"/x/{step}", step=step),
            results=[result("t-arithmetic", {"accuracy": (w.value, w.low, w.high, n)})],
        ))
    return out


def test_t_quantiles() -> None:
    assert t975(1) == pytest.approx(12.706)
    assert t975(30) == pytest.approx(2.042)
    assert t975(60) == pytest.approx(2.000, abs=2e-3)
    assert t975(10_000) == pytest.approx(1.960, abs=1e-3)


def test_forecast_of_a_line_is_tight_and_contains_the_next_point() -> None:
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    ys = [0.1, 0.2, 0.3, 0.4, 0.5]
    made = forecast(xs[:4], ys[:4], [0.01] * 4, 5.0, 0.01)
    assert made.predicted == pytest.approx(0.5)
    assert made.contains(0.5) and not made.contains(0.6)


def test_smooth_growth_is_not_a_jump() -> None:
    # Accuracy rising linearly in log(step): a trend, not a leap.
    accuracies = [0.05 + 0.1 * i for i in range(8)]
    series = analyse_series(runs_from(accuracies))
    assert series.trends[0].scale == "log"
    assert series.jumps == []


def test_a_sudden_leap_is_flagged_at_its_checkpoint_only() -> None:
    accuracies = [0.0, 0.01, 0.01, 0.02, 0.03, 0.62, 0.9, 0.94]
    series = analyse_series(runs_from(accuracies))
    jumps = series.jumps
    assert [(j.step, j.metric) for j in jumps] == [(3200, "accuracy")]
    point = next(p for p in series.trends[0].points if p.step == 3200)
    assert point.jump == "up"
    assert point.predicted_high is not None and point.value > point.predicted_high
    assert "jumped up" in jumps[0].message


def test_a_collapse_is_flagged_down() -> None:
    series = analyse_series(runs_from([0.9, 0.91, 0.9, 0.92, 0.91, 0.3, 0.3, 0.31]))
    assert [j.step for j in series.jumps] == [3200]
    assert series.trends[0].points[5].jump == "down"


def test_small_noisy_evals_do_not_flag_noise() -> None:
    # Flat true accuracy 0.5 measured on 30 samples: sampling noise only.
    rng = random.Random(4)
    false_flags = 0
    for _ in range(40):
        accuracies = [sum(rng.random() < 0.5 for _ in range(30)) / 30 for _ in STEPS]
        false_flags += len(analyse_series(runs_from(accuracies, n=30)).jumps)
    # 200 forecasts; a 95% interval would let about 10 through by chance. The noise
    # floor keeps it lower (1.9% over 1,000 forecasts when measured).
    assert false_flags <= 6


def test_alert_values_are_flagged_when_the_interval_cannot_rule_them_out() -> None:
    alert = Alert(suite="t-arithmetic", metric="accuracy", direction="higher_is_worse", value=0.5)
    series = analyse_series(runs_from([0.0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.7, 0.8]), alerts=[alert])
    flagged = [f.step for f in series.flags if f.kind == "alert"]
    # 0.45 on 200 samples has an upper bound above 0.5: cannot rule it out.
    assert flagged == [1600, 3200, 6400, 12800]
    assert series.trends[0].alert == alert


def test_compute_axis_needs_compute() -> None:
    with pytest.raises(ConfigError, match="compute value for every checkpoint"):
        analyse_series(runs_from([0.1] * 8), axis="compute")
    runs = runs_from([0.1 * i for i in range(8)])
    for i, run in enumerate(runs):
        run.checkpoint.compute = 1e15 * 2**i
    assert analyse_series(runs, axis="compute").trends[0].points[-1].x == pytest.approx(
        math.log10(1e15 * 2**7))


def test_choose_scale() -> None:
    assert choose_scale([100, 200, 5000]) == "log"
    assert choose_scale([0, 10, 20]) == "linear"
    assert choose_scale([100, 150, 200]) == "linear"


def make_checkpoint(path: Path, *, state_step: int | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    if state_step is not None:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": state_step,
                                                             "total_flos": 1e12}))
    return path


def test_discovery_orders_by_step(tmp_path: Path) -> None:
    for step in (1000, 50, 300):
        make_checkpoint(tmp_path / "run" / f"checkpoint-{step}")
    make_checkpoint(tmp_path / "run" / "final", state_step=2000)
    organism = make_checkpoint(tmp_path / "run" / "organism-final")
    (organism / "manifest.json").write_text(json.dumps({"step": 3000}))
    (tmp_path / "run" / "notes").mkdir()
    found = discover_checkpoints(str(tmp_path / "run"))
    assert [c.step for c in found] == [50, 300, 1000, 2000, 3000]
    assert found[-2].compute == 1e12 and found[-1].compute is None
    globbed = discover_checkpoints(str(tmp_path / "run" / "checkpoint-*"))
    assert [c.name for c in globbed] == ["checkpoint-50", "checkpoint-300", "checkpoint-1000"]


def test_discovery_from_manifest(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "series.json").write_text(json.dumps({"checkpoints": [
        {"path": "b", "step": 20, "compute": 2.0}, {"path": "a", "step": 10}]}))
    found = discover_checkpoints(str(tmp_path))
    assert [(c.name, c.step, c.compute) for c in found] == [("a", 10, None), ("b", 20, 2.0)]


def test_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="No checkpoints found"):
        discover_checkpoints(str(tmp_path))
    single = make_checkpoint(tmp_path / "one")
    with pytest.raises(CheckpointError, match="single checkpoint"):
        discover_checkpoints(str(single))
    make_checkpoint(tmp_path / "many" / "final")
    with pytest.raises(CheckpointError, match="Cannot tell the training step"):
        discover_checkpoints(str(tmp_path / "many"))


async def test_run_series_evaluates_in_order() -> None:
    checkpoints = [Checkpoint(name=f"c{s}", path="", step=s) for s in STEPS]
    share = {s: 0.02 if s < 3200 else 0.95 for s in STEPS}
    seen = []

    async def evaluate(checkpoint: Checkpoint):  # type: ignore[no-untyped-def]
        seen.append(checkpoint.step)
        return await run_suites(adder(share[checkpoint.step]), [ARITHMETIC], size=60)

    runs = await run_series(checkpoints, evaluate)
    assert seen == STEPS
    series = analyse_series(runs)
    assert [j.step for j in series.jumps] == [3200]


def test_saturating_at_one_is_not_a_fall() -> None:
    # A proportion that rises on a straight line and then sits at the ceiling.
    accuracies = [0.0, 0.16, 0.36, 0.49, 0.62, 0.74, 0.91, 1.0, 1.0, 1.0]
    steps = [0, 150, 300, 450, 600, 750, 900, 1050, 1200, 1350]
    series = analyse_series(runs_from(accuracies, n=80, steps=steps))
    assert series.trends[0].scale == "linear"  # a zero step rules out a log axis
    assert series.jumps == []
    last = series.trends[0].points[-1]
    assert last.predicted == 1.0 and last.predicted_high == 1.0


def test_local_window_sees_a_jump_a_global_line_hides() -> None:
    # The shape of the shipped helpful series: a noisy S-curve with its largest step at 700.
    accuracies = [0.0, 0.14, 0.37, 0.28, 0.37, 0.53, 0.66, 0.94, 0.99, 1.0]
    steps = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
    runs = runs_from(accuracies, n=100, steps=steps)
    assert [j.step for j in analyse_series(runs).jumps] == [700]
    assert analyse_series(runs, window=None).jumps == []
    with pytest.raises(ConfigError, match="at least 3"):
        analyse_series(runs, window=2)


@pytest.mark.slow
def test_shipped_series_flags_the_arithmetic_jump(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from redline.cli.app import app

    found = discover_checkpoints("organism:helpful")  # shipped: a CheckpointError fails
    assert len(found) >= 6
    out = tmp_path / "series"
    done = CliRunner().invoke(app, ["eval-series", "organism:helpful",
                                    "--suite", "organism-capability",
                                    "--size", "200", "--out", str(out)])
    assert done.exit_code == 0, done.output
    series = json.loads((out / "series.json").read_text())
    jumps = [f for f in series["flags"] if f["kind"] == "jump"]
    assert [f["metric"] for f in jumps] == ["arithmetic_accuracy"]
    assert 'class="point jump"' in (out / "report.html").read_text()
