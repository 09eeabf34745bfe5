"""likely: density estimation with deep generative models for collider physics."""

__version__ = "0.1.0"
