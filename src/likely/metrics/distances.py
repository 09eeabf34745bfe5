"""Distances between two multivariate samples, from the samples themselves."""

from __future__ import annotations

from typing import Any

import numpy as np

from likely._checks import check_array

__all__ = ["energy_distance"]

#: rows of the first sample per block of pairwise differences (256 x M x D floats at a time)
_BLOCK = 256


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
    x = check_array(x, "x", dtype=np.float64)
    y = check_array(y, "y", n_features=x.shape[1], dtype=np.float64)
    for name, sample in (("x", x), ("y", y)):
        if len(sample) < 2:
            raise ValueError(f"{name} needs at least 2 rows for the within-sample term; got {len(sample)}")
    between = _distance_sum(x, y) / (len(x) * len(y))
    within_x = _distance_sum(x, x) / (len(x) * (len(x) - 1))
    within_y = _distance_sum(y, y) / (len(y) * (len(y) - 1))
    return float(2 * between - within_x - within_y)


def _distance_sum(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of the Euclidean distances of every row of ``a`` to every row of ``b``."""
    return sum(float(np.sqrt(((a[i:i + _BLOCK, None, :] - b[None]) ** 2).sum(-1)).sum())
               for i in range(0, len(a), _BLOCK))
