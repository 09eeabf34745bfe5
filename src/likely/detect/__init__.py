"""One-class / unsupervised anomaly scorers: ``score(X, cond)``, higher = more anomalous."""

from likely.detect.flux_mutability import FluxMutability

__all__ = ["FluxMutability"]
