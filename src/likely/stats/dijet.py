"""The dijet function: the smooth falling mjj spectrum of QCD, fitted to a binned spectrum.

The family used by the LHC dijet searches (and by CWoLa hunting's bump hunt), with
``x = mjj / sqrt_s``::

    f(x) = exp(q0) (1 - x)^q1 / x^(q2 + q3 ln x + q4 ln^2 x)

with 3, 4 or 5 parameters (``q3``, ``q4`` zero for the smaller ones). :func:`fit_dijet`
fits it to binned counts by an extended binned Poisson likelihood (iminuit), optionally
with some bins masked (the signal region of a bump hunt): the fit then sees only the
sidebands and predicts the masked bins. :func:`choose_dijet_fit` picks the number of
parameters with the test of the dijet searches: a parameter is added while the fit
improves by more than a chi-square with one degree of freedom allows at ``alpha``
(Wilks' theorem for nested fits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from likely._checks import check_array

__all__ = ["DIJET_PARAMETERS", "DijetFit", "choose_dijet_fit", "dijet_density", "fit_dijet"]

#: the allowed numbers of parameters of the dijet function
DIJET_PARAMETERS = (3, 4, 5)
#: Gauss-Legendre nodes per bin for the bin integrals
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)


def dijet_density(mjj: np.ndarray, params: np.ndarray, sqrt_s: float = 13.0) -> np.ndarray:
    """The dijet function at ``mjj`` (same units as ``sqrt_s``, TeV by default), events per unit mjj.

    ``params`` (3, 4 or 5,): ``(q0, q1, q2[, q3[, q4]])`` as in the module docstring.
    """
    x = np.asarray(mjj, dtype=np.float64) / sqrt_s
    q = np.zeros(5)
    q[: len(params)] = params
    log_x = np.log(x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.exp(q[0] + q[1] * np.log1p(-x) - (q[2] + q[3] * log_x + q[4] * log_x**2) * log_x)


def _bin_integrals(edges: np.ndarray, params: np.ndarray, sqrt_s: float) -> np.ndarray:
    """Expected counts per bin (B,): the dijet function integrated over each bin."""
    half = np.diff(edges) / 2
    centre = (edges[1:] + edges[:-1]) / 2
    points = centre[:, None] + half[:, None] * _NODES[None, :]
    return (dijet_density(points, params, sqrt_s) @ _WEIGHTS) * half


@dataclass(frozen=True)
class DijetFit:
    """A dijet-function fit to a binned spectrum.

    Attributes
    ----------
    params, covariance : ndarray (P,), (P, P)
        Best-fit parameters and their covariance (Hesse).
    edges : ndarray (B + 1,)
        Bin edges of the spectrum, in the units of ``sqrt_s``.
    fitted : ndarray (B,) bool
        The bins the fit saw (False: masked, e.g. the signal region).
    nll : float
        Minimum of the extended binned negative log-likelihood (up to a constant).
    chi2, ndof : float, int
        Poisson deviance of the fitted bins and its degrees of freedom (bins - parameters):
        the goodness of fit.
    sqrt_s : float
    """

    params: np.ndarray
    covariance: np.ndarray
    edges: np.ndarray
    fitted: np.ndarray
    nll: float
    chi2: float
    ndof: int
    sqrt_s: float

    @property
    def n_params(self) -> int:
        return len(self.params)

    def expected(self, params: np.ndarray | None = None) -> np.ndarray:
        """Expected counts in every bin (B,), masked ones included."""
        return _bin_integrals(self.edges, self.params if params is None else params, self.sqrt_s)

    def predict(self, bins: np.ndarray) -> tuple[float, float]:
        """Expected count summed over ``bins`` (bool (B,) or indices) and its 1σ uncertainty from the fit."""
        select = np.zeros(len(self.edges) - 1, bool)
        select[bins] = True
        total = float(self.expected()[select].sum())
        gradient = self._gradient(select)
        return total, float(np.sqrt(max(gradient @ self.covariance @ gradient, 0.0)))

    def _gradient(self, select: np.ndarray) -> np.ndarray:
        """d(expected count in ``select``)/d(params), by central differences."""
        steps = 1e-5 * np.maximum(1.0, np.abs(self.params))
        gradient = np.empty(self.n_params)
        for i, step in enumerate(steps):
            up, down = self.params.copy(), self.params.copy()
            up[i] += step
            down[i] -= step
            gradient[i] = (self.expected(up)[select].sum() - self.expected(down)[select].sum()) / (2 * step)
        return gradient


def fit_dijet(counts, edges, *, mask=None, n_params: int = 4, sqrt_s: float = 13.0) -> DijetFit:
    """Fit the dijet function with ``n_params`` parameters to binned ``counts``.

    Parameters
    ----------
    counts : array (B,)
        Events per bin (non-negative).
    edges : array (B + 1,)
        Increasing bin edges, in the units of ``sqrt_s`` (TeV by default), below ``sqrt_s``.
    mask : array (B,) bool, optional
        True for bins the fit must not see (the signal region); default: none.
    n_params : {3, 4, 5}
    sqrt_s : float
        Collision energy that scales ``x = mjj / sqrt_s``.

    Raises ``ValueError`` naming the argument for bad input, or if the fit does not converge.
    """
    from iminuit import Minuit

    counts, edges, fitted = _check_spectrum(counts, edges, mask, sqrt_s)
    if n_params not in DIJET_PARAMETERS:
        raise ValueError(f"n_params must be one of {DIJET_PARAMETERS}; got {n_params!r}")
    if fitted.sum() <= n_params:
        raise ValueError(f"the fit sees {int(fitted.sum())} bins, too few for {n_params} parameters")
    n, widths = counts[fitted], np.diff(edges)[fitted]
    centres = ((edges[1:] + edges[:-1]) / 2)[fitted]
    # The parameters are nearly degenerate (ln x, ln² x, ln³ x): Minuit works in the basis
    # theta = R q, with R from the QR decomposition of the Fisher-weighted design, where the
    # Hessian is close to the identity; the result is mapped back to q.
    design = _design(centres / sqrt_s, n_params)
    _, R = np.linalg.qr(np.sqrt(np.maximum(n, 1.0))[:, None] * design)

    def nll(theta):
        mu = _bin_integrals(edges, np.linalg.solve(R, theta), sqrt_s)[fitted]
        if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return 1e300
        return float(np.sum(mu - n * np.log(mu)))

    minuit = Minuit(nll, R @ _initial_params(n, centres, widths, n_params, sqrt_s))
    minuit.errordef = Minuit.LIKELIHOOD
    minuit.strategy = 1
    minuit.migrad(ncall=20_000)
    if not minuit.valid:
        minuit.migrad(ncall=20_000)  # a second pass from the first one's end often converges
    if not minuit.valid:
        raise ValueError(f"the {n_params}-parameter dijet fit did not converge (edm {minuit.fmin.edm:.3g})")
    minuit.hesse()
    R_inv = np.linalg.inv(R)
    params = R_inv @ np.array(minuit.values)
    mu = _bin_integrals(edges, params, sqrt_s)[fitted]
    return DijetFit(params=params, covariance=R_inv @ np.array(minuit.covariance) @ R_inv.T, edges=edges, fitted=fitted,
                    nll=float(minuit.fval), chi2=float(poisson_deviance(n, mu)), ndof=int(fitted.sum() - n_params),
                    sqrt_s=sqrt_s)


def choose_dijet_fit(counts, edges, *, mask=None, alpha: float = 0.05, sqrt_s: float = 13.0) -> DijetFit:
    """The dijet fit with the fewest parameters that more parameters do not significantly improve.

    Starting from 3 parameters, the next one is added while ``-2 Δ ln L`` exceeds the
    ``1 - alpha`` quantile of a chi-square with one degree of freedom (Wilks). A fit that
    does not converge stops the search. Arguments as in :func:`fit_dijet`.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}")
    threshold = stats.chi2.ppf(1 - alpha, df=1)
    best = fit_dijet(counts, edges, mask=mask, n_params=DIJET_PARAMETERS[0], sqrt_s=sqrt_s)
    for n_params in DIJET_PARAMETERS[1:]:
        try:
            candidate = fit_dijet(counts, edges, mask=mask, n_params=n_params, sqrt_s=sqrt_s)
        except ValueError:
            break
        if 2 * (best.nll - candidate.nll) <= threshold:
            break
        best = candidate
    return best


def poisson_deviance(n: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance ``2 Σ [mu - n + n ln(n / mu)]`` (chi-square-like goodness of fit)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(n > 0, n * np.log(n / mu), 0.0)
    return float(2 * np.sum(mu - n + log_term))


def _initial_params(n, centres, widths, n_params, sqrt_s):
    """Least-squares fit of ln(density) on the non-empty bins: a start that needs no tuning per sample."""
    keep = n > 0
    if keep.sum() < n_params:
        raise ValueError(f"counts have {int(keep.sum())} non-empty fitted bins, too few for {n_params} parameters")
    design = _design(centres[keep] / sqrt_s, n_params)
    weights = np.sqrt(n[keep])  # Poisson: var(ln n) ≈ 1 / n
    target = np.log(n[keep] / widths[keep])
    solution, *_ = np.linalg.lstsq(design * weights[:, None], target * weights, rcond=None)
    return solution


def _design(x: np.ndarray, n_params: int) -> np.ndarray:
    """The columns (N, P) of ln f(x) = design @ params."""
    log_x = np.log(x)
    return np.column_stack([np.ones_like(x), np.log1p(-x), -log_x, -log_x**2, -log_x**3])[:, :n_params]


def _check_spectrum(counts, edges, mask, sqrt_s):
    counts = check_array(counts, "counts", ndim=1, dtype=np.float64)
    edges = check_array(edges, "edges", ndim=1, dtype=np.float64)
    if len(edges) != len(counts) + 1:
        raise ValueError(f"edges must have len(counts) + 1 = {len(counts) + 1} entries; got {len(edges)}")
    if np.any(counts < 0):
        raise ValueError("counts must be >= 0")
    if np.any(np.diff(edges) <= 0):
        raise ValueError("edges must increase")
    if not (0 < edges[0] and edges[-1] < sqrt_s):
        raise ValueError(f"edges must lie in (0, sqrt_s = {sqrt_s}); got [{edges[0]}, {edges[-1]}]")
    fitted = np.ones(len(counts), bool)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != counts.shape:
            raise ValueError(f"mask must have the shape of counts {counts.shape}; got {mask.shape}")
        fitted = ~mask
    return counts, edges, fitted
