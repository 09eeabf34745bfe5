"""Binary classifiers with one interface: ``fit(X, y, sample_weight)``, ``predict_proba(X) -> (N,)``."""

from likely.classify.base import BinaryClassifier, balanced_weights
from likely.classify.ensemble import Ensemble
from likely.classify.neural import NNClassifier
from likely.classify.trees import TreeClassifier

__all__ = ["BinaryClassifier", "Ensemble", "NNClassifier", "TreeClassifier", "balanced_weights"]
