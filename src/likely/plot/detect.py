"""Figures of one-class / unsupervised anomaly detection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from likely.plot.common import figure, styled

__all__ = ["plot_score_vs_condition"]

#: (label value, legend name, colour) of the point classes
_CLASSES = ((0, "reference (label 0)", "tab:blue"), (1, "label 1", "tab:red"), (-1, "unlabelled", "tab:gray"))


@styled
def plot_score_vs_condition(condition: np.ndarray, score: np.ndarray, label: np.ndarray,
                            thresholds: tuple[Sequence[float], Sequence[float]] | None = None,
                            threshold_label: str = "threshold", xlabel: str = r"leading-jet $p_T$ [GeV]"):
    """Anomaly score against the condition (Flux+Mutability's figure 4), one colour per label.

    Parameters
    ----------
    condition, score : ndarray (N,)
        Each object's condition (e.g. the leading jet's pT in GeV) and anomaly score.
    label : ndarray (N,) of int
        0 reference, 1 other class, -1 unlabelled.
    thresholds : (values, edges), optional
        A threshold per condition bin (n,) and the bin edges (n + 1,), drawn as steps.
    threshold_label : str
        The thresholds' legend entry.
    xlabel : str
        The condition's axis label, with its unit.

    Returns
    -------
    The figure.
    """
    fig, axes = figure()
    ax = axes[0, 0]
    for value, name, color in _CLASSES:
        chosen = label == value
        if chosen.any():
            ax.scatter(condition[chosen], score[chosen], s=2, alpha=0.4, color=color, label=name)
    if thresholds is not None:
        ax.stairs(*thresholds, color="black", label=threshold_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("anomaly score")
    ax.legend(markerscale=5)
    return fig
