"""Local significance of an excess of counts over a background estimate with an uncertainty.

:func:`excess_pvalue` is the one-sided p-value of observing ``n`` or more events when the
background is ``b ± sigma``. With ``sigma = 0`` it is the exact Poisson tail. With an
uncertainty it is the Z_Bi of Cousins, Linnemann and Tucker (NIM A 595 (2008) 480): the
background estimate is treated as an auxiliary (sideband) measurement of
``n_off = b² / sigma²`` events with ratio ``tau = b / sigma²``, and the p-value is the
frequentist binomial one of the on/off problem,
``p = I_{1 / (1 + tau)}(n, n_off + 1)`` (the regularized incomplete beta function). It
is exact for small counts, where asymptotic formulas fail, and tends to the Poisson tail
as ``sigma -> 0``. Significances are ``Z = Φ⁻¹(1 - p)`` (one-sided).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = ["excess_pvalue", "p_to_z", "z_to_p"]


def excess_pvalue(observed, expected, sigma=0.0) -> np.ndarray:
    """One-sided p-value of ``observed`` or more events given background ``expected ± sigma``.

    Arrays broadcast; ``observed`` are counts (>= 0), ``expected`` > 0, ``sigma`` >= 0.
    A deficit gives p close to 1, never below the p of ``observed = expected``.
    """
    n, b, sigma = (np.asarray(value, dtype=np.float64) for value in (observed, expected, sigma))
    for value, name, low in ((n, "observed", 0.0), (sigma, "sigma", 0.0)):
        if not np.all(np.isfinite(value)) or np.any(value < low):
            raise ValueError(f"{name} must be finite and >= {low:g}")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("expected must be finite and > 0")
    n, b, sigma = np.broadcast_arrays(n, b, sigma)
    poisson = stats.poisson.sf(np.ceil(n) - 1, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = b / sigma**2
        n_off = b * tau
        on_off = special.betainc(np.maximum(n, 1e-300), n_off + 1, 1 / (1 + tau))
    p = np.where(sigma > 0, on_off, poisson)
    return np.where(n <= 0, 1.0, p)


def p_to_z(p) -> np.ndarray:
    """One-sided significance of p-value ``p``: ``Φ⁻¹(1 - p)`` (p = 0.5 → 0, 2.87e-7 → 5)."""
    return stats.norm.isf(np.asarray(p, dtype=np.float64))


def z_to_p(z) -> np.ndarray:
    """One-sided p-value of significance ``z``."""
    return stats.norm.sf(np.asarray(z, dtype=np.float64))
