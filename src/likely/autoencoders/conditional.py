"""A conditional autoencoder: features reconstructed given the kinematics (Flux+Mutability's cAE)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator

from likely._checks import check_array, check_cond, check_fitted, instance, positive, validate_params, widths
from likely._persist import Saveable
from likely.nn import MLP, Trainer, resolve_device, seeded, to_numpy, to_tensor
from likely.transforms import MinMax, Standardize

__all__ = ["ConditionalAutoencoder"]

_BATCH = 65536


class _Network(torch.nn.Module):
    """Encoder (x ⊕ c) -> latent, decoder (latent ⊕ c) -> x: conditioning by concatenation."""

    def __init__(self, n_features, n_cond, encoder, latent, decoder, activation):
        super().__init__()
        self.encoder = MLP(n_features + n_cond, latent, encoder, activation)
        self.decoder = MLP(latent + n_cond, n_features, decoder, activation)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if c is None:
            return self.decoder(self.encoder(x))
        return self.decoder(torch.cat([self.encoder(torch.cat([x, c], 1)), c], 1))


class ConditionalAutoencoder(Saveable, BaseEstimator):
    """Autoencoder that reconstructs features ``x`` given a condition ``c`` (e.g. kinematics).

    The condition is concatenated to the inputs of both the encoder and the decoder
    (Fanelli et al. 2022, Flux+Mutability, tables 6-7). Features are scaled to [-1, 1]
    and the condition standardized before the network; the loss is the Huber loss
    (mean over features and events) in the scaled units.

    Parameters
    ----------
    encoder : sequence of int
        Hidden widths of the encoder; the paper's LHC network is (60, 45, 30, 15, 8).
    latent : int
        Width of the bottleneck (paper: 6).
    decoder : sequence of int or None
        Hidden widths of the decoder; None mirrors ``encoder``.
    activation : str
        Hidden activation (paper: ReLU).
    delta : float
        Huber loss threshold δ in scaled units (paper: 1.0).
    trainer : Trainer or None
        Training settings; None uses ``Trainer(lr=5e-4)`` (the paper's learning rate,
        early stopping after 10 epochs without improvement).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.

    Attributes
    ----------
    n_features_in_ : int
        Features D.
    n_cond_ : int
        Condition columns C (0 for a plain autoencoder).
    device_ : torch.device
        Where the network lives.
    scaler_ : MinMax
        Features to [0, 1] over the training data (the network sees 2 x - 1).
    cond_scaler_ : Standardize or None
        Standardization of the condition.
    model_ : torch.nn.Module
        The trained encoder and decoder.
    history_ : History
        Training and validation losses per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import ConditionalAutoencoder
    >>> from likely.nn import Trainer
    >>> rng = np.random.default_rng(0)
    >>> c = rng.uniform(size=400).astype("float32")
    >>> X = np.stack([c + 0.1 * rng.normal(size=400), c**2], 1).astype("float32")
    >>> ae = ConditionalAutoencoder(encoder=(8,), latent=1, trainer=Trainer(epochs=2, progress=False),
    ...                             random_state=0).fit(X, c)
    >>> ae.residuals(X[:3], c[:3]).shape
    (3, 2)
    """

    _expected_failed_checks = {
        "check_fit_score_takes_y": "fit(X, cond=None): the second argument is a condition, not y",
        "check_n_features_in_after_fitting": None,  # passes: no method of the check's applies
    }
    _parameter_constraints = {
        "encoder": widths(),
        "latent": positive(integer=True),
        "decoder": widths() | None,
        "activation": instance(str),
        "delta": positive(),
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": instance(int, np.integer) | None,
    }

    def __init__(
        self,
        *,
        encoder: Sequence[int] = (60, 45, 30, 15, 8),
        latent: int = 6,
        decoder: Sequence[int] | None = None,
        activation: str = "relu",
        delta: float = 1.0,
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder
        self.activation = activation
        self.delta = delta
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def fit(self, X: Any, cond: Any = None) -> ConditionalAutoencoder:
        """Train on features ``X`` (N, D) given ``cond`` (N,) or (N, C) (None: plain autoencoder)."""
        validate_params(self)
        X = check_array(X, "X")
        cond = check_cond(cond, len(X))
        self.device_ = resolve_device(self.device)
        self.n_features_in_ = X.shape[1]
        self.n_cond_ = 0 if cond is None else cond.shape[1]
        with seeded(self.random_state):
            x, c = to_tensor(X, self.device_), to_tensor(cond, self.device_)
            self.scaler_ = MinMax().fit(x)
            self.cond_scaler_ = None if c is None else Standardize().fit(c)
            self.model_ = self.init_module("model_").to(self.device_)
            trainer = Trainer(lr=5e-4) if self.trainer is None else self.trainer
            data = (self._scale(x), self._scale_cond(c))
            self.history_ = trainer.fit(self.model_, self._loss, data, random_state=self.random_state)
        self.model_.eval()
        return self

    def reconstruct(self, X: Any, cond: Any = None) -> np.ndarray:
        """Reconstructions x' of ``X`` given ``cond``, in ``X``'s units, shape (N, D)."""
        X, cond = self._check(X, cond)
        out = np.empty_like(X)
        with torch.no_grad():
            for start in range(0, len(X), _BATCH):
                _, scaled = self._pass(X, cond, start)
                out[start:start + _BATCH] = to_numpy(self.scaler_.inverse((scaled + 1) / 2))
        return out

    def reconstruction_error(self, X: Any, cond: Any = None) -> np.ndarray:
        """Mean squared residual of each object in the network's scaled units, (N,) float32.

        Every feature is scaled to [-1, 1] over the training data before the mean, so all
        features count alike whatever their units: the usual autoencoder anomaly score.
        """
        X, cond = self._check(X, cond)
        out = np.empty(len(X), np.float32)
        with torch.no_grad():
            for start in range(0, len(X), _BATCH):
                x, scaled = self._pass(X, cond, start)
                out[start:start + _BATCH] = to_numpy(((scaled - x) ** 2).mean(1))
        return out

    def residuals(self, X: Any, cond: Any = None) -> np.ndarray:
        """Residuals x' − x (the paper's sign), in ``X``'s units, shape (N, D)."""
        X = check_array(X, "X")
        return self.reconstruct(X, cond) - X

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``) with the fitted sizes, also to load saved weights into."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self.n_features_in_, self.n_cond_, tuple(self.encoder), self.latent,
                        self._decoder_widths(), self.activation)

    # ----------------------------------------------------------------- helpers
    def _check(self, X: Any, cond: Any) -> tuple[np.ndarray, np.ndarray | None]:
        check_fitted(self, "model_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        return X, check_cond(cond, len(X), n_features=self.n_cond_)

    def _pass(self, X: np.ndarray, cond: np.ndarray | None, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of rows from ``start``: scaled inputs and their scaled reconstructions."""
        x = self._scale(to_tensor(X[start:start + _BATCH], self.device_))
        c = to_tensor(None if cond is None else cond[start:start + _BATCH], self.device_)
        return x, self.model_(x, self._scale_cond(c))

    def _decoder_widths(self) -> tuple[int, ...]:
        return tuple(reversed(tuple(self.encoder))) if self.decoder is None else tuple(self.decoder)

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.scaler_(x)[0] - 1

    def _scale_cond(self, c: torch.Tensor | None) -> torch.Tensor | None:
        return None if c is None else self.cond_scaler_(c)[0]

    def _loss(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return F.huber_loss(self.model_(x, c), x, delta=float(self.delta))
