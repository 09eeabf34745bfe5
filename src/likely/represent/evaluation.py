"""How much a representation separates two classes by itself: seed 003's linear classifier test.

A single linear layer (logistic regression, no non-linearity) is trained on the
representations of two samples (e.g. QCD and Aachen dark jets) and scored out of fold: a
representation in which the classes are linearly separable gets an AUC near 1. It is an
evaluation with labels, not an anomaly score (seed 003 App. A).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from likely._checks import check_array, check_positive
from likely.metrics import auc

__all__ = ["linear_classifier_test"]


def linear_classifier_test(background: Any, signal: Any, *, folds: int = 5, random_state: int | None = 0) -> float:
    """Out-of-fold AUC of a logistic regression separating ``signal`` (M, D) from ``background`` (N, D).

    The features are standardized on each training fold; every object is scored by the
    model of the fold it was left out of (``folds`` stratified folds, shuffled with
    ``random_state``).
    """
    background = check_array(background, "background", dtype=np.float64)
    signal = check_array(signal, "signal", n_features=background.shape[1], dtype=np.float64)
    check_positive(folds, "folds", integer=True)
    if folds < 2 or min(len(background), len(signal)) < folds:
        raise ValueError(f"folds must be at least 2 and at most the size of each sample; got {folds} for "
                         f"{len(background)} and {len(signal)} objects")
    X = np.concatenate([background, signal])
    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    split = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    return auc(y, cross_val_predict(model, X, y, cv=split, method="decision_function"))
