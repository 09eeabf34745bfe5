"""Figures of one-class / unsupervised anomaly detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from likely.metrics import roc_curve
from likely.nn import History
from likely.plot.common import figure, styled

__all__ = ["plot_monitors", "plot_rejection", "plot_roc", "plot_score_vs_condition"]

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


@styled
def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]]):
    """ROC curves, signal efficiency ε_S against background efficiency ε_B, one per score.

    ``curves`` maps a label to ``(y, score)`` (y: 1 = signal; higher score = more anomalous).
    """
    fig, axes = figure()
    ax = axes[0, 0]
    for label, (y, score) in curves.items():
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "k:", label="random")
    ax.set(xlabel=r"background efficiency $\epsilon_B$", ylabel=r"signal efficiency $\epsilon_S$", xlim=(0, 1),
           ylim=(0, 1))
    ax.legend(fontsize="small")
    return fig


@styled
def plot_rejection(curves: Mapping[str, tuple[np.ndarray, np.ndarray]]):
    """Background rejection 1/ε_B against signal efficiency ε_S (log scale), one curve per score.

    ``curves`` as in :func:`plot_roc`; cuts passed by no background are left out.
    """
    fig, axes = figure()
    ax = axes[0, 0]
    for label, (y, score) in curves.items():
        fpr, tpr, _ = roc_curve(y, score)
        passed = fpr > 0
        ax.plot(tpr[passed], 1 / fpr[passed], label=label)
    grid = np.linspace(0.01, 1, 100)
    ax.plot(grid, 1 / grid, "k:", label="random")
    ax.set(xlabel=r"signal efficiency $\epsilon_S$", ylabel=r"background rejection $1/\epsilon_B$", yscale="log",
           xlim=(0, 1))
    ax.legend(fontsize="small")
    return fig


@styled
def plot_monitors(history: History):
    """Training and validation loss, and every quantity the model monitored, per epoch (one panel each)."""
    panels = {"loss": None, **history.monitors}
    fig, axes = figure(ncols=len(panels), width=5.0, height=4.5)
    epochs = np.arange(1, history.epochs + 1)
    for ax, (name, values) in zip(axes[0], panels.items()):
        if values is None:
            ax.plot(epochs, history.train_loss, label="training")
            ax.plot(epochs, history.val_loss, label="validation")
            ax.legend(fontsize="small")
        else:
            ax.plot(epochs[:len(values)], values)
        ax.set(xlabel="epoch", ylabel=name)
    return fig
