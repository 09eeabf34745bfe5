"""Resonant anomaly-detection methods, one class each, with one shape.

``Method(...).fit(events, window, background=None, signal=None)`` learns from the data as
the method prescribes; ``score(events)`` returns per-event anomaly scores (higher = more
signal-like), meant for signal-region events. ``background`` (an independent pure
background sample) and ``signal`` (a pure signal sample) are used only by the idealized
and supervised bounds; other methods ignore them, so a scan can pass the same
references to every method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from scipy.stats import gaussian_kde
from sklearn.base import BaseEstimator, clone

from likely._checks import (
    Constraint, check_array, check_fitted, check_positive, fraction, instance, options, positive, validate_params,
)
from likely._persist import Saveable
from likely.classify import BinaryClassifier, Ensemble, TreeClassifier, balanced_weights
from likely.data import EventSet
from likely.density import DensityEstimator, Flow, FlowMatching
from likely.nn import Trainer, seeded, to_numpy
from likely.search.windows import Window

__all__ = [
    "ANODE", "BackgroundDensityMixin", "CATHODE", "CWoLa", "ClassifyAgainstSamples", "DEFAULT_FEATURES", "IdealizedAD",
    "RANODE", "ResonantMethod", "SIGMA", "Supervised",
]

#: CATHODE's feature set (the conditioning variable mjj is separate)
DEFAULT_FEATURES = ("mj1", "delta_mj", "tau21_j1", "tau21_j2")


def default_classifier(random_state: int | None = None, n_members: int = 10) -> BinaryClassifier:
    """``n_members`` boosted-tree classifiers with different seeds, averaged (cf. SIGMA's HGB ensemble)."""
    return Ensemble(TreeClassifier(), n_members=n_members, mode="seed", random_state=random_state)


def default_flow(random_state: int | None = None, preprocessing: str = "standardize") -> Flow:
    """A conditional MAF with rational-quadratic splines for the 4 LHCO features.

    Trained at a learning rate of 2e-4 (at 1e-3 the sideband flow's validation loss
    bottoms out after about ten epochs with a visibly worse model; see the
    background-fidelity table in docs/benchmarks.md) for at most 25 epochs of at most 200
    steps, stopping 5 epochs after the best: the validation loss is within 0.01 nats of
    its best after 2-3 epochs (patience 20 ran 20 epochs past it), and the step cap
    (``Trainer.max_steps_per_epoch``) keeps the fit's cost that of a ~50k-event sample on a
    1M-event one.
    ``preprocessing="logit"`` suits sampling (CATHODE); methods that evaluate densities
    at signal-region events keep ``"standardize"``, since a logit gives no density
    outside the training range.
    """
    trainer = Trainer(lr=2e-4, epochs=25, patience=5, max_steps_per_epoch=200)
    return Flow(kind="maf", transforms=6, hidden=(128, 128), bins=8, preprocessing=preprocessing,
                trainer=trainer, random_state=random_state)


def default_flow_matching(random_state: int | None = None) -> FlowMatching:
    """SIGMA's conditional flow-matching model for the LHCO features.

    Logit preprocessing (the features are bounded) and all 100 cosine-scheduled epochs of at
    most 200 steps, keeping the best: flow matching's validation loss is noisy, and stopping
    after ten epochs without improvement left a visibly worse background model (see the
    background-fidelity table in docs/benchmarks.md). The step cap
    (``Trainer.max_steps_per_epoch``) bounds the cost on a 1M-event sample.
    """
    trainer = Trainer(patience=None, max_steps_per_epoch=200)
    return FlowMatching(preprocessing="logit", trainer=trainer, random_state=random_state)


def _check_features(value: Any, name: str) -> None:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise TypeError(f"{name} must be a non-empty sequence of column names; got {value!r}")
    if not all(isinstance(column, str) for column in value):
        raise TypeError(f"{name} must hold column names (str); got {value!r}")


def _check_n_folds(value: Any, name: str) -> None:
    check_positive(value, name, integer=True)
    if value < 2:
        raise ValueError(f"{name} must be >= 2 (or None for one classifier without folds); got {value}")


#: constraints shared by several methods
_FEATURES = Constraint(_check_features, "non-empty sequence of column names")
_N_FOLDS = Constraint(_check_n_folds, "integer >= 2") | None
_CLASSIFIER = instance(BinaryClassifier) | None
_FLAG = instance(bool)


class ResonantMethod(Saveable, BaseEstimator):
    """Base class: feature selection, window handling and the ``fit`` / ``score`` shape.

    ``fit`` checks the hyperparameters against the ``_parameter_constraints`` the classes
    declare (:func:`likely._checks.validate_params`), the window and the columns, then
    calls the method's own training. ``save(path)`` / ``ResonantMethod.load(path,
    trust=...)`` use the one save format (:mod:`likely._persist`); ``ResonantMethod.load``
    loads any method, ``CATHODE.load`` checks the class. Folders holding pickled
    scikit-learn estimators of the user's own (not likely's boosted trees, which are saved
    as arrays) load only with ``trust=True``.

    Attributes
    ----------
    window_ : Window
        The window the method was fitted for.
    features_ : list of str
        The feature columns used.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"features": _FEATURES}

    #: whether the method's background density is fitted on all events, whatever the window
    #: (SIGMA): a scan then fits it once per (injection, seed) and hands it to every window's
    #: method as ``density=..., prefit=True``. False for densities fitted per window (on its
    #: sidebands) and for methods without one.
    window_independent_density: ClassVar[bool] = False

    def fit(self, events: EventSet, window: Window | None = None, *,
            background: EventSet | None = None, signal: EventSet | None = None) -> ResonantMethod:
        """Train on ``events`` (all ``mjj``) for the signal region of ``window`` (default: 3.3-3.7 TeV)."""
        if not isinstance(events, EventSet):
            raise TypeError(f"events must be an EventSet; got {type(events).__name__}")
        validate_params(self)
        self.window_ = window or Window()
        self.features_ = list(self.features)
        for name in (*self.features_, self.window_.variable):
            _check_column(events, name)
        self._fit(events, background=background, signal=signal)
        return self

    def score(self, events: EventSet) -> np.ndarray:
        """Anomaly score of each event, shape (N,), higher = more signal-like."""
        check_fitted(self, "window_")
        return self._score(events).astype(np.float32)

    def _X(self, events: EventSet) -> np.ndarray:
        return events.array(self.features_)

    def _m(self, events: EventSet) -> np.ndarray:
        return events.column(self.window_.variable)

    def _fit(self, events, *, background, signal):
        raise NotImplementedError

    def _score(self, events):
        raise NotImplementedError


class BackgroundDensityMixin:
    """The background density ``p(x | m)`` of a method: parameters ``density`` and ``prefit``.

    ``density`` (a :class:`~likely.density.DensityEstimator`, default: the method's paper
    default) is cloned and fitted on the sidebands of the window, or on all events for a
    method with ``window_independent_density``; with ``prefit=True`` it is taken as
    already fitted that way and used as it is, so that several methods or windows share
    one (:meth:`fit_density` makes it). The fitted density is ``density_``.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "density": instance(DensityEstimator) | None, "prefit": _FLAG,
    }

    #: preprocessing of the default density (see :func:`default_flow`)
    _default_preprocessing = "standardize"

    def fit_density(self, events: EventSet, window: Window | None = None) -> DensityEstimator:
        """A clone of ``density`` fitted to ``events`` as :meth:`fit` fits it for ``window``.

        On the window's sidebands, or on all ``events`` if the method's density is
        window-independent (then the window only names the resonant variable). The result
        is what ``prefit=True`` takes.
        """
        validate_params(self)
        window = window or Window()
        for name in (*self.features, window.variable):
            _check_column(events, name)
        return self._fit_density(events, window)

    def with_prefit(self, model: Any) -> BackgroundDensityMixin:
        """This method, set to use ``model`` (what :meth:`fit_density` returned) as it is: ``density=model, prefit=True``."""
        return self.set_params(density=model, prefit=True)

    def _fit_density(self, events: EventSet, window: Window) -> DensityEstimator:
        if not self.window_independent_density:
            events = window.sidebands(events)
        return clone(self._density_template()).fit(events.array(list(self.features)),
                                                   cond=events.column(window.variable))

    def _background_density(self, events: EventSet) -> DensityEstimator:
        """``density`` itself if prefit (checked), else a clone fitted for ``window_``."""
        if self.prefit:
            return _prefitted(self.density, len(self.features_))
        return self._fit_density(events, self.window_)

    def _density_template(self) -> DensityEstimator:
        return self.density if self.density is not None else self._default_density()

    def _default_density(self) -> DensityEstimator:
        return default_flow(self.random_state, self._default_preprocessing)


class _Classifying(ResonantMethod):
    """A method whose score is a classifier trained on (label 1) vs (label 0) events.

    Methods that train on the data (all but :class:`Supervised`) take ``n_folds``. With
    it the classifier is an ``Ensemble(mode="kfold")`` of ``n_folds`` copies of
    ``classifier``, copy k trained on all folds but fold k; :meth:`score` averages the
    copies, and ``fit`` keeps a score of every event it was given from a model that
    never saw that event:

    - ``data_scores_`` (N,) float32, in the order of the events passed to ``fit``: the
      out-of-fold score of each training event (by the copy that left its fold out),
      and :meth:`score` for the events not trained on (e.g. the sidebands, for methods
      that classify signal-region data against samples);
    - ``data_folds_`` (N,) int: the fold of each training event, -1 for the others.

    These are the scores to cut on when the search selects events from the data it
    trained on. The default ``classifier`` with folds follows CWoLa hunting's nested
    cross-validation, where each of the ``n_folds - 1`` training folds serves in turn as
    validation set: each copy averages ``n_folds - 1`` boosted-tree classifiers, each
    early-stopped on its own random validation split.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"classifier": _CLASSIFIER}

    def _train_classifier(self, positive: EventSet, negative: EventSet, n_folds: int | None = None) -> None:
        X = np.concatenate([self._X(positive), self._X(negative)])
        y = np.concatenate([np.ones(len(positive), int), np.zeros(len(negative), int)])
        self.classifier_ = clone(self._classifier_template(n_folds)).fit(X, y, sample_weight=balanced_weights(y, None))

    def _classifier_template(self, n_folds: int | None) -> BinaryClassifier:
        if n_folds is None:
            return self.classifier if self.classifier is not None else default_classifier(self.random_state)
        member = self.classifier if self.classifier is not None else default_classifier(n_members=n_folds - 1)
        return Ensemble(member, n_members=n_folds, mode="kfold", random_state=self.random_state)

    def _train_on_data(self, events: EventSet, positive: np.ndarray, negative: np.ndarray | EventSet) -> None:
        """Classify ``events[positive]`` (1) against ``negative`` (0) with ``n_folds`` folds.

        ``positive`` is a mask (N,) of ``events``; ``negative`` another mask of ``events``
        (CWoLa's sidebands) or other events (generated samples, a reference sample).
        """
        rows = np.flatnonzero(positive)
        if isinstance(negative, np.ndarray):
            rows, negative = np.concatenate([rows, np.flatnonzero(negative)]), events[negative]
        _check_fold_sizes(self.n_folds, np.count_nonzero(positive), len(negative))
        self._train_classifier(events[positive], negative, self.n_folds)
        if self.n_folds is not None:
            self._keep_data_scores(events, rows)
        else:  # no stale scores of an earlier fit with folds
            for name in ("data_scores_", "data_folds_"):
                vars(self).pop(name, None)

    def _keep_data_scores(self, events: EventSet, rows: np.ndarray) -> None:
        """``data_scores_`` and ``data_folds_``; ``rows`` are the events of the leading training rows."""
        self.data_folds_ = np.full(len(events), -1, dtype=np.int64)
        self.data_folds_[rows] = self.classifier_.oof_fold_[:len(rows)]
        self.data_scores_ = np.empty(len(events), dtype=np.float32)
        self.data_scores_[rows] = self.classifier_.oof_proba_[:len(rows)]
        unseen = self.data_folds_ < 0
        if unseen.any():
            self.data_scores_[unseen] = self._score(events[unseen])

    def _score(self, events):
        return self.classifier_.predict_proba(self._X(events))


def _check_column(events: EventSet, name: str) -> None:
    """A clear error for a missing column or one with NaN/inf values."""
    bad = np.count_nonzero(~np.isfinite(events.column(name)))
    if bad:
        raise ValueError(f"column {name!r} has {bad} NaN/inf value(s); drop or fix those events first")


def _prefitted(density: DensityEstimator | None, n_features: int) -> DensityEstimator:
    """``density`` checked to be fitted, with one condition column and ``n_features`` features."""
    if density is None:
        raise ValueError("prefit=True needs a fitted density=...; got None")
    check_fitted(density, "model_")
    if density.n_features_in_ != n_features or density.n_cond_ != 1:
        raise ValueError(f"the prefit density models {density.n_features_in_} feature(s) given {density.n_cond_} "
                         f"condition(s); this method needs {n_features} given 1 (mjj)")
    return density


def _check_fold_sizes(n_folds: int | None, n_positive: int, n_negative: int) -> None:
    """``n_folds`` (if set) at most the smaller class: every fold needs both."""
    if n_folds is not None and n_folds > min(n_positive, n_negative):
        raise ValueError(f"n_folds must be at most the number of training events of each class, every fold needs "
                         f"both ({n_positive} signal-region events vs {n_negative}); got {n_folds}")


def _required(reference: EventSet | None, name: str, method: str) -> EventSet:
    if reference is None:
        raise ValueError(f"{method} needs {name}=..., a pure {name} sample")
    return reference


class Supervised(_Classifying):
    """Fully supervised bound: pure signal vs pure background in the signal region.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    classifier : BinaryClassifier or None
        Cloned and trained; default: an average of 10 boosted-tree classifiers.
    random_state : int or None
        Seeds the default classifier.

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    classifier_ : BinaryClassifier
        The fitted classifier (signal = 1).
    """

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
                 random_state: int | None = None) -> None:
        self.features = features
        self.classifier = classifier
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        signal = self.window_.signal_region(_required(signal, "signal", "Supervised"), "signal events")
        background = self.window_.signal_region(_required(background, "background", "Supervised"),
                                                "background events")
        self._train_classifier(signal, background)


class IdealizedAD(_Classifying):
    """Idealized anomaly detector: signal-region data vs a perfect background sample there.

    The upper bound for methods that estimate the background (CATHODE, CURTAINs, ...).

    Parameters
    ----------
    features, classifier, random_state
        As in :class:`Supervised`.
    n_folds : int or None
        See :class:`CWoLa` (default None: one classifier, no ``data_scores_``).

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    classifier_ : BinaryClassifier
        The fitted classifier (SR data = 1, then the reference background = 0).
    data_scores_, data_folds_ : ndarray (N,)
        Out-of-fold score and fold of each event passed to ``fit`` (with ``n_folds``).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"n_folds": _N_FOLDS}

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
                 n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.classifier = classifier
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        background = self.window_.signal_region(_required(background, "background", "IdealizedAD"),
                                                "background events")
        self.window_.signal_region(events)  # a clear error if empty
        self._train_on_data(events, self.window_.in_sr(events), background)


class CWoLa(_Classifying):
    """CWoLa hunting (Collins, Howe, Nachman 2018): signal region vs sidebands, k-folded.

    A classifier separates signal-region events (1) from sideband events (0). Sensitive
    only if the features do not depend on ``mjj``; set ``Window.sideband_width`` to use
    narrow sidebands next to the signal region, as the original method does.

    As in the paper, the SR and SB events are split into ``n_folds`` folds (stratified,
    shuffled with ``random_state``) and each fold is scored by a model trained on the
    others, so that the search can cut on the very events it trained on:
    ``data_scores_`` holds these out-of-fold scores in the order of the events passed to
    ``fit`` (``data_folds_``: each event's fold, -1 for events in neither SR nor SB).
    :meth:`score` of new events averages the ``n_folds`` fold models.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    classifier : BinaryClassifier or None
        The model of each fold (cloned); default: an average of ``n_folds - 1`` boosted-tree
        classifiers (with ``n_folds=None``: of 10).
    n_folds : int or None
        Number of folds (>= 2; the paper: 5). None trains one classifier on all events,
        as in our signal-injection studies before k-folding, and keeps no ``data_scores_``.
    random_state : int or None
        Seeds the folds and the classifiers.

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    classifier_ : BinaryClassifier
        The fitted classifier: an ``Ensemble(mode="kfold")`` over SR then SB events
        (``classifier_.oof_proba_`` in that order), or ``classifier`` alone.
    data_scores_, data_folds_ : ndarray (N,)
        Out-of-fold score and fold of each event passed to ``fit`` (with ``n_folds``).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"n_folds": _N_FOLDS}

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
                 n_folds: int | None = 5, random_state: int | None = None) -> None:
        self.features = features
        self.classifier = classifier
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        self.window_.signal_region(events)  # clear errors if the SR or the SB is empty
        self.window_.sidebands(events)
        self._train_on_data(events, self.window_.in_sr(events), self.window_.in_sb(events))


class ANODE(BackgroundDensityMixin, ResonantMethod):
    """ANODE (Nachman, Shih 2020): likelihood ratio of two conditional densities.

    ``p_data(x | m)`` is learned in the signal region, ``p_bg(x | m)`` in the sidebands
    and interpolated into the signal region through its ``m`` dependence; the score is
    ``log p_data - log p_bg``.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    density : DensityEstimator or None
        The conditional density, cloned for both ``p_bg`` and ``p_data`` (default:
        :func:`default_flow`).
    prefit : bool
        ``density`` is already fitted to the sidebands of the window (shared, e.g., by
        ANODE, CATHODE and R-ANODE on the same data, see :meth:`fit_density`): it is
        ``p_bg`` as it is, and only ``p_data``, a fresh clone, is trained.
    random_state : int or None
        Seeds the default density.

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    density_ : DensityEstimator
        ``p_bg(x | m)``, fitted on the sidebands.
    data_density_ : DensityEstimator
        ``p_data(x | m)``, fitted on the signal region.
    """

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, density: DensityEstimator | None = None,
                 prefit: bool = False, random_state: int | None = None) -> None:
        self.features = features
        self.density = density
        self.prefit = prefit
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        sr = self.window_.signal_region(events)
        self.density_ = self._background_density(events)
        self.data_density_ = clone(self._density_template()).fit(self._X(sr), cond=self._m(sr))

    def _score(self, events):
        X, m = self._X(events), self._m(events)
        return self.data_density_.log_prob(X, m) - self.density_.log_prob(X, m)


class ClassifyAgainstSamples(_Classifying):
    """Base of the methods that sample the background in the SR and classify SR data against it.

    ``fit`` calls :meth:`fit_background` with all the events, then draws ``mjj`` values
    from a kernel density estimate of the signal region's ``mjj`` distribution,
    ``oversampling`` times as many as there are SR events, asks :meth:`sample_background`
    for background features there, and trains a classifier on SR data (1) vs these
    samples (0), whose output is the score. CATHODE, SIGMA and CURTAINs are built this
    way; a new method of this kind implements the two hooks (docs/search.md, "Adding a
    method"). A subclass with hyperparameters of its own writes its ``__init__`` with
    all of them, keyword-only, as scikit-learn requires.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    classifier : BinaryClassifier or None
        Cloned and trained; default: an average of boosted-tree classifiers (see
        :class:`CWoLa`).
    oversampling : float
        Background samples per SR event.
    n_folds : int or None
        k-fold the classifier and keep out-of-fold ``data_scores_`` of the SR data, as in
        :class:`CWoLa` — what a search on real data cuts on (``classifier_.oof_proba_``
        holds the samples' after them). Default None: one classifier.
    random_state : int or None
        Seeds the ``mjj`` draws, the default models and the folds.

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    samples_ : EventSet
        The background samples the classifier was trained on (kept, not saved).
    classifier_ : BinaryClassifier
        The fitted classifier.
    data_scores_, data_folds_ : ndarray (N,)
        Out-of-fold score and fold of each event passed to ``fit`` (with ``n_folds``).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"oversampling": positive(), "n_folds": _N_FOLDS}

    #: training data kept for inspection, not saved with the method
    _not_saved = ("samples_",)

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
                 oversampling: float = 4.0, n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    def fit_background(self, events: EventSet) -> None:
        """Learn the background from ``events`` (every ``mjj``); keep what is learned in attributes ending in ``_``.

        ``window_`` and ``features_`` are set. Use the window's sidebands
        (``self.window_.sidebands(events)``) or, with care, all events.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement fit_background(events)")

    def sample_background(self, m: np.ndarray) -> np.ndarray:
        """Background features, shape (len(m), len(features_)), at the signal-region masses ``m`` (N,)."""
        raise NotImplementedError(f"{type(self).__name__} must implement sample_background(m)")

    def _fit(self, events, *, background, signal):
        sr = self.window_.signal_region(events)
        self.fit_background(events)
        m = self.signal_region_masses(self._m(sr), int(self.oversampling * len(sr)))
        columns = dict(zip(self.features_, self._background_samples(m).T))
        self.samples_ = EventSet({**columns, self.window_.variable: m})
        self._train_on_data(events, self.window_.in_sr(events), self.samples_)

    def signal_region_masses(self, m_sr: np.ndarray, n: int) -> np.ndarray:
        """Up to ``n`` masses (units of ``m_sr``) drawn from a Gaussian KDE of the signal-region masses
        ``m_sr`` (N,), seeded by ``random_state``; draws the KDE puts outside the window are dropped."""
        m = gaussian_kde(m_sr).resample(n, seed=self.random_state)[0]
        return m[(m >= self.window_.low) & (m < self.window_.high)]  # the KDE leaks past the edges

    def _background_samples(self, m: np.ndarray) -> np.ndarray:
        """:meth:`sample_background` at ``m``, checked: finite, one row per mass, one column per feature."""
        name = f"{type(self).__name__}.sample_background(m)"
        samples = check_array(self.sample_background(m), name, n_features=len(self.features_))
        if len(samples) != len(m):
            raise ValueError(f"{name} returned {len(samples)} rows for {len(m)} masses")
        return samples


class CATHODE(BackgroundDensityMixin, ClassifyAgainstSamples):
    """CATHODE (Hallin et al. 2022): classify data against sampled background.

    A conditional density learns ``p(x | m)`` in the sidebands and is sampled in the
    signal region; a classifier is then trained on signal-region data (1) vs these
    samples (0).

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    density : DensityEstimator or None
        The sideband density (default: :func:`default_flow` with ``preprocessing="logit"``).
    prefit : bool
        ``density`` is already fitted to the sidebands of the window: that training is skipped.
    classifier, oversampling, n_folds, random_state
        See :class:`ClassifyAgainstSamples`.

    Attributes
    ----------
    window_, features_, samples_, classifier_, data_scores_, data_folds_
        See :class:`ClassifyAgainstSamples`.
    density_ : DensityEstimator
        The fitted sideband density, sampled in the signal region.
    """

    _default_preprocessing = "logit"

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, density: DensityEstimator | None = None,
                 prefit: bool = False, classifier: BinaryClassifier | None = None,
                 oversampling: float = 4.0, n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.density = density
        self.prefit = prefit
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    def fit_background(self, events):
        """Fit (or, with ``prefit``, take) the sideband density ``density_``."""
        self.density_ = self._background_density(events)

    def sample_background(self, m):
        """One draw of ``density_`` at each mass."""
        return self.density_.sample(cond=m, random_state=self.random_state)


class SIGMA(BackgroundDensityMixin, ClassifyAgainstSamples):
    """SIGMA (Das, Shih 2024): one generative model on all data, interpolated into the SR.

    ``p(x | m)`` is learned on every event, signal region included; the signal-region
    background comes from the model at the anchors ``low - margin`` and
    ``high + margin`` only, interpolated in between, so the model never generates at a
    signal-region mass it may have learned signal at. Then, as in CATHODE, a classifier
    separates signal-region data from the samples. The density does not depend on the
    window (``window_independent_density``): :meth:`fit_density` fits it once, and
    ``prefit=True`` reuses it for every window of a sliding search.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    density : FlowMatching, Flow or None
        The conditional generative model (default: :func:`default_flow_matching`, as in
        the paper).
    interpolation : {"velocity", "mixture"}
        ``"velocity"`` interpolates the flow-matching velocity field linearly in ``m``
        (FlowMatching only); ``"mixture"`` draws each sample at one of the anchors, the
        upper one with probability ``(m - m_low) / (m_high - m_low)`` (any density).
    margin : float
        Distance of the anchors from the signal-region edges (the paper: 0.1 TeV).
    prefit : bool
        ``density`` is already fitted to all the data: only the interpolation, sampling
        and classifier run, so a sliding-window search trains the generative model
        once for every window.
    classifier, oversampling, n_folds, random_state
        See :class:`ClassifyAgainstSamples`.

    Attributes
    ----------
    window_, features_, samples_, classifier_, data_scores_, data_folds_
        See :class:`ClassifyAgainstSamples`.
    density_ : DensityEstimator
        The density fitted on all events.
    anchors_ : tuple of float
        The masses ``(low - margin, high + margin)`` the samples are drawn at.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "interpolation": options("velocity", "mixture"), "margin": positive(allow_zero=True),
    }
    window_independent_density = True

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, density: DensityEstimator | None = None,
                 interpolation: str = "velocity", margin: float = 0.1, prefit: bool = False,
                 classifier: BinaryClassifier | None = None, oversampling: float = 4.0,
                 n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.density = density
        self.interpolation = interpolation
        self.margin = margin
        self.prefit = prefit
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    def fit_background(self, events):
        """Fit (or, with ``prefit``, take) ``density_`` on all events; set the ``anchors_``."""
        if self.interpolation == "velocity" and not isinstance(self._density_template(), FlowMatching):
            raise ValueError("interpolation='velocity' needs a FlowMatching density; use 'mixture' for flows")
        self.anchors_ = (self.window_.low - self.margin, self.window_.high + self.margin)
        self.density_ = self._background_density(events)

    def _default_density(self) -> DensityEstimator:
        return default_flow_matching(self.random_state)

    def sample_background(self, m):
        """Draws interpolated between the anchors (see ``interpolation``)."""
        low, high = self.anchors_
        if self.interpolation == "velocity":
            return self.density_.sample_interpolated(m, low, high, random_state=self.random_state)
        upper = np.random.default_rng(self.random_state).random(len(m)) < (m - low) / (high - low)
        return self.density_.sample(cond=np.where(upper, high, low).astype(np.float32), random_state=self.random_state)


class _SignalMixture(torch.nn.Module):
    """R-ANODE's signal-region model ``w p_sig(x | m) + (1 - w) p_bg(x | m)``, p_bg frozen.

    ``w`` is stored as ``logit(w) / SPEED`` so that the optimizer's step (about ``lr`` in
    the stored value) moves ``logit(w)`` at a useful pace next to the flow's weights.
    """

    SPEED = 50.0

    def __init__(self, signal_flow: torch.nn.Module, signal_fraction: float | None) -> None:
        super().__init__()
        self.flow = signal_flow
        stored = torch.logit(torch.tensor(0.01 if signal_fraction is None else float(signal_fraction))) / self.SPEED
        if signal_fraction is None:
            self.w_stored = torch.nn.Parameter(stored)
        else:
            self.register_buffer("w_stored", stored)

    @property
    def w_logit(self) -> torch.Tensor:
        return self.w_stored * self.SPEED

    def log_prob(self, z, c, log_p_background):
        mix_signal = torch.nn.functional.logsigmoid(self.w_logit) + self.flow(c).log_prob(z)
        mix_background = torch.nn.functional.logsigmoid(-self.w_logit) + log_p_background
        return torch.logaddexp(mix_signal, mix_background)


class RANODE(BackgroundDensityMixin, ResonantMethod):
    """R-ANODE (Das, Kasieczka, Shih 2023): fit the signal, not the data, in the SR.

    A background density ``p_bg(x | m)`` is trained in the sidebands and frozen. In the
    signal region a signal flow ``p_sig(x | m)`` is trained by maximizing the likelihood
    of the mixture ``w p_sig + (1 - w) p_bg``, with the signal fraction ``w`` learned
    (``signal_fraction=None``) or fixed. The score is ``log p_sig - log p_bg``.

    Parameters
    ----------
    features : sequence of str
        Feature columns (``mjj`` is not one of them).
    density : DensityEstimator or None
        ``p_bg`` (default: :func:`default_flow`); the signal flow is a fresh module of its
        architecture (``init_module("model_")``), trained with its ``trainer``.
    prefit : bool
        ``density`` is already fitted to the sidebands of the window; only the signal flow
        is trained.
    signal_fraction : float in (0, 1) or None
        Fixed ``w``, or None to learn it.
    random_state : int or None
        Seeds the default density and the signal flow's training.

    Attributes
    ----------
    window_, features_
        See :class:`ResonantMethod`.
    density_ : DensityEstimator
        ``p_bg(x | m)``, fitted on the sidebands.
    mixture_ : torch.nn.Module
        The trained mixture; ``mixture_.flow`` is ``p_sig`` in ``density_``'s preprocessed coordinates.
    signal_fraction_ : float
        The fitted (or fixed) ``w``: the verdict on the window.
    history_ : History
        The signal flow's training record.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"signal_fraction": fraction(allow_zero=False) | None}

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, density: DensityEstimator | None = None,
                 prefit: bool = False, signal_fraction: float | None = None,
                 random_state: int | None = None) -> None:
        self.features = features
        self.density = density
        self.prefit = prefit
        self.signal_fraction = signal_fraction
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        template = self._density_template()
        self.density_ = self._background_density(events)
        z, c, log_p_background = self._latent(self.window_.signal_region(events))
        with seeded(self.random_state):
            self.mixture_ = self.init_module("mixture_").to(z.device)
            trainer = template.trainer if template.trainer is not None else Trainer()
            self.history_ = trainer.fit(
                self.mixture_, lambda *batch: -self.mixture_.log_prob(*batch).mean(),
                (z, c, log_p_background), random_state=self.random_state,
            )
        self.mixture_.eval()
        self.signal_fraction_ = float(torch.sigmoid(self.mixture_.w_logit.detach()))

    def init_module(self, name):
        """The untrained ``mixture_``: a fresh flow of the background density's architecture."""
        if name != "mixture_":
            return super().init_module(name)
        return _SignalMixture(self.density_.init_module("model_"), self.signal_fraction)

    def _latent(self, events: EventSet):
        """Events in the background density's preprocessed coordinates, and log p_bg there."""
        background = self.density_
        with torch.no_grad():
            z, c, _ = background.preprocess(self._X(events), self._m(events))
            return z, c, background.model_(c).log_prob(z)

    @torch.no_grad()
    def _score(self, events):
        z, c, log_p_background = self._latent(events)
        return to_numpy(self.mixture_.flow(c).log_prob(z) - log_p_background)
