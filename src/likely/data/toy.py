"""Toy distributions with exactly known densities, for tests, examples and the demo."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from likely._checks import check_positive

__all__ = ["conditional_gaussian_mixture", "resonant_toy"]


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


def resonant_toy(
    n_background: int, n_signal: int = 0, random_state: int | None = None
):
    """A dijet-like toy for resonant anomaly detection, with the LHCO feature names.

    Background: ``mjj`` (TeV) falls exponentially above 2.5 TeV; ``mj1``, ``delta_mj``
    (TeV) and ``tau21_j1``, ``tau21_j2`` are broad and drift slowly with ``mjj`` (as jet
    masses do in QCD). Signal: a resonance at ``mjj`` = 3.5 TeV (width 0.1 TeV) whose jets
    have masses near 0.1 and 0.5 TeV and two-prong substructure (smaller τ21); the signal
    overlaps the background in every feature, so no single cut isolates it.

    Returns an :class:`~likely.data.EventSet` with ``label`` 1 for signal, shuffled.
    """
    from likely.data.events import EventSet

    check_positive(n_background, "n_background", integer=True)
    check_positive(n_signal, "n_signal", integer=True, allow_zero=True)
    rng = np.random.default_rng(random_state)
    mjj = 2.5 + rng.exponential(0.6, n_background)
    drift = (mjj - 3.5) / 2
    background = {
        "mjj": mjj,
        "mj1": rng.gamma(2.0, 0.05, n_background) * (1 + 0.2 * drift),
        "delta_mj": rng.gamma(1.5, 0.1, n_background) * (1 + 0.2 * drift),
        "tau21_j1": np.clip(rng.normal(0.65 + 0.03 * drift, 0.15, n_background), 0.01, 1.0),
        "tau21_j2": np.clip(rng.normal(0.60 + 0.03 * drift, 0.15, n_background), 0.01, 1.0),
    }
    signal = {
        "mjj": rng.normal(3.5, 0.1, n_signal),
        "mj1": np.abs(rng.normal(0.1, 0.03, n_signal)),
        "delta_mj": np.abs(rng.normal(0.4, 0.08, n_signal)),
        "tau21_j1": np.clip(rng.normal(0.35, 0.12, n_signal), 0.01, 1.0),
        "tau21_j2": np.clip(rng.normal(0.4, 0.12, n_signal), 0.01, 1.0),
    }
    columns = {name: np.concatenate([background[name], signal[name]]) for name in background}
    label = np.concatenate([np.zeros(n_background), np.ones(n_signal)])
    return EventSet(columns, label=label).shuffle(rng)
