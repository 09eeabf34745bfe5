"""The look-elsewhere effect: from the most significant of many local tests to a global p-value.

A search that looks at many windows and cuts reports its smallest local p-value; the
global p-value is the chance that background alone gives a local p-value that small
*somewhere*. Two estimates:

- :func:`global_pvalue` counts pseudo-experiments (background-only repetitions of the
  whole set of tests) whose smallest local p-value is at least as small as the observed
  one: ``(1 + k) / (1 + N)``, valid for any correlation between the tests.
- :func:`gross_vitells` extrapolates from the mean number of upcrossings of a low level
  by the local significance scanned along the windows (Gross & Vitells, EPJC 70 (2010) 525),
  for global p-values too small for the pseudo-experiments at hand.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["global_pvalue", "gross_vitells", "upcrossings"]


def global_pvalue(observed_min_p: float, null_min_p) -> float:
    """Global p-value of the observed smallest local p-value against pseudo-experiments.

    ``null_min_p`` (N,): the smallest local p-value of each background-only pseudo-experiment.
    Returns ``(1 + #{null <= observed}) / (1 + N)``: never below ``1 / (1 + N)``, so a result
    beyond what N pseudo-experiments can show is reported at that bound, not as zero.
    """
    null = np.asarray(null_min_p, dtype=np.float64).ravel()
    if null.size == 0 or not np.all(np.isfinite(null)):
        raise ValueError("null_min_p must be a non-empty array of finite p-values")
    if not 0 <= observed_min_p <= 1:
        raise ValueError(f"observed_min_p must be a p-value in [0, 1]; got {observed_min_p!r}")
    return float((1 + np.count_nonzero(null <= observed_min_p)) / (1 + null.size))


def upcrossings(z_scan, level: float) -> np.ndarray:
    """Times each scan (..., W) of local significance along W ordered windows rises above ``level``."""
    above = np.asarray(z_scan, dtype=np.float64) > level
    return np.count_nonzero(~above[..., :-1] & above[..., 1:], axis=-1) + above[..., 0]


def gross_vitells(z_local: float, mean_upcrossings: float, level: float) -> float:
    """Gross–Vitells global p-value of a local significance ``z_local`` (one-sided).

    ``mean_upcrossings``: the mean number of upcrossings of the significance ``level`` in
    background-only scans (:func:`upcrossings` averaged over pseudo-experiments; a few
    dozen suffice at a low level such as 0.5–1). With ``u = z²`` the bound is
    ``p_local + <N(u0)> exp(-(u - u0) / 2)``, capped at 1.
    """
    if mean_upcrossings < 0:
        raise ValueError(f"mean_upcrossings must be >= 0; got {mean_upcrossings!r}")
    if z_local <= level:
        return 1.0
    p_local = float(stats.norm.sf(z_local))
    return float(min(1.0, p_local + mean_upcrossings * np.exp(-(z_local**2 - level**2) / 2)))
