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

import numpy as np
import torch
from scipy.stats import gaussian_kde
from sklearn.base import BaseEstimator, clone

from likely._checks import check_choice, check_fitted, check_positive
from likely._persist import Saveable
from likely.classify import BinaryClassifier, Ensemble, TreeClassifier, balanced_weights
from likely.data import EventSet
from likely.density import DensityEstimator, Flow, FlowMatching
from likely.nn import Trainer, seeded, to_numpy
from likely.search.windows import Window

__all__ = [
    "ANODE", "CATHODE", "CWoLa", "DEFAULT_FEATURES", "IdealizedAD", "RANODE", "ResonantMethod", "SIGMA", "Supervised",
]

#: CATHODE's feature set (the conditioning variable mjj is separate)
DEFAULT_FEATURES = ("mj1", "delta_mj", "tau21_j1", "tau21_j2")


def default_classifier(random_state: int | None = None, n_members: int = 10) -> BinaryClassifier:
    """``n_members`` boosted-tree classifiers with different seeds, averaged (cf. SIGMA's HGB ensemble)."""
    return Ensemble(TreeClassifier(), n_members=n_members, mode="seed", random_state=random_state)


def default_flow(random_state: int | None = None, preprocessing: str = "standardize") -> Flow:
    """A conditional MAF with rational-quadratic splines for the 4 LHCO features.

    Trained at a learning rate of 2e-4 with patience 20: at 1e-3 the sideband flow's
    validation loss bottoms out after about ten epochs with a visibly worse model (see the
    background-fidelity table in docs/benchmarks.md). ``preprocessing="logit"`` suits
    sampling (CATHODE); methods that evaluate densities at signal-region events keep
    ``"standardize"``, since a logit gives no density outside the training range.
    """
    return Flow(kind="maf", transforms=6, hidden=(128, 128), bins=8, preprocessing=preprocessing,
                trainer=Trainer(lr=2e-4, patience=20), random_state=random_state)


def default_flow_matching(random_state: int | None = None) -> FlowMatching:
    """SIGMA's conditional flow-matching model for the LHCO features.

    Logit preprocessing (the features are bounded) and all 100 cosine-scheduled epochs,
    keeping the best: flow matching's validation loss is noisy, and stopping after ten
    epochs without improvement left a visibly worse background model (see the
    background-fidelity table in docs/benchmarks.md).
    """
    return FlowMatching(preprocessing="logit", trainer=Trainer(patience=None), random_state=random_state)


class ResonantMethod(Saveable, BaseEstimator):
    """Base class: feature selection, window handling and the ``fit`` / ``score`` shape.

    ``save(path)`` / ``ResonantMethod.load(path, trust=...)`` use the one save format
    (:mod:`likely._persist`); ``ResonantMethod.load`` loads any method, ``CATHODE.load``
    checks the class. Folders of methods with boosted-tree classifiers hold pickled
    scikit-learn models and load only with ``trust=True``.
    """

    def fit(self, events: EventSet, window: Window | None = None, *,
            background: EventSet | None = None, signal: EventSet | None = None) -> ResonantMethod:
        """Train on ``events`` (all ``mjj``) for the signal region of ``window`` (default: 3.3-3.7 TeV)."""
        if not isinstance(events, EventSet):
            raise TypeError(f"events must be an EventSet; got {type(events).__name__}")
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

    #: preprocessing of the default flow (see :func:`default_flow`)
    _default_preprocessing = "standardize"

    def _flow_template(self) -> Flow:
        return self.flow if self.flow is not None else default_flow(self.random_state, self._default_preprocessing)

    def _fit_sideband_flow(self, events: EventSet) -> Flow:
        """p(x | m) in the sidebands: a clone of ``flow`` fitted there, or ``flow`` itself if prefit."""
        if self.prefit:
            return _prefitted(self.flow, "flow", len(self.features_))
        sb = self.window_.sidebands(events)
        return clone(self._flow_template()).fit(self._X(sb), cond=self._m(sb))

    def _fit(self, events, *, background, signal):
        raise NotImplementedError

    def _score(self, events):
        raise NotImplementedError


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
        _check_folds(self.n_folds, np.count_nonzero(positive), len(negative))
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


def _prefitted(model: DensityEstimator | None, name: str, n_features: int) -> DensityEstimator:
    """``model`` checked to be fitted, with one condition column and ``n_features`` features."""
    if model is None:
        raise ValueError(f"prefit=True needs a fitted {name}=...; got None")
    check_fitted(model, "model_")
    if model.n_features_in_ != n_features or model.n_cond_ != 1:
        raise ValueError(f"the prefit {name} models {model.n_features_in_} feature(s) given {model.n_cond_} "
                         f"condition(s); this method needs {n_features} given 1 (mjj)")
    return model


def _check_folds(n_folds: int | None, n_positive: int | None = None, n_negative: int | None = None) -> None:
    """``n_folds`` is None or an integer >= 2, and (given the class sizes) at most the smaller class."""
    if n_folds is None:
        return
    check_positive(n_folds, "n_folds", integer=True)
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2 (or None for one classifier without folds); got {n_folds}")
    if n_positive is not None and n_folds > min(n_positive, n_negative):
        raise ValueError(f"n_folds must be at most the number of training events of each class, every fold needs "
                         f"both ({n_positive} signal-region events vs {n_negative}); got {n_folds}")


def _required(reference: EventSet | None, name: str, method: str) -> EventSet:
    if reference is None:
        raise ValueError(f"{method} needs {name}=..., a pure {name} sample")
    return reference


class Supervised(_Classifying):
    """Fully supervised bound: pure signal vs pure background in the signal region."""

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
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
    ``n_folds``: see :class:`CWoLa` (default None: one classifier, no ``data_scores_``).
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
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
    classifier_ : BinaryClassifier
        The fitted classifier: an ``Ensemble(mode="kfold")`` over SR then SB events
        (``classifier_.oof_proba_`` in that order), or ``classifier`` alone.
    data_scores_, data_folds_ : ndarray (N,)
        Out-of-fold score and fold of each event passed to ``fit`` (with ``n_folds``).
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, classifier: BinaryClassifier | None = None,
                 n_folds: int | None = 5, random_state: int | None = None) -> None:
        self.features = features
        self.classifier = classifier
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        self.window_.signal_region(events)  # clear errors if the SR or the SB is empty
        self.window_.sidebands(events)
        self._train_on_data(events, self.window_.in_sr(events), self.window_.in_sb(events))


class ANODE(ResonantMethod):
    """ANODE (Nachman, Shih 2020): likelihood ratio of two conditional densities.

    ``p_data(x | m)`` is learned in the signal region, ``p_bg(x | m)`` in the sidebands
    and interpolated into the signal region through its ``m`` dependence; the score is
    ``log p_data - log p_bg``.

    ``prefit=True`` takes ``flow`` as already fitted to the sidebands of the window
    (shared, e.g., by ANODE, CATHODE and R-ANODE on the same data) and trains only the
    signal-region flow, a fresh clone of it.
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, flow: Flow | None = None,
                 prefit: bool = False, random_state: int | None = None) -> None:
        self.features = features
        self.flow = flow
        self.prefit = prefit
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        sr = self.window_.signal_region(events)
        self.background_flow_ = self._fit_sideband_flow(events)
        self.data_flow_ = clone(self._flow_template()).fit(self._X(sr), cond=self._m(sr))

    def _score(self, events):
        X, m = self._X(events), self._m(events)
        return self.data_flow_.log_prob(X, m) - self.background_flow_.log_prob(X, m)


class _ClassifyAgainstSamples(_Classifying):
    """Learn a background generator, sample it in the SR, classify SR data against the samples.

    Samples are drawn at ``mjj`` values from a kernel density estimate of the signal
    region's ``mjj`` distribution, ``oversampling`` times as many as there are SR events.
    """

    #: training data kept for inspection, not saved with the method
    _not_saved = ("samples_",)

    def _fit(self, events, *, background, signal):
        check_positive(self.oversampling, "oversampling")
        _check_folds(self.n_folds)
        sr = self.window_.signal_region(events)
        self._fit_generator(events)
        m = self._sr_conditions(self._m(sr), int(self.oversampling * len(sr)))
        columns = dict(zip(self.features_, self._generate(m).T))
        self.samples_ = EventSet({**columns, self.window_.variable: m})
        self._train_on_data(events, self.window_.in_sr(events), self.samples_)

    def _sr_conditions(self, m_sr: np.ndarray, n: int) -> np.ndarray:
        m = gaussian_kde(m_sr).resample(n, seed=self.random_state)[0]
        return m[(m >= self.window_.low) & (m < self.window_.high)]  # the KDE leaks past the edges

    def _fit_generator(self, events: EventSet) -> None:
        raise NotImplementedError

    def _generate(self, m: np.ndarray) -> np.ndarray:
        """Background features (len(m), D) at the conditions ``m``."""
        raise NotImplementedError


class CATHODE(_ClassifyAgainstSamples):
    """CATHODE (Hallin et al. 2022): classify data against sampled background.

    A conditional flow learns ``p(x | m)`` in the sidebands and is sampled in the signal
    region; a classifier is then trained on signal-region data (1) vs these samples (0).
    ``prefit=True`` takes ``flow`` as already fitted to the sidebands of the window and
    skips that training. ``n_folds`` (default None): k-fold the classifier and keep
    out-of-fold ``data_scores_`` of the signal-region data, as in :class:`CWoLa` — what a
    search on real data cuts on (``classifier_.oof_proba_`` holds the samples' after them).
    """

    _default_preprocessing = "logit"

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, flow: Flow | None = None,
                 prefit: bool = False, classifier: BinaryClassifier | None = None,
                 oversampling: float = 4.0, n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.flow = flow
        self.prefit = prefit
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit_generator(self, events):
        self.flow_ = self._fit_sideband_flow(events)

    def _generate(self, m):
        return self.flow_.sample(cond=m, random_state=self.random_state)


class SIGMA(_ClassifyAgainstSamples):
    """SIGMA (Das, Shih 2024): one generative model on all data, interpolated into the SR.

    ``p(x | m)`` is learned on every event, signal region included; the signal-region
    background comes from the model at the anchors ``low - margin`` and
    ``high + margin`` only, interpolated in between, so the model never generates at a
    signal-region mass it may have learned signal at. Then, as in CATHODE, a classifier
    separates signal-region data from the samples.

    Parameters
    ----------
    model : FlowMatching, Flow or None
        The conditional generative model (default: ``FlowMatching``, as in the paper).
    interpolation : {"velocity", "mixture"}
        ``"velocity"`` interpolates the flow-matching velocity field linearly in ``m``
        (FlowMatching only); ``"mixture"`` draws each sample at one of the anchors, the
        upper one with probability ``(m - m_low) / (m_high - m_low)`` (any model).
    margin : float
        Distance of the anchors from the signal-region edges (the paper: 0.1 TeV).
    prefit : bool
        ``model`` is already fitted to all the data: only the interpolation, sampling
        and classifier run, so a sliding-window search trains the generative model
        once for every window.
    n_folds : int or None
        k-fold the classifier and keep out-of-fold ``data_scores_``, as in :class:`CATHODE`.
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, model: DensityEstimator | None = None,
                 interpolation: str = "velocity", margin: float = 0.1, prefit: bool = False,
                 classifier: BinaryClassifier | None = None, oversampling: float = 4.0,
                 n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.model = model
        self.interpolation = interpolation
        self.margin = margin
        self.prefit = prefit
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit_generator(self, events):
        check_choice(self.interpolation, "interpolation", ("velocity", "mixture"))
        check_positive(self.margin, "margin", allow_zero=True)
        if self.interpolation == "velocity" and not isinstance(self._model_template(), FlowMatching):
            raise ValueError("interpolation='velocity' needs a FlowMatching model; use 'mixture' for flows")
        self.anchors_ = (self.window_.low - self.margin, self.window_.high + self.margin)
        if self.prefit:
            self.model_ = _prefitted(self.model, "model", len(self.features_))
        else:
            self.model_ = self.fit_model(events, self.window_.variable)

    def fit_model(self, events: EventSet, variable: str = "mjj") -> DensityEstimator:
        """A clone of ``model`` (or the default) fitted to all ``events``: what ``prefit=True`` takes.

        Does not depend on the window, so one fit serves every window of a sliding search.
        """
        for name in (*self.features, variable):
            _check_column(events, name)
        return clone(self._model_template()).fit(events.array(list(self.features)), cond=events.column(variable))

    def _model_template(self) -> DensityEstimator:
        return self.model if self.model is not None else default_flow_matching(self.random_state)

    def _generate(self, m):
        low, high = self.anchors_
        if self.interpolation == "velocity":
            return self.model_.sample_interpolated(m, low, high, random_state=self.random_state)
        upper = np.random.default_rng(self.random_state).random(len(m)) < (m - low) / (high - low)
        return self.model_.sample(cond=np.where(upper, high, low).astype(np.float32), random_state=self.random_state)


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


class RANODE(ResonantMethod):
    """R-ANODE (Das, Kasieczka, Shih 2023): fit the signal, not the data, in the SR.

    A background flow ``p_bg(x | m)`` is trained in the sidebands and frozen. In the
    signal region a second flow ``p_sig(x | m)`` is trained by maximizing the likelihood
    of the mixture ``w p_sig + (1 - w) p_bg``, with the signal fraction ``w`` learned
    (``signal_fraction=None``) or fixed. The score is ``log p_sig - log p_bg``.
    ``prefit=True`` takes ``flow`` as the already fitted sideband background flow; the
    signal flow is always a fresh clone of it.
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, flow: Flow | None = None,
                 prefit: bool = False, signal_fraction: float | None = None,
                 random_state: int | None = None) -> None:
        self.features = features
        self.flow = flow
        self.prefit = prefit
        self.signal_fraction = signal_fraction
        self.random_state = random_state

    def _fit(self, events, *, background, signal):
        if self.signal_fraction is not None and not 0 < self.signal_fraction < 1:
            raise ValueError(f"signal_fraction must be in (0, 1) or None; got {self.signal_fraction}")
        template = self._flow_template()
        self.background_flow_ = self._fit_sideband_flow(events)
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
        """The untrained ``mixture_``: a fresh flow of the background flow's architecture."""
        if name != "mixture_":
            return super().init_module(name)
        return _SignalMixture(self.background_flow_.init_module("model_"), self.signal_fraction)

    def _latent(self, events: EventSet):
        """Events in the background flow's preprocessed coordinates, and log p_bg there."""
        background = self.background_flow_
        with torch.no_grad():
            z, c, _ = background.preprocess(self._X(events), self._m(events))
            return z, c, background.model_(c).log_prob(z)

    @torch.no_grad()
    def _score(self, events):
        z, c, log_p_background = self._latent(events)
        return to_numpy(self.mixture_.flow(c).log_prob(z) - log_p_background)
