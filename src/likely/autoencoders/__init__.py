"""Autoencoders: reconstructions, residuals and reconstruction-based anomaly scores."""

from likely.autoencoders.codae import CoDAE, CoDVAE, reconstruction_scores
from likely.autoencoders.conditional import ConditionalAutoencoder

__all__ = ["CoDAE", "CoDVAE", "ConditionalAutoencoder", "reconstruction_scores"]
