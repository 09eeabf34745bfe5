"""The contract every model of :mod:`likely.autoencoders` keeps, and the plumbing it shares.

A model is trained on the reference class (background) and reads out named anomaly
scores, higher = more anomalous::

    model.fit(X)                        # X: vectors (N, D) or images (N, C, H, W) / (N, H, W)
    model.scores(X)                     # {"mse": (N,), "kl": (N,), ...} float32
    model.reconstruction_error(X)       # (N,) = scores(X)[model.default_score]
    model.reconstruct(X)                # (N, *input_shape_), in the model's preprocessed units
    model.encode(X)                     # (N, latent)
    model.preprocess(X)                 # what the network sees: pixels ** power, then / their sum
    model.save(path); type(model).load(path)

The backbone follows the objects: vectors get MLPs, images the convolutional encoder and
decoder (:func:`likely.nn.build_encoder`). The pixel preprocessing — pTⁿ remapping
``x → x ** power`` (seed 003: n = 0.2 for dark jets), then optionally division by the
object's sum — happens inside the model, at ``fit`` and at scoring alike, and is saved
with it (the ``power`` and ``normalize`` hyperparameters). See docs/autoencoders.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from likely._checks import check_fitted, check_inputs, instance, positive, seed, validate_params
from likely._persist import Saveable
from likely.nn import History, Trainer, init_output_level, resolve_device, seeded, to_numpy, to_tensor

__all__ = ["BaseAutoencoder", "remap_pixels"]

#: objects per forward pass when scoring
_BATCH = 2048


def remap_pixels(x: torch.Tensor, power: float | None = None, normalize: bool = False) -> torch.Tensor:
    """``x ** power`` (pTⁿ remapping; None keeps ``x``), then each object divided by its sum
    if ``normalize`` (an all-zero object stays zero). ``x``: (N, ...) non-negative."""
    if power is not None:
        x = x ** power
    if normalize:
        total = x.flatten(1).sum(1).clamp_min(torch.finfo(x.dtype).tiny)
        x = x / total.view(-1, *[1] * (x.ndim - 1))
    return x


class BaseAutoencoder(Saveable, BaseEstimator):
    """Base class of the autoencoder family (module docstring): fit, scores, reconstruction, saving.

    A subclass stores its hyperparameters in a keyword-only ``__init__`` (among them
    ``power``, ``trainer``, ``device``, ``random_state``; ``normalize`` unless the model
    always normalizes, :meth:`normalizes`), declares ``score_names`` and ``default_score``,
    and implements, on preprocessed tensors ``x`` (n, *input_shape_):

    - ``init_module("model_")``: the untrained network for ``input_shape_``;
    - ``_loss(x)``: the batch-mean training loss (``_train`` runs it through the ``Trainer``;
      override ``_train`` for another schedule, e.g. two training phases);
    - ``_scores(x)``: ``{name: (n,) tensor}``; ``_reconstruct(x)``; ``_encode(x)``;
    - optionally ``_monitor(x)``: ``{name: batch mean}`` recorded per epoch in ``history_.monitors``,
      ``_check_training_inputs(x)``, and ``_decoder_output()``: the output activation of
      ``model_.decoder``, which ``fit`` then starts at the data's mean level.

    Attributes
    ----------
    input_shape_ : tuple of int
        Shape of one training object: (D,) or (C, H, W).
    n_features_in_ : int
        Numbers per object (D, or C × H × W).
    device_ : torch.device
        Where the network lives.
    model_ : torch.nn.Module
        The trained network.
    history_ : History
        The training record: losses per epoch and the model's monitored quantities.
    """

    #: every anomaly score the class can give (:attr:`available_scores`: those of this instance)
    score_names: ClassVar[tuple[str, ...]] = ()
    #: the score of :meth:`reconstruction_error`
    default_score: ClassVar[str] = ""
    #: objects per forward pass when scoring (lower it for networks with large feature maps)
    score_batch: ClassVar[int] = _BATCH

    _parameter_constraints = {
        "power": positive() | None,
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": seed(),
    }

    # ----------------------------------------------------------- the contract
    @property
    def available_scores(self) -> tuple[str, ...]:
        """The names :meth:`scores` gives with these hyperparameters (all of ``score_names`` unless narrowed)."""
        return self.score_names

    def normalizes(self) -> bool:
        """Whether the preprocessing divides each object by its sum (the ``normalize`` hyperparameter)."""
        return bool(self.normalize)

    def fit(self, X: Any, cond: Any = None) -> BaseAutoencoder:
        """Train on reference objects ``X``: vectors (N, D) or images (N, C, H, W) / (N, H, W)."""
        validate_params(self)
        X = check_inputs(X, "X")
        self._refuse_cond(cond)
        self._check_values(X)
        self.input_shape_ = tuple(int(n) for n in X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.device_ = resolve_device(self.device)
        with seeded(self.random_state):
            x = self._prepare(to_tensor(X, self.device_))
            self._check_training_inputs(x)
            self.model_ = self._start_module(x)
            self.history_ = self._train(x)
        self.model_.eval()
        return self

    def scores(self, X: Any, cond: Any = None) -> dict[str, np.ndarray]:
        """Every available anomaly score of each object, ``{name: (N,) float32}``; higher = more anomalous."""
        with torch.no_grad():
            parts = [self._scores(x) for x in self._batches(X, cond)]
        return {name: np.concatenate([to_numpy(part[name]) for part in parts]) for name in parts[0]}

    def reconstruction_error(self, X: Any, cond: Any = None) -> np.ndarray:
        """The default score (``default_score``) of each object, (N,) float32."""
        return self.scores(X, cond)[self.default_score]

    def reconstruct(self, X: Any, cond: Any = None) -> np.ndarray:
        """Reconstructions (N, *input_shape_) float32, in the preprocessed units of :meth:`preprocess`."""
        with torch.no_grad():
            parts = [to_numpy(self._reconstruct(x)) for x in self._batches(X, cond)]
        return np.concatenate(parts).reshape(-1, *self.input_shape_)

    def encode(self, X: Any, cond: Any = None) -> np.ndarray:
        """Latent codes (N, latent) float32 (the posterior mean for variational models)."""
        with torch.no_grad():
            return np.concatenate([to_numpy(self._encode(x)) for x in self._batches(X, cond)])

    def preprocess(self, X: Any) -> np.ndarray:
        """``X`` as the network sees it: ``X ** power``, then divided by each object's sum if the
        model normalizes; shape (N, *input_shape_) float32."""
        with torch.no_grad():
            return np.concatenate([to_numpy(x) for x in self._batches(X, None)]).reshape(-1, *self.input_shape_)

    # ----------------------------------------------------------------- hooks
    def _train(self, x: torch.Tensor) -> History:
        trainer = Trainer() if self.trainer is None else self.trainer
        return trainer.fit(self.model_, self._loss, (x,), random_state=self.random_state, monitor=self._monitor)

    def _start_module(self, x: torch.Tensor) -> torch.nn.Module:
        """The network ``fit`` trains on ``x``: a new one, its ``decoder`` (if :meth:`_decoder_output`
        names its activation) starting at the level of ``x`` (:func:`likely.nn.init_output_level`)."""
        model = self.init_module("model_").to(self.device_)
        if self._decoder_output() is not None:
            init_output_level(model.decoder, x, self._decoder_output())
        return model

    def _decoder_output(self) -> str | None:
        """The output activation of ``model_.decoder``, a :func:`likely.nn.build_decoder` network; None: none such."""
        return None

    def _monitor(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def _check_training_inputs(self, x: torch.Tensor) -> None:
        """Refuse training objects the model cannot learn (after preprocessing); default: accept all."""

    # --------------------------------------------------------------- helpers
    def _batches(self, X: Any, cond: Any) -> Iterator[torch.Tensor]:
        """Validated, preprocessed batches of ``X`` on the device (checks run before the first batch)."""
        check_fitted(self, "model_")
        X = check_inputs(X, "X", shape=self.input_shape_)
        self._refuse_cond(cond)
        self._check_values(X)
        size = self.score_batch
        return (self._prepare(to_tensor(X[start:start + size], self.device_)) for start in range(0, len(X), size))

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return remap_pixels(x, self.power, self.normalizes())

    def _check_values(self, X: np.ndarray) -> None:
        if (self.power is not None or self.normalizes()) and (X < 0).any():
            raise ValueError(f"X has {np.count_nonzero(X < 0)} negative value(s); the pixel remapping "
                             f"(power={self.power}, normalize={self.normalizes()}) needs non-negative inputs")

    def _refuse_cond(self, cond: Any) -> None:
        if cond is not None:
            raise ValueError(f"cond was given, but {type(self).__name__} takes no condition")
