"""What every binary classifier in ``likely`` shares."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from likely._checks import check_array, check_choice, check_fitted, check_labels, check_weights
from likely._persist import Saveable

__all__ = ["BinaryClassifier", "balanced_weights"]


def balanced_weights(y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """Rescale weights so both classes carry the same total weight (mean weight 1)."""
    weights = np.ones(len(y), dtype=np.float64) if sample_weight is None else sample_weight.astype(np.float64)
    totals = np.bincount(y, weights=weights, minlength=2)
    if (totals <= 0).any():
        raise ValueError("sample_weight gives one class zero total weight")
    return (weights * (len(y) / (2 * totals[y]))).astype(np.float32)


class BinaryClassifier(Saveable, ClassifierMixin, BaseEstimator):
    """Base for binary classifiers: ``fit(X, y, sample_weight)``, ``predict_proba(X) -> (N,)``.

    ``predict_proba`` returns the probability of class 1 only, shape (N,), the quantity
    every anomaly-detection method uses as its score. Subclasses implement ``_fit`` and
    ``_proba``; ``class_weight="balanced"`` equalizes the classes' total weights.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary only: labels in {0, 1}
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BinaryClassifier:
        """Train on features ``X`` (N, D) with labels ``y`` in {0, 1} and optional weights (N,)."""
        X = check_array(X, "X")
        y = check_labels(y, len(X))
        sample_weight = check_weights(sample_weight, len(X))
        class_weight = getattr(self, "class_weight", None)  # ensembles leave it to members
        check_choice(class_weight, "class_weight", (None, "balanced"))
        if class_weight == "balanced":
            sample_weight = balanced_weights(y, sample_weight)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self._fit(X, y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of class 1 for each row of ``X``, shape (N,), float32."""
        check_fitted(self, "classes_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        return self._proba(X).astype(np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (N,) from a 0.5 threshold on :meth:`predict_proba`."""
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    def _fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        raise NotImplementedError

    def _proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
