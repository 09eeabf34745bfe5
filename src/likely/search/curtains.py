"""CURTAINs: carry real sideband events into the signal region with a learned conditional bijection.

Raine, Klein, Sengupta, Golling, "CURTAINs for your sliding window" (arXiv:2203.09470), and
its maximum-likelihood successor CURTAINsF4F (Sengupta, Klein, Raine, Golling,
arXiv:2305.04646). An invertible network ``y = f(x; m_in, m_out)`` moves an event with
features ``x`` observed at mass ``m_in`` to mass ``m_out`` (:class:`CURTAINsTransport`). It is
trained on pairs of sideband (SB) events, then moves SB events to masses in the signal region
(SR); as in CATHODE a classifier separates SR data from these transported events. With
``train_once=True`` one network, trained on all events, serves every window of a scan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from geomloss import SamplesLoss

from sklearn.base import BaseEstimator, clone

from likely._checks import (
    check_array, check_cond, check_fitted, instance, options, positive, seed, validate_params,
)
from likely._persist import Saveable
from likely.classify import BinaryClassifier
from likely.density import DensityEstimator, Flow
from likely.nn import Trainer, resolve_device, seeded, to_numpy, to_tensor
from likely.search.methods import (
    DEFAULT_FEATURES, BackgroundDensityMixin, ClassifyAgainstSamples, _check_column, _prefitted, default_flow,
)
from likely.search.windows import Window
from likely.transforms import make_preprocessing

__all__ = ["CURTAINs", "CURTAINsTransport", "PairTransport", "TransportMethod", "default_transport"]

#: epsilon-scaling factor of geomloss's Sinkhorn iterations (the authors' code: 0.7)
SINKHORN_SCALING = 0.7


def default_transport(random_state: int | None = None) -> Flow:
    """The transport network's architecture and training settings (CURTAINs' defaults).

    Four rational-quadratic-spline coupling transforms with 4 bins, each conditioner an
    MLP of two hidden layers of 32 units. Only the flow's transformation is used, as a
    bijection; its base distribution is ignored. Trained with ``Trainer()``'s defaults, an
    epoch capped at 200 steps (``max_steps_per_epoch``: the cap binds only above 51,200
    sideband events, so a 1M-event sample costs what ~50k do).
    """
    return Flow(kind="coupling", transforms=4, hidden=(32, 32), bins=4, trainer=Trainer(max_steps_per_epoch=200),
                random_state=random_state)


class _Transport(torch.nn.Module):
    """``f(z; m_in, m_out)`` acting on preprocessed features ``z`` (B, D).

    The zuko flow is conditioned on ``((m_in - mean) / scale, (m_out - m_in) / scale)``, the
    sideband masses' mean and standard deviation, so that no move (``m_out = m_in``) is
    one value of the second input.
    """

    def __init__(self, flow: torch.nn.Module) -> None:
        super().__init__()
        self.flow = flow
        self.register_buffer("mean", torch.tensor(0.0))
        self.register_buffer("scale", torch.tensor(1.0))

    def set_scale(self, mean: torch.Tensor, scale: torch.Tensor) -> None:
        """Set the mass standardization (the sideband masses' mean and standard deviation)."""
        self.mean.fill_(float(mean))
        self.scale.fill_(float(scale))

    def context(self, m_in: torch.Tensor, m_out: torch.Tensor) -> torch.Tensor:
        """The network's condition (B, 2) for moves from ``m_in`` to ``m_out`` (B,)."""
        return torch.stack([(m_in - self.mean) / self.scale, (m_out - m_in) / self.scale], dim=1)

    def bijection(self, m_in: torch.Tensor, m_out: torch.Tensor):
        """The zuko transformation for masses ``m_in``, ``m_out`` (B,): call it, ``.inv``, ``.call_and_ladj``."""
        return self.flow.transform(self.context(m_in, m_out))

    def forward(self, z: torch.Tensor, m_in: torch.Tensor, m_out: torch.Tensor):
        """Transported ``z`` (B, D) and log |det df/dz| (B,)."""
        return self.bijection(m_in, m_out).call_and_ladj(z)


def _partners(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Each event's partner: the event half a (shuffled) batch away, so pairs mix both sidebands."""
    shift = len(tensors[0]) // 2
    return tuple(t.roll(shift, dims=0) for t in tensors)


class PairTransport(Saveable, BaseEstimator):
    """Base class: a map ``f(x; m_in, m_out)`` trained on pairs of events, and its use.

    Each event of a (shuffled) batch is paired with the event half a batch away, so that
    moves up, down and between nearby masses all occur; the network learns to carry an
    event observed at ``m_in`` to what it would look like at ``m_out``. Subclasses say how
    the features are preprocessed (:meth:`_preprocessing`), which network ``module_`` is
    (``init_module``, a module with ``set_scale`` and ``bijection(m_in, m_out)``, e.g. the
    ``_Transport`` of a flow) and how it is trained (``_loss_function``, ``_trainer``).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained map, in ``preprocessing_``'s coordinates.
    preprocessing_ : Transform
        The feature preprocessing ``f`` acts behind.
    history_ : History
        The training record of ``f``.
    n_features_in_ : int
        Feature columns seen at fit.
    """

    def fit(self, X, m) -> PairTransport:
        """Train ``f`` on events ``X`` (N, D) observed at masses ``m`` (N,)."""
        validate_params(self)
        X = check_array(X, "X")
        m = check_cond(m, len(X), "m", n_features=1)[:, 0]
        self.n_features_in_ = X.shape[1]
        self.preprocessing_, device = self._preprocessing(X, m)
        z, _ = self.preprocessing_(to_tensor(X, device))
        m = to_tensor(m, device)
        with seeded(self.random_state):
            self.module_ = self.init_module("module_").to(device)
            self.module_.set_scale(m.mean(), m.std())
            trainer = self._trainer()
            self.history_ = trainer.fit(self.module_, self._loss_function(), (z, m), random_state=self.random_state)
        self.module_.eval()
        return self

    def _network_template(self):
        """The estimator whose architecture, ``preprocessing`` and ``trainer`` the network takes."""
        raise NotImplementedError

    def _preprocessing(self, X: np.ndarray, m: np.ndarray):
        """The network's ``preprocessing`` fitted to ``X``, and the device to train on."""
        template = self._network_template()
        device = resolve_device(template.device)
        return make_preprocessing(template.preprocessing).fit(to_tensor(X, device)), device

    def _trainer(self) -> Trainer:
        template = self._network_template()
        return template.trainer if template.trainer is not None else Trainer()

    def _loss_function(self):
        """The batch loss ``loss(z, m)`` of ``module_``."""
        raise NotImplementedError

    def transport(self, X, m_in, m_out, *, inverse: bool = False) -> np.ndarray:
        """Move events ``X`` (N, D), observed at masses ``m_in`` (N,), to masses ``m_out`` (N,).

        With ``inverse=True`` applies ``f^-1(.; m_in, m_out)``: ``X`` is then at ``m_out`` and
        is moved back to ``m_in``. Returns float32 features (N, D) in the original units.
        """
        X, m_in, m_out = self._check_moves(X, m_in, m_out)
        with torch.no_grad():
            z = self._latent(X)
            f = self.module_.bijection(m_in, m_out)
            return self._features(f.inv(z) if inverse else f(z))

    def transport_interpolated(self, X, m_in, m_out, low: float, high: float) -> np.ndarray:
        """Move events to masses ``m_out`` (N,) in ``[low, high]`` without evaluating ``f`` there.

        Each event is moved to both anchors, ``y_low = f(x; m_in, low)`` and ``y_high =
        f(x; m_in, high)``, and the result is ``(1 - a) y_low + a y_high`` with ``a = (m_out -
        low) / (high - low)``, in the preprocessed coordinates (as SIGMA interpolates its
        velocity field): a network trained on data with a signal between the anchors never
        generates at the signal's masses. Returns float32 features (N, D) in the original units.
        """
        X, m_in, m_out = self._check_moves(X, m_in, m_out)
        if not low < high:
            raise ValueError(f"need low < high for the anchors; got low={low}, high={high}")
        with torch.no_grad():
            z = self._latent(X)
            anchors = (torch.full_like(m_in, low), torch.full_like(m_in, high))
            y_low, y_high = (self.module_.bijection(m_in, anchor)(z) for anchor in anchors)
            a = ((m_out - low) / (high - low))[:, None]
            return self._features((1 - a) * y_low + a * y_high)

    def _check_moves(self, X, m_in, m_out):
        check_fitted(self, "module_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        device = self.module_.mean.device
        masses = (to_tensor(check_cond(m, len(X), name, n_features=1)[:, 0], device)
                  for m, name in ((m_in, "m_in"), (m_out, "m_out")))
        return X, *masses

    def _latent(self, X: np.ndarray) -> torch.Tensor:
        return self.preprocessing_(to_tensor(X, self.module_.mean.device))[0]

    def _features(self, z: torch.Tensor) -> np.ndarray:
        return to_numpy(self.preprocessing_.inverse(z)).astype(np.float32)


class CURTAINsTransport(PairTransport):
    """The invertible transport ``f(x; m_in, m_out)`` of CURTAINs, trained on pairs of events.

    Parameters
    ----------
    loss : {"mle", "sinkhorn"}
        ``"mle"`` (CURTAINsF4F): a conditional density ``q(x | m)`` (``density``) is fitted
        to the training events, frozen, and ``f`` maximizes ``log q(f(x; m_in, m_out) |
        m_out) + log |det df/dx|`` over the pairs. ``"sinkhorn"`` (the original CURTAINs):
        ``f`` minimizes the Sinkhorn divergence between the moved events and their
        partners, both with the target mass appended as a coordinate.
    network : Flow or None
        Architecture and ``trainer`` of the bijection (default: :func:`default_transport`);
        its ``preprocessing`` is used with ``loss="sinkhorn"``. Only the flow's
        transformation is used, not its base distribution.
    density : DensityEstimator or None
        ``q(x | m)`` of ``loss="mle"`` (default: the standardized sideband flow of ANODE);
        it needs the public torch view (``model_``, ``preprocess_cond``) of
        :class:`~likely.density.Flow`.
    prefit : bool
        ``density`` is already fitted to the training events: it is used as is.
    blur : float
        Entropic blur of the Sinkhorn divergence, in standardized units.
    random_state : int or None
        Seeds the default models and the training.

    Attributes
    ----------
    module_, preprocessing_, history_, n_features_in_
        See :class:`PairTransport` (``preprocessing_`` is ``density_``'s with ``loss="mle"``).
    density_ : DensityEstimator
        The fitted, frozen ``q(x | m)`` (``loss="mle"`` only).
    """

    _parameter_constraints = {
        "loss": options("mle", "sinkhorn"), "network": instance(Flow) | None,
        "density": instance(DensityEstimator) | None, "prefit": instance(bool), "blur": positive(),
        "random_state": seed(),
    }

    def __init__(self, *, loss: str = "mle", network: Flow | None = None, density: DensityEstimator | None = None,
                 prefit: bool = False, blur: float = 0.01, random_state: int | None = None) -> None:
        self.loss = loss
        self.network = network
        self.density = density
        self.prefit = prefit
        self.blur = blur
        self.random_state = random_state

    def _preprocessing(self, X, m):
        if self.loss == "mle":
            self.density_ = self._fitted_density(X, m)
            self.density_.model_.requires_grad_(False)
            return self.density_.preprocessing_, self.density_.device_
        return super()._preprocessing(X, m)

    def _fitted_density(self, X: np.ndarray, m: np.ndarray) -> DensityEstimator:
        if self.prefit:
            return _prefitted(self.density, X.shape[1])
        template = self.density if self.density is not None else default_flow(self.random_state)
        return clone(template).fit(X, cond=m)

    def _network_template(self) -> Flow:
        return self.network if self.network is not None else default_transport(self.random_state)

    def init_module(self, name):
        """The untrained ``module_`` (also to load saved weights into)."""
        if name != "module_":
            return super().init_module(name)
        return _Transport(self._network_template().build_module(self.n_features_in_, 2))

    def _loss_function(self):
        """The batch loss ``loss(z, m)`` of the chosen objective."""
        transport = self.module_
        if self.loss == "mle":
            base = self.density_

            def mle(z, m):
                (m_out,) = _partners(m)
                y, ladj = transport(z, m, m_out)
                return -(base.model_(base.preprocess_cond(m_out)).log_prob(y) + ladj).mean()

            return mle

        distance = SamplesLoss("sinkhorn", p=2, blur=self.blur, scaling=SINKHORN_SCALING)

        def sinkhorn(z, m):
            z_partner, m_out = _partners(z, m)
            y, _ = transport(z, m, m_out)
            mass = ((m_out - transport.mean) / transport.scale)[:, None]
            return distance(torch.cat([y, mass], dim=1), torch.cat([z_partner, mass], dim=1))

        return sinkhorn


class TransportMethod(ClassifyAgainstSamples):
    """Base class: move real events into the SR with a :class:`PairTransport`; classify SR data against them.

    Subclasses say which transport (``_transport_template``); this class chooses the
    events to move, trains (or takes) the transport and moves them. Two ways to train it
    in a sliding-window scan:

    - per window (``train_once=False``): on pairs of events of the window's two sidebands
      only, each event paired with a random partner from either sideband; the moved
      events are ``f(x; m_in, m)`` at SR masses ``m`` drawn from a KDE of the SR's.
    - once for all windows (``train_once=True``): on pairs of **all** events, whatever the
      window, so that :meth:`fit_density` fits it once and a scan hands it to every
      window (:meth:`with_prefit`, ``fitted_transport``), as for SIGMA. The network has
      then seen the SR, and any signal in it; so, as SIGMA does, it is never evaluated at
      an SR mass: the sources are the events in sidebands ``sideband_width`` wide beyond
      the anchors ``low - margin`` and ``high + margin``, each moved to both anchors and
      interpolated linearly between the two results
      (:meth:`PairTransport.transport_interpolated`). Neither the moved events nor the
      masses the network is evaluated at come from the window plus its margins.
    """

    _parameter_constraints = {
        "sideband_width": positive() | None, "train_once": instance(bool), "margin": positive(allow_zero=True),
        "fitted_transport": instance(PairTransport) | None,
    }

    #: training data kept for inspection, not saved with the method
    _not_saved = ("samples_", "sources_")

    @property
    def window_independent_density(self) -> bool:
        """With ``train_once`` the transport is fitted on all events, so a scan fits it once."""
        return self.train_once

    @property
    def history_(self):
        return self.transport_.history_

    def _fit(self, events, *, background, signal):
        if self.sideband_width is not None and self.window_.sideband_width is None:
            self.window_ = dataclasses.replace(self.window_, sideband_width=self.sideband_width)
        super()._fit(events, background=background, signal=signal)

    def fit_background(self, events):
        """Train (or, with ``fitted_transport``, take) ``transport_``; choose the events to move."""
        if self.train_once:
            self.anchors_ = (self.window_.low - self.margin, self.window_.high + self.margin)
            sources = Window(*self.anchors_, sideband_width=self.window_.sideband_width,
                             variable=self.window_.variable).sidebands(events, "events beyond the anchors")
        else:
            self.anchors_ = None
            sources = self.window_.sidebands(events)
        self.sources_ = (self._X(sources), self._m(sources))
        if self.fitted_transport is not None:
            self.transport_ = self._checked(self.fitted_transport)
        elif self.train_once:
            self.transport_ = self._transport_template().fit(self._X(events), self._m(events))
        else:
            self.transport_ = self._transport_template().fit(*self.sources_)

    def _checked(self, transport: PairTransport) -> PairTransport:
        check_fitted(transport, "module_")
        if transport.n_features_in_ != len(self.features_):
            raise ValueError(f"fitted_transport moves {transport.n_features_in_} feature(s); "
                             f"this method has {len(self.features_)}")
        return transport

    def _transport_template(self) -> PairTransport:
        raise NotImplementedError(f"{type(self).__name__} must implement _transport_template()")

    def fit_density(self, events, window: Window | None = None) -> PairTransport:
        """The transport fitted as :meth:`fit` fits it, on all events with ``train_once``
        (else on the window's sidebands); what :meth:`with_prefit` takes."""
        validate_params(self)
        window = window or Window()
        for name in (*self.features, window.variable):
            _check_column(events, name)
        if self.sideband_width is not None and window.sideband_width is None:
            window = dataclasses.replace(window, sideband_width=self.sideband_width)
        if not self.train_once:
            events = window.sidebands(events)
        features = list(self.features)
        return self._transport_template().fit(events.array(features), events.column(window.variable))

    def with_prefit(self, model: PairTransport) -> TransportMethod:
        """This method, set to use the transport ``model`` as it is (``fitted_transport=model``)."""
        return self.set_params(fitted_transport=model)

    def sample_background(self, m):
        """Source events, each used about equally often, moved to the masses ``m``."""
        X, m_in = self.sources_
        rng = np.random.default_rng(self.random_state)
        pick = rng.permutation(np.resize(np.arange(len(m_in)), len(m)))  # each source used ~equally often
        if self.anchors_ is None:
            return self.transport_.transport(X[pick], m_in[pick], m)
        return self.transport_.transport_interpolated(X[pick], m_in[pick], m, *self.anchors_)

    def transport(self, X, m_in, m_out, *, inverse: bool = False) -> np.ndarray:
        """``transport_.transport``: move events ``X`` (N, D) from masses ``m_in`` (N,) to ``m_out`` (N,)."""
        check_fitted(self, "transport_")
        return self.transport_.transport(X, m_in, m_out, inverse=inverse)


class CURTAINs(BackgroundDensityMixin, TransportMethod):
    """CURTAINs (Raine et al. 2022) and CURTAINsF4F (Sengupta et al. 2023).

    An invertible network ``f(x; m_in, m_out)`` (:class:`CURTAINsTransport`) maps events
    at ``m_in`` to ``m_out``. SB events, each reused about ``oversampling`` times, are moved
    to masses drawn from a KDE of the SR's ``mjj``, and a classifier separates SR data (1)
    from the moved events (0); its output is the anomaly score. The network is trained
    per window or, with ``train_once``, once for every window (see
    :class:`TransportMethod`).

    Parameters
    ----------
    features : sequence of str
        Feature columns (the resonant variable is ``window.variable``).
    loss, network, blur
        The transport's objective and architecture, see :class:`CURTAINsTransport`.
        ``loss="sinkhorn"`` is the original CURTAINs: on the toy its moved events come out
        too narrow and it finds "signal" where there is none (docs/search.md); use it to
        reproduce the original, not for searches.
    density : DensityEstimator or None
        The density ``q(x | m)`` of ``loss="mle"`` (default: the sideband flow of ANODE and
        R-ANODE, standardized), fitted where ``f`` is trained.
    prefit : bool
        ``density`` is already fitted where ``f`` is trained (the window's sidebands; e.g.
        shared with ANODE or R-ANODE): it is used as is.
    sideband_width : float or None
        Width of each sideband (units of ``mjj``) used when ``window`` does not set one:
        CURTAINs trains on narrow sidebands next to the SR (0.2 TeV each in the paper).
        None uses the window's sidebands as they are (with ``train_once``: all events
        beyond the anchors).
    train_once : bool
        Train ``f`` once on all events and interpolate between anchors (see
        :class:`TransportMethod`).
    margin : float
        Distance of the anchors from the SR edges with ``train_once`` (units of ``mjj``;
        SIGMA's 0.1 TeV).
    fitted_transport : PairTransport or None
        A transport already fitted (what :meth:`fit_density` returns with ``train_once``),
        used as it is.
    classifier, oversampling, n_folds, random_state
        As in :class:`~likely.search.CATHODE`.

    Attributes
    ----------
    window_ : Window
        The window used, ``sideband_width`` filled in.
    features_ : list of str
        The feature columns used.
    transport_ : CURTAINsTransport
        The trained transport; apply it with :meth:`transport`.
    density_ : DensityEstimator
        ``transport_.density_``, the fitted ``q`` (``loss="mle"`` only).
    history_ : History
        ``transport_.history_``, the transport network's training record.
    anchors_ : tuple of float or None
        ``(low - margin, high + margin)`` with ``train_once``, else None.
    samples_ : EventSet
        The moved events the classifier was trained on (kept, not saved).
    sources_ : tuple of ndarray
        The features and masses of the events moved (kept, not saved).
    classifier_, data_scores_, data_folds_
        See :class:`~likely.search.ClassifyAgainstSamples`.
    """

    _parameter_constraints = {
        "loss": options("mle", "sinkhorn"), "network": instance(Flow) | None, "blur": positive(),
    }

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, loss: str = "mle",
                 network: Flow | None = None, density: DensityEstimator | None = None, prefit: bool = False,
                 blur: float = 0.01, sideband_width: float | None = 0.2, train_once: bool = False,
                 margin: float = 0.1, fitted_transport: PairTransport | None = None,
                 classifier: BinaryClassifier | None = None, oversampling: float = 4.0,
                 n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.loss = loss
        self.network = network
        self.density = density
        self.prefit = prefit
        self.blur = blur
        self.sideband_width = sideband_width
        self.train_once = train_once
        self.margin = margin
        self.fitted_transport = fitted_transport
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    @property
    def density_(self) -> DensityEstimator:
        return self.transport_.density_

    def _transport_template(self) -> CURTAINsTransport:
        return CURTAINsTransport(loss=self.loss, network=self.network, density=self.density, prefit=self.prefit,
                                 blur=self.blur, random_state=self.random_state)

    def fit_density(self, events, window: Window | None = None):
        """With ``train_once``: the transport fitted on all events; else ``q`` fitted on the window's
        sidebands (for ``prefit=True``, as for ANODE)."""
        if self.train_once:
            return TransportMethod.fit_density(self, events, window)
        return BackgroundDensityMixin.fit_density(self, events, window)

    def with_prefit(self, model):
        """This method, set to use ``model`` (from :meth:`fit_density`) as it is."""
        if self.train_once:
            return TransportMethod.with_prefit(self, model)
        return BackgroundDensityMixin.with_prefit(self, model)
