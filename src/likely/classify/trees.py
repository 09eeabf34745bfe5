"""Gradient-boosted decision trees (scikit-learn's HistGradientBoosting)."""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier

from likely._checks import fraction, options, positive
from likely.classify.base import BinaryClassifier

__all__ = ["TreeClassifier"]


class TreeClassifier(BinaryClassifier):
    """Histogram gradient boosting with early stopping on a validation split.

    Fast, robust to uninformative features, and a strong choice for weakly supervised
    anomaly detection on a handful of features.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, l2_regularization
        Passed to :class:`sklearn.ensemble.HistGradientBoostingClassifier`.
    validation_fraction, n_iter_no_change
        Early stopping: stop when the validation loss has not improved for
        ``n_iter_no_change`` iterations.
    class_weight : {None, "balanced"}
        ``"balanced"`` gives both classes equal total weight.
    random_state : int or None
        Seeds the validation split.
    """

    _parameter_constraints = {
        "max_iter": positive(integer=True),
        "learning_rate": positive(),
        "max_leaf_nodes": positive(integer=True),
        "l2_regularization": positive(allow_zero=True),
        "validation_fraction": fraction(allow_zero=False),
        "n_iter_no_change": positive(integer=True),
        "class_weight": options(None, "balanced"),
    }
    _expected_failed_checks = {"check_class_weight_classifiers": "class_weight accepts only None and 'balanced'"}

    def __init__(
        self,
        *,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        l2_regularization: float = 0.0,
        validation_fraction: float = 0.2,
        n_iter_no_change: int = 10,
        class_weight: str | None = None,
        random_state: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        self.estimator_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            early_stopping=True,
            validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change,
            random_state=self.random_state,
        ).fit(X, y, sample_weight=sample_weight)
        self.n_iter_ = self.estimator_.n_iter_

    def _proba(self, X):
        return self.estimator_.predict_proba(X)[:, 1]
