"""Embedding drift: is recent traffic distributed like a reference window?

The test statistic is the squared maximum mean discrepancy (MMD) with a Gaussian kernel
whose bandwidth is the median pairwise distance of the pooled sample; its p-value comes
from a permutation test (the windows' labels shuffled). Embeddings are the prompts'
unit vectors from the scorers' sentence encoder, stored int8-quantized in guard events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _sq_distances(z: np.ndarray) -> np.ndarray:
    norms = (z * z).sum(1)
    out: np.ndarray = np.maximum(norms[:, None] + norms[None, :] - 2.0 * z @ z.T, 0.0)
    return out


@dataclass(frozen=True)
class DriftResult:
    """An MMD two-sample test.

    Attributes:
        mmd2: the (biased, V-statistic) squared MMD; near 0 when the windows match.
        p_value: the permutation p-value ((count + 1) / (permutations + 1)).
        n_reference: rows in the reference window.
        n_current: rows in the current window.
    """

    mmd2: float
    p_value: float
    n_reference: int
    n_current: int


def mmd_test(
    reference: np.ndarray, current: np.ndarray, *, permutations: int = 200, seed: int = 0
) -> DriftResult:
    """Two-sample MMD test of ``current`` ([m, d]) against ``reference`` ([n, d]).

    Raises:
        ValueError: a window has fewer than 2 rows or the widths differ.
    """
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(current, dtype=np.float64)
    if len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need two windows of >= 2 rows of equal width, got {x.shape}, {y.shape}")
    z = np.vstack([x, y])
    d2 = _sq_distances(z)
    upper = d2[np.triu_indices(len(z), 1)]
    bandwidth = float(np.median(upper[upper > 0])) if np.any(upper > 0) else 1.0
    k = np.exp(-d2 / bandwidth)
    n, m = len(x), len(y)
    # The (biased) MMD^2 is the quadratic form w' K w with w = +1/n on one window and -1/m
    # on the other; all permutations are then one matrix product.
    base = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    rng = np.random.default_rng(seed)
    weights = np.stack([base] + [rng.permutation(base) for _ in range(permutations)], axis=1)
    stats = np.einsum("ip,ip->p", weights, k @ weights)
    observed = float(stats[0])
    exceed = int((stats[1:] >= observed - 1e-12).sum())
    return DriftResult(observed, (exceed + 1) / (permutations + 1), n, len(y))


__all__ = ["DriftResult", "mmd_test"]
