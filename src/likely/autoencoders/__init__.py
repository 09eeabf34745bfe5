"""Autoencoders: reconstructions, latent codes and reconstruction-based anomaly scores.

Every model but the conditional autoencoder keeps one contract (:class:`BaseAutoencoder`,
docs/autoencoders.md): ``fit(X)`` on vectors or images, ``scores(X)`` (named anomaly
scores), ``reconstruction_error(X)`` (the default one), ``reconstruct``, ``encode``,
``preprocess``, ``save`` / ``load``.
"""

from likely.autoencoders.autoencoder import Autoencoder
from likely.autoencoders.base import BaseAutoencoder, remap_pixels
from likely.autoencoders.codae import CoDAE, CoDVAE, reconstruction_scores
from likely.autoencoders.conditional import ConditionalAutoencoder
from likely.autoencoders.dirichlet import DirichletVAE, dirichlet_laplace_prior
from likely.autoencoders.langevin import Langevin
from likely.autoencoders.nae import NAEHistory, NormalizedAutoencoder
from likely.autoencoders.variational import VariationalAutoencoder, gaussian_kl

__all__ = [
    "Autoencoder",
    "BaseAutoencoder",
    "CoDAE",
    "CoDVAE",
    "ConditionalAutoencoder",
    "DirichletVAE",
    "Langevin",
    "NAEHistory",
    "NormalizedAutoencoder",
    "VariationalAutoencoder",
    "dirichlet_laplace_prior",
    "gaussian_kl",
    "reconstruction_scores",
    "remap_pixels",
]
