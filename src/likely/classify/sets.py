"""A supervised transformer on padded sets: the fully supervised baseline of DarkCLR (seed 003 §5.3.6).

The backbone is the :class:`likely.nn.SetTransformer` the contrastive representations use;
its head is a two-layer MLP with one output, trained on weighted binary cross-entropy with
the shared Trainer (the seed: 300 epochs, the state of the best validation loss kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit

from likely._checks import check_sets, fraction, instance, options, positive, seed, widths
from likely.classify.base import BinaryClassifier
from likely.data.clouds import CLOUD
from likely.nn import SetTransformer, Trainer, apply_to_sets, resolve_device, seeded, set_inputs, set_scales, to_tensor

__all__ = ["SetClassifier"]


class SetClassifier(BinaryClassifier):
    """Binary classifier of zero-padded sets X (N, P, F), first feature pT (GeV), pT > 0 marking real objects.

    The network sees pT divided by the mean pT of the training objects, η / 4 and φ / π
    (:func:`likely.nn.set_inputs`); an ``"id"`` feature is embedded. It is invariant under
    permutations of the objects and under more padding, so P may differ between fit and predict.

    Parameters
    ----------
    features : sequence of str
        Names of the F columns (default: point clouds ``("pt", "deta", "dphi")``).
    dim, layers, heads, feedforward, dropout
        The :class:`~likely.nn.SetTransformer` (defaults: DarkCLR's backbone, seed 003 Tab. B.11).
    hidden : sequence of int
        Hidden widths of the head (seed: one hidden ReLU layer, then the single output).
    class_weight : {None, "balanced"}
        ``"balanced"`` gives both classes equal total weight.
    trainer : Trainer or None
        Training settings; None: ``Trainer(lr=1e-4)`` (100 epochs, early stopping on a 20 %
        validation split, the best state kept).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.

    Attributes
    ----------
    model_ : SetTransformer
    pt_scale_ : float
        Mean pT of the training objects (GeV).
    n_ids_ : int or None
        Object types embedded, with an ``"id"`` feature.
    history_ : History
    """

    _parameter_constraints = {
        "dim": positive(integer=True),
        "layers": positive(integer=True),
        "heads": positive(integer=True),
        "feedforward": positive(integer=True),
        "hidden": widths(),
        "dropout": fraction(),
        "class_weight": options(None, "balanced"),
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": seed(),
    }

    def __init__(self, *, features: Sequence[str] = CLOUD, dim: int = 128, layers: int = 4, heads: int = 4,
                 feedforward: int = 512, hidden: Sequence[int] = (512,), dropout: float = 0.1,
                 class_weight: str | None = None, trainer: Trainer | None = None, device: str = "auto",
                 random_state: int | None = None) -> None:
        self.features = features
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.feedforward = feedforward
        self.hidden = hidden
        self.dropout = dropout
        self.class_weight = class_weight
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``), also used to load saved weights into."""
        if name != "model_":
            return super().init_module(name)
        n_inputs = len(self.features) - ("id" in self.features)
        return SetTransformer(n_inputs, self.dim, 1, layers=self.layers, heads=self.heads,
                              feedforward=self.feedforward, head_hidden=tuple(self.hidden), n_ids=self.n_ids_,
                              dropout=self.dropout)

    def _check_X(self, X: Any, *, fitted: bool) -> np.ndarray:
        return check_sets(X, self.features)

    def _fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        weights = np.ones(len(y), np.float32) if sample_weight is None else sample_weight.astype(np.float32)
        self.pt_scale_, self.n_ids_ = set_scales(X, self.features)
        self.device_ = resolve_device(self.device)
        with seeded(self.random_state):
            self.model_ = self.init_module("model_").to(self.device_)
            data = tuple(to_tensor(a, self.device_) for a in (X, y.astype(np.float32), weights))
            trainer = Trainer(lr=1e-4) if self.trainer is None else self.trainer
            self.history_ = trainer.fit(self.model_, self._loss, data, random_state=self.random_state)
        self.model_.eval()

    def _loss(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        logits = self.model_(*set_inputs(x, self.features, self.pt_scale_))[:, 0]
        return (F.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum() / w.sum()

    def _proba(self, X: np.ndarray) -> np.ndarray:
        return expit(apply_to_sets(self.model_, X, self.features, self.pt_scale_, self.device_)[:, 0])
