"""SkyCURTAINs: CURTAINs with a conditional-flow-matching transport, for any sliding variable.

Sengupta, Mulligan, Shih, Raine, Golling, "SkyCURTAINs: model agnostic search for stellar
streams with Gaia data" (arXiv:2405.12131) slide a window in proper motion instead of
``mjj`` and build the signal-region template by moving sideband stars there. Their
transport is CURTAINsF4F's (two flows); here, as issue 13 asks, it is a velocity field
``v(x, t | m_in, m_out)`` trained by conditional flow matching on pairs of events and
integrated from t = 0 to 1 (:class:`FlowMatchingTransport`): no base density to fit first,
and one network. The rest is :class:`~likely.search.curtains.TransportMethod`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from likely._checks import instance, seed
from likely.classify import BinaryClassifier
from likely.density import FlowMatching
from likely.search.curtains import PairTransport, TransportMethod, _partners, _Transport
from likely.search.methods import DEFAULT_FEATURES

__all__ = ["FlowMatchingTransport", "SkyCURTAINs", "default_velocity"]


def default_velocity(random_state: int | None = None) -> FlowMatching:
    """The velocity field's architecture and training settings: an MLP of three hidden layers of
    128 units (SiLU), 4 sinusoidal frequencies of time and masses, standardized features,
    the library's Trainer (AdamW, lr 1e-3, cosine, early stopping)."""
    return FlowMatching(hidden=(128, 128, 128), atol=1e-4, rtol=1e-4, random_state=random_state)


class _VelocityTransport(_Transport):
    """``v(z, t | m_in, m_out)`` integrated from t = 0 (at ``m_in``) to t = 1 (at ``m_out``)."""

    def bijection(self, m_in: torch.Tensor, m_out: torch.Tensor):
        """The zuko transform of the move: call it to integrate 0 -> 1, ``.inv`` to go back."""
        context = self.context(m_in, m_out)
        velocity = self.flow.velocity
        # ContinuousFlow.along integrates from t = 1 to 0; its inverse is the move 0 -> 1
        return self.flow.along(lambda t, x: velocity(x, t, context), len(context)).transform.inv

    def velocity(self, x: torch.Tensor, t: torch.Tensor, m_in: torch.Tensor, m_out: torch.Tensor) -> torch.Tensor:
        return self.flow.velocity(x, t, self.context(m_in, m_out))


class FlowMatchingTransport(PairTransport):
    """A transport ``f(x; m_in, m_out)`` learned by conditional flow matching on pairs of events.

    For a pair (``x0`` at ``m_in``, its partner ``x1`` at ``m_out``) the straight path
    ``x_t = (1 - t) x0 + t x1`` has velocity ``x1 - x0``; an MLP ``v(x_t, t | m_in, m_out)``
    learns it by regression, with ``t`` uniform in [0, 1]. Since the partners are drawn
    independently, the learned flow carries the distribution of events at ``m_in`` onto
    that at ``m_out`` (Lipman et al. 2023; Tong et al. 2024, independent coupling). Moving an
    event integrates ``dx/dt = v`` from 0 to 1 (zuko's adaptive ODE solver, as
    :class:`~likely.density.FlowMatching` samples); ``inverse=True`` integrates back.

    Parameters
    ----------
    network : FlowMatching or None
        Architecture (``hidden``, ``frequencies``, ``activation``), ODE tolerances,
        ``preprocessing`` and ``trainer`` of the velocity field (default:
        :func:`default_velocity`); only its velocity network is used, with two conditions.
    random_state : int or None
        Seeds the initialization, the batches and the times.

    Attributes
    ----------
    module_, preprocessing_, history_, n_features_in_
        See :class:`~likely.search.PairTransport`.
    """

    _parameter_constraints = {"network": instance(FlowMatching) | None, "random_state": seed()}

    def __init__(self, *, network: FlowMatching | None = None, random_state: int | None = None) -> None:
        self.network = network
        self.random_state = random_state

    def _network_template(self) -> FlowMatching:
        return self.network if self.network is not None else default_velocity(self.random_state)

    def init_module(self, name):
        """The untrained ``module_`` (also to load saved weights into)."""
        if name != "module_":
            return super().init_module(name)
        return _VelocityTransport(self._network_template().build_module(self.n_features_in_, 2))

    def _loss_function(self):
        module = self.module_

        def flow_matching(z, m):
            z_target, m_out = _partners(z, m)
            # validation draws the same times every epoch, so early stopping compares like with like
            generator = None if module.training else torch.Generator(z.device).manual_seed(0)
            t = torch.rand(len(z), 1, generator=generator, device=z.device, dtype=z.dtype)
            x_t = (1 - t) * z + t * z_target
            return (module.velocity(x_t, t, m, m_out) - (z_target - z)).square().mean()

        return flow_matching


class SkyCURTAINs(TransportMethod):
    """SkyCURTAINs (Sengupta et al. 2024) with a flow-matching transport, for any sliding variable.

    As :class:`~likely.search.CURTAINs`: real sideband events, each reused about
    ``oversampling`` times, are moved to signal-region values of the sliding variable
    (``window.variable``: ``mjj``, a proper motion, ...) drawn from a KDE of the SR's, and a
    classifier separates SR data (1) from them (0). The move is a
    :class:`FlowMatchingTransport`, trained per window on the sidebands or, with
    ``train_once``, once on all events (see :class:`~likely.search.TransportMethod`).

    Parameters
    ----------
    features : sequence of str
        Feature columns (the sliding variable is ``window.variable``; it is not one of them).
    network : FlowMatching or None
        The velocity field's architecture and training (default: :func:`default_velocity`).
    sideband_width : float or None
        Width of each sideband in the units of the sliding variable when ``window`` sets
        none (the paper: about 6 mas/yr of proper motion); None uses the window's sidebands.
    train_once, margin, fitted_transport
        As for :class:`~likely.search.CURTAINs` (``margin`` in the units of the sliding variable).
        Keep ``train_once=False`` for searches: a velocity field trained on all events
        carries some events onto a signal in the window even when moved only to the anchors
        (3 % of the template on the toy of docs/search.md; 0 % per window).
    classifier, oversampling, n_folds, random_state
        As in :class:`~likely.search.CATHODE`.

    Attributes
    ----------
    window_, features_, anchors_, samples_, sources_, classifier_, data_scores_, data_folds_
        As for :class:`~likely.search.CURTAINs`.
    transport_ : FlowMatchingTransport
        The trained transport; apply it with :meth:`transport`.
    history_ : History
        ``transport_.history_``.
    """

    def __init__(self, *, features: Sequence[str] = DEFAULT_FEATURES, network: FlowMatching | None = None,
                 sideband_width: float | None = None, train_once: bool = False, margin: float = 0.1,
                 fitted_transport: PairTransport | None = None, classifier: BinaryClassifier | None = None,
                 oversampling: float = 4.0, n_folds: int | None = None, random_state: int | None = None) -> None:
        self.features = features
        self.network = network
        self.sideband_width = sideband_width
        self.train_once = train_once
        self.margin = margin
        self.fitted_transport = fitted_transport
        self.classifier = classifier
        self.oversampling = oversampling
        self.n_folds = n_folds
        self.random_state = random_state

    _parameter_constraints = {"network": instance(FlowMatching) | None}

    def _transport_template(self) -> FlowMatchingTransport:
        return FlowMatchingTransport(network=self.network, random_state=self.random_state)
