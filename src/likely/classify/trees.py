"""Gradient-boosted decision trees (scikit-learn's HistGradientBoosting), saved as plain arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
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

    Attributes
    ----------
    estimator_ : HistGradientBoostingClassifier
        The fitted scikit-learn model (not saved; a loaded classifier predicts from ``forest_``).
    forest_ : Forest
        The same trees as plain arrays: what ``save`` writes, so a saved classifier loads
        without unpickling (no code runs) and predicts exactly as the fitted one.
    n_iter_ : int
        Boosting iterations run (early stopping).
    """

    #: the scikit-learn model is saved as its trees' arrays (``forest_``), not pickled
    _not_saved = ("estimator_",)

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
        self.forest_ = Forest.from_sklearn(self.estimator_)

    def _proba(self, X):
        if hasattr(self, "estimator_"):
            return self.estimator_.predict_proba(X)[:, 1]
        return self.forest_.predict_proba(X)


#: events per block of the array traversal; bounds memory (events x trees indices), not results
_BLOCK = 4096


@dataclass
class Forest:
    """A binary HistGradientBoosting model as arrays: P(y=1) = expit(baseline + sum of tree leaves).

    Node arrays of all trees concatenated (tree t's nodes start at ``roots[t]``, child indices
    are global); numerical splits only (likely's features), NaN following ``missing_left``.
    Predictions equal scikit-learn's bit for bit: the same float64 comparisons and the
    leaves added in tree order.
    """

    baseline: float
    roots: np.ndarray  # (T,) int64
    feature: np.ndarray  # (M,) int64
    threshold: np.ndarray  # (M,) float64
    missing_left: np.ndarray  # (M,) bool
    left: np.ndarray  # (M,) int64, global; a leaf points to itself
    right: np.ndarray  # (M,) int64, global; a leaf points to itself
    depth: int  # the deepest leaf's depth
    value: np.ndarray  # (M,) float64

    @classmethod
    def from_sklearn(cls, model: HistGradientBoostingClassifier) -> Forest:
        """The trees of a fitted binary ``model`` (numerical features only)."""
        nodes = [predictor.nodes for (predictor,) in model._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("categorical splits cannot be stored as arrays; likely's trees use numerical features")
        sizes = np.array([len(n) for n in nodes], dtype=np.int64)
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        merged = np.concatenate(nodes)
        leaf = merged["is_leaf"].astype(bool)
        own = np.arange(len(merged), dtype=np.int64)
        shift = np.repeat(roots, sizes)
        return cls(
            baseline=float(model._baseline_prediction.ravel()[0]), roots=roots,
            feature=np.where(leaf, 0, merged["feature_idx"]).astype(np.int64),
            threshold=merged["num_threshold"].astype(np.float64),
            missing_left=merged["missing_go_to_left"].astype(bool),
            left=np.where(leaf, own, merged["left"].astype(np.int64) + shift),
            right=np.where(leaf, own, merged["right"].astype(np.int64) + shift),
            depth=int(merged["depth"].max()), value=merged["value"].astype(np.float64),
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(y=1) for each row of ``X`` (N, D), float64."""
        X = np.asarray(X, dtype=np.float64)
        raw = np.full(len(X), self.baseline)
        for start in range(0, len(X), _BLOCK):
            leaves = self._leaf_values(X[start:start + _BLOCK])
            block = raw[start:start + _BLOCK]
            for t in range(leaves.shape[1]):  # in tree order, as scikit-learn adds them
                block += leaves[:, t]
        return expit(raw)

    def _leaf_values(self, X: np.ndarray) -> np.ndarray:
        """Leaf value of every (row, tree), (n, T): all trees walked down together, one level per
        step (a leaf is its own child, so rows that reached one stay there)."""
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        for _ in range(self.depth):
            x = np.take_along_axis(X, self.feature[node], axis=1)
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return self.value[node]
