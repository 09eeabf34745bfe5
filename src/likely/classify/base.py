"""What every binary classifier in ``likely`` shares."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from likely._checks import check_array, check_fitted, check_labels, check_weights, seed, validate_params
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

    Attributes
    ----------
    classes_ : ndarray
        ``[0, 1]``.
    n_features_in_ : int
        Feature columns seen at fit (per object for classifiers of sets).
    """

    _parameter_constraints = {"random_state": seed()}
    _expected_failed_checks = {
        "check_classifiers_train": "predict_proba returns P(y=1) with shape (N,), not (N, 2)",
        "check_classifiers_classes": "labels must be 0 and 1; string labels are rejected",
        **dict.fromkeys(
            ("check_estimators_dtypes", "check_classifier_data_not_an_array", "check_fit2d_1feature",
             "check_sample_weights_pandas_series", "check_sample_weights_not_an_array",
             "check_sample_weights_shape", "check_sample_weights_not_overwritten"),
            "the check uses labels {1, 2}; labels must be 0 and 1 (tests/test_sklearn_compat.py covers it with {0, 1})",
        ),
        "check_classifiers_regression_target": "continuous y is rejected as 'not 0 and 1', without the word 'continuous'",
        "check_supervised_y_2d": "y of shape (N, 1) is accepted without a DataConversionWarning",
        "check_fit2d_1sample": "'y contains only class 1' is not sklearn's 'one class' wording",
        "check_fit2d_predict1d": "'X must be 2-D ... use X.reshape(-1, 1)' is not sklearn's 'Reshape your data'",
        "check_sample_weight_equivalence_on_dense_data": (
            "early stopping on a random validation split (and mini-batch SGD): weights equal "
            "repeated rows only in distribution"
        ),
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary only: labels in {0, 1}
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BinaryClassifier:
        """Train on features ``X`` (N, D) with labels ``y`` in {0, 1} and optional weights (N,)."""
        validate_params(self)
        X = self._check_X(X, fitted=False)
        y = check_labels(y, len(X))
        sample_weight = check_weights(sample_weight, len(X))
        if getattr(self, "class_weight", None) == "balanced":  # ensembles leave it to members
            sample_weight = balanced_weights(y, sample_weight)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[-1]
        self._fit(X, y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of class 1 for each row of ``X``, shape (N,), float32."""
        check_fitted(self, "classes_")
        return self._proba(self._check_X(X, fitted=True)).astype(np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (N,) from a 0.5 threshold on :meth:`predict_proba`."""
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    def _check_X(self, X: Any, *, fitted: bool) -> np.ndarray:
        """``X`` validated: features (N, D), once ``fitted`` with the D seen at fit."""
        return check_array(X, "X", n_features=self.n_features_in_ if fitted else None)

    def _fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        raise NotImplementedError

    def _proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
