"""Seed-000 figures: log-likelihood histograms, SIC vs rejection, max-SIC heatmap."""

import numpy as np
import pytest

from likely.plot import plot_log_likelihoods, plot_sic_heatmap, plot_sic_vs_rejection, save_figure


def test_seed_000_figures_are_written(tmp_path, rng):
    background = rng.normal(size=4000)
    signals = {"z = 0.33 m": rng.normal(-2, 1, size=1000), "z = 1.44 m": rng.normal(-1, 1, size=1000)}
    paths = [save_figure(plot_log_likelihoods(background, signals), tmp_path / "loglik.png")]
    curves = {label: (np.r_[np.zeros(4000), np.ones(1000)], -np.r_[background, values])
              for label, values in signals.items()}
    paths.append(save_figure(plot_sic_vs_rejection(curves), tmp_path / "sic.png"))
    heat = rng.uniform(1, 10, size=(4, 10))
    paths.append(save_figure(plot_sic_heatmap(heat, [0.005, 0.05, 0.5, 5], np.linspace(0.33, 1.44, 10).round(2)),
                             tmp_path / "heatmap.png"))
    assert all(path.stat().st_size > 1000 for path in paths)


def test_heatmap_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="rows x columns"):
        plot_sic_heatmap(np.ones((2, 3)), [1, 2, 3], [1, 2])
