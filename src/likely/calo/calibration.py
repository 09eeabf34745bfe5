"""Energy calibration: maximum likelihood with CaloFlow (seed 002) and a direct-regression baseline.

The maximum-likelihood estimate of a shower's incident energy maximizes the learned
conditional likelihood, ``E_hat = argmax_E log p(shower | E)``. Unlike a regression
trained on a sample, it does not depend on the training sample's E_inc spectrum (the
prior). The search runs on all showers at once: a grid in log E, then golden-section
refinement inside the bracket around each shower's best grid point.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from likely._checks import check_array, check_energies, check_fitted, check_positive, check_showers, instance, seed, validate_params, widths
from likely._persist import Saveable
from likely.calo.caloflow import CaloFlow
from likely.classify import NNRegressor
from likely.nn import Trainer, progress_bar

__all__ = [
    "EnergyRegressor",
    "bias_resolution",
    "maximize_batched",
    "maximum_likelihood_energy",
]

log = logging.getLogger(__name__)

_INV_PHI = (math.sqrt(5) - 1) / 2  # 1 / golden ratio


def maximize_batched(
    fn: Callable[[np.ndarray], np.ndarray],
    low: Any,
    high: Any,
    grid: int = 32,
    iterations: int = 30,
    progress: bool = False,
) -> np.ndarray:
    """Maximize ``fn`` over x in [low, high] separately for each of N rows, all rows at once.

    ``fn`` takes x (N,) (one point per row) and returns (N,) values; ``low`` and ``high``
    are (N,) arrays (or broadcast to the longer of them). First a grid of
    ``grid`` points, then ``iterations`` golden-section steps inside the two grid cells
    around each row's best grid point (each step shrinks the bracket by 0.618). Costs
    ``grid + iterations + 2`` calls of ``fn``. Returns the argmax (N,) float64.
    """
    check_positive(grid, "grid", integer=True)
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    if grid < 3:
        raise ValueError(f"grid must be >= 3; got {grid}")
    low, high = np.broadcast_arrays(np.asarray(low, np.float64), np.asarray(high, np.float64))
    if not (high > low).all():
        raise ValueError("high must exceed low in every row")
    fraction = np.linspace(0.0, 1.0, grid)
    points = low[None] + fraction[:, None] * (high - low)[None]  # (grid, N)
    values = np.stack([fn(x) for x in progress_bar(points, desc="grid", enabled=progress)])
    best = np.argmax(np.where(np.isnan(values), -np.inf, values), axis=0)  # NaN: impossible
    rows = np.arange(points.shape[1])
    a = points[np.clip(best - 1, 0, grid - 1), rows]
    b = points[np.clip(best + 1, 0, grid - 1), rows]
    c, d = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
    fc, fd = fn(c), fn(d)
    for _ in progress_bar(range(iterations), desc="golden section", enabled=progress):
        left = fc >= fd  # the maximum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new, d_new = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
        f_new = fn(np.where(left, c_new, d_new))
        # left: (c, d) <- (c_new, c); right: (c, d) <- (d, d_new); values follow their points
        c, d = np.where(left, c_new, d), np.where(left, c, d_new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    return (a + b) / 2


def maximum_likelihood_energy(
    model: CaloFlow,
    showers: Any,
    bounds: tuple[float, float] | None = None,
    grid: int = 32,
    iterations: int = 30,
    random_state: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Maximum-likelihood incident energy (N,) in GeV of each shower (N, n_voxels) under ``model``.

    Maximizes ``log p_I(E_i | E) + log p_II(f | E_i, E)`` over ``log E`` in ``bounds``
    (GeV; default: the model's training range ``e_inc_range_``), with one noise draw
    per shower (seeded by ``random_state``) shared by all hypotheses.
    """
    check_fitted(model, "flow_ii_")
    showers = check_showers(showers, n_voxels=model.n_voxels_)
    low, high = model.e_inc_range_ if bounds is None else bounds
    if not 0 < low < high:
        raise ValueError(f"bounds must satisfy 0 < low < high (GeV); got {(low, high)}")
    energies, ratios, _, _ = model.prepare(showers, np.ones(len(showers), np.float32), random_state)
    log.info("maximum-likelihood energy of %d showers in [%g, %g] GeV", len(showers), low, high)

    def log_likelihood(log_e: np.ndarray) -> np.ndarray:
        flow_i, flow_ii = model.flow_terms(energies, ratios, np.exp(log_e).astype(np.float32))
        return flow_i + flow_ii

    n = len(showers)
    log_e = maximize_batched(log_likelihood, np.full(n, math.log(low)), np.full(n, math.log(high)),
                             grid, iterations, progress)
    return np.exp(log_e).astype(np.float32)


class EnergyRegressor(Saveable, BaseEstimator):
    """Direct-regression baseline: an MLP (:class:`~likely.classify.NNRegressor`) predicting log E_inc from the shower.

    Inputs: ``log E_dep`` and the voxel energies divided by ``E_dep``, standardized;
    target: standardized ``log E_inc``; mean-squared-error loss. Its estimate depends on
    the training sample's E_inc spectrum (it is biased towards the spectrum's centre at
    its edges), which the maximum-likelihood estimate avoids.

    Parameters
    ----------
    hidden : sequence of int
        Hidden-layer widths.
    trainer : Trainer or None
        Training settings; None uses ``Trainer()``'s defaults.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.

    Attributes
    ----------
    regressor_ : NNRegressor
        The trained network on (log E_dep, voxels / E_dep).
    n_features_in_ : int
        Voxels per shower seen at fit.
    """

    _parameter_constraints = {"hidden": widths(), "trainer": instance(Trainer) | None, "random_state": seed()}

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (256, 256, 256),
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    @staticmethod
    def _features(showers: np.ndarray) -> np.ndarray:
        e_dep = showers.sum(axis=1, keepdims=True, dtype=np.float64)
        return np.concatenate([np.log(e_dep), showers / e_dep], axis=1).astype(np.float32)

    def fit(self, showers: Any, e_inc: Any) -> EnergyRegressor:
        """Train on showers (N, n_voxels) with their incident energies (N,) (same units)."""
        validate_params(self)
        showers = check_showers(showers)
        e_inc = check_energies(e_inc, len(showers))
        self.n_features_in_ = showers.shape[1]
        regressor = NNRegressor(hidden=tuple(self.hidden), trainer=self.trainer, device=self.device,
                                random_state=self.random_state)
        self.regressor_ = regressor.fit(self._features(showers), np.log(e_inc))
        return self

    def predict(self, showers: Any) -> np.ndarray:
        """Estimated incident energy (N,) of each shower, in the training units."""
        check_fitted(self, "regressor_")
        showers = check_showers(showers, n_voxels=self.n_features_in_)
        log_e = self.regressor_.predict(self._features(showers)).astype(np.float64)
        return np.exp(log_e).astype(np.float32)


def bias_resolution(e_true: Any, e_pred: Any, bins: Any = 10) -> dict[str, np.ndarray]:
    """Bias and resolution of the response ``R = E_pred / E_true`` in bins of E_true.

    ``bins``: number of logarithmic bins over the range of ``e_true``, or bin edges.
    Per bin: ``bias = median(R) - 1`` and ``resolution`` = half the 16-84 % interquantile
    range of R divided by its median (a Gaussian's sigma / mean, robust to tails);
    ``count`` showers. Bins with fewer than 2 showers give NaN.

    Returns a dict of arrays: ``edges`` (B+1,), ``center`` (B,, geometric), ``bias``,
    ``resolution``, ``count``.
    """
    e_true = check_array(e_true, "e_true", ndim=1, dtype=np.float64)
    e_pred = check_array(e_pred, "e_pred", ndim=1, dtype=np.float64)
    if len(e_pred) != len(e_true):
        raise ValueError(f"e_pred has {len(e_pred)} entries, but e_true has {len(e_true)}")
    if (e_true <= 0).any():
        raise ValueError("e_true must be positive")
    if np.ndim(bins) == 0:
        check_positive(bins, "bins", integer=True)
        edges = np.geomspace(e_true.min(), e_true.max() * (1 + 1e-9), int(bins) + 1)
    else:
        edges = check_array(bins, "bins", ndim=1, dtype=np.float64)
    which = np.digitize(e_true, edges) - 1
    response = e_pred / e_true
    n_bins = len(edges) - 1
    quantiles = np.full((n_bins, 3), np.nan)
    count = np.bincount(which[(which >= 0) & (which < n_bins)], minlength=n_bins)
    for k in np.flatnonzero(count >= 2):  # loop over bins, not showers
        quantiles[k] = np.quantile(response[which == k], [0.16, 0.5, 0.84])
    return {
        "edges": edges,
        "center": np.sqrt(edges[:-1] * edges[1:]),
        "bias": quantiles[:, 1] - 1,
        "resolution": (quantiles[:, 2] - quantiles[:, 0]) / 2 / quantiles[:, 1],
        "count": count,
    }
