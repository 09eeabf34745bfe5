"""The raw-data representation: a set's preprocessed objects, flattened (AnomalyCLR's AE-Raw baseline).

Seed 003 §5.3.4 compares the autoencoder on contrastive representations with the same
autoencoder on the raw events, "identically preprocessed": pT / mean pT of the background
objects, η / 4, φ / π (:func:`likely.nn.set_inputs`) and the object type one-hot. With
:class:`RawSets` as the representation of a ``likely.detect.RepresentationDetector``, that
baseline is one more detector of the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from likely._checks import check_fitted, check_sets
from likely.data.clouds import CLOUD
from likely.nn import set_inputs, set_scales

__all__ = ["RawSets"]


class RawSets(BaseEstimator):
    """``fit(X)`` on sets (N, P, F), first feature pT (GeV); ``transform(X)`` → (N, P · (F′ + n_ids)) float32.

    Each of the P slots gives its scaled features (F′: all but ``"id"``) and, with an ``"id"``
    feature, the one-hot of its type (n_ids columns); padded slots stay zero. Unlike a
    learned representation it depends on the order of the slots, as the raw data do (the
    ADC layout orders them by type and pT).

    Parameters
    ----------
    features : sequence of str
        Names of the F columns (default: point clouds ``("pt", "deta", "dphi")``).

    Attributes
    ----------
    pt_scale_ : float
        Mean pT of the training objects (GeV).
    n_ids_ : int or None
        Object types one-hot encoded, with an ``"id"`` feature.
    n_slots_ : int
        P of the training sets; ``transform`` needs the same.
    """

    def __init__(self, *, features: Sequence[str] = CLOUD) -> None:
        self.features = features

    def fit(self, X: Any, y: Any = None) -> RawSets:
        """Learn the pT scale and the number of object types from the sets ``X`` (N, P, F)."""
        X = check_sets(X, self.features)
        self.pt_scale_, self.n_ids_ = set_scales(X, self.features)
        self.n_slots_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The flattened preprocessed sets (N, P · (F′ + n_ids)) float32."""
        check_fitted(self, "pt_scale_")
        X = check_sets(X, self.features)
        if X.shape[1] != self.n_slots_:
            raise ValueError(f"X has {X.shape[1]} slots per set; RawSets was fitted on {self.n_slots_}")
        x, mask, ids = set_inputs(torch.from_numpy(X), self.features, self.pt_scale_)
        parts = [x]
        if ids is not None:
            one_hot = torch.nn.functional.one_hot(ids.clamp(0, self.n_ids_ - 1), self.n_ids_).to(x.dtype)
            parts.append(one_hot * mask.unsqueeze(-1))
        return torch.cat(parts, -1).flatten(1).numpy()
