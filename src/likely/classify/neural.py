"""A multilayer-perceptron classifier trained with the shared Trainer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from likely.classify.base import BinaryClassifier
from likely.nn import MLP, Trainer, batch_slices, resolve_device, seeded, to_numpy, to_tensor
from likely.transforms import Standardize

__all__ = ["NNClassifier"]

_BATCH = 65536


class NNClassifier(BinaryClassifier):
    """MLP with a sigmoid output trained on weighted binary cross-entropy.

    Inputs are standardized internally. Early stopping on a validation split and the
    optimizer and schedule come from ``trainer``.

    Parameters
    ----------
    hidden : sequence of int
        Hidden-layer widths.
    activation : str
        Hidden activation (see :data:`likely.nn.ACTIVATIONS`).
    dropout : float
        Dropout after each hidden layer.
    class_weight : {None, "balanced"}
        ``"balanced"`` gives both classes equal total weight.
    trainer : Trainer or None
        Training settings; None uses ``Trainer()``'s defaults.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        class_weight: str | None = None,
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.class_weight = class_weight
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        self.device_ = resolve_device(self.device)
        weights = np.ones(len(y), np.float32) if sample_weight is None else sample_weight
        with seeded(self.random_state):
            x = to_tensor(X, self.device_)
            self.scaler_ = Standardize().fit(x)
            data = (self.scaler_(x)[0], to_tensor(y.astype(np.float32), self.device_), to_tensor(weights, self.device_))
            self.model_ = self._module_for("model_").to(self.device_)
            trainer = Trainer() if self.trainer is None else self.trainer
            self.history_ = trainer.fit(self.model_, self._loss, data, random_state=self.random_state)
        self.model_.eval()

    def _module_for(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``), also used to load saved weights into."""
        return MLP(self.n_features_in_, 1, tuple(self.hidden), self.activation, self.dropout)

    def _loss(self, x, y, w):
        logits = self.model_(x)[:, 0]
        losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return (losses * w).sum() / w.sum()

    @torch.no_grad()
    def _proba(self, X):
        out = np.empty(len(X), dtype=np.float32)
        for start, stop in batch_slices(len(X), _BATCH):
            x = self.scaler_(to_tensor(X[start:stop], self.device_))[0]
            out[start:stop] = to_numpy(torch.sigmoid(self.model_(x)[:, 0]))
        return out
