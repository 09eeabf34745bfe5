"""The shared detector test suite (scikit-learn's ``check_estimator`` for :class:`Detector`).

:func:`check_detector` fits a clone of a detector on reference objects and runs every
check in :data:`CHECKS` on it; a failed check raises ``AssertionError`` naming the check
and what was wrong. ``tests/test_detectors.py`` runs it over every registered detector
(:data:`likely.detect.DETECTORS`), and shows that it catches broken ones.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from likely.detect.base import Detector
from likely.metrics import auc

__all__ = ["CHECKS", "Case", "check_detector"]

#: reference fractions at which the cuts are checked
FPRS = (0.1, 0.25)
#: AUC of obvious outliers against the reference objects that a detector must reach
MIN_OUTLIER_AUC = 0.9
#: rows a randomized cut (``randomized_cut``) may flag below its cut, as a fraction of all rows
MAX_RANDOMIZED_BELOW = 0.02


@dataclass
class Case:
    """A fitted detector and the data the checks use.

    Attributes
    ----------
    unfitted, fitted : Detector
        The detector as given and a fitted clone.
    X, cond : arrays
        The reference objects (N, ...) it was fitted on and their condition (or None).
    outliers, outliers_cond : arrays
        Obvious outliers (M, ...) and their condition.
    scores : ndarray (N,)
        ``fitted.score(X, cond)``.
    """

    unfitted: Detector
    fitted: Detector
    X: np.ndarray
    cond: np.ndarray | None
    outliers: np.ndarray
    outliers_cond: np.ndarray | None
    scores: np.ndarray

    def cut(self, fpr: float) -> Any:
        """The detector's default cut at ``fpr``: a float, or one per row of ``cond``."""
        if type(self.fitted).per_condition_threshold:
            return self.fitted.threshold(fpr, cond=self.cond)
        return self.fitted.threshold(fpr)


def _expect(condition: Any, check: str, message: str) -> None:
    if not condition:
        raise AssertionError(f"{check}: {message}")


def _raises(check: str, error: type[Exception], call: Callable[[], Any], what: str) -> None:
    try:
        call()
    except error:
        return
    except Exception as other:  # noqa: BLE001 (reported as the failure it is)
        raise AssertionError(f"{check}: {what} raised {type(other).__name__} ({other}), "
                             f"not {error.__name__}") from other
    raise AssertionError(f"{check}: {what} did not raise {error.__name__}")


# ----------------------------------------------------------------- the checks
def check_unfitted(case: Case) -> None:
    """score, threshold, predict and save of an unfitted detector raise clear errors."""
    name, detector = "check_unfitted", clone(case.unfitted)
    X, cond = case.X[:5], None if case.cond is None else case.cond[:5]
    _raises(name, NotFittedError, lambda: detector.score(X, cond), "score before fit")
    at = cond if type(detector).per_condition_threshold else None
    _raises(name, NotFittedError, lambda: detector.threshold(0.1, cond=at), "threshold before fit")
    _raises(name, NotFittedError, lambda: detector.predict(X, cond, fpr=0.1), "predict before fit")
    with tempfile.TemporaryDirectory() as tmp:
        _raises(name, ValueError, lambda: detector.save(Path(tmp) / "model"), "save before fit")


def check_scores(case: Case) -> None:
    """score returns (N,) float32 finite values, the same in repeated calls."""
    name, scores = "check_scores", case.scores
    _expect(isinstance(scores, np.ndarray), name, f"score returned a {type(scores).__name__}, not an ndarray")
    _expect(scores.shape == (len(case.X),), name, f"score shape is {scores.shape}, expected ({len(case.X)},)")
    _expect(scores.dtype == np.float32, name, f"score dtype is {scores.dtype}, expected float32")
    _expect(np.isfinite(scores).all(), name, f"{np.count_nonzero(~np.isfinite(scores))} non-finite score(s)")
    again = case.fitted.score(case.X, case.cond)
    _expect(np.array_equal(again, scores), name, "two calls of score on the same objects disagree")


def check_outliers_score_higher(case: Case) -> None:
    """Obvious outliers score higher than the reference objects (higher = more anomalous)."""
    outliers = case.fitted.score(case.outliers, case.outliers_cond)
    labels = np.r_[np.zeros(len(case.scores)), np.ones(len(outliers))]
    value = auc(labels, np.r_[case.scores, outliers])
    _expect(value >= MIN_OUTLIER_AUC, "check_outliers_score_higher",
            f"AUC of obvious outliers vs reference objects is {value:.3f} < {MIN_OUTLIER_AUC} "
            "(is the score's sign right? higher must be more anomalous)")


def _fraction_passing(check: str, scores: np.ndarray, cut: float, fpr: float) -> None:
    """A quantile cut at 1 - fpr: at most fpr + 1/M above it, at least fpr - 1/M at or above it."""
    slack = 1.0 / len(scores)
    above, at_or_above = np.mean(scores > cut), np.mean(scores >= cut)
    _expect(above <= fpr + slack and at_or_above >= fpr - slack, check,
            f"fpr={fpr}: {above:.4f} of the reference scores lie above the cut {cut!r} "
            f"({at_or_above:.4f} at or above it)")


def check_threshold(case: Case) -> None:
    """threshold(fpr) is passed by the fraction fpr of the reference; quantile = 1 - fpr gives the same cut;
    reference objects and their scores give the same cut; bad fpr / quantile raise ValueError."""
    name, fitted = "check_threshold", case.fitted
    for fpr in FPRS:
        cut = fitted.threshold(fpr, reference=case.scores)
        _fraction_passing(name, case.scores, cut, fpr)
        _expect(fitted.threshold(quantile=1 - fpr, reference=case.scores) == cut, name,
                f"threshold(quantile={1 - fpr}) differs from threshold(fpr={fpr})")
        _expect(fitted.threshold(fpr, reference=case.X, cond=case.cond) == cut, name,
                "threshold with reference objects differs from threshold with their scores")
        default = case.cut(fpr)
        if type(fitted).per_condition_threshold:
            shape = np.shape(default)
            _expect(shape == (len(case.X),) and np.isfinite(default).all(), name,
                    f"a per-condition cut must be one finite value per row of cond; got shape {shape}")
        else:
            reference = fitted.reference_scores_
            _expect(reference is not None and np.ndim(reference) == 1, name,
                    "reference_scores_ must hold the (M,) scores of the detector's own reference objects")
            _fraction_passing(name, reference, default, fpr)
    for bad in ({"fpr": 0.0}, {"fpr": 1.0}, {"quantile": 1.5}, {"fpr": 0.1, "quantile": 0.9}, {}):
        _raises(name, ValueError, lambda bad=bad: fitted.threshold(reference=case.scores, **bad),
                f"threshold({bad})")


def check_predict(case: Case) -> None:
    """predict flags exactly the objects scoring above the cut (for a randomized cut: all above, and few below)."""
    name, fitted = "check_predict", case.fitted
    for fpr in FPRS:
        flagged = fitted.predict(case.X, case.cond, fpr=fpr)
        _expect(isinstance(flagged, np.ndarray) and flagged.dtype == np.bool_ and flagged.shape == case.scores.shape,
                name, f"predict must return a ({len(case.X)},) bool array; got {getattr(flagged, 'dtype', None)} "
                f"{np.shape(flagged)}")
        _expect(np.array_equal(fitted.predict(case.X, case.cond, fpr=fpr), flagged), name, "predict is not repeatable")
        cut = case.cut(fpr)
        above, below = case.scores > cut, case.scores < cut
        _expect(flagged[above].all(), name, f"fpr={fpr}: {np.count_nonzero(~flagged & above)} object(s) above "
                "the cut are not flagged")
        extra = np.mean(flagged & (below if type(fitted).randomized_cut else ~above))
        limit = MAX_RANDOMIZED_BELOW if type(fitted).randomized_cut else 0.0
        _expect(extra <= limit, name, f"fpr={fpr}: a fraction {extra:.4f} of objects not above the cut is flagged")
        explicit = fitted.predict(case.X, case.cond, fpr=fpr, reference=case.scores)
        _expect(np.array_equal(explicit, case.scores > fitted.threshold(fpr, reference=case.scores)), name,
                "predict with reference scores is not score > threshold(reference=those scores)")
    _raises(name, ValueError, lambda: fitted.predict(case.X, case.cond), "predict without fpr or quantile")


def check_save_load(case: Case) -> None:
    """save / load round trip: the loaded detector gives bit-identical scores, cuts and decisions.

    The folder is loaded with ``trust=True``: it was just written here, and a detector of
    the user's own (a class outside ``likely``) loads only so.
    """
    name = "check_save_load"
    with tempfile.TemporaryDirectory() as tmp:
        path = case.fitted.save(Path(tmp) / "model")
        loaded = type(case.fitted).load(path, device="cpu", trust=True)
    _expect(type(loaded) is type(case.fitted), name, f"loaded a {type(loaded).__name__}")
    _expect(np.array_equal(loaded.score(case.X, case.cond), case.scores), name, "scores changed in the round trip")
    for fpr in FPRS:
        reloaded = Case(case.unfitted, loaded, case.X, case.cond, case.outliers, case.outliers_cond, case.scores)
        _expect(np.array_equal(reloaded.cut(fpr), case.cut(fpr)), name, f"the cut at fpr={fpr} changed")
        _expect(np.array_equal(loaded.predict(case.X, case.cond, fpr=fpr), case.fitted.predict(case.X, case.cond, fpr=fpr)),
                name, f"predict at fpr={fpr} changed")


def check_bad_input(case: Case) -> None:
    """Wrong numbers of features (of vectors) or wrong image shapes and flattened images (of
    images), 1-D objects, a condition of the wrong length and NaN / inf in the objects or the
    condition raise ValueError (at score and at fit)."""
    name, fitted, X, cond = "check_bad_input", case.fitted, case.X[:10], None if case.cond is None else case.cond[:10]
    for bad, what in ((np.nan, "NaN"), (np.inf, "inf")):
        _raises(name, ValueError, lambda: fitted.score(_with(X, bad), cond), f"score with {what} in X")
        _raises(name, ValueError, lambda: clone(case.unfitted).fit(_with(case.X, bad), case.cond), f"fit with {what} in X")
        if cond is not None:
            _raises(name, ValueError, lambda: fitted.score(X, _with(cond, bad)), f"score with {what} in cond")
    if X.ndim == 2:
        _raises(name, ValueError, lambda: fitted.score(np.hstack([X, X[:, :1]]), cond), "score with one feature too many")
        if X.shape[1] > 1:
            _raises(name, ValueError, lambda: fitted.score(X[:, :-1], cond), "score with one feature too few")
    else:
        _raises(name, ValueError, lambda: fitted.score(np.concatenate([X, X[..., :1]], -1), cond),
                "score of images one pixel wider")
        _raises(name, ValueError, lambda: fitted.score(X.reshape(len(X), -1), cond), "score of flattened images")
        if X.ndim == 4:
            _raises(name, ValueError, lambda: fitted.score(np.concatenate([X, X[:, :1]], 1), cond),
                    "score of images with one channel too many")
    _raises(name, ValueError, lambda: fitted.score(X.reshape(len(X), -1)[:, 0], cond), "score of 1-D X")
    if cond is not None:
        _raises(name, ValueError, lambda: fitted.score(X, cond[:-1]), "score with a cond one row short")


def _with(values: np.ndarray, bad: float) -> np.ndarray:
    """A float copy of ``values`` with its first entry replaced by ``bad``."""
    values = np.array(values, dtype=np.float64 if values.dtype == np.float64 else np.float32)
    values.flat[0] = bad
    return values


#: every check, in the order :func:`check_detector` runs them
CHECKS: tuple[Callable[[Case], None], ...] = (
    check_unfitted,
    check_scores,
    check_outliers_score_higher,
    check_threshold,
    check_predict,
    check_save_load,
    check_bad_input,
)


def check_detector(detector: Detector, X: Any, cond: Any = None, *, outliers: Any = None,
                   outliers_cond: Any = None) -> Detector:
    """Check that ``detector`` keeps the :class:`Detector` contract; returns the fitted clone.

    Parameters
    ----------
    detector : Detector
        Unfitted; fitted here as a clone on ``X``, ``cond``. Small, fast settings do:
        the checks test the contract, not the detector's power.
    X : array (N, ...)
        Reference objects — vectors (N, D), images (N, C, H, W) or (N, H, W), or whatever the
        detector takes; N of a few hundred or more, so cut fractions are resolved.
    cond : array (N,), (N, C) or None
        Their condition.
    outliers : array (M, ...) or None
        Objects any working detector scores as anomalous; None shifts every feature of
        ``X`` by 10 of its standard deviations.
    outliers_cond : array or None
        Their condition (None: ``cond``, or none).

    Raises
    ------
    AssertionError
        Naming the failed check (see :data:`CHECKS`) and what was wrong.
    """
    X = np.asarray(X, dtype=np.float32)
    cond = None if cond is None else np.asarray(cond, dtype=np.float32)
    if outliers is None:
        outliers = X + 10 * X.std(axis=0)
    if outliers_cond is None and len(outliers) == len(X):
        outliers_cond = cond
    fitted = clone(detector)
    _expect(fitted.fit(X, cond) is fitted, "check_fit", "fit must return the detector itself")
    case = Case(detector, fitted, X, cond, np.asarray(outliers, dtype=np.float32), outliers_cond,
                fitted.score(X, cond))
    for check in CHECKS:
        check(case)
    return fitted
