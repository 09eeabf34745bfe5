"""Toy distributions with exactly known densities, for tests, examples and the demo."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from likely._checks import check_positive

__all__ = ["conditional_gaussian_mixture"]


def conditional_gaussian_mixture(
    n: int, dim: int = 2, random_state: int | None = None, width: float = 0.6
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw from an equal-weight two-Gaussian mixture whose modes move with a condition.

    The condition ``c`` is uniform in [-1, 1]; the modes sit at ``±(1.5 + 0.5 c) u`` with
    ``u = (1, -1, 1, ...)``, each an isotropic Gaussian of standard deviation ``width``.

    Returns
    -------
    X : ndarray, shape (n, dim), float32
    cond : ndarray, shape (n,), float32
    log_p : ndarray, shape (n,), float64
        The true ``log p(X | cond)``.
    """
    check_positive(n, "n", integer=True)
    check_positive(dim, "dim", integer=True)
    check_positive(width, "width")
    rng = np.random.default_rng(random_state)
    cond = rng.uniform(-1, 1, n)
    sign = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    mode = (1.5 + 0.5 * cond)[:, None] * np.resize([1.0, -1.0], dim)
    X = sign[:, None] * mode + width * rng.normal(size=(n, dim))
    norm = dim * math.log(width * math.sqrt(2 * math.pi))
    log_components = [-0.5 * (((X - s * mode) / width) ** 2).sum(1) - norm for s in (1.0, -1.0)]
    log_p = logsumexp(np.stack(log_components), axis=0) + math.log(0.5)
    return X.astype(np.float32), cond.astype(np.float32), log_p
