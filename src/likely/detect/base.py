"""The detector contract: one vocabulary for every one-class / unsupervised anomaly scorer.

A :class:`Detector` is fitted on the reference class (background, the known physics) and
scores new objects; higher scores are more anomalous. Cuts are chosen explicitly, by the
fraction ``fpr`` of the reference class that passes them (or its complement, the
``quantile`` of the reference scores), never by a hidden contamination default::

    detector.fit(X, cond=None)                       # -> detector
    detector.score(X, cond=None)                     # (N,) float32, higher = more anomalous
    detector.threshold(fpr=1e-3)                     # float: the cut passed by 0.1 % of the reference
    detector.predict(X, cond=None, fpr=1e-3)         # (N,) bool, True = anomalous
    detector.save(path); type(detector).load(path)   # the one save format

Every concrete subclass is registered in :data:`DETECTORS`, so one shared test suite
(:func:`likely.detect.check_detector`) runs over all of them. See docs/detect.md.

Conditional detectors (scores given a condition such as the kinematics) keep the
training range of the condition (:class:`ConditionRange`) and treat rows outside it by
one declared policy, ``out_of_range="clip" | "flag" | "error"`` (:data:`OUT_OF_RANGE`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from likely._checks import Constraint, check_array, check_cond, check_fitted, check_fraction, options
from likely._persist import Saveable

__all__ = ["DETECTORS", "OUT_OF_RANGE", "ConditionRange", "Detector", "estimator_with", "resolve_quantile"]

log = logging.getLogger(__name__)

#: every registered detector class, by class name
DETECTORS: dict[str, type[Detector]] = {}

#: the out-of-range policies of conditional detectors
OUT_OF_RANGE = options("clip", "flag", "error")


def estimator_with(*methods: str, what: str = "an estimator") -> Constraint:
    """A constraint: an object with the methods ``methods`` (duck typing, for wrapped models)."""
    text = f"{what} ({', '.join(methods)})"

    def check(value: Any, name: str) -> None:
        if not all(callable(getattr(value, method, None)) for method in methods):
            raise TypeError(f"{name} must be {text}; got {type(value).__name__}")

    return Constraint(check, text)


def resolve_quantile(fpr: float | None, quantile: float | None) -> float:
    """The quantile ``1 - fpr`` of the reference scores that a cut sits at; exactly one of
    ``fpr`` (the fraction of the reference class passing the cut) and ``quantile`` in (0, 1)."""
    if (fpr is None) == (quantile is None):
        given = "both" if fpr is not None else "neither"
        raise ValueError(f"pass exactly one of fpr (the reference fraction passing the cut) and quantile "
                         f"(= 1 - fpr); got {given}")
    if fpr is not None:
        check_fraction(fpr, "fpr", allow_zero=False)
        return 1.0 - float(fpr)
    check_fraction(quantile, "quantile", allow_zero=False)
    return float(quantile)


@dataclass
class ConditionRange:
    """The training range of a condition and the policy for rows outside it.

    Attributes
    ----------
    low, high : ndarray (C,)
        Smallest and largest training value of each condition column; a row is inside
        when every column lies in [low, high] (the edges included).
    """

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, cond: np.ndarray) -> ConditionRange:
        """The range of a training condition (N, C)."""
        return cls(cond.min(0), cond.max(0))

    def outside(self, cond: np.ndarray) -> np.ndarray:
        """True for each row of ``cond`` (N, C) with a column outside the range, (N,) bool."""
        return ((cond < self.low) | (cond > self.high)).any(1)

    def apply(self, cond: np.ndarray, policy: str, name: str = "cond") -> np.ndarray:
        """``cond`` (N, C) under ``policy``: ``"clip"`` clips the rows outside to the range (and
        logs how many), ``"flag"`` keeps them and logs a warning, ``"error"`` raises ``ValueError``."""
        outside = self.outside(cond)
        if not outside.any():
            return cond
        n = int(outside.sum())
        column = int(np.argmax(((cond < self.low) | (cond > self.high)).any(0)))
        where = (f"{name} has {n} row(s) outside the training range; column {column} spans "
                 f"[{self.low[column]:g}, {self.high[column]:g}]")
        if policy == "error":
            raise ValueError(f"{where} (out_of_range='clip' scores them at the nearest edge, "
                             "'flag' where they lie)")
        if policy == "flag":
            log.warning("%s: scored where they lie (out_of_range='flag'; find them with "
                        "outside_training_range)", where)
            return cond
        log.info("%s: clipped to the edge (out_of_range='clip')", where)
        return np.clip(cond, self.low, self.high)


class Detector(Saveable, BaseEstimator):
    """Base class of one-class / unsupervised anomaly detectors (scikit-learn style).

    Subclasses store hyperparameters in a keyword-only ``__init__``, declare
    ``_parameter_constraints`` and implement :meth:`fit` and :meth:`score`. ``fit`` sets
    ``n_features_in_``, ``n_cond_`` (0 without a condition), the attribute named by
    ``_fitted_attribute`` and ``reference_scores_`` (the scores of the training or
    calibration objects, or None where the detector keeps none). :meth:`threshold` and
    :meth:`predict` then work as documented; ``save`` / ``load`` come from the one save
    format. A subclass is registered in :data:`DETECTORS` unless defined with
    ``class MyDetector(Detector, register=False)``.

    Conditional detectors declare the parameter ``out_of_range`` (constraint
    :data:`OUT_OF_RANGE`), call :meth:`_fit_cond_range` in ``fit`` and pass every
    validated condition through :meth:`_limit_cond` before scoring.

    A detector whose cut depends on the condition (a calibration per kinematic bin) sets
    ``per_condition_threshold = True`` and overrides :meth:`threshold` and :meth:`predict`
    with the same signatures: without a ``reference``, ``threshold(..., cond=cond)`` then
    returns one cut per row of ``cond`` (M,), and ``predict`` flags ``score > cut`` row
    by row. ``randomized_cut = True`` declares that ``predict`` splits ties at the cut at
    random (so that exactly the fraction ``fpr`` of the reference passes): rows scoring
    at or just below their cut may then be flagged too.
    """

    #: the cut depends on the condition (see the class docstring)
    per_condition_threshold: ClassVar[bool] = False
    #: predict splits ties at the cut at random (see the class docstring)
    randomized_cut: ClassVar[bool] = False
    #: a fitted attribute that exists once the detector is fitted
    _fitted_attribute: ClassVar[str] = "reference_scores_"

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not register:
            return
        known = DETECTORS.get(cls.__name__)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"a detector named {cls.__name__} is already registered ({known.__module__}); "
                             "rename the class or define it with register=False")
        DETECTORS[cls.__name__] = cls

    # ----------------------------------------------------------- the contract
    def fit(self, X: Any, cond: Any = None) -> Detector:
        """Learn the reference class from objects ``X`` (N, ...) given ``cond`` (N,), (N, C) or None."""
        raise NotImplementedError(f"{type(self).__name__} must implement fit(X, cond=None)")

    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """Anomaly score of each object, (N,) float32; higher = more anomalous."""
        raise NotImplementedError(f"{type(self).__name__} must implement score(X, cond=None)")

    def threshold(self, fpr: float | None = None, *, quantile: float | None = None, reference: Any = None,
                  cond: Any = None) -> float:
        """The score cut passed by the fraction ``fpr`` (= 1 − ``quantile``) of the reference class.

        Parameters
        ----------
        fpr, quantile : float in (0, 1)
            Exactly one: the fraction of the reference scoring above the cut, or the
            quantile of the reference scores the cut sits at.
        reference : None, array (M,) or objects (M, ...)
            The reference class: None uses ``reference_scores_`` (the detector's own
            training or calibration objects); a 1-D array is taken as reference scores;
            anything else as reference objects, scored with ``cond``.
        cond : None, (M,) or (M, C)
            The condition of reference objects (for conditional detectors).

        Returns
        -------
        float
            The ``quantile`` of the reference scores (linear interpolation): for
            continuous scores, a fraction ``fpr`` of the reference lies above it (within 1/M).
        """
        check_fitted(self, self._fitted_attribute)
        q = resolve_quantile(fpr, quantile)
        scores = self._reference_scores(reference, cond)
        return float(np.quantile(scores.astype(np.float64), q))

    def predict(self, X: Any, cond: Any = None, *, fpr: float | None = None, quantile: float | None = None,
                reference: Any = None) -> np.ndarray:
        """True where an object scores above :meth:`threshold` (``fpr``, ``quantile``, ``reference``), (N,) bool.

        For a conditional detector, pass ``reference`` as scores (``detector.score(X_ref, cond_ref)``):
        ``cond`` is the condition of ``X``.
        """
        cut = self.threshold(fpr, quantile=quantile, reference=reference)
        return self.score(X, cond) > cut

    # ------------------------------------------------------------- conditions
    def outside_training_range(self, cond: Any) -> np.ndarray:
        """True for each row of ``cond`` (N,) or (N, C) outside the training range of the condition, (N,) bool.

        With ``out_of_range="flag"`` these rows are scored where they lie; this says which they are.
        """
        check_fitted(self, self._fitted_attribute)
        cond_range = getattr(self, "cond_range_", None)
        if cond_range is None:
            raise ValueError(f"this {type(self).__name__} was fitted without a condition; cond has no range")
        cond = check_cond(cond, len(np.atleast_1d(np.asarray(cond))), n_features=self.n_cond_)
        return cond_range.outside(cond)

    def _fit_cond_range(self, cond: np.ndarray | None) -> None:
        """Keep the training range of a validated condition (N, C) as ``cond_range_`` (None without one)."""
        self.cond_range_ = None if cond is None else ConditionRange.fit(cond)

    def _limit_cond(self, cond: np.ndarray | None) -> np.ndarray | None:
        """A validated condition (N, C) after the ``out_of_range`` policy."""
        if cond is None or self.cond_range_ is None:
            return cond
        return self.cond_range_.apply(cond, self.out_of_range)

    # ---------------------------------------------------------------- helpers
    def _reference_scores(self, reference: Any, cond: Any) -> np.ndarray:
        if reference is None:
            if cond is not None:
                raise ValueError("cond is the condition of reference objects; pass it with reference=")
            if getattr(self, "reference_scores_", None) is None:
                raise ValueError(f"this {type(self).__name__} keeps no reference scores: pass reference= "
                                 "(reference objects or their scores)")
            return self.reference_scores_
        if np.ndim(reference) == 1:
            if cond is not None:
                raise ValueError("cond is the condition of reference objects; reference holds scores (1-D)")
            return check_array(reference, "reference", ndim=1)
        try:
            return self.score(reference, cond)
        except ValueError as error:
            raise ValueError(f"reference: {error}") from error
