"""Autoencoders: reconstructions, residuals and reconstruction-based anomaly scores."""

from likely.autoencoders.conditional import ConditionalAutoencoder
from likely.autoencoders.langevin import Langevin
from likely.autoencoders.nae import NAEHistory, NormalizedAutoencoder

__all__ = ["ConditionalAutoencoder", "Langevin", "NAEHistory", "NormalizedAutoencoder"]
