"""Binary classifiers with one interface: ``fit(X, y, sample_weight)``, ``predict_proba(X) -> (N,)``;
and the MLP regressor they share their plumbing with."""

from likely.classify.base import BinaryClassifier, balanced_weights
from likely.classify.ensemble import Ensemble
from likely.classify.neural import NNClassifier, NNRegressor
from likely.classify.trees import TreeClassifier

__all__ = ["BinaryClassifier", "Ensemble", "NNClassifier", "NNRegressor", "TreeClassifier", "balanced_weights"]
