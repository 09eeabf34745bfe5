"""Plots for density estimators: training curves and generated-vs-reference marginals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mplhep
import numpy as np

from likely.nn import History
from likely.plot.common import figure, styled

__all__ = ["plot_history", "plot_conditional_marginals"]


@styled
def plot_history(histories: Mapping[str, History]):
    """Training and validation loss per epoch for each named model; returns the figure."""
    fig, axes = figure(ncols=len(histories))
    for ax, (name, history) in zip(axes[0], histories.items()):
        epochs = np.arange(1, history.epochs + 1)
        ax.plot(epochs, history.train_loss, label="training")
        ax.plot(epochs, history.val_loss, label="validation")
        ax.axvline(history.best_epoch + 1, color="grey", linestyle=":", label="best")
        ax.set(xlabel="epoch", ylabel="loss", title=name)
        ax.legend()
    return fig


@styled
def plot_conditional_marginals(
    reference: tuple[np.ndarray, np.ndarray],
    generated: Mapping[str, tuple[np.ndarray, np.ndarray]],
    cond_bins: Sequence[float],
    names: Sequence[str] | None = None,
    bins: int = 40,
):
    """Marginal of every feature in slices of the condition: reference vs each model.

    Parameters
    ----------
    reference : (X, cond)
        Reference points (N, D) and their condition (N,).
    generated : mapping name -> (X, cond)
        Samples of each model with the condition they were drawn at.
    cond_bins : sequence of float
        Edges of the condition slices (one row of panels per slice).
    names : sequence of str, optional
        Feature names for the x-axes.
    """
    X_ref, c_ref = reference
    n_features = X_ref.shape[1]
    names = names or [f"$x_{i}$" for i in range(n_features)]
    slices = list(zip(cond_bins[:-1], cond_bins[1:]))
    fig, axes = figure(ncols=n_features, nrows=len(slices))
    for row, (low, high) in enumerate(slices):
        for col in range(n_features):
            ax = axes[row, col]
            edges = np.histogram_bin_edges(X_ref[:, col], bins=bins)
            _hist(ax, X_ref[(c_ref >= low) & (c_ref < high), col], edges, "reference", histtype="fill", alpha=0.3)
            for label, (X, c) in generated.items():
                _hist(ax, X[(c >= low) & (c < high), col], edges, label)
            ax.set(xlabel=names[col], ylabel="density")
            ax.set_title(f"{low:.2g} ≤ c < {high:.2g}", fontsize="medium")
    axes[0, 0].legend(fontsize="small")
    return fig


def _hist(ax, values, edges, label, **style):
    counts, _ = np.histogram(values, bins=edges, density=True)
    mplhep.histplot(counts, edges, ax=ax, label=label, **style)
