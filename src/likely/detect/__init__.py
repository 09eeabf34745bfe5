"""One-class / unsupervised anomaly scorers: ``fit`` on the reference class, ``score``
(higher = more anomalous), explicit thresholds."""

from likely.detect.flux_mutability import FluxMutability
from likely.detect.likelihood import LikelihoodScorer

__all__ = ["FluxMutability", "LikelihoodScorer"]
