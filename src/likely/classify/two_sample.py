"""Classifier two-sample test: how well can a classifier tell generated from reference samples?

A classifier is trained to separate reference (label 1) from generated (label 0) samples
and is evaluated on a held-out split; :class:`likely.metrics.ClassifierTestResult` turns
its outputs into the AUC and the density-ratio weights (see there for their meaning).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from likely._checks import check_array, check_fraction
from likely.classify.neural import NNClassifier
from likely.metrics import ClassifierTestResult
from likely.nn import Trainer

__all__ = ["classifier_two_sample_test", "default_two_sample_classifier"]


def default_two_sample_classifier(random_state: int | None = None) -> NNClassifier:
    """CaloChallenge-like classifier: MLP 2 x 512, balanced classes, 50 epochs, lr 2e-4, batch 1000."""
    trainer = Trainer(epochs=50, batch_size=1000, lr=2e-4, patience=10, progress=False)
    return NNClassifier(hidden=(512, 512), class_weight="balanced", trainer=trainer, random_state=random_state)


def classifier_two_sample_test(
    generated: Any,
    reference: Any,
    classifier: Any = None,
    test_fraction: float = 0.2,
    random_state: int | None = None,
) -> ClassifierTestResult:
    """Train ``classifier`` on reference vs generated samples and test it on a held-out split.

    Parameters
    ----------
    generated, reference : array-like (N_gen, D) and (N_ref, D)
        Samples to compare, already in the representation to test (e.g. voxel
        energies divided by E_inc, or high-level features).
    classifier : estimator or None
        Unfitted binary classifier with ``fit(X, y)`` and ``predict_proba(X) -> (N,)`` (a
        :mod:`likely.classify` one); it is cloned. Use balanced class weights if the
        samples differ in size. None gives :func:`default_two_sample_classifier`.
    test_fraction : float in (0, 1)
        Fraction of each sample held out (stratified) for the AUC and the weights.
    random_state : int or None
        Seeds the split (and the default classifier).

    Returns
    -------
    ClassifierTestResult
        AUC, classifier outputs and weights of the held-out events.
    """
    generated = check_array(generated, "generated")
    reference = check_array(reference, "reference", n_features=generated.shape[1])
    check_fraction(test_fraction, "test_fraction", allow_zero=False)
    X = np.concatenate([generated, reference])
    y = np.concatenate([np.zeros(len(generated), np.int64), np.ones(len(reference), np.int64)])
    rows = np.concatenate([np.arange(len(generated)), np.arange(len(reference))])
    X_train, X_test, y_train, y_test, _, rows_test = train_test_split(
        X, y, rows, test_size=test_fraction, stratify=y, random_state=random_state
    )
    model = clone(classifier) if classifier is not None else default_two_sample_classifier(random_state)
    proba = np.asarray(model.fit(X_train, y_train).predict_proba(X_test), dtype=np.float64)
    if proba.ndim == 2:  # scikit-learn classifiers return both columns
        proba = proba[:, 1]
    return ClassifierTestResult.from_proba(proba, is_reference=y_test.astype(bool), index=rows_test)
