"""The variational autoencoder (Kingma & Welling 2014) with a Gaussian latent and a β-weighted KL term."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from likely._checks import positive
from likely.autoencoders.autoencoder import BACKBONE_CONSTRAINTS, OutputChoice, reconstruction_terms
from likely.autoencoders.base import BaseAutoencoder
from likely.nn import Trainer, build_decoder, build_encoder

__all__ = ["VariationalAutoencoder", "gaussian_kl"]

#: log-variances of the posterior are clipped to this range (variances 2e-9 … 2e4)
LOGVAR_RANGE = (-20.0, 10.0)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor, prior_mean: torch.Tensor | float = 0.0,
                prior_var: torch.Tensor | float = 1.0) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) ‖ N(prior_mean, prior_var)) of diagonal Gaussians in nats, summed over the last axis.

    ``mean``, ``logvar``: (n, L); the prior's mean and variance: numbers or (L,) tensors.
    KL = ½ Σ [σ²/s² + (μ − m)²/s² − 1 + log s² − log σ²].
    """
    prior_var = torch.as_tensor(prior_var, dtype=mean.dtype, device=mean.device)
    terms = logvar.exp() / prior_var + (mean - prior_mean) ** 2 / prior_var - 1 + prior_var.log() - logvar
    return 0.5 * terms.sum(-1)


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """A draw z = μ + σ ε, ε ~ N(0, 1), differentiable in μ and log σ²."""
    return mean + (0.5 * logvar).exp() * torch.randn_like(mean)


class BetaELBO:
    """Training of a variational model: the β-ELBO loss and its two terms as monitors, from the
    model's ``_terms(x, sample) -> (output, reconstruction (n,), kl (n,))`` at a draw of z."""

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        _, recon, kl = self._terms(x, sample=True)
        return (recon + self.beta * kl).mean()

    def _monitor(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _, recon, kl = self._terms(x, sample=True)
        return {"reconstruction": recon.mean(), "kl": kl.mean()}


class _Network(nn.Module):
    def __init__(self, shape, latent, channels, hidden, activation, output):
        super().__init__()
        self.encoder = build_encoder(shape, 2 * latent, channels=channels, hidden=hidden, activation=activation)
        self.decoder = build_decoder(latent, shape, channels=channels[::-1], hidden=hidden[::-1],
                                     activation=activation, output=output)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (clipped) log-variance of q(z | x), (n, latent) each."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)


class VariationalAutoencoder(OutputChoice, BetaELBO, BaseAutoencoder):
    """Variational autoencoder of vectors (MLP) or images (convolutional), trained on the reference class.

    The encoder gives a diagonal Gaussian q(z | x) = N(μ(x), σ²(x)) over ``latent``
    dimensions, a draw z = μ + σ ε (the reparameterization trick) is decoded, and the loss is
    the β-weighted negative ELBO per object, averaged over the batch:

        L = R(x, x̂) + β KL(q(z | x) ‖ N(0, 1)),   KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),

    with R the squared error summed over the features (``loss="mse"``: a Gaussian decoder of
    variance ½, up to a constant) or the binary cross-entropy summed over them (``"bce"``:
    a Bernoulli decoder). Scores are computed at z = μ (deterministic): ``"mse"`` and (with a
    sigmoid output) ``"bce"`` as per-feature means, ``"kl"`` (nats) and ``"elbo"`` = R + KL,
    the negative ELBO (β = 1) up to a constant.

    Parameters
    ----------
    latent, channels, hidden, activation, output, loss, power, normalize, trainer, device, random_state
        As in :class:`~likely.autoencoders.Autoencoder`.
    beta : float
        Weight β ≥ 0 of the KL term in the training loss (1: the ELBO).

    Attributes
    ----------
    input_shape_, n_features_in_, device_, model_
        As in :class:`BaseAutoencoder`.
    history_ : History
        Losses per epoch; ``monitors["reconstruction"]`` and ``monitors["kl"]`` hold the
        validation means of R and KL (a KL falling to zero is posterior collapse).

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import VariationalAutoencoder
    >>> from likely.nn import Trainer
    >>> X = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
    >>> vae = VariationalAutoencoder(latent=2, hidden=(8,), output="none", trainer=Trainer(epochs=1, progress=False),
    ...                              random_state=0).fit(X)
    >>> sorted(vae.scores(X[:3])), sorted(vae.history_.monitors)
    (['elbo', 'kl', 'mse'], ['kl', 'reconstruction'])
    """

    score_names = ("mse", "bce", "kl", "elbo")
    default_score = "elbo"
    _parameter_constraints = {**BACKBONE_CONSTRAINTS, "beta": positive(allow_zero=True)}

    def __init__(self, *, latent: int = 8, channels: Sequence[int] = (8, 16, 32), hidden: Sequence[int] = (64,),
                 activation: str = "leaky_relu", output: str = "sigmoid", loss: str = "mse", beta: float = 1.0,
                 power: float | None = None, normalize: bool = False, trainer: Trainer | None = None,
                 device: str = "auto", random_state: int | None = None) -> None:
        self.latent = latent
        self.channels = channels
        self.hidden = hidden
        self.activation = activation
        self.output = output
        self.loss = loss
        self.beta = beta
        self.power = power
        self.normalize = normalize
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def init_module(self, name: str) -> nn.Module:
        """The untrained network (``model_``) for ``input_shape_``."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self.input_shape_, self.latent, tuple(self.channels), tuple(self.hidden), self.activation,
                        self.output)

    def _terms(self, x: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction x̂, the summed reconstruction term R (n,) and KL (n,), at a draw of z or at z = μ."""
        mean, logvar = self.model_.posterior(x)
        x_hat = self.model_.decoder(reparameterize(mean, logvar) if sample else mean)
        if self.loss == "bce":
            recon = F.binary_cross_entropy(x_hat, x.clamp(0, 1), reduction="none")
        else:
            recon = (x_hat - x) ** 2
        return x_hat, recon.flatten(1).sum(1), gaussian_kl(mean, logvar)

    def _scores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x_hat, recon, kl = self._terms(x, sample=False)
        return {**reconstruction_terms(x, x_hat, self.output == "sigmoid"), "kl": kl, "elbo": recon + kl}

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self._terms(x, sample=False)[0]

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_.posterior(x)[0]
