"""redline.stats: the paired F1 difference two judge comparisons rely on."""

from __future__ import annotations

import numpy as np

from redline.stats import f1, paired_f1_difference


def test_paired_f1_difference_is_the_point_difference_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.4
    old = y ^ (rng.random(300) < 0.25)  # wrong on about a quarter
    new = y ^ (rng.random(300) < 0.10)  # wrong on about a tenth
    gap = paired_f1_difference(y, new, old)
    assert gap.value == f1(y, new) - f1(y, old) > 0
    assert 0 < gap.low < gap.value < gap.high  # clearly better: the interval excludes zero
    same = paired_f1_difference(y, old, old)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)  # paired: no resampling noise
