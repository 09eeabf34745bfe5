"""The Dirichlet variational autoencoder of jet images (Dillon, Plehn, Sauer, Sorrenson, SciPost Phys. 11, 061 (2021)).

Images are normalized to unit sum and flattened; a dense encoder gives a Gaussian
q(z | x) over K dimensions whose softmax r = softmax(z) lies on the simplex, the latent
space of a Dirichlet prior Dir(α); a bias-free linear decoder followed by a softmax over
the pixels turns the mixture weights r into a distribution p over the pixels. The prior is
the Laplace approximation of Dir(α) in the softmax basis (MacKay 1998; Srivastava &
Sutton, ICLR 2017), a diagonal Gaussian with

    μ_k = log α_k − (1/K) Σ_i log α_i,    σ_k² = (1/α_k)(1 − 2/K) + (1/K²) Σ_i 1/α_i,

so the KL term is that of two Gaussians. The reconstruction term is the categorical
cross-entropy −Σ_i x_i log p_i of the unit-sum image x.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from likely._checks import Constraint, check_fitted, check_positive, instance, options, positive, widths
from likely.autoencoders.base import BaseAutoencoder
from likely.autoencoders.variational import LOGVAR_RANGE, BetaELBO, gaussian_kl, reparameterize
from likely.nn import Trainer, build_encoder, to_numpy
from likely.nn.mlp import ACTIVATIONS

__all__ = ["DirichletVAE", "dirichlet_laplace_prior"]


def dirichlet_laplace_prior(alpha: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (K,) float64 of the Laplace approximation of Dir(α) in the softmax basis (module docstring)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    k = len(alpha)
    mean = np.log(alpha) - np.log(alpha).mean()
    var = (1 - 2 / k) / alpha + (1 / alpha).sum() / k**2
    return mean, var


def _check_alpha(value: Any, name: str) -> None:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) < 2:
        raise TypeError(f"{name} must be a sequence of at least 2 concentrations > 0; got {value!r}")
    for concentration in value:
        check_positive(concentration, name)


class _Network(nn.Module):
    def __init__(self, n_features, k, hidden, activation, batch_norm):
        super().__init__()
        self.encoder = build_encoder((n_features,), 2 * k, hidden=hidden, activation=activation,
                                     batch_norm=batch_norm)
        self.topics = nn.Linear(k, n_features, bias=False)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (clipped) log-variance of q(z | x), (n, K) each."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)

    def log_pixels(self, z: torch.Tensor) -> torch.Tensor:
        """log p over the pixels (n, D) decoded from the softmax of z."""
        return F.log_softmax(self.topics(F.softmax(z, dim=1)), dim=1)


class DirichletVAE(BetaELBO, BaseAutoencoder):
    """Dirichlet VAE (module docstring) of images or non-negative vectors, always normalized to unit sum.

    Loss per object (batch mean): −Σ_i x_i log p_i + β KL(q(z | x) ‖ prior). Scores, at
    z = μ: ``"reconstruction"`` (the cross-entropy, nats), ``"kl"`` (nats) and ``"elbo"``,
    their sum (the negative ELBO). :meth:`encode` gives the mixture weights softmax(μ), the
    paper's interpretable latent; :meth:`topics` the image each pure component decodes to.

    Parameters
    ----------
    alpha : sequence of float
        Dirichlet concentrations, one per latent dimension K (seed 004's baseline: (1.0, 0.25, 0.1)).
    hidden : sequence of int
        Hidden widths of the dense encoder (Dillon et al.'s code: one layer of 100, SELU;
        seed 004's baseline: 512 with batch normalization).
    activation : str
        Hidden activation of the encoder.
    batch_norm : bool
        Batch normalization in the encoder's hidden layers.
    beta : float
        Weight β ≥ 0 of the KL term in the training loss.
    power : float or None
        pTⁿ remapping of every pixel before the normalization.
    trainer, device, random_state
        As in :class:`~likely.autoencoders.Autoencoder`.

    Attributes
    ----------
    input_shape_, n_features_in_, device_, model_
        As in :class:`BaseAutoencoder`.
    history_ : History
        Losses per epoch; ``monitors["reconstruction"]`` and ``monitors["kl"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import DirichletVAE
    >>> from likely.nn import Trainer
    >>> images = np.random.default_rng(0).uniform(size=(64, 6, 6)).astype("float32")
    >>> dvae = DirichletVAE(hidden=(16,), trainer=Trainer(epochs=1, progress=False), random_state=0).fit(images)
    >>> dvae.encode(images[:2]).sum(1).round(5).tolist(), dvae.topics().shape
    ([1.0, 1.0], (3, 1, 6, 6))
    """

    score_names = ("reconstruction", "kl", "elbo")
    default_score = "elbo"
    _parameter_constraints = {
        "alpha": Constraint(_check_alpha, "sequence of at least 2 numbers > 0"),
        "hidden": widths(),
        "activation": options(*ACTIVATIONS),
        "batch_norm": instance(bool),
        "beta": positive(allow_zero=True),
    }

    def __init__(self, *, alpha: Sequence[float] = (1.0, 0.25, 0.1), hidden: Sequence[int] = (100,),
                 activation: str = "selu", batch_norm: bool = False, beta: float = 1.0,
                 power: float | None = None, trainer: Trainer | None = None, device: str = "auto",
                 random_state: int | None = None) -> None:
        self.alpha = alpha
        self.hidden = hidden
        self.activation = activation
        self.batch_norm = batch_norm
        self.beta = beta
        self.power = power
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def normalizes(self) -> bool:
        """Always: the categorical reconstruction needs unit-sum objects."""
        return True

    def topics(self) -> np.ndarray:
        """The pixel distribution each pure mixture component (a corner of the simplex) decodes to, (K, *input_shape_)."""
        check_fitted(self, "model_")
        with torch.no_grad():
            weights = self.model_.topics.weight.T  # (K, D): row k is the decoder's output logits for r = e_k
            return to_numpy(F.softmax(weights, dim=1)).reshape(-1, *self.input_shape_)

    def init_module(self, name: str) -> nn.Module:
        """The untrained network (``model_``) for ``input_shape_``."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self.n_features_in_, len(self.alpha), tuple(self.hidden), self.activation, self.batch_norm)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return super()._prepare(x).flatten(1)

    def _kl(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        prior_mean, prior_var = (torch.as_tensor(a, dtype=mean.dtype, device=mean.device)
                                 for a in dirichlet_laplace_prior(self.alpha))
        return gaussian_kl(mean, logvar, prior_mean, prior_var)

    def _terms(self, x: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """log p over the pixels (n, D), the cross-entropy (n,) and KL (n,), at a draw of z or at z = μ."""
        mean, logvar = self.model_.posterior(x)
        log_p = self.model_.log_pixels(reparameterize(mean, logvar) if sample else mean)
        return log_p, -(x * log_p).sum(1), self._kl(mean, logvar)

    def _scores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _, recon, kl = self._terms(x, sample=False)
        return {"reconstruction": recon, "kl": kl, "elbo": recon + kl}

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self._terms(x, sample=False)[0].exp()

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.model_.posterior(x)[0], dim=1)
