"""Binary classifiers with one interface: ``fit(X, y, sample_weight)``, ``predict_proba(X) -> (N,)``;
a transformer on padded sets; the MLP regressor they share their plumbing with; and the classifier two-sample test
of generated vs reference samples."""

from likely.classify.base import BinaryClassifier, balanced_weights
from likely.classify.ensemble import Ensemble
from likely.classify.neural import NNClassifier, NNRegressor
from likely.classify.sets import SetClassifier
from likely.classify.trees import TreeClassifier
from likely.classify.two_sample import classifier_two_sample_test, default_two_sample_classifier

__all__ = [
    "BinaryClassifier",
    "Ensemble",
    "NNClassifier",
    "NNRegressor",
    "SetClassifier",
    "TreeClassifier",
    "balanced_weights",
    "classifier_two_sample_test",
    "default_two_sample_classifier",
]
