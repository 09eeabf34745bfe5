"""Calorimeter figures: likelihood anomaly detection (seed 000) and energy calibration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mplhep
import numpy as np
from matplotlib.ticker import NullFormatter

from likely.metrics import sic_vs_rejection
from likely.plot.common import figure, styled

__all__ = ["plot_calibration", "plot_feature_histograms", "plot_log_likelihoods", "plot_sic_heatmap",
           "plot_sic_vs_rejection"]


@styled
def plot_log_likelihoods(background: np.ndarray, signals: Mapping[str, np.ndarray], bins: int = 60):
    """Normalized histograms of log-likelihoods: background filled, each signal a line (seed 000, fig. 2)."""
    finite = [values[np.isfinite(values)] for values in (background, *signals.values())]
    edges = np.histogram_bin_edges(np.concatenate(finite), bins=bins)
    fig, axes = figure()
    ax = axes[0, 0]
    counts, _ = np.histogram(finite[0], bins=edges, density=True)
    mplhep.histplot(counts, edges, ax=ax, histtype="fill", alpha=0.4, color="grey", label="background")
    for label, values in zip(signals, finite[1:]):
        counts, _ = np.histogram(values, bins=edges, density=True)
        mplhep.histplot(counts, edges, ax=ax, label=label)
    ax.set(xlabel=r"$\log p$", ylabel="density", yscale="log")
    ax.legend(fontsize="small")
    return fig


@styled
def plot_sic_vs_rejection(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], min_background: int = 25,
                          styles: Mapping[str, dict] | None = None):
    """SIC vs background rejection 1/eps_B per signal (seed 000, figs. 3-8).

    ``curves`` maps a label to ``(labels, scores)`` or ``(labels, scores, sample_weight)``
    (1 = signal, scores higher = more anomalous). ``styles`` maps a label to keyword
    arguments of ``Axes.plot`` (color, linestyle, ...). The dashed line is a random
    classifier's SIC = eps_B^(1/2).
    """
    fig, axes = figure()
    ax = axes[0, 0]
    high = 1.0
    for label, (y, score, *weight) in curves.items():
        rejection, sic = sic_vs_rejection(y, score, min_background=min_background,
                                          sample_weight=weight[0] if weight else None)
        ax.plot(rejection, sic, label=label, **(styles or {}).get(label, {}))
        high = max(high, float(rejection.max(initial=1.0)))
    grid = np.geomspace(1.0, high, 50)
    ax.plot(grid, 1 / np.sqrt(grid), "k--", label="random")
    ax.set(xscale="log", xlabel=r"background rejection $1/\epsilon_B$",
           ylabel=r"SIC = $\epsilon_S\,/\,\epsilon_B^{1/2}$")
    ax.set_ylim(bottom=0)
    if len(curves) > 5:  # many curves: the legend goes beside the axes
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(fontsize="small")
    return fig


@styled
def plot_sic_heatmap(values: np.ndarray, rows: Sequence, columns: Sequence,
                     row_label: str = r"$m_\chi$ [GeV]", column_label: str = "z [m]",
                     value_label: str = "max SIC"):
    """Heatmap of a number per (row, column), e.g. max SIC per (m_chi, z) (seed 000, fig. 5)."""
    values = np.asarray(values, dtype=float)
    if values.shape != (len(rows), len(columns)):
        raise ValueError(f"values has shape {values.shape}, but rows x columns is {(len(rows), len(columns))}")
    fig, axes = figure(width=3.0 + 1.1 * len(columns), height=2.0 + 0.9 * len(rows))
    ax = axes[0, 0]
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", color="w", fontsize="x-small")
    ax.set(xticks=range(len(columns)), xticklabels=[str(c) for c in columns], xlabel=column_label,
           yticks=range(len(rows)), yticklabels=[str(r) for r in rows], ylabel=row_label)
    ax.tick_params(axis="x", labelrotation=45)
    ax.minorticks_off()
    fig.colorbar(image, ax=ax, label=value_label)
    return fig


@styled
def plot_calibration(results: Mapping[str, Mapping[str, np.ndarray]]):
    """Bias (left) and resolution (right) of E_hat / E_inc vs E_inc for several estimators.

    ``results`` maps a label (e.g. ``"max. likelihood"``, ``"regression"``) to the dict
    returned by :func:`likely.calo.bias_resolution`. Returns the figure.
    """
    if not results:
        raise ValueError("results is empty: give at least one estimator's bias_resolution output")
    fig, axes = figure(ncols=2)
    bias_ax, resolution_ax = axes[0]
    for label, table in results.items():
        bias_ax.plot(table["center"], 100 * table["bias"], "o-", label=label)
        resolution_ax.plot(table["center"], 100 * table["resolution"], "o-", label=label)
    bias_ax.axhline(0.0, color="gray", lw=1, ls="--")
    for ax, name in ((bias_ax, r"bias: median($\hat E / E_{inc}$) - 1 [%]"),
                     (resolution_ax, r"resolution $\sigma_R / R$ [%]")):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide on a short log range
        ax.set_xlabel(r"$E_{inc}$ [GeV]")
        ax.set_ylabel(name)
        ax.legend()
    return fig


@styled
def plot_feature_histograms(reference, generated, names: Sequence[str], bins: int = 40, ncols: int = 4,
                            labels: tuple[str, str] = ("reference", "generated")):
    """Normalized histograms of high-level features (``EventSet`` columns ``names``), reference filled."""
    nrows = -(-len(names) // ncols)
    fig, axes = figure(ncols=ncols, nrows=nrows, width=4.0, height=3.5)
    for ax, name in zip(axes.flat, names):
        ref, gen = (values[np.isfinite(values)] for values in (reference.column(name), generated.column(name)))
        edges = np.linspace(*np.quantile(ref, [0.001, 0.999]), bins + 1) if ref.size and np.ptp(ref) > 0 else bins
        for values, label, style in ((ref, labels[0], "fill"), (gen, labels[1], "step")):
            counts, edges = np.histogram(values, bins=edges)
            density = counts / max(counts.sum(), 1) / np.diff(edges)  # all outside the range: an empty line
            mplhep.histplot(density, edges, ax=ax, histtype=style, alpha=0.4 if style == "fill" else 1.0, label=label)
        ax.set(xlabel=name.replace("_", " "), ylabel="density")
    axes.flat[0].legend(fontsize="small")
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    return fig
