"""Figures of the detectors: score against the condition."""

import numpy as np

from likely.plot import plot_score_vs_condition, save_figure


def test_score_vs_condition_draws_each_label_and_the_threshold_steps(tmp_path):
    rng = np.random.default_rng(0)
    pt, score = rng.uniform(450, 800, 30), rng.normal(size=30)
    label = np.repeat([0, 1, -1], 10)
    fig = plot_score_vs_condition(pt, score, label, ([0.5, 1.0], [450.0, 600.0, 800.0]), threshold_label="99 %")
    ax = fig.axes[0]
    assert [c.get_label() for c in ax.collections[:3]] == ["reference (label 0)", "label 1", "unlabelled"]
    np.testing.assert_array_equal(ax.collections[1].get_offsets()[:, 0], pt[10:20])
    assert ax.get_legend().get_texts()[-1].get_text() == "99 %"
    assert save_figure(fig, tmp_path / "f.png").stat().st_size > 0
    only_reference = plot_score_vs_condition(pt[:10], score[:10], label[:10])
    assert len(only_reference.axes[0].collections) == 1
