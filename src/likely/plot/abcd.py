"""Figure of an ABCD tail search: the score cut's efficiency along the tail feature."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from likely.plot.common import figure, styled

__all__ = ["plot_abcd"]


@styled
def plot_abcd(score: np.ndarray, t: np.ndarray, t_cut: float, efficiencies: Sequence[float], bins: int = 30,
              t_label: str = "t"):
    """Fraction of events above each score cut vs the tail feature ``t`` (N,), with binomial errors.

    ABCD rests on this fraction being flat in ``t`` for background: below ``t_cut`` it is
    the efficiency by construction, and above it (the tail, shaded) it stays flat unless
    a signal (or a residual correlation) lifts it. Each cut keeps ``efficiency`` of the
    events with ``t <= t_cut``, as :func:`likely.search.abcd_at`.
    """
    score, t = np.asarray(score, dtype=np.float64), np.asarray(t, dtype=np.float64)
    fig, axes = figure()
    ax = axes[0, 0]
    edges = np.quantile(t, np.linspace(0, 1, bins + 1))  # equal-population bins: the tail is sparse
    totals = np.histogram(t, edges)[0]
    centres, used = (edges[1:] + edges[:-1]) / 2, totals > 0
    for efficiency in efficiencies:
        cut = np.quantile(score[t <= t_cut], 1 - efficiency)
        kept = np.histogram(t[score > cut], edges)[0]
        fraction = kept[used] / totals[used]
        error = np.sqrt(np.clip(fraction * (1 - fraction), 1e-12, None) / totals[used])
        ax.errorbar(centres[used], fraction, yerr=error, fmt="o", markersize=3, label=rf"$\epsilon$ = {efficiency:g}")
        ax.axhline(efficiency, color="grey", linestyle=":", linewidth=0.8)
    ax.axvspan(t_cut, edges[-1], color="grey", alpha=0.15, label="tail (A, B)")
    ax.set(xlabel=t_label, ylabel="fraction above the score cut", yscale="log")
    ax.legend(fontsize="small")
    return fig
