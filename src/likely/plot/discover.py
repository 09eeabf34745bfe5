"""Figures of a discovery: the kept mjj spectra with their background fit, the significance scan,
the selected events' features, the pseudo-experiments' p-values."""

from __future__ import annotations

from collections.abc import Sequence

import mplhep
import numpy as np

from likely.plot.common import figure, styled
from likely.stats import p_to_z, z_to_p

__all__ = ["plot_bump_hunts", "plot_null_pvalues", "plot_selected_features", "plot_significance_scan"]


@styled
def plot_bump_hunts(tests: Sequence, edges: np.ndarray):
    """One window's kept spectra (one column per cut): counts, the sideband fit and its
    prediction in the signal region (shaded), and the pulls ``(n - fit) / sqrt(fit)`` below.

    ``tests``: :class:`likely.search.discover.WindowTest` of one window, loosest cut first.
    """
    fig, axes = figure(ncols=len(tests), nrows=2, height=3.5)
    for column, test in enumerate(tests):
        top, bottom = axes[0, column], axes[1, column]
        mplhep.histplot(test.counts, edges, ax=top, histtype="errorbar", yerr=np.sqrt(test.counts), color="black",
                        label=f"kept ({test.observed:.0f} in SR)")
        for ax in (top, bottom):
            ax.axvspan(test.window.low, test.window.high, color="grey", alpha=0.15)
        title = rf"$\epsilon$ = {test.efficiency:g}"
        if test.tested:
            mplhep.histplot(test.expected, edges, ax=top, color="tab:red",
                            label=f"{test.n_params}-par. dijet fit (SR: {test.background:.1f} ± {test.background_error:.1f})")
            with np.errstate(divide="ignore", invalid="ignore"):
                pulls = np.where(test.expected > 0, (test.counts - test.expected) / np.sqrt(test.expected), 0.0)
            bottom.bar((edges[1:] + edges[:-1]) / 2, pulls, width=np.diff(edges), color="tab:red", alpha=0.6)
            title += f", Z$_{{local}}$ = {test.z_local:.2f}"
        else:
            title += ", not fitted"
        top.set(yscale="log", ylabel="events / bin", title=title)
        top.legend(fontsize="x-small")
        bottom.axhline(0, color="black", linewidth=0.8)
        bottom.set(xlabel=r"$m_{jj}$ [TeV]", ylabel="pull")
    return fig


@styled
def plot_significance_scan(discovery):
    """Local significance vs signal-region centre, one line per cut (colour) and window width
    (line style), with the global significance of the best."""
    fig, axes = figure(width=8.0, height=6.0)
    ax = axes[0, 0]
    scans = discovery.scans
    for k, scan in enumerate(scans):
        windows = [discovery.tests[i][0].window for i in scan]
        centres = [(w.low + w.high) / 2 for w in windows]
        width = f", width {windows[0].high - windows[0].low:.3g} TeV" if len(scans) > 1 else ""
        for j, efficiency in enumerate(discovery.efficiencies):
            tests = [discovery.tests[i][j] for i in scan]
            ax.plot(centres, [t.z_local if t.tested else np.nan for t in tests], marker="o", color=f"C{j}",
                    linestyle=("-", "--", ":", "-.")[k % 4], label=rf"$\epsilon$ = {efficiency:g}{width}")
    z_global = float(p_to_z(discovery.p_global))
    ax.axhline(z_global, color="black", linewidth=2, alpha=0.5,
               label=f"global Z of the best: {z_global:.2f} ({discovery.null_min_p.size} pseudo-exp.)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(xlabel=r"signal-region centre $m_{jj}$ [TeV]", ylabel=r"local significance Z")
    fig.legend(loc="outside lower center", ncols=2, fontsize="x-small")
    return fig


@styled
def plot_selected_features(X: np.ndarray, names: Sequence[str], mjj: np.ndarray, scores: np.ndarray, test,
                           bins: int = 40):
    """The features (N, D) of the events a cut keeps, in the signal region and in the sidebands.

    ``mjj``, ``scores`` (N,): the fit range's events and one window's out-of-fold scores;
    ``test``: that window's :class:`likely.search.discover.WindowTest` (its efficiency is
    the cut). Each panel is normalized: the kept signal-region events (black) against all
    signal-region events (grey) show what the cut selects; against the kept sideband events
    (red) they show whether the selection differs where the excess is.
    """
    X = np.asarray(X, dtype=np.float64)
    in_sr = (mjj >= test.window.low) & (mjj < test.window.high)
    kept = scores >= np.quantile(scores, 1 - test.efficiency)
    fig, axes = figure(ncols=len(names), width=4.0, height=4.0)
    for i, (ax, name) in enumerate(zip(axes[0], names)):
        edges = np.histogram_bin_edges(X[:, i], bins=bins, range=tuple(np.quantile(X[:, i], [0.001, 0.999])))
        for rows, label, style in ((in_sr, "SR, all", {"color": "grey", "histtype": "fill", "alpha": 0.4}),
                                   (in_sr & kept, "SR, kept", {"color": "black"}),
                                   (~in_sr & kept, "sidebands, kept", {"color": "tab:red", "linestyle": "--"})):
            if rows.any():
                counts = np.histogram(X[rows, i], edges, density=True)[0]
                mplhep.histplot(counts, edges, ax=ax, label=f"{label} ({rows.sum()})", **style)
        ax.set(xlabel=name, ylabel="normalized")
    axes[0, 0].legend(fontsize="x-small")
    fig.suptitle(f"signal region {test.window.low:g}-{test.window.high:g} TeV, "
                 rf"$\epsilon$ = {test.efficiency:g}")
    return fig


@styled
def plot_null_pvalues(discovery, bins: int = 20):
    """Local p-values of every window and cut in the background-only pseudo-experiments, and of the data.

    Uniform when the fits and the p-value are unbiased (the discrete Z_Bi p-values of
    sparse tight cuts pile up near 1: conservative); the data's local p-values are the
    ticks. This checks the fit and the p-value; sculpting by the classifier is checked
    by the same analysis on signal-free data (docs/search.md).
    """
    z = discovery.null_z[np.isfinite(discovery.null_z)]
    fig, axes = figure(height=4.5)
    ax = axes[0, 0]
    ax.hist(z_to_p(z), bins=bins, range=(0, 1), density=True, histtype="step", color="black",
            label=f"pseudo-experiments ({discovery.null_z.shape[0]} × tests)")
    ax.axhline(1.0, color="grey", linestyle="--", label="uniform")
    data = [t.p_local for row in discovery.tests for t in row if t.tested]
    ax.plot(data, np.full(len(data), 0.05), "|", color="tab:red", markersize=14, label="data")
    ax.set(xlabel="local p-value", ylabel="density", xlim=(0, 1))
    ax.legend(fontsize="small")
    return fig
