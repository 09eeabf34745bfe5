"""Contrastive representations of sets of objects: JetCLR, AnomalyCLR and DarkCLR training.

Seed 003 §5.3 (digest §1.13–1.15). A :class:`SetTransformer` maps each set — a jet's
constituents, an event's objects — to a vector z. Each training batch is seen three times:
as it is (z), through *physical* augmentations that keep its physics (z′, the positive
view) and through an *anomaly* augmentation that makes it unlike itself (z*); the loss
(:mod:`likely.represent.losses`) pulls z′ towards z and pushes z* away. The anomaly
scores then live in the representation: ‖z‖ (DarkCLR) or a detector trained on the
representations of the background (AnomalyCLR's autoencoder, DarkCLR's NAE).

Sets come as zero-padded arrays X (N, P, F) whose first feature is pT (GeV): an object is
real where pT > 0 (the ADC2021 and point-cloud convention). ``features`` names the F
columns; an ``"id"`` column is the object type (embedded, not an input feature).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from likely._checks import check_fitted, check_sets, instance, options, positive, seed, validate_params
from likely._persist import Saveable
from likely.represent.losses import anomclr_loss, anomclr_plus_loss, darkclr_loss, simclr_loss
from likely.data import clouds, event_augment
from likely.data.adc import FEATURES as EVENT_FEATURES
from likely.data.particles import Particles
from likely.nn import (
    SetTransformer, Trainer, apply_to_sets, resolve_device, seeded, set_inputs, set_scales, to_numpy, to_tensor,
)

__all__ = ["AUGMENTATIONS", "CLR"]

#: augmentations by name: functions (Particles, numpy Generator) -> Particles; of point clouds
#: (likely.data.clouds, DarkCLR) and of ADC events (likely.data.event_augment, AnomalyCLR)
AUGMENTATIONS: dict[str, Callable[[Particles, np.random.Generator], Particles]] = {
    "rotate": clouds.rotate,
    "translate": clouds.translate,
    "smear": clouds.smear,
    "drop": clouds.drop_constituents,
    "rotate-events": event_augment.rotate_events,
    "smear-events": event_augment.smear_events,
    "shift-multiplicity": event_augment.shift_multiplicity,
    "split-objects": event_augment.split_objects,
    "scale-pt": event_augment.scale_pt,
    "event-anomaly": event_augment.anomaly,
}
#: the seed's augmentations (physical, anomaly) for point clouds and for ADC events
DEFAULT_AUGMENTATIONS = {clouds.CLOUD: (("rotate", "translate"), "drop"),
                         EVENT_FEATURES: (("rotate-events", "smear-events"), "event-anomaly")}


def _loss(name: str, tau: float, norm_weight: float) -> Callable[..., torch.Tensor]:
    return {
        "simclr": lambda z, z_pos, z_anom: simclr_loss(z, z_pos, tau),
        "anomclr": lambda z, z_pos, z_anom: anomclr_loss(z, z_pos, z_anom, tau),
        "anomclr+": lambda z, z_pos, z_anom: anomclr_plus_loss(z, z_pos, z_anom, tau),
        "darkclr": lambda z, z_pos, z_anom: darkclr_loss(z, z_pos, z_anom, norm_weight, tau),
    }[name]


class CLR(Saveable, BaseEstimator):
    """Contrastive representation of padded sets (module docstring): ``fit(X)``, ``transform(X)``.

    Parameters
    ----------
    features : sequence of str
        Names of the F columns of X; the first must be ``"pt"`` (GeV). Point clouds of
        ``likely.data.clouds.point_clouds``: ``("pt", "deta", "dphi")``; ADC events:
        ``("pt", "eta", "phi", "id")``.
    loss : {"anomclr+", "anomclr", "darkclr", "simclr"}
        L⁺_AnomCLR (seed's choice), L_AnomCLR, DarkCLR's L⁺ with the norm penalty, or
        SimCLR's NT-Xent without anomaly views (JetCLR).
    physical : sequence of str or None
        Names in :data:`AUGMENTATIONS` applied in turn to make the positive view; None: the
        seed's for the ``features`` (point clouds: rotate, translate; ADC events:
        rotate-events, smear-events).
    anomaly : str or None
        Name in :data:`AUGMENTATIONS` of the anomaly augmentation; ``"auto"``: the seed's
        (point clouds: drop, p = 0.5; ADC events: event-anomaly, one of shift-multiplicity,
        split-objects, scale-pt per event); None only with ``loss="simclr"``.
    dim, out_features, layers, heads, feedforward, head_hidden, dropout
        The :class:`~likely.nn.SetTransformer` (defaults: seed 003's DarkCLR, Tab. B.11).
    aggregate : {"sum", "mean"}
        How the transformer's object outputs become one vector: a sum keeps the multiplicity
        (a set with fewer objects lies nearer the origin before the head), a mean does not.
    tau : float
        Temperature of the similarity (L_AnomCLR, SimCLR; it only scales L⁺).
    norm_weight : float
        Weight of the background-norm penalty of ``loss="darkclr"`` (the seed gives none; at
        1e-3 the penalty is too weak against L⁺ / τ to orient ‖z‖ and dark jets came out with
        the smaller norms, at 1 they come out larger: docs/contrastive.md).
    trainer : Trainer or None
        The training; None: 150 epochs of batch 256 at learning rate 5e-5, constant (Tab. B.11).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds the network, the batches and the augmentations.

    Attributes
    ----------
    model_ : SetTransformer
    pt_scale_ : float
        Mean pT of the training objects; the network sees pT / pt_scale_ (seed 003).
    n_ids_ : int or None
        Object types embedded (max id + 1), with an ``"id"`` feature.
    history_ : History
    """

    _parameter_constraints = {
        "loss": options("anomclr+", "anomclr", "darkclr", "simclr"),
        "dim": positive(integer=True),
        "out_features": positive(integer=True),
        "layers": positive(integer=True),
        "heads": positive(integer=True),
        "feedforward": positive(integer=True),
        "dropout": positive(allow_zero=True),
        "aggregate": options("sum", "mean"),
        "tau": positive(),
        "norm_weight": positive(allow_zero=True),
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": seed(),
    }

    def __init__(self, *, features: Sequence[str] = clouds.CLOUD, loss: str = "anomclr+",
                 physical: Sequence[str] | None = None, anomaly: str | None = "auto", dim: int = 128,
                 out_features: int = 512, layers: int = 4, heads: int = 4, feedforward: int = 512,
                 head_hidden: Sequence[int] = (512,), dropout: float = 0.1, aggregate: str = "sum",
                 tau: float = 0.1, norm_weight: float = 1.0, trainer: Trainer | None = None, device: str = "auto",
                 random_state: int | None = None) -> None:
        self.features = features
        self.loss = loss
        self.physical = physical
        self.anomaly = anomaly
        self.dim = dim
        self.out_features = out_features
        self.layers = layers
        self.heads = heads
        self.feedforward = feedforward
        self.head_hidden = head_hidden
        self.dropout = dropout
        self.aggregate = aggregate
        self.tau = tau
        self.norm_weight = norm_weight
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ API
    def fit(self, X: Any) -> CLR:
        """Learn the representation of the sets ``X`` (N, P, F) (the background)."""
        validate_params(self)
        self._check_settings()
        X = check_sets(X, self.features)
        self.pt_scale_, self.n_ids_ = set_scales(X, self.features)
        self.device_ = resolve_device(self.device)
        with seeded(self.random_state):
            self.model_ = self.init_module("model_").to(self.device_)
            rng = np.random.default_rng(int(torch.randint(2**62, ())))
            loss = _loss(self.loss, self.tau, self.norm_weight)
            trainer = self.trainer or Trainer(epochs=150, batch_size=256, lr=5e-5, schedule="constant",
                                              val_fraction=0.0, patience=None)
            self.history_ = trainer.fit(self.model_, lambda x: loss(*self._views(x, rng)),
                                        (to_tensor(X, self.device_),), random_state=self.random_state)
        self.model_.eval()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Representations z (N, out_features) float32 of the sets ``X`` (N, P, F): the head's output."""
        check_fitted(self, "model_")
        return apply_to_sets(self.model_, check_sets(X, self.features), self.features, self.pt_scale_, self.device_)

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained :class:`SetTransformer` (``model_``)."""
        if name != "model_":
            return super().init_module(name)
        n_inputs = len(self.features) - ("id" in self.features)
        return SetTransformer(n_inputs, self.dim, self.out_features, layers=self.layers, heads=self.heads,
                              feedforward=self.feedforward, head_hidden=tuple(self.head_hidden),
                              n_ids=self.n_ids_, aggregate=self.aggregate, dropout=self.dropout)

    # -------------------------------------------------------------- helpers
    def _views(self, x: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        """z, z′ and z* (None without an anomaly augmentation) of a batch of raw sets ``x`` (n, P, F)."""
        physical, anomaly = self._augmentations()
        batch = self._particles(x)
        positive = batch
        for name in physical:
            positive = AUGMENTATIONS[name](positive, rng)
        views = [x, self._tensor(positive)]
        if anomaly is not None:
            views.append(self._tensor(AUGMENTATIONS[anomaly](batch, rng)))
        z = [self.model_(*set_inputs(view, self.features, self.pt_scale_)) for view in views]
        return (*z, None) if anomaly is None else tuple(z)

    def _augmentations(self) -> tuple[tuple[str, ...], str | None]:
        """The physical augmentations and the anomaly one, the defaults of the features filled in."""
        physical, anomaly = DEFAULT_AUGMENTATIONS.get(tuple(self.features), ((), None))
        return (physical if self.physical is None else tuple(self.physical),
                anomaly if self.anomaly == "auto" else self.anomaly)

    def _particles(self, x: torch.Tensor) -> Particles:
        values = to_numpy(x)
        return Particles.from_padded(values, values[..., 0] > 0, tuple(self.features))

    def _tensor(self, sets: Particles) -> torch.Tensor:
        return to_tensor(sets.values, self.device_)  # Particles keep their padding at zero

    def _check_settings(self) -> None:
        if tuple(self.features) not in DEFAULT_AUGMENTATIONS and (self.physical is None or self.anomaly == "auto"):
            raise ValueError(f"features {tuple(self.features)} have no default augmentations: pass physical and "
                             "anomaly")
        physical, anomaly = self._augmentations()
        unknown = [name for name in (*physical, anomaly) if name is not None and name not in AUGMENTATIONS]
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}; choose from {sorted(AUGMENTATIONS)}")
        if (anomaly is None) != (self.loss == "simclr"):
            raise ValueError(f"loss={self.loss!r} {'needs' if self.anomaly is None else 'takes no'} anomaly "
                             "augmentation (anomaly=None goes with loss='simclr')")
        if not self.features or self.features[0] != "pt":
            raise ValueError(f"features must start with 'pt'; got {tuple(self.features)}")
