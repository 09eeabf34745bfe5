"""Uncertainties of performance metrics: bands over repeated runs and the bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import check_array, check_positive
from .curves import _check_scores

__all__ = ["band", "bootstrap"]


def _check_curves(xs: Sequence[Any], ys: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validate a list of curves; returns (x, y) pairs sorted by x."""
    if len(xs) == 0:
        raise ValueError("xs is empty; give at least one curve")
    if len(ys) != len(xs):
        raise ValueError(f"ys has {len(ys)} curves, but xs has {len(xs)}")
    curves = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        x = check_array(x, f"xs[{i}]", ndim=1, dtype=np.float64)
        y = check_array(y, f"ys[{i}]", ndim=1, dtype=np.float64)
        if y.shape != x.shape:
            raise ValueError(f"ys[{i}] has {y.shape[0]} points, but xs[{i}] has {x.shape[0]}")
        order = np.argsort(x, kind="stable")
        curves.append((x[order], y[order]))
    return curves


def band(
    xs: Sequence[Any],
    ys: Sequence[Any],
    grid: Any,
    *,
    quantiles: Sequence[float] = (0.16, 0.5, 0.84),
) -> np.ndarray:
    """Quantiles across runs of curves interpolated on a common grid.

    Each curve (e.g. SIC vs signal efficiency from one seed) is interpolated linearly
    on ``grid``, with NaN outside its own x-range; quantiles are then taken over the
    runs that cover each grid point. The default gives the median and the central 68%
    band.

    Parameters
    ----------
    xs, ys : sequences of R arrays
        The curves; ``xs[i]`` and ``ys[i]`` have the same shape (K_i,), any order.
    grid : array of shape (G,)
        Common x values.
    quantiles : sequence of Q floats in [0, 1]
        Quantiles to report.

    Returns
    -------
    array of shape (Q, G)
        NaN where no run covers the grid point.
    """
    curves = _check_curves(xs, ys)
    grid = check_array(grid, "grid", ndim=1, dtype=np.float64)
    quantiles = check_array(quantiles, "quantiles", ndim=1, dtype=np.float64)
    if ((quantiles < 0) | (quantiles > 1)).any():
        raise ValueError(f"quantiles must lie in [0, 1]; got {quantiles.tolist()}")
    runs = np.stack([np.interp(grid, x, y, left=np.nan, right=np.nan) for x, y in curves])
    with warnings.catch_warnings():  # grid points no run covers give NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(runs, quantiles, axis=0)


def bootstrap(
    metric: Callable[..., float],
    y: Any,
    score: Any,
    *,
    n_resamples: int = 200,
    random_state: int | np.random.Generator | None = None,
    sample_weight: Any = None,
) -> tuple[float, float]:
    """Value of a metric and its bootstrap standard deviation.

    Resampling is stratified by class: each resample draws, with replacement, as many
    background and signal events as the data have, so both classes are always present.

    Parameters
    ----------
    metric : callable
        ``metric(y, score)`` -> float, e.g. :func:`~likely.metrics.auc`; called as
        ``metric(y, score, sample_weight=w)`` when ``sample_weight`` is given. Use
        ``functools.partial`` to fix other arguments.
    y, score, sample_weight : arrays of shape (N,)
        As in :func:`~likely.metrics.roc_curve`.
    n_resamples : int, default 200
        Number of bootstrap resamples (at least 2).
    random_state : int, Generator or None
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    value, std : float
        The metric on the full data and the standard deviation (ddof=1) over resamples.
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable; got {type(metric).__name__}")
    check_positive(n_resamples, "n_resamples", integer=True)
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be >= 2; got {n_resamples}")
    y, score, weights = _check_scores(y, score, sample_weight)

    def evaluate(index: np.ndarray | slice) -> float:
        kwargs = {} if weights is None else {"sample_weight": weights[index]}
        return float(metric(y[index], score[index], **kwargs))

    rng = np.random.default_rng(random_state)
    classes = [np.flatnonzero(y == label) for label in (0, 1)]
    values = [
        evaluate(np.concatenate([rng.choice(members, members.shape[0]) for members in classes]))
        for _ in range(n_resamples)
    ]
    return evaluate(slice(None)), float(np.std(values, ddof=1))
