"""CURTAINs: carry real sideband events into the signal region with a learned conditional bijection.

Raine, Klein, Sengupta, Golling, "CURTAINs for your sliding window" (arXiv:2203.09470), and
its maximum-likelihood successor CURTAINsF4F (Sengupta, Klein, Raine, Golling,
arXiv:2305.04646). An invertible network ``y = f(x; m_in, m_out)`` moves an event with
features ``x`` observed at mass ``m_in`` to mass ``m_out``. It is trained on pairs of
sideband (SB) events only, then moves SB events to masses in the signal region (SR); as in
CATHODE a classifier separates SR data from these transported events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from geomloss import SamplesLoss

from likely._checks import check_array, check_cond, check_fitted, instance, options, positive
from likely.classify import BinaryClassifier
from likely.density import DensityEstimator, Flow
from likely.nn import Trainer, resolve_device, seeded, to_numpy, to_tensor
from likely.search.methods import DEFAULT_FEATURES, BackgroundDensityMixin, ClassifyAgainstSamples
from likely.transforms import make_preprocessing

__all__ = ["CURTAINs", "default_transport"]

#: epsilon-scaling factor of geomloss's Sinkhorn iterations (the authors' code: 0.7)
SINKHORN_SCALING = 0.7


def default_transport(random_state: int | None = None) -> Flow:
    """The transport network's architecture and training settings (CURTAINs' defaults).

    Four rational-quadratic-spline coupling transforms with 4 bins, each conditioner an
    MLP of two hidden layers of 32 units. Only the flow's transformation is used, as a
    bijection; its base distribution is ignored.
    """
    return Flow(kind="coupling", transforms=4, hidden=(32, 32), bins=4, random_state=random_state)


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

    def bijection(self, m_in: torch.Tensor, m_out: torch.Tensor):
        """The zuko transformation for masses ``m_in``, ``m_out`` (B,): call it, ``.inv``, ``.call_and_ladj``."""
        context = torch.stack([(m_in - self.mean) / self.scale, (m_out - m_in) / self.scale], dim=1)
        return self.flow.transform(context)

    def forward(self, z: torch.Tensor, m_in: torch.Tensor, m_out: torch.Tensor):
        """Transported ``z`` (B, D) and log |det df/dz| (B,)."""
        return self.bijection(m_in, m_out).call_and_ladj(z)


def _partners(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Each event's partner: the event half a (shuffled) batch away, so pairs mix both sidebands."""
    shift = len(tensors[0]) // 2
    return tuple(t.roll(shift, dims=0) for t in tensors)


class CURTAINs(BackgroundDensityMixin, ClassifyAgainstSamples):
    """CURTAINs (Raine et al. 2022) and CURTAINsF4F (Sengupta et al. 2023).

    An invertible network ``f(x; m_in, m_out)`` maps sideband events at ``m_in`` to
    ``m_out``. It is trained on pairs of SB events, each event paired with a random partner
    from either sideband (so low -> high, high -> low and moves within one sideband all
    occur). Then SB events, each reused about ``oversampling`` times, are moved to masses
    drawn from a KDE of the SR's ``mjj``, and a classifier separates SR data (1) from the
    moved events (0); its output is the anomaly score.

    Parameters
    ----------
    features : sequence of str
        Feature columns (the resonant variable is ``window.variable``).
    loss : {"mle", "sinkhorn"}
        ``"mle"`` (CURTAINsF4F, default): a conditional density ``q(x | m)`` (``density``) is fitted
        to the sidebands, frozen, and ``f`` maximizes ``log q(f(x; m_in, m_out) | m_out) +
        log |det df/dx|`` over pairs, so that ``f`` carries ``p(x | m_in)`` onto
        ``q(x | m_out)``. ``"sinkhorn"`` (the original CURTAINs): ``f`` minimizes the
        Sinkhorn divergence (geomloss, squared Euclidean cost) between the moved events
        and their partners, both with the target mass appended as a coordinate so that
        the match is per mass. On the toy its moved events come out too narrow (tails
        pulled in) and it finds "signal" where there is none (docs/search.md): use it to
        reproduce the original, not for searches.
    network : Flow or None
        Architecture and ``trainer`` of the transport network (default:
        :func:`default_transport`); its ``preprocessing`` is used with ``loss="sinkhorn"``.
        Not a density: only the flow's bijection is used.
    density : DensityEstimator or None
        The sideband density ``q(x | m)`` of ``loss="mle"`` (default: the sideband flow of
        ANODE and R-ANODE, standardized, so that moved events keep a density anywhere); it
        needs the public torch view (``model_``, ``preprocess_cond``) of
        :class:`~likely.density.Flow`.
    prefit : bool
        ``density`` is already fitted to the sidebands of the window (e.g. shared with
        ANODE or R-ANODE): it is used as is.
    blur : float
        Entropic blur of the Sinkhorn divergence, in standardized units (``loss="sinkhorn"``
        only; the authors' code: 0.01). Larger is faster and smoother, but blind to
        finer structure.
    sideband_width : float or None
        Width of each sideband (units of ``mjj``) used when ``window`` does not set one:
        CURTAINs trains on narrow sidebands next to the SR (0.2 TeV each in the paper).
        None uses the window's sidebands as they are.
    classifier, oversampling, n_folds, random_state
        As in :class:`~likely.search.CATHODE`.

    Attributes
    ----------
    window_ : Window
        The window used, ``sideband_width`` filled in.
    features_ : list of str
        The feature columns used.
    transport_ : torch.nn.Module
        The trained bijection; apply it with :meth:`transport`.
    density_ : DensityEstimator
        The fitted sideband density, frozen (``loss="mle"`` only).
    preprocessing_ : Transform
        The feature preprocessing the transport acts behind (``density_``'s with ``loss="mle"``).
    history_ : History
        The transport network's training record.
    samples_ : EventSet
        The moved events the classifier was trained on (kept, not saved).
    sources_ : tuple of ndarray
        The sideband features and masses the moved events come from (kept, not saved).
    classifier_, data_scores_, data_folds_
        See :class:`~likely.search.ClassifyAgainstSamples`.
    """

    _parameter_constraints = {
        "loss": options("mle", "sinkhorn"), "network": instance(Flow) | None, "blur": positive(),
        "sideband_width": positive() | None,
    }

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, loss: str = "mle",
                 network: Flow | None = None, density: DensityEstimator | None = None, prefit: bool = False,
                 blur: float = 0.01, sideband_width: float | None = 0.2,
                 classifier: BinaryClassifier | None = None, oversampling: float = 4.0,
                 n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.loss = loss
        self.network = network
        self.density = density
        self.prefit = prefit
        self.blur = blur
        self.sideband_width = sideband_width
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    #: training data kept for inspection, not saved with the method
    _not_saved = ("samples_", "sources_")

    # ------------------------------------------------------------------ fitting
    def _fit(self, events, *, background, signal):
        if self.sideband_width is not None and self.window_.sideband_width is None:
            self.window_ = dataclasses.replace(self.window_, sideband_width=self.sideband_width)
        super()._fit(events, background=background, signal=signal)

    def fit_background(self, events):
        """Train the transport ``transport_`` on pairs of sideband events (and, for MLE, ``density_``)."""
        sb = self.window_.sidebands(events)
        self.sources_ = (self._X(sb), self._m(sb))
        template = self._network_template()
        if self.loss == "mle":
            self.density_ = self._background_density(events)
            self.density_.model_.requires_grad_(False)
            self.preprocessing_, device = self.density_.preprocessing_, self.density_.device_
        else:
            device = resolve_device(template.device)
            self.preprocessing_ = make_preprocessing(template.preprocessing).fit(to_tensor(self.sources_[0], device))
        z, _ = self.preprocessing_(to_tensor(self.sources_[0], device))
        m = to_tensor(self.sources_[1], device)
        with seeded(self.random_state):
            self.transport_ = self.init_module("transport_").to(device)
            self.transport_.set_scale(m.mean(), m.std())
            trainer = template.trainer if template.trainer is not None else Trainer()
            self.history_ = trainer.fit(self.transport_, self._loss_function(), (z, m), random_state=self.random_state)
        self.transport_.eval()

    def _network_template(self) -> Flow:
        return self.network if self.network is not None else default_transport(self.random_state)

    def init_module(self, name):
        """The untrained ``transport_`` (also to load saved weights into)."""
        if name != "transport_":
            return super().init_module(name)
        return _Transport(self._network_template().build_module(len(self.features_), 2))

    def _loss_function(self):
        """The batch loss ``loss(z, m)`` of the chosen objective."""
        transport = self.transport_
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

    def sample_background(self, m):
        """Sideband events, each used about equally often, moved to the masses ``m``."""
        X, m_in = self.sources_
        rng = np.random.default_rng(self.random_state)
        pick = rng.permutation(np.resize(np.arange(len(m_in)), len(m)))  # each SB event used ~equally often
        return self.transport(X[pick], m_in[pick], m)

    # ---------------------------------------------------------------- transport
    def transport(self, X, m_in, m_out, *, inverse: bool = False) -> np.ndarray:
        """Move events ``X`` (N, D), observed at masses ``m_in`` (N,), to masses ``m_out`` (N,).

        With ``inverse=True`` applies ``f^-1(.; m_in, m_out)``: ``X`` is then at ``m_out`` and
        is moved back to ``m_in``. Returns float32 features (N, D) in the original units.
        """
        check_fitted(self, "transport_")
        X = check_array(X, "X", n_features=len(self.features_))
        m_in, m_out = (check_cond(m, len(X), name, n_features=1)[:, 0]
                       for m, name in ((m_in, "m_in"), (m_out, "m_out")))
        device = self.transport_.mean.device
        with torch.no_grad():
            z, _ = self.preprocessing_(to_tensor(X, device))
            f = self.transport_.bijection(to_tensor(m_in, device), to_tensor(m_out, device))
            return to_numpy(self.preprocessing_.inverse(f.inv(z) if inverse else f(z))).astype(np.float32)

