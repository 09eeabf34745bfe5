"""A conditional autoencoder: features reconstructed given the kinematics (Flux+Mutability's cAE)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator

from likely._checks import check_array, check_cond, check_fitted, check_positive
from likely.density.base import _decode_params, _encode_params
from likely.nn import MLP, Trainer, load_safely, resolve_device, save_atomic, seeded, to_numpy, to_tensor
from likely.nn.trainer import History
from likely.transforms import MinMax, Standardize, transform_from_dict

__all__ = ["ConditionalAutoencoder"]

_BATCH = 65536
FORMAT = "likely-autoencoder/1"


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


class ConditionalAutoencoder(BaseEstimator):
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

    def __init__(
        self,
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
        X = check_array(X, "X")
        cond = check_cond(cond, len(X))
        check_positive(self.latent, "latent", integer=True)
        check_positive(self.delta, "delta")
        for width in (*self.encoder, *self._decoder_widths()):
            check_positive(width, "encoder/decoder widths", integer=True)
        self.device_ = resolve_device(self.device)
        self.n_features_in_ = X.shape[1]
        self.n_cond_ = 0 if cond is None else cond.shape[1]
        with seeded(self.random_state):
            x, c = to_tensor(X, self.device_), to_tensor(cond, self.device_)
            self.scaler_ = MinMax().fit(x)
            self.cond_scaler_ = None if c is None else Standardize().fit(c)
            self.model_ = _Network(
                self.n_features_in_, self.n_cond_, tuple(self.encoder), self.latent,
                self._decoder_widths(), self.activation,
            ).to(self.device_)
            trainer = Trainer(lr=5e-4) if self.trainer is None else self.trainer
            data = (self._scale(x), self._scale_cond(c))
            self.history_ = trainer.fit(self.model_, self._loss, data, random_state=self.random_state)
        self.model_.eval()
        return self

    def reconstruct(self, X: Any, cond: Any = None) -> np.ndarray:
        """Reconstructions x' of ``X`` given ``cond``, in ``X``'s units, shape (N, D)."""
        check_fitted(self, "model_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        cond = check_cond(cond, len(X), n_features=self.n_cond_)
        out = np.empty_like(X)
        with torch.no_grad():
            for start in range(0, len(X), _BATCH):
                x = to_tensor(X[start:start + _BATCH], self.device_)
                c = to_tensor(None if cond is None else cond[start:start + _BATCH], self.device_)
                scaled = self.model_(self._scale(x), self._scale_cond(c))
                out[start:start + _BATCH] = to_numpy(self.scaler_.inverse((scaled + 1) / 2))
        return out

    def residuals(self, X: Any, cond: Any = None) -> np.ndarray:
        """Residuals x' − x (the paper's sign), in ``X``'s units, shape (N, D)."""
        X = check_array(X, "X")
        return self.reconstruct(X, cond) - X

    # -------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Write hyperparameters, weights and fitted scalers to ``path`` (atomically)."""
        check_fitted(self, "model_")
        save_atomic({
            "format": FORMAT, "params": _encode_params(self.get_params(deep=False)), "n_features_in": self.n_features_in_, "n_cond": self.n_cond_,
            "scaler": self.scaler_.to_dict(),
            "cond_scaler": self.cond_scaler_ and self.cond_scaler_.to_dict(),
            "model": self.model_.state_dict(), "history": self.history_.as_dict(),
        }, path)

    @classmethod
    def load(cls, path, device: str = "auto") -> ConditionalAutoencoder:
        """Load a model written by :meth:`save` (``weights_only=True``) onto ``device``."""
        saved = load_safely(path)
        if saved.get("format") != FORMAT:
            raise ValueError(f"{path} does not hold a ConditionalAutoencoder (format {saved.get('format')!r})")
        ae = cls(**dict(_decode_params(saved["params"]), device=device))
        ae.device_ = resolve_device(device)
        ae.n_features_in_, ae.n_cond_ = saved["n_features_in"], saved["n_cond"]
        ae.scaler_ = transform_from_dict(saved["scaler"])
        ae.cond_scaler_ = saved["cond_scaler"] and transform_from_dict(saved["cond_scaler"])
        ae.model_ = _Network(ae.n_features_in_, ae.n_cond_, tuple(ae.encoder), ae.latent,
                             ae._decoder_widths(), ae.activation)
        ae.model_.load_state_dict(saved["model"])
        ae.model_.to(ae.device_).eval()
        ae.history_ = History(**saved["history"])
        return ae

    # ----------------------------------------------------------------- helpers
    def _decoder_widths(self) -> tuple[int, ...]:
        return tuple(reversed(tuple(self.encoder))) if self.decoder is None else tuple(self.decoder)

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.scaler_(x)[0] - 1

    def _scale_cond(self, c: torch.Tensor | None) -> torch.Tensor | None:
        return None if c is None else self.cond_scaler_(c)[0]

    def _loss(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return F.huber_loss(self.model_(x, c), x, delta=float(self.delta))
