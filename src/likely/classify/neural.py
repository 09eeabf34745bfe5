"""Multilayer-perceptron classifier and regressor trained with the shared Trainer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, RegressorMixin

from likely._checks import check_array, check_fitted, fraction, instance, options, seed, validate_params, widths
from likely._persist import Saveable
from likely.classify.base import BinaryClassifier
from likely.nn import MLP, Trainer, batch_slices, resolve_device, seeded, to_numpy, to_tensor
from likely.nn.mlp import ACTIVATIONS
from likely.transforms import Standardize

__all__ = ["NNClassifier", "NNRegressor"]

_BATCH = 65536


class _MLPEstimator:
    """Shared plumbing: an MLP on standardized inputs, trained by ``trainer``, applied in batches."""

    def _train(self, X: np.ndarray, targets: tuple[np.ndarray | torch.Tensor, ...], loss) -> None:
        """Fit ``model_`` on ``X`` (N, D) and per-row ``targets`` (arrays or tensors) with ``loss(x, *targets)``."""
        self.device_ = resolve_device(self.device)
        with seeded(self.random_state):
            x = to_tensor(X, self.device_)
            self.scaler_ = Standardize().fit(x)
            data = (self.scaler_(x)[0], *(to_tensor(t, self.device_) for t in targets))
            self.model_ = self.init_module("model_").to(self.device_)
            trainer = Trainer() if self.trainer is None else self.trainer
            self.history_ = trainer.fit(self.model_, loss, data, random_state=self.random_state)
        self.model_.eval()

    @torch.no_grad()
    def _outputs(self, X: np.ndarray, head=None) -> np.ndarray:
        """The network's outputs (N, n_out), through ``head`` if given, in batches."""
        out = np.empty((len(X), self.model_[-1].out_features), dtype=np.float32)
        for start, stop in batch_slices(len(X), _BATCH):
            y = self.model_(self.scaler_(to_tensor(X[start:stop], self.device_))[0])
            out[start:stop] = to_numpy(y if head is None else head(y))
        return out


class NNClassifier(_MLPEstimator, BinaryClassifier):
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

    _parameter_constraints = {
        "hidden": widths(),
        "activation": options(*ACTIVATIONS),
        "dropout": fraction(),
        "class_weight": options(None, "balanced"),
        "trainer": instance(Trainer) | None,
    }
    _expected_failed_checks = {"check_class_weight_classifiers": "class_weight accepts only None and 'balanced'"}

    def __init__(
        self,
        *,
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
        weights = np.ones(len(y), np.float32) if sample_weight is None else sample_weight
        self._train(X, (y.astype(np.float32), weights.astype(np.float32)), self._loss)

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``), also used to load saved weights into."""
        return MLP(self.n_features_in_, 1, tuple(self.hidden), self.activation, self.dropout)

    def _loss(self, x, y, w):
        logits = self.model_(x)[:, 0]
        losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return (losses * w).sum() / w.sum()

    def _proba(self, X):
        return self._outputs(X, torch.sigmoid)[:, 0]


class NNRegressor(_MLPEstimator, Saveable, RegressorMixin, BaseEstimator):
    """MLP regression on mean-squared error, with standardized inputs and targets.

    Parameters
    ----------
    hidden : sequence of int
        Hidden-layer widths.
    activation : str
        Hidden activation (see :data:`likely.nn.ACTIVATIONS`).
    trainer : Trainer or None
        Training settings; None uses ``Trainer()``'s defaults.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.
    """

    _parameter_constraints = {
        "hidden": widths(),
        "activation": options(*ACTIVATIONS),
        "trainer": instance(Trainer) | None,
        "random_state": seed(),
    }
    _expected_failed_checks = {
        "check_supervised_y_2d": "y of shape (N, 1) is accepted without a DataConversionWarning",
        "check_fit2d_predict1d": "'X must be 2-D ... use X.reshape(-1, 1)' is not sklearn's 'Reshape your data'",
    }

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> NNRegressor:
        """Train on features ``X`` (N, D) and targets ``y`` (N,) (or (N, 1))."""
        if y is None:
            raise ValueError("NNRegressor requires y to be passed, but the target y is None")
        validate_params(self)
        X = check_array(X, "X")
        y = np.asarray(y)
        y = check_array(y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y, "y", ndim=1)
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} entries, but X has {len(X)} rows")
        self.n_features_in_ = X.shape[1]
        t = to_tensor(y[:, None], resolve_device(self.device))
        self.target_scaler_ = Standardize().fit(t)
        self._train(X, (self.target_scaler_(t)[0],), self._loss)
        return self

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``), also used to load saved weights into."""
        return MLP(self.n_features_in_, 1, tuple(self.hidden), self.activation)

    def _loss(self, x, t):
        return F.mse_loss(self.model_(x), t)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape (N,), float32."""
        check_fitted(self, "model_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        return self._outputs(X, self.target_scaler_.inverse)[:, 0]
