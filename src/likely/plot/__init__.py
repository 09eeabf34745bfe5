"""Figures in the HEP style (matplotlib + mplhep)."""

from likely.plot.calo import plot_calibration
from likely.plot.common import figure, save_figure, styled
from likely.plot.density import plot_conditional_marginals, plot_history
from likely.plot.search import plot_score_distributions, plot_sculpting, plot_sic

__all__ = [
    "figure", "plot_calibration", "plot_conditional_marginals", "plot_history", "plot_score_distributions",
    "plot_sculpting", "plot_sic", "save_figure", "styled",
]
