"""A tail (non-resonant) search: flow decorrelation, a weakly supervised classifier, ABCD.

After "Complete Optimal Non-Resonant Anomaly Detection" (arXiv:2404.07258, seed 002). A
signal may show up as an excess in the tail of a feature ``t`` (MET, HT, ...) rather than
as a bump. Its background in the tail is predicted with ABCD, which needs a score
independent of ``t`` on background:

1. a conditional flow ``p(x | t)`` of the auxiliary features, fitted on a background-like
   *reference* sample (a control process or simulation), maps every event's features to
   ``z = f⁻¹(x | t)``: standard normal whatever ``t`` for background, so independent of it
   (:class:`Decorrelator`). It is fitted out of fold (two flows on halves of the reference,
   each mapping the other half and half of the data): a flow maps its own training events
   closer to normal than others, most where it has few of them (the tail), and the
   classifier of step 2 would learn that difference as an excess in the tail;
2. a classifier of data against reference on ``z`` (k-folded: every data event gets an
   out-of-fold score) approximates the optimal ``p_data / p_ref``; since it sees only
   ``z``, its score is independent of ``t`` on background;
3. ABCD in (score, t): with A the signal region (``t > t_cut``, score above the cut), B
   (``t > t_cut``, below), C (``t <= t_cut``, above) and D (``t <= t_cut``, below), the
   background in A is ``N_B N_C / N_D``, with the Poisson uncertainty of the three counts;
   the excess's p-value is :func:`likely.stats.excess_pvalue`.

The closure test — the prediction against the observation on signal-free data — checks
the independence the estimate rests on (``tests/test_abcd.py``, docs/search.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from likely.classify import Ensemble, TreeClassifier
from likely.search.decorrelation import Decorrelator
from likely.stats import excess_pvalue, p_to_z

__all__ = ["ABCD", "abcd", "abcd_at", "tail_search"]


@dataclass(frozen=True)
class ABCD:
    """Counts of the four regions and the background predicted in A.

    A: ``t > t_cut`` and score above the cut (the signal region); B: ``t > t_cut``, below;
    C: ``t <= t_cut``, above; D: ``t <= t_cut``, below. ``predicted = B C / D`` with the
    Poisson uncertainty ``predicted * sqrt(1/B + 1/C + 1/D)``.
    """

    a: int
    b: int
    c: int
    d: int

    @property
    def predicted(self) -> float:
        return self.b * self.c / self.d

    @property
    def error(self) -> float:
        return self.predicted * float(np.sqrt(1 / self.b + 1 / self.c + 1 / self.d))

    @property
    def p_value(self) -> float:
        """One-sided p-value of the observed A given the prediction and its uncertainty."""
        return float(excess_pvalue(self.a, max(self.predicted, 1e-9), self.error))

    @property
    def z(self) -> float:
        return float(p_to_z(self.p_value))

    def summary(self) -> dict:
        return {"A": self.a, "B": self.b, "C": self.c, "D": self.d, "predicted": self.predicted,
                "error": self.error, "p_value": self.p_value, "z": self.z}


def abcd(score, t, score_cut: float, t_cut: float) -> ABCD:
    """The ABCD regions of events with ``score`` (N,) and tail feature ``t`` (N,).

    Raises ``ValueError`` if B, C or D is empty (no prediction possible).
    """
    score = np.asarray(score, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if score.shape != t.shape or score.ndim != 1:
        raise ValueError(f"score and t must be 1-D of one length; got {score.shape} and {t.shape}")
    tail, above = t > t_cut, score > score_cut
    regions = ABCD(*(int(np.count_nonzero(mask)) for mask in
                     (tail & above, tail & ~above, ~tail & above, ~tail & ~above)))
    if min(regions.b, regions.c, regions.d) == 0:
        raise ValueError(f"ABCD needs events in B, C and D; got B={regions.b} C={regions.c} D={regions.d}: "
                         "move the cuts")
    return regions


def tail_search(data_X, data_t, reference_X, reference_t, *, t_cut: float, efficiency: float = 0.01,
                decorrelator: Decorrelator | None = None, classifier=None, n_folds: int = 5,
                random_state: int | None = 0) -> tuple[ABCD, np.ndarray]:
    """The whole tail search: decorrelate, classify data against reference, ABCD.

    Parameters
    ----------
    data_X, data_t : arrays (N, D), (N,)
        The data's auxiliary features and tail feature.
    reference_X, reference_t : arrays (M, D), (M,)
        A background-like reference sample (the decorrelator is fitted on it).
    t_cut : float
        The tail: ``t > t_cut`` is the signal region's side of ABCD.
    efficiency : float in (0, 1)
        Fraction of the data's events *below* ``t_cut`` whose score passes the cut.
    decorrelator, classifier : default ``Decorrelator()`` and boosted trees (cloned).
    n_folds : int
        Folds of the classifier; each data event is scored by a model that did not see it.

    Returns the ABCD regions of the data and every data event's out-of-fold score (N,).
    """
    if not 0 < efficiency < 1:
        raise ValueError(f"efficiency must be in (0, 1); got {efficiency!r}")
    decorrelator = clone(decorrelator if decorrelator is not None else Decorrelator())
    n_data = len(data_X)
    y = np.concatenate([np.ones(n_data, int), np.zeros(len(reference_X), int)])
    z = decorrelator.set_params(random_state=random_state).cross_transform(
        np.concatenate([data_X, reference_X]), np.concatenate([data_t, reference_t]), trainable=y == 0)
    member = classifier if classifier is not None else TreeClassifier(random_state=random_state)
    ensemble = Ensemble(member, n_members=n_folds, mode="kfold", random_state=random_state).fit(z, y)
    score = ensemble.oof_proba_[:n_data].astype(np.float64)
    return abcd_at(score, data_t, t_cut, efficiency), score


def abcd_at(score, t, t_cut: float, efficiency: float) -> ABCD:
    """The ABCD regions with the score cut keeping ``efficiency`` of the events with ``t <= t_cut``."""
    if not 0 < efficiency < 1:
        raise ValueError(f"efficiency must be in (0, 1); got {efficiency!r}")
    score = np.asarray(score, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    control = t <= t_cut
    if not control.any():
        raise ValueError(f"no data event has t <= t_cut = {t_cut}")
    return abcd(score, t, float(np.quantile(score[control], 1 - efficiency)), t_cut)
