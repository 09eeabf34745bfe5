"""Distances between two samples of one observable, from their histograms."""

from __future__ import annotations

from typing import Any

import numpy as np

from likely._checks import check_positive

__all__ = ["common_bins", "separation_power"]


def common_bins(reference: Any, other: Any, bins: int = 50, quantiles: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """``bins + 1`` equal-width edges spanning both samples' finite values.

    ``quantiles`` trims the range to those quantiles of the *reference* (e.g. (0.001,
    0.999) against long tails); values outside the edges are then left out of the
    histograms.
    """
    check_positive(bins, "bins", integer=True)
    reference = _finite(reference, "reference")
    other = _finite(other, "other")
    if quantiles == (0.0, 1.0):
        low, high = min(reference.min(), other.min()), max(reference.max(), other.max())
    else:
        low, high = np.quantile(reference, quantiles)
    if not high > low:
        high = low + 1.0  # one-valued samples: one bin around the value
    return np.linspace(low, high, bins + 1)


def separation_power(reference: Any, other: Any, bins: int | np.ndarray = 50) -> float:
    """Separation power of two normalized histograms, ``0.5 * sum (p - q)^2 / (p + q)``.

    0 for identical histograms, 1 for histograms with no bin in common (the measure the
    CaloChallenge evaluation reports per high-level feature). ``bins`` is a number of
    equal-width bins over both samples (:func:`common_bins`) or the edges themselves.
    Non-finite values (undefined features) are left out.

    >>> separation_power([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    0.0
    >>> separation_power([0.0, 0.1], [5.0, 5.1], bins=2)
    1.0
    """
    reference = _finite(reference, "reference")
    other = _finite(other, "other")
    edges = common_bins(reference, other, bins) if np.isscalar(bins) else np.asarray(bins, dtype=np.float64)
    p = np.histogram(reference, edges)[0].astype(np.float64)
    q = np.histogram(other, edges)[0].astype(np.float64)
    if p.sum() == 0 or q.sum() == 0:
        raise ValueError("no value of one sample falls inside the bins")
    p, q = p / p.sum(), q / q.sum()
    total = p + q
    filled = total > 0
    return float(0.5 * np.sum((p[filled] - q[filled]) ** 2 / total[filled]))


def _finite(values: Any, name: str) -> np.ndarray:
    """The finite values of a 1-D sample (NaN marks an undefined feature, e.g. of an empty layer)."""
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be numeric: {error}") from None
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {values.shape}")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError(f"{name} has no finite values")
    return finite
