"""Figures of a normalized autoencoder's training: what catches a collapsing sampler."""

from __future__ import annotations

from typing import Any

import numpy as np

from likely.plot.common import figure, styled

__all__ = ["plot_nae_energies", "plot_nae_samples"]


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


@styled
def plot_nae_energies(history: Any, smooth: int = 1):
    """Per NAE step: mean positive and negative energies, the loss E⁺ − E⁻, the chains' acceptance.

    A healthy run keeps E⁺ and E⁻ close and the loss fluctuating around zero; a negative
    energy running away from the positive one (or collapsing to zero) signals sampler collapse.

    Parameters
    ----------
    history : NAEHistory
        ``NormalizedAutoencoder.history_``.
    smooth : int
        Running mean over this many steps (1: raw values).

    Returns
    -------
    The figure (three panels side by side).
    """
    fig, axes = figure(ncols=3, width=5.5, height=4.5)
    energies, losses, rates = axes[0]
    start = max(smooth, 1) - 1
    for key, label in (("positive_energy", r"$E(x^+)$, data"), ("negative_energy", r"$E(x^-)$, samples")):
        values = _running_mean(getattr(history, key), smooth)
        energies.plot(np.arange(start, start + len(values)), values, label=label)
    energies.set(xlabel="NAE step", ylabel="mean energy (MSE)", yscale="log")
    energies.legend()
    loss = _running_mean(history.nae_loss, smooth)
    losses.plot(np.arange(start, start + len(loss)), loss, color="black")
    losses.axhline(0, color="grey", linestyle=":")
    losses.set(xlabel="NAE step", ylabel=r"$E(x^+) - E(x^-)$")
    for key, label in (("latent_acceptance", "latent chain"), ("input_acceptance", "input chain")):
        values = _running_mean(getattr(history, key), smooth)
        rates.plot(np.arange(start, start + len(values)), values, label=label)
    rates.set(xlabel="NAE step", ylabel="Metropolis acceptance", ylim=(0, 1.05))
    rates.legend()
    return fig


@styled
def plot_nae_samples(history: Any, channel: int = 0):
    """The negative samples kept during training: one row per kept step, one column per sample.

    Parameters
    ----------
    history : NAEHistory
        ``NormalizedAutoencoder.history_`` of a model of images.
    channel : int
        The channel shown of multi-channel images.

    Returns
    -------
    The figure.
    """
    samples = history.samples
    if samples.ndim not in (4, 5) or not samples.size:
        raise ValueError(f"history holds no image samples to show (samples of shape {samples.shape})")
    images = samples[:, :, channel] if samples.ndim == 5 else samples
    rows, cols = images.shape[:2]
    fig, axes = figure(ncols=cols, nrows=rows, width=1.6, height=1.6)
    for row, step in enumerate(history.sample_steps):
        for col in range(cols):
            ax = axes[row, col]
            ax.imshow(images[row, col], origin="lower", cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(f"step {step}", fontsize=9)
    return fig
