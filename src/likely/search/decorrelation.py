"""Features made independent of a condition on background, by a conditional normalizing flow.

A flow ``p(x | t)`` fitted on background-like events maps each event to
``z = f⁻¹(x | t)``, which is standard normal whatever ``t`` for events like the training
ones: the features no longer tell ``t``. Used by the ABCD tail search (``t``: the tail
feature, :mod:`likely.search.abcd`) and by the bump hunt (``t``: mjj, the flow fitted on
the sidebands, :func:`likely.search.discover.discover` with ``decorrelator``), after
"Complete Optimal Non-Resonant Anomaly Detection" (arXiv:2404.07258, seed 002).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

from likely._checks import check_array, check_fitted
from likely._persist import Saveable
from likely.density import Flow
from likely.nn import Trainer

__all__ = ["Decorrelator"]


class Decorrelator(Saveable, BaseEstimator):
    """Features made independent of a condition on background: ``z = f⁻¹(x | t)`` of a conditional flow.

    Parameters
    ----------
    flow : Flow or None
        The conditional density of the features given ``t`` (cloned); default: a 4-transform MAF.
    random_state : int or None
    """

    def __init__(self, *, flow: Flow | None = None, random_state: int | None = None) -> None:
        self.flow = flow
        self.random_state = random_state

    def fit(self, X, t) -> Decorrelator:
        """Learn ``p(X | t)`` on background-like events: ``X`` (N, D), ``t`` (N,)."""
        X = check_array(X, "X")
        t = check_array(t, "t", ndim=1)
        if len(t) != len(X):
            raise ValueError(f"t has {len(t)} rows, X has {len(X)}")
        flow = self.flow if self.flow is not None else Flow(
            transforms=4, hidden=(64, 64), trainer=Trainer(epochs=60, patience=8, progress=False))
        self.flow_ = clone(flow).set_params(random_state=self.random_state).fit(X, cond=t)
        return self

    def transform(self, X, t) -> np.ndarray:
        """``z`` (N, D): standard normal and independent of ``t`` for events like the training ones."""
        check_fitted(self, "flow_")
        return self.flow_.to_base(X, cond=t)
