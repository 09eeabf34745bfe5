"""Autoencoders: reconstructions, residuals and reconstruction-based anomaly scores."""

from likely.autoencoders.conditional import ConditionalAutoencoder

__all__ = ["ConditionalAutoencoder"]
