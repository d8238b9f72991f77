"""Change detection on rates: Bernoulli CUSUM (default) and an EWMA chart.

Both watch a stream of 0/1 observations (did this request fire category X? was it
blocked?) and raise when the rate has risen above what a reference window showed.

CUSUM accumulates the log-likelihood ratio of "rate p1" against "rate p0" and fires when
it passes ``h``. By Wald's bound the in-control average run length (requests between false
alarms) is at least about ``exp(h)``, so ``h = ln(arl0)`` gives at most one false alarm per
``arl0`` clean requests on average; the default ``arl0 = 1e6`` keeps a 10,000-request clean
day alarm-free with high probability. The out-of-control rate it is tuned for is
``p1 = max(p0 * ratio, p0 + min_shift)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def smoothed_rate(successes: int, n: int) -> float:
    """(successes + 1) / (n + 2): a rate that is never exactly 0 or 1 (Laplace)."""
    return (successes + 1) / (n + 2)


@dataclass
class BernoulliCusum:
    """One-sided CUSUM for an increase of a Bernoulli rate.

    Attributes:
        p0: the in-control rate (from the reference window).
        p1: the out-of-control rate the chart is tuned to catch fast.
        h: the decision threshold on the statistic.
    """

    p0: float
    p1: float
    h: float
    statistic: float = 0.0
    _up: float = field(init=False)
    _down: float = field(init=False)

    def __post_init__(self) -> None:
        if not 0 < self.p0 < self.p1 < 1:
            raise ValueError(f"need 0 < p0 < p1 < 1, got p0={self.p0}, p1={self.p1}")
        self._up = math.log(self.p1 / self.p0)
        self._down = math.log((1 - self.p1) / (1 - self.p0))

    @classmethod
    def tuned(
        cls, p0: float, *, arl0: float = 1e6, ratio: float = 3.0, min_shift: float = 0.01
    ) -> BernoulliCusum:
        """A chart for base rate ``p0`` with about ``arl0`` requests between false alarms."""
        p1 = min(0.99, max(p0 * ratio, p0 + min_shift))
        return cls(p0=p0, p1=p1, h=math.log(arl0))

    def update(self, hit: bool) -> bool:
        """Add one observation; True when the chart fires (the statistic then resets)."""
        self.statistic = max(0.0, self.statistic + (self._up if hit else self._down))
        if self.statistic >= self.h:
            self.statistic = 0.0
            return True
        return False


@dataclass
class EwmaChart:
    """EWMA of a Bernoulli rate with an upper control limit ``p0 + L * sigma_ewma``.

    For rare events (rates of a few per thousand) the defaults (a slow weight and a wide
    limit) keep 10,000 clean requests alarm-free; the CUSUM is the better chart there.

    Attributes:
        p0: the in-control rate.
        lam: the smoothing weight of the newest observation.
        limit_sigmas: the control limit in asymptotic standard deviations.
    """

    p0: float
    lam: float = 0.005
    limit_sigmas: float = 8.0
    value: float = field(init=False)

    def __post_init__(self) -> None:
        self.value = self.p0

    @property
    def limit(self) -> float:
        """The upper control limit."""
        sigma = math.sqrt(self.p0 * (1 - self.p0) * self.lam / (2 - self.lam))
        return self.p0 + self.limit_sigmas * sigma

    @property
    def statistic(self) -> float:
        """The current EWMA."""
        return self.value

    @property
    def h(self) -> float:
        """The limit, under the name the CUSUM uses."""
        return self.limit

    def update(self, hit: bool) -> bool:
        """Add one observation; True when the EWMA is above the limit (then it resets)."""
        self.value = (1 - self.lam) * self.value + self.lam * float(hit)
        if self.value > self.limit:
            self.value = self.p0
            return True
        return False


__all__ = ["BernoulliCusum", "EwmaChart", "smoothed_rate"]
