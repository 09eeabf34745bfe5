"""Figures in the HEP style (matplotlib + mplhep)."""

from likely.plot.abcd import plot_abcd
from likely.plot.calo import (
    plot_calibration, plot_feature_histograms, plot_log_likelihoods, plot_sic_heatmap, plot_sic_vs_rejection,
)
from likely.plot.common import figure, save_figure, styled
from likely.plot.discover import plot_bump_hunts, plot_null_pvalues, plot_selected_features, plot_significance_scan
from likely.plot.latent_map import plot_latent_map
from likely.plot.density import plot_conditional_marginals, plot_history
from likely.plot.detect import plot_monitors, plot_rejection, plot_roc, plot_score_vs_condition
from likely.plot.nae import plot_nae_energies, plot_nae_samples
from likely.plot.search import (
    plot_max_sic_vs_s_over_b, plot_max_sic_vs_window, plot_score_distributions, plot_sculpting, plot_sic,
)

__all__ = [
    "figure", "plot_abcd", "plot_bump_hunts", "plot_calibration", "plot_conditional_marginals", "plot_feature_histograms", "plot_history", "plot_latent_map", "plot_log_likelihoods",
    "plot_max_sic_vs_s_over_b", "plot_max_sic_vs_window", "plot_monitors", "plot_nae_energies", "plot_nae_samples", "plot_rejection", "plot_roc", "plot_null_pvalues", "plot_score_distributions", "plot_score_vs_condition", "plot_sculpting", "plot_selected_features",
    "plot_significance_scan", "plot_sic", "plot_sic_heatmap", "plot_sic_vs_rejection", "save_figure", "styled",
]
