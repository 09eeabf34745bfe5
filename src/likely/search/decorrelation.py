"""Features made independent of a condition on background, by a conditional normalizing flow.

A flow ``p(x | t)`` fitted on background-like events maps each event to
``z = f⁻¹(x | t)``, which is standard normal whatever ``t`` for events like the training
ones: the features no longer tell ``t``. Used by the ABCD tail search (``t``: the tail
feature, :mod:`likely.search.abcd`) and by the bump hunt (``t``: mjj,
:func:`likely.search.discover.discover` with ``decorrelator``, out of fold on the whole fit
range: :meth:`Decorrelator.cross_transform`), after "Complete Optimal Non-Resonant Anomaly
Detection" (arXiv:2404.07258, seed 002).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold

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

    def cross_transform(self, X, t, n_folds: int = 2, trainable=None) -> np.ndarray:
        """``z`` (N, D) of every event by a clone fitted on the other folds of ``(X, t)``.

        No event is mapped by a flow that saw it, so training events and the others are
        alike in ``z``: a flow maps its own training data closer to normal than new data,
        and a classifier separating regions of ``t``, or data from reference, would learn
        that difference. ``n_folds`` >= 2 folds, drawn at random (seeded by
        ``random_state``). ``trainable`` (N,) bool: the rows the clones may be fitted on
        (default all), e.g. the reference rows of data and reference stacked; the other
        rows are only mapped, each by the clone of its own fold.
        """
        X = check_array(X, "X")
        t = check_array(t, "t", ndim=1)
        if not isinstance(n_folds, int) or n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2; got {n_folds!r}")
        if len(t) != len(X):
            raise ValueError(f"t has {len(t)} rows, X has {len(X)}")
        trainable = np.ones(len(X), bool) if trainable is None else np.asarray(trainable, dtype=bool)
        if trainable.shape != (len(X),) or not trainable.any():
            raise ValueError(f"trainable must be a boolean mask of the {len(X)} rows with at least one True")
        z = np.empty(X.shape, dtype=np.float32)
        folds = KFold(n_folds, shuffle=True, random_state=self.random_state)
        for k, (train, held_out) in enumerate(folds.split(X)):
            train = train[trainable[train]]
            seed = None if self.random_state is None else self.random_state + k
            fitted = clone(self).set_params(random_state=seed).fit(X[train], t[train])
            z[held_out] = fitted.transform(X[held_out], t[held_out])
        return z
