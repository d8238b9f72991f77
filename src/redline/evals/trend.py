"""Trend fits over a checkpoint series and the one-step-ahead test that flags jumps.

For each checkpoint after the first ``min_history``, a straight line is fitted (ordinary
least squares) to the metric at the *earlier* checkpoints (the last ``window`` of them),
against step or compute on a log or linear axis. The checkpoint is a **jump** when its
value falls outside the 95% prediction interval of that line. The interval counts both
the scatter about the line and the sampling noise of the eval itself (from each value's
own 95% interval), so a small eval does not flag noise:

    var = max(residual variance, mean earlier noise variance) * (1 + 1/n + (x0-x̄)²/Sxx)
          + noise variance of the new value

The quantile is Student's t with n-2 degrees of freedom when the residual scatter is the
larger term (it is estimated), and the normal quantile when the eval's sampling noise
dominates (it is known from the binomial interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redline.stats import Z95

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip

XScale = Literal["log", "linear"]


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t (two-sided 95%); Cornish-Fisher beyond 30 df."""
    if df < 1:
        raise ValueError("t quantile needs at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def transform(x: Sequence[float], scale: XScale) -> list[float]:
    """Put step or compute on the fitting axis.

    Raises:
        ValueError: a log axis with a value that is not positive.
    """
    if scale == "linear":
        return [float(v) for v in x]
    if any(v <= 0 for v in x):
        raise ValueError("a log axis needs every step/compute value to be positive")
    return [math.log10(v) for v in x]


def choose_scale(x: Sequence[float]) -> XScale:
    """Log when every value is positive and they span at least a factor of ten."""
    if x and min(x) > 0 and max(x) / min(x) >= 10:
        return "log"
    return "linear"


def noise_sd(low: float, high: float) -> float:
    """Standard error implied by a 95% interval."""
    return max(0.0, (high - low) / (2 * Z95))


@dataclass(frozen=True)
class Forecast:
    """What the earlier checkpoints predict for the next one."""

    predicted: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        """True when ``value`` lies inside the prediction interval."""
        return self.low <= value <= self.high

    def within(self, lower: float, upper: float) -> Forecast:
        """The forecast for a metric bounded to ``[lower, upper]`` (a proportion).

        A line through a rising proportion overshoots 1 once the proportion saturates; the
        prediction is moved to the bound, keeping the interval's width, so reaching the
        ceiling is not read as a fall.
        """
        centre = min(max(self.predicted, lower), upper)
        half = (self.high - self.low) / 2
        return Forecast(centre, max(lower, centre - half), min(upper, centre + half))


def forecast(
    x: Sequence[float],
    y: Sequence[float],
    noise: Sequence[float],
    x_new: float,
    noise_new: float,
) -> Forecast:
    """One-step-ahead 95% prediction interval from a line through earlier points.

    Args:
        x: earlier positions on the fitting axis (at least 3).
        y: earlier metric values.
        noise: earlier values' standard errors.
        x_new: the new checkpoint's position.
        noise_new: the new value's standard error.
    """
    n = len(x)
    if n < 3:
        raise ValueError("a forecast needs at least three earlier checkpoints")
    x_mean = sum(x) / n
    y_mean = sum(y) / n
    sxx = sum((v - x_mean) ** 2 for v in x)
    pairs = list(zip(x, y, strict=True))
    slope = sum((a - x_mean) * (b - y_mean) for a, b in pairs) / sxx if sxx else 0.0
    intercept = y_mean - slope * x_mean
    residual_var = sum((b - intercept - slope * a) ** 2 for a, b in pairs) / (n - 2)
    noise_var = sum(s * s for s in noise) / n
    leverage = 1 + 1 / n + ((x_new - x_mean) ** 2 / sxx if sxx else 0.0)
    var = max(residual_var, noise_var) * leverage + noise_new**2
    quantile = t975(n - 2) if residual_var > noise_var else Z95
    half = quantile * math.sqrt(var)
    predicted = intercept + slope * x_new
    return Forecast(predicted, predicted - half, predicted + half)
