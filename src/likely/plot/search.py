"""Figures of resonant searches: SIC curves with bands, the mjj spectrum after cuts, scan summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mplhep
import numpy as np
from matplotlib.ticker import MaxNLocator, NullFormatter

from likely.metrics import band, sic_curve
from likely.plot.common import figure, styled

__all__ = ["plot_max_sic_vs_s_over_b", "plot_max_sic_vs_window", "plot_sic", "plot_score_distributions",
           "plot_sculpting"]

#: one method's points: x -> max SIC of each run (seed) at that x
Points = Mapping[float, Sequence[float]]


@styled
def plot_sic(curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], min_background: int = 25):
    """SIC vs signal efficiency per method: median and 68 % band over runs.

    ``curves`` maps a method's label to its runs, each ``(labels, scores)`` of one test set.
    """
    fig, axes = figure()
    ax = axes[0, 0]
    grid = np.linspace(0.01, 1.0, 200)
    for label, runs in curves.items():
        points = [sic_curve(y, s, min_background=min_background) for y, s in runs]
        low, median, high = band([p[0] for p in points], [p[1] for p in points], grid)
        line, = ax.plot(grid, median, label=f"{label} ({len(runs)} run{'s' * (len(runs) > 1)})")
        ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.axhline(1.0, color="grey", linestyle=":", label="random")
    ax.set(xlabel=r"signal efficiency $\epsilon_S$", ylabel=r"SIC = $\epsilon_S\,/\,\epsilon_B^{1/2}$", xlim=(0, 1))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig


@styled
def plot_score_distributions(labels: np.ndarray, scores: Mapping[str, np.ndarray], bins: int = 50):
    """Normalized score histograms of test background and signal, one panel per method."""
    fig, axes = figure(ncols=len(scores))
    for ax, (name, score) in zip(axes[0], scores.items()):
        finite = np.isfinite(score)
        edges = np.histogram_bin_edges(score[finite], bins=bins)
        for value, text in ((0, "background"), (1, "signal")):
            counts, _ = np.histogram(score[finite & (labels == value)], bins=edges, density=True)
            mplhep.histplot(counts, edges, ax=ax, label=text)
        ax.set(xlabel=f"{name} score", ylabel="density", yscale="log")
        ax.legend(fontsize="small")
    return fig


@styled
def plot_sculpting(
    spectra: Mapping[str, tuple[np.ndarray, np.ndarray]],
    window: Sequence[float],
    efficiencies: Sequence[float] = (1.0, 0.2, 0.05, 0.01),
    bins: int = 40,
):
    """Background ``mjj`` spectra after cuts keeping a fraction of background, per method.

    ``spectra`` maps a method to ``(mjj, score)`` of a pure background sample; each
    histogram is normalized, so a change of shape (not of rate) shows sculpting. The
    signal region ``window`` = (low, high) is shaded.
    """
    fig, axes = figure(ncols=len(spectra))
    for ax, (name, (mjj, score)) in zip(axes[0], spectra.items()):
        edges = np.histogram_bin_edges(mjj, bins=bins, range=tuple(np.quantile(mjj, [0.001, 0.995])))
        for efficiency in efficiencies:
            passed = score >= np.quantile(score, 1 - efficiency) if efficiency < 1 else np.ones_like(score, bool)
            counts, _ = np.histogram(mjj[passed], bins=edges, density=True)
            mplhep.histplot(counts, edges, ax=ax, label=rf"$\epsilon_B$ = {efficiency:g}")
        ax.axvspan(*window, color="grey", alpha=0.15, label="signal region")
        ax.set(xlabel=r"$m_{jj}$ [TeV]", ylabel="normalized", yscale="log", title=name)
        ax.legend(fontsize="small")
    return fig


@styled
def plot_max_sic_vs_s_over_b(panels: Mapping[str, Mapping[str, Points]]):
    """Max SIC vs S/B (log x, in %): per method the median and 68 % band over seeds.

    ``panels`` maps a panel title (a window) to methods, each ``{S/B: [max SIC per seed]}``;
    S/B is a fraction. Points at S/B = 0 cannot be shown on the log axis and are left out.
    """
    fig, axes = _panels(len(panels))
    for ax, (title, methods) in zip(axes.flat, panels.items()):
        percent = {name: {100 * x: v for x, v in points.items() if x > 0} for name, points in methods.items()}
        _median_bands(ax, percent)
        ax.set(xscale="log", xlabel="S/B in the signal region [%]", title=title)
        ticks = sorted({x for points in percent.values() for x in points})
        ax.set_xticks(ticks, [f"{x:.2g}" for x in ticks])  # the injections, not powers of ten
        ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


@styled
def plot_max_sic_vs_window(panels: Mapping[str, Mapping[str, Points]]):
    """Max SIC vs window centre (TeV), one panel per injection (``panels`` as in
    :func:`plot_max_sic_vs_s_over_b`, with window centres as x)."""
    fig, axes = _panels(len(panels))
    for ax, (title, methods) in zip(axes.flat, panels.items()):
        _median_bands(ax, methods)
        ax.set(xlabel=r"signal-region centre in $m_{jj}$ [TeV]", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    return fig


def _panels(n: int, max_columns: int = 4):
    fig, axes = figure(ncols=min(n, max_columns), nrows=-(-n // max_columns))
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _median_bands(ax, methods: Mapping[str, Points]) -> None:
    """Median line with markers and a 16-84 % band over runs, per method; NaN runs ignored."""
    for name, points in methods.items():
        xs = sorted(x for x, values in points.items() if np.isfinite(values).any())
        if not xs:
            continue
        low, median, high = np.array([np.nanquantile(points[x], [0.16, 0.5, 0.84]) for x in xs]).T
        line, = ax.plot(xs, median, marker="o", label=name)
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.axhline(1.0, color="grey", linestyle=":", label="random")
    ax.set(ylabel=r"max SIC")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
