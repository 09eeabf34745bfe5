"""Figures in the HEP style (matplotlib + mplhep)."""

from likely.plot.common import figure, save_figure
from likely.plot.density import plot_conditional_marginals, plot_history

__all__ = ["figure", "plot_conditional_marginals", "plot_history", "save_figure"]
