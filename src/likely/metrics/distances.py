"""Distances between two multivariate samples, from the samples themselves: the energy distance and the MMD."""

from __future__ import annotations

from typing import Any

import numpy as np

from likely._checks import check_array

__all__ = ["energy_distance", "mmd"]

#: rows of the first sample per block of pairwise distances (256 x M floats at a time)
_BLOCK = 256
#: rows of each sample the median heuristic of :func:`mmd` looks at
_MEDIAN_ROWS = 1000


def energy_distance(x: Any, y: Any) -> float:
    """Energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` of two samples (Székely & Rizzo).

    ``|.|`` is the Euclidean norm; the result has the samples' units. The within-sample
    means leave out the pairs of a row with itself (U-statistics), so the estimate is
    unbiased: its expectation is 0 when both samples come from one distribution (a single
    estimate may then be slightly negative) and positive otherwise.

    Parameters
    ----------
    x : array-like (N, D)
    y : array-like (M, D)
        At least two rows each, the same D.

    Examples
    --------
    >>> energy_distance([[0.0], [1.0]], [[0.0], [1.0]])
    -1.0
    >>> round(energy_distance([[0.0], [0.0]], [[3.0], [3.0]]), 6)
    6.0
    """
    x, y = _samples(x, y)
    return _u_statistic(x, y, np.sqrt, between_weight=2.0, diagonal=0.0)


def mmd(x: Any, y: Any, bandwidth: float | None = None) -> float:
    """Squared maximum mean discrepancy MMD² of two samples with a Gaussian kernel (Gretton et al. 2012).

    k(a, b) = exp(−|a − b|² / (2 σ²)) with σ = ``bandwidth`` (the samples' units); None:
    the median distance between rows of the pooled samples (the median heuristic, from at
    most 1000 rows of each). The unbiased estimate E k(X, X') + E k(Y, Y') − 2 E k(X, Y),
    the within-sample means without a row's pair with itself: 0 in expectation for one
    distribution, positive otherwise (seed 003 compares QCD and dark jets by it).

    Parameters
    ----------
    x : array-like (N, D)
    y : array-like (M, D)
        At least two rows each, the same D.
    bandwidth : float > 0 or None

    Examples
    --------
    >>> round(mmd([[0.0], [0.0]], [[1.0], [1.0]], bandwidth=1.0), 6)  # 1 + 1 - 2 exp(-1/2)
    0.786939
    """
    x, y = _samples(x, y)
    if bandwidth is None:
        pooled = np.concatenate([x[:_MEDIAN_ROWS], y[:_MEDIAN_ROWS]])
        squared = _squared_distances(pooled, pooled)
        bandwidth = float(np.sqrt(np.median(squared[np.triu_indices(len(pooled), k=1)])))
        if bandwidth == 0:
            raise ValueError("the median distance between the rows is 0: pass bandwidth")
    elif not bandwidth > 0:
        raise ValueError(f"bandwidth must be a number > 0 or None; got {bandwidth!r}")
    kernel = lambda squared: np.exp(-squared / (2 * bandwidth**2))  # noqa: E731
    return -_u_statistic(x, y, kernel, between_weight=2.0, diagonal=1.0)


def _samples(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x = check_array(x, "x", dtype=np.float64)
    y = check_array(y, "y", n_features=x.shape[1], dtype=np.float64)
    for name, sample in (("x", x), ("y", y)):
        if len(sample) < 2:
            raise ValueError(f"{name} needs at least 2 rows for the within-sample term; got {len(sample)}")
    return x, y


def _u_statistic(x: np.ndarray, y: np.ndarray, f, *, between_weight: float, diagonal: float) -> float:
    """``between_weight`` E f(X, Y) − E f(X, X') − E f(Y, Y') of f of squared distances, the
    within-sample means without the pairs of a row with itself (where f gives ``diagonal``)."""
    between = _pair_sum(x, y, f) / (len(x) * len(y))
    within = [(_pair_sum(s, s, f) - diagonal * len(s)) / (len(s) * (len(s) - 1)) for s in (x, y)]
    return float(between_weight * between - within[0] - within[1])


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a_i − b_j|² (len(a), len(b)), from dot products (clipped at 0 against rounding)."""
    return np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T, 0.0)


def _pair_sum(a: np.ndarray, b: np.ndarray, f) -> float:
    """Σ_ij f(|a_i − b_j|²), in blocks of rows of ``a``."""
    return sum(float(f(_squared_distances(a[i:i + _BLOCK], b)).sum()) for i in range(0, len(a), _BLOCK))
