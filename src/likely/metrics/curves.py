"""ROC curves, AUC, significance improvement (SIC) and rejection at fixed efficiency.

Labels ``y`` are 0 (background) and 1 (signal); scores are higher for more signal-like
(more anomalous) events, and an event passes a cut when ``score >= threshold``. The
signal efficiency eps_S is the true-positive rate (tpr) and the background efficiency
eps_B the false-positive rate (fpr).

The significance improvement characteristic is ``SIC = eps_S / sqrt(eps_B)``. At small
eps_B it is dominated by statistical noise, so SIC curves apply a *floor on background
statistics*: a cut passed by N_B (unweighted) background events measures eps_B with a
relative statistical uncertainty of 1/sqrt(N_B), and points with fewer than
``min_background`` passing background events are dropped. The default of 25 keeps only
points whose eps_B is known to 20%.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as _skm

from .._checks import check_array, check_fraction, check_labels, check_positive, check_weights

__all__ = [
    "auc",
    "background_efficiency_at_signal_efficiency",
    "max_sic",
    "rejection_at_signal_efficiency",
    "roc_curve",
    "sic_at_background_efficiency",
    "sic_curve",
    "sic_vs_rejection",
]


def _check_scores(
    y: Any, score: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate labels (N,), scores (N,) and optional weights (N,) of one data set."""
    score = check_array(score, "score", ndim=1, dtype=np.float64)
    labels = check_labels(y, score.shape[0], "y", reference="score")
    weights = check_weights(sample_weight, score.shape[0], reference="score")
    return labels, score, None if weights is None else weights.astype(np.float64)


def _interp(x: float, xp: np.ndarray, fp: np.ndarray, *, last: bool) -> float:
    """``np.interp`` on non-decreasing ``xp``; ties keep the first (or ``last``) point."""
    if last:
        keep = xp.shape[0] - 1 - np.unique(xp[::-1], return_index=True)[1]
    else:
        keep = np.unique(xp, return_index=True)[1]
    return float(np.interp(x, xp[keep], fp[keep]))


def roc_curve(
    y: Any, score: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve with every distinct threshold kept (``drop_intermediate=False``).

    Parameters
    ----------
    y : array of shape (N,)
        Labels in {0, 1}; both classes must be present.
    score : array of shape (N,)
        Scores, higher = more signal-like.
    sample_weight : array of shape (N,), optional
        Non-negative per-event weights.

    Returns
    -------
    fpr, tpr, thresholds : arrays of shape (K,)
        Background and signal efficiencies of the cuts ``score >= thresholds``, with
        fpr and tpr non-decreasing; the first threshold is ``inf`` (nothing passes).
    """
    y, score, weights = _check_scores(y, score, sample_weight)
    return _skm.roc_curve(y, score, sample_weight=weights, drop_intermediate=False)


def auc(y: Any, score: Any, sample_weight: Any = None) -> float:
    """Area under the ROC curve; arguments as in :func:`roc_curve`."""
    y, score, weights = _check_scores(y, score, sample_weight)
    return float(_skm.roc_auc_score(y, score, sample_weight=weights))


def _background_passing(y: np.ndarray, score: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of (unweighted) background events with ``score >= threshold``, shape (K,)."""
    background = np.sort(score[y == 0])
    return background.shape[0] - np.searchsorted(background, thresholds, side="left")


def sic_curve(
    y: Any, score: Any, *, min_background: int = 25, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Significance improvement ``tpr / sqrt(fpr)`` along the ROC curve.

    Points with ``fpr == 0`` and points whose cut is passed by fewer than
    ``min_background`` unweighted background events are dropped: with N_B passing
    events eps_B has a relative statistical uncertainty of 1/sqrt(N_B), so the default
    25 keeps only eps_B known to 20%. Use ``min_background=0`` to keep every point.

    Parameters
    ----------
    y, score, sample_weight : arrays of shape (N,)
        As in :func:`roc_curve`.
    min_background : int, default 25
        Floor on the number of background events passing the cut.

    Returns
    -------
    tpr, sic : arrays of shape (K,)
        Signal efficiency (non-decreasing) and SIC of the surviving points; K may be 0.
    """
    fpr, tpr = _floored_roc(y, score, min_background, sample_weight)
    return tpr, tpr / np.sqrt(fpr)


def sic_vs_rejection(
    y: Any, score: Any, *, min_background: int = 25, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Significance improvement ``eps_S / sqrt(eps_B)`` against background rejection ``1 / eps_B``.

    The curve of seed 000's figures (CaloFlow anomaly detection). Same arguments and
    statistics floor as :func:`sic_curve`.

    Returns
    -------
    rejection, sic : arrays of shape (K,)
        ``1 / eps_B`` (non-increasing) and the SIC at each surviving cut.
    """
    fpr, tpr = _floored_roc(y, score, min_background, sample_weight)
    return 1.0 / fpr, tpr / np.sqrt(fpr)


def _floored_roc(y, score, min_background, sample_weight) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) of the ROC points with fpr > 0 passed by >= ``min_background`` background events."""
    check_positive(min_background, "min_background", integer=True, allow_zero=True)
    y, score, weights = _check_scores(y, score, sample_weight)
    fpr, tpr, thresholds = _skm.roc_curve(y, score, sample_weight=weights, drop_intermediate=False)
    keep = (fpr > 0) & (_background_passing(y, score, thresholds) >= min_background)
    return fpr[keep], tpr[keep]


def max_sic(y: Any, score: Any, *, min_background: int = 25, sample_weight: Any = None) -> float:
    """Maximum of :func:`sic_curve` (same arguments).

    Raises
    ------
    ValueError
        If no point of the curve passes the ``min_background`` floor.
    """
    _, sic = sic_curve(y, score, min_background=min_background, sample_weight=sample_weight)
    if sic.size == 0:
        raise ValueError(
            f"no cut is passed by at least min_background={min_background} background events "
            f"(there are {np.count_nonzero(np.asarray(y) == 0)} in total); "
            "lower min_background or use more background"
        )
    return float(sic.max())


def sic_at_background_efficiency(
    y: Any, score: Any, eps_b: float, *, min_background: int = 25, sample_weight: Any = None
) -> float:
    """SIC ``eps_S / sqrt(eps_B)`` at a fixed background efficiency ``eps_b``.

    eps_S is interpolated linearly on the ROC curve at fpr = ``eps_b``. The cut must be
    passed by at least ``min_background`` background events, i.e. ``eps_b`` must be at
    least ``min_background / N_B`` (N_B = number of background events); see
    :func:`sic_curve`.

    Parameters
    ----------
    y, score, sample_weight : arrays of shape (N,)
        As in :func:`roc_curve`.
    eps_b : float in (0, 1)
        Background efficiency, e.g. 1e-3.
    min_background : int, default 25
        Floor on the number of background events passing the cut.
    """
    check_fraction(eps_b, "eps_b", allow_zero=False)
    check_positive(min_background, "min_background", integer=True, allow_zero=True)
    y, score, weights = _check_scores(y, score, sample_weight)
    n_background = np.count_nonzero(y == 0)
    if eps_b * n_background < min_background:
        raise ValueError(
            f"eps_b={eps_b!r} is below the statistics floor min_background / N_B = "
            f"{min_background}/{n_background} = {min_background / n_background:.3g}; "
            "the background efficiency would be unreliable"
        )
    fpr, tpr, _ = _skm.roc_curve(y, score, sample_weight=weights, drop_intermediate=False)
    return _interp(eps_b, fpr, tpr, last=True) / np.sqrt(eps_b)


def background_efficiency_at_signal_efficiency(
    y: Any, score: Any, eps_s: float, sample_weight: Any = None
) -> float:
    """Background efficiency (false-positive rate) ``eps_B`` at a fixed signal efficiency ``eps_s``.

    eps_B is interpolated linearly on the ROC curve at tpr = ``eps_s`` (seed 004's Table 5
    reports it at ``eps_s = 0.4``).

    Parameters
    ----------
    y, score, sample_weight : arrays of shape (N,)
        As in :func:`roc_curve`.
    eps_s : float in (0, 1)
        Signal efficiency, e.g. 0.4.

    Returns
    -------
    float
        eps_B in [0, 1].
    """
    check_fraction(eps_s, "eps_s", allow_zero=False)
    fpr, tpr, _ = roc_curve(y, score, sample_weight)
    return _interp(eps_s, tpr, fpr, last=False)


def rejection_at_signal_efficiency(
    y: Any, score: Any, eps_s: float, sample_weight: Any = None
) -> float:
    """Background rejection ``1 / eps_B`` at a fixed signal efficiency ``eps_s``
    (:func:`background_efficiency_at_signal_efficiency`); ``inf`` if no background passes.
    Arguments as there, e.g. ``eps_s = 0.3``."""
    eps_b = background_efficiency_at_signal_efficiency(y, score, eps_s, sample_weight)
    return np.inf if eps_b == 0 else 1.0 / eps_b
