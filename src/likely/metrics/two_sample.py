"""The outcome of a classifier two-sample test, computed from held-out classifier outputs.

As in the CaloChallenge evaluation and seed 003 (section 4.5): a classifier ``C(x)`` is
trained to separate reference ("truth", label 1) from generated (label 0) samples and is
evaluated on a held-out split. Its AUC is 0.5 for a perfect generator. For a balanced,
well-trained classifier ``C = p_ref / (p_ref + p_gen)``, so the per-event weight
``w = C / (1 - C)`` estimates the density ratio ``p_ref(x) / p_gen(x)``: weights far from
1 flag regions the generator over-populates (w << 1) or misses (w >> 1).

The training half (split, fit, predict) is
:func:`likely.classify.classifier_two_sample_test`; this module is NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from likely._checks import check_array
from likely.metrics.curves import auc

__all__ = ["ClassifierTestResult"]

#: keeps weights finite when the classifier outputs exactly 0 or 1
_CLIP = 1e-7


@dataclass
class ClassifierTestResult:
    """Outcome of :func:`likely.classify.classifier_two_sample_test` on the held-out test events.

    Attributes
    ----------
    auc : float
        ROC AUC of reference (positive) vs generated test events.
    proba : ndarray (M,)
        Classifier output C = P(reference | x) of each test event.
    is_reference : ndarray (M,) of bool
        True for reference events, False for generated ones.
    weights : ndarray (M,)
        ``w = C / (1 - C)`` of each test event, an estimate of p_ref / p_gen.
    index : ndarray (M,) of int
        Row of each test event in its own input (``generated`` or ``reference``).
    """

    auc: float
    proba: np.ndarray
    is_reference: np.ndarray
    weights: np.ndarray
    index: np.ndarray

    @classmethod
    def from_proba(cls, proba: Any, is_reference: Any, index: Any) -> ClassifierTestResult:
        """AUC and density-ratio weights of held-out classifier outputs.

        Parameters
        ----------
        proba : array-like (M,)
            Classifier output C = P(reference | x) of each test event.
        is_reference : array-like (M,) of bool
            True for reference events, False for generated ones.
        index : array-like (M,) of int
            Row of each test event in its own input.
        """
        proba = check_array(proba, "proba", ndim=1, dtype=np.float64)
        is_reference = np.asarray(is_reference, dtype=bool)
        clipped = np.clip(proba, _CLIP, 1 - _CLIP)
        return cls(
            auc=auc(is_reference.astype(np.int64), proba), proba=proba.astype(np.float32),
            is_reference=is_reference, weights=(clipped / (1 - clipped)).astype(np.float32),
            index=np.asarray(index),
        )

    @property
    def generated_weights(self) -> np.ndarray:
        """Weights of the generated test events (reweighting them to the reference)."""
        return self.weights[~self.is_reference]
