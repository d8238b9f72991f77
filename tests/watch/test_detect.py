import random

import numpy as np
import pytest

from redline.watch.detect import BernoulliCusum, EwmaChart, smoothed_rate
from redline.watch.drift import mmd_test


def first_alarm(chart, rate: float, n: int, seed: int) -> int | None:
    rng = random.Random(seed)
    for i in range(n):
        if chart.update(rng.random() < rate):
            return i + 1
    return None


@pytest.mark.parametrize("make", [
    lambda: BernoulliCusum.tuned(0.002, arl0=1e6),
    lambda: EwmaChart(0.002),
])
def test_no_false_alarm_on_clean_traffic_and_fast_on_a_shift(make) -> None:
    assert all(first_alarm(make(), 0.002, 10_000, seed) is None for seed in range(5))
    delays = [first_alarm(make(), 0.05, 2_000, seed) for seed in range(5)]
    assert all(d is not None and d < 300 for d in delays), delays


def test_cusum_threshold_and_reset() -> None:
    chart = BernoulliCusum.tuned(0.01, arl0=100)
    assert chart.h == pytest.approx(np.log(100))
    fired = [chart.update(True) for _ in range(10)]
    assert fired.index(True) < 5 and chart.statistic < chart.h
    with pytest.raises(ValueError):
        BernoulliCusum(p0=0.2, p1=0.1, h=3)


def test_smoothed_rate_is_never_zero() -> None:
    assert smoothed_rate(0, 998) == pytest.approx(0.001)
    assert 0 < smoothed_rate(0, 0) < 1


def test_mmd_separates_shifted_clusters_not_equal_ones() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=32)
    same_a = centre + rng.normal(scale=0.5, size=(150, 32))
    same_b = centre + rng.normal(scale=0.5, size=(150, 32))
    shifted = np.vstack([same_b[:120], centre + 2.0 + rng.normal(scale=0.5, size=(30, 32))])
    assert mmd_test(same_a, same_b, permutations=300).p_value > 0.01
    result = mmd_test(same_a, shifted, permutations=300)
    assert result.p_value <= 1 / 301 + 1e-9 and result.mmd2 > 0
    with pytest.raises(ValueError):
        mmd_test(same_a[:1], same_b)
