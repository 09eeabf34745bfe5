"""Averages of classifiers trained on different seeds or folds."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from likely._checks import instance, options, positive
from likely.classify.base import BinaryClassifier

__all__ = ["Ensemble"]


class Ensemble(BinaryClassifier):
    """An average of ``n_members`` copies of a classifier.

    ``mode="seed"``: every member sees all the data with its own ``random_state``.
    ``mode="kfold"``: member k is trained on all folds but fold k (stratified), and the
    out-of-fold probabilities of the training data are kept in ``oof_proba_`` — the
    score to use for the training events themselves (as in CWoLa hunting), since no
    member saw the event it scores — and ``oof_fold_`` (N,) says which member (fold)
    scored each row.

    Parameters
    ----------
    estimator : BinaryClassifier
        The member template (cloned, never modified).
    n_members : int
        Number of members (folds for ``"kfold"``, at least 2 there).
    mode : {"seed", "kfold"}
    aggregate : {"mean", "median"}
        How member probabilities are combined.
    random_state : int or None
        Seeds the members (member k gets ``random_state + k``) and the folds.
    """

    _parameter_constraints = {
        "estimator": instance(BinaryClassifier),
        "n_members": positive(integer=True),
        "mode": options("seed", "kfold"),
        "aggregate": options("mean", "median"),
    }

    def __init__(
        self,
        estimator: BinaryClassifier,
        *,
        n_members: int = 5,
        mode: str = "seed",
        aggregate: str = "mean",
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.mode = mode
        self.aggregate = aggregate
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        seeds = np.random.default_rng(self.random_state).integers(0, 2**31 - 1, self.n_members)
        if self.mode == "seed":
            self.members_ = [self._member(seed).fit(X, y, sample_weight) for seed in seeds]
            return
        smallest = np.bincount(y, minlength=2).min()
        if not 2 <= self.n_members <= smallest:
            raise ValueError(f"n_members must be >= 2 with mode='kfold', and at most the {smallest} rows of the "
                             f"smaller class (every fold needs both classes); got {self.n_members}")
        folds = StratifiedKFold(self.n_members, shuffle=True, random_state=int(seeds[0]))
        self.members_, self.oof_proba_ = [], np.empty(len(X), dtype=np.float32)
        self.oof_fold_ = np.empty(len(X), dtype=np.int64)
        for k, (seed, (train, held_out)) in enumerate(zip(seeds, folds.split(X, y))):
            weights = None if sample_weight is None else sample_weight[train]
            member = self._member(seed).fit(X[train], y[train], weights)
            self.oof_proba_[held_out] = member.predict_proba(X[held_out])
            self.oof_fold_[held_out] = k
            self.members_.append(member)

    def _member(self, seed: int) -> BinaryClassifier:
        member = clone(self.estimator)
        if "random_state" in member.get_params():
            member.set_params(random_state=int(seed))
        return member

    def _proba(self, X):
        probabilities = np.stack([member.predict_proba(X) for member in self.members_])
        return np.mean(probabilities, axis=0) if self.aggregate == "mean" else np.median(probabilities, axis=0)
