"""One-class / unsupervised anomaly scorers: ``fit`` on background, ``score`` (higher = more anomalous)."""

from likely.detect.likelihood import LikelihoodScorer

__all__ = ["LikelihoodScorer"]
