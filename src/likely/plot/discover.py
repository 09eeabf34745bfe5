"""Figures of a discovery: the kept mjj spectra with their background fit, the significance scan."""

from __future__ import annotations

from collections.abc import Sequence

import mplhep
import numpy as np

from likely.plot.common import figure, styled
from likely.stats import p_to_z

__all__ = ["plot_bump_hunts", "plot_significance_scan"]


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
    """Local significance vs signal-region centre, one line per cut, with the global significance of the best."""
    fig, axes = figure(height=5.0)
    ax = axes[0, 0]
    centres = [(row[0].window.low + row[0].window.high) / 2 for row in discovery.tests]
    for j, efficiency in enumerate(discovery.efficiencies):
        z = [row[j].z_local if row[j].tested else np.nan for row in discovery.tests]
        ax.plot(centres, z, marker="o", label=rf"$\epsilon$ = {efficiency:g}")
    z_global = float(p_to_z(discovery.p_global))
    ax.axhline(z_global, color="black", linestyle="--",
               label=f"global Z of the best: {z_global:.2f} ({discovery.null_min_p.size} pseudo-exp.)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(xlabel=r"signal-region centre $m_{jj}$ [TeV]", ylabel=r"local significance Z")
    ax.legend(fontsize="small")
    return fig
