"""Calorimeter figures: energy-calibration bias and resolution."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from likely.plot.common import figure, styled

__all__ = ["plot_calibration"]


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
        ax.set_xlabel(r"$E_{inc}$ [GeV]")
        ax.set_ylabel(name)
        ax.legend()
    return fig
