"""The shared machinery of conditional density estimators.

A :class:`DensityEstimator` validates inputs, fits the preprocessing (features and
condition), trains its torch model with :class:`~likely.nn.Trainer`, and reports
log-densities in the user's original coordinates by adding the preprocessing's
log-Jacobian. Subclasses only say how to build, train, score and sample the model in
the preprocessed ("latent") space.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from likely._checks import check_array, check_cond, check_fitted, check_positive
from likely.nn import Trainer, batch_slices, load_safely, resolve_device, save_atomic, seeded, to_numpy, to_tensor
from likely.transforms import Standardize, Transform, make_preprocessing, transform_from_dict

__all__ = ["DensityEstimator"]

FORMAT = "likely-density/1"
#: values (events x features) per forward pass at inference; bounds memory, not results.
#: A flow's activations grow with both (a 504-voxel coupling flow holds ~2 MB per event), and
#: smaller batches also run faster on a CPU (cache); see docs/benchmarks.md.
INFERENCE_VALUES = 2**17
#: the most events per forward pass, for low-dimensional models
INFERENCE_BATCH = 32768


class DensityEstimator(BaseEstimator):
    """Base class: ``fit`` / ``log_prob`` / ``sample`` / ``save`` / ``load``.

    Subclasses define ``__init__`` (storing hyperparameters only, among them
    ``preprocessing``, ``trainer``, ``device`` and ``random_state``) and implement
    ``_build``, ``_loss``, ``_log_prob_latent`` and ``_sample_latent``.
    """

    # --------------------------------------------------------------- subclass API
    def _build(self, n_features: int, n_cond: int) -> torch.nn.Module:
        raise NotImplementedError

    def _loss(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Mean training loss of a batch of latent points ``z`` (B, D) given ``c`` (B, C)."""
        raise NotImplementedError

    def _log_prob_latent(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Log-density (B,) of latent points."""
        raise NotImplementedError

    def _sample_latent(self, n: int, c: torch.Tensor | None) -> torch.Tensor:
        """``n`` latent samples (n, D); one per row of ``c`` when conditional."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, cond: Any = None, X_val: Any = None, cond_val: Any = None) -> DensityEstimator:
        """Fit the density p(X | cond).

        Parameters
        ----------
        X : array-like, shape (N, D)
            Training points.
        cond : array-like, shape (N,) or (N, C), optional
            Conditioning values (e.g. ``mjj``); None for an unconditional density.
        X_val, cond_val : array-like, optional
            Validation data for early stopping; by default the trainer holds out a
            fraction of ``X``.
        """
        X = check_array(X, "X")
        cond = check_cond(cond, len(X))
        n_cond = 0 if cond is None else cond.shape[1]
        if X_val is not None:
            X_val = check_array(X_val, "X_val", n_features=X.shape[1])
            cond_val = check_cond(cond_val, len(X_val), "cond_val", n_features=n_cond)
        elif cond_val is not None:
            raise ValueError("cond_val was given without X_val")

        self.device_ = resolve_device(self.device)
        self.n_features_in_, self.n_cond_ = X.shape[1], n_cond
        with seeded(self.random_state):
            x, c = to_tensor(X, self.device_), to_tensor(cond, self.device_)
            self.preprocessing_ = make_preprocessing(self.preprocessing).fit(x)
            self.cond_preprocessing_ = Standardize().fit(c) if c is not None else None
            train = self._to_latent(x, c, "X")
            val = None if X_val is None else self._to_latent(
                to_tensor(X_val, self.device_), to_tensor(cond_val, self.device_), "X_val"
            )
            self.model_ = self._build(self.n_features_in_, n_cond).to(self.device_)
            self.history_ = self._trainer().fit(
                self.model_, self._loss, train, val, random_state=self.random_state
            )
        self.model_.eval()
        return self

    def _trainer(self) -> Trainer:
        return Trainer() if self.trainer is None else self.trainer

    def _to_latent(self, x, c, name):
        z, _ = self.preprocessing_(x)
        if not torch.isfinite(z).all():
            raise ValueError(
                f"{name} has values outside the domain of the preprocessing {self.preprocessing_!r}"
            )
        return z, self._cond_latent(c)

    def _cond_latent(self, c: torch.Tensor | None) -> torch.Tensor | None:
        return None if c is None else self.cond_preprocessing_(c)[0]

    # ---------------------------------------------------------------- inference
    def log_prob(self, X: Any, cond: Any = None) -> np.ndarray:
        """Natural log-density of each row of ``X`` in ``X``'s own units, shape (N,).

        Points outside the support of the preprocessing (e.g. beyond a logit
        transform's range) get ``-inf``.
        """
        check_fitted(self, "model_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        cond = check_cond(cond, len(X), n_features=self.n_cond_)
        out = np.empty(len(X), dtype=np.float32)
        for start, stop in self._batches(len(X), "log_prob"):
            x = to_tensor(X[start:stop], self.device_)
            c = to_tensor(None if cond is None else cond[start:stop], self.device_)
            out[start:stop] = to_numpy(self._log_prob_batch(x, c))
        return out

    @torch.no_grad()
    def _log_prob_batch(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        z, ladj = self.preprocessing_(x)
        inside = torch.isfinite(z).all(dim=1) & torch.isfinite(ladj)
        logp = torch.full_like(ladj, -math.inf)
        if inside.any():
            c_in = None if c is None else self._cond_latent(c[inside])
            logp[inside] = self._log_prob_latent(z[inside], c_in) + ladj[inside]
        return logp

    def score_samples(self, X: Any, cond: Any = None) -> np.ndarray:
        """Alias of :meth:`log_prob`, as in scikit-learn's density estimators."""
        return self.log_prob(X, cond)

    def score(self, X: Any, cond: Any = None) -> float:
        """Mean log-density of ``X`` (higher is better), for model selection."""
        return float(np.mean(self.log_prob(X, cond)))

    def sample(self, n: int | None = None, cond: Any = None, random_state: int | None = None) -> np.ndarray:
        """Draw samples in the original coordinates, shape (n, D).

        Unconditional models take ``n``; conditional ones take ``cond`` (one draw per
        row, shape (M,) or (M, C)) and ``n`` must then be omitted or equal M.
        """
        check_fitted(self, "model_")
        n_rows = self._sample_size(n, cond)
        cond = check_cond(cond, n_rows, n_features=self.n_cond_)
        return self._draw(self._sample_latent, n_rows, cond, random_state)

    def _draw(self, sample_latent, n_rows: int, cond: np.ndarray | None, random_state: int | None) -> np.ndarray:
        """Batched sampling with ``sample_latent(n, c_latent)``, mapped back to original coordinates."""
        out = np.empty((n_rows, self.n_features_in_), dtype=np.float32)
        with seeded(random_state), torch.no_grad():
            for start, stop in self._batches(n_rows, "sampling"):
                c = to_tensor(None if cond is None else cond[start:stop], self.device_)
                z = sample_latent(stop - start, self._cond_latent(c))
                out[start:stop] = to_numpy(self.preprocessing_.inverse(z))
        return out

    def _sample_size(self, n: int | None, cond: Any) -> int:
        if cond is None:
            if self.n_cond_:
                raise ValueError("cond is required: the model is conditional (one draw per row)")
            if n is None:
                raise ValueError("n is required to sample an unconditional model")
            check_positive(n, "n", integer=True)
            return int(n)
        rows = len(cond)
        if n is not None and n != rows:
            raise ValueError(f"n={n} does not match the {rows} rows of cond (one draw per row)")
        return rows

    def _batches(self, n_rows: int, what: str):
        size = min(INFERENCE_BATCH, max(64, INFERENCE_VALUES // self.n_features_in_))
        return batch_slices(n_rows, size, desc=what, enabled=self._trainer().progress)

    # -------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write hyperparameters, weights and fitted preprocessing to ``path`` (atomically)."""
        save_atomic(self.to_payload(), path)

    def to_payload(self) -> dict:
        """The fitted model as plain data (tensors, numbers, strings) for ``weights_only`` loading."""
        check_fitted(self, "model_")
        return {
            "format": FORMAT,
            "class": type(self).__name__,
            "params": _encode_params(self.get_params(deep=False)),
            "n_features_in": self.n_features_in_,
            "n_cond": self.n_cond_,
            "preprocessing": self.preprocessing_.to_dict(),
            "cond_preprocessing": self.cond_preprocessing_ and self.cond_preprocessing_.to_dict(),
            "model": self.model_.state_dict(),
            "history": self.history_.as_dict(),
        }

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> DensityEstimator:
        """Load a model written by :meth:`save` (safe: ``weights_only=True``) onto ``device``."""
        return cls.from_payload(load_safely(path), device=device, source=str(path))

    @classmethod
    def from_payload(cls, saved: dict, device: str = "auto", source: str = "payload") -> DensityEstimator:
        """Rebuild a model from :meth:`to_payload`'s data onto ``device``."""
        if saved.get("format") != FORMAT or saved.get("class") != cls.__name__:
            raise ValueError(
                f"{source} does not hold a {cls.__name__} (format {saved.get('format')!r}, "
                f"class {saved.get('class')!r})"
            )
        from likely.nn.trainer import History

        estimator = cls(**_decode_params(saved["params"]))
        estimator.device = device
        estimator.device_ = resolve_device(device)
        estimator.n_features_in_, estimator.n_cond_ = saved["n_features_in"], saved["n_cond"]
        estimator.preprocessing_ = transform_from_dict(saved["preprocessing"])
        spec = saved["cond_preprocessing"]
        estimator.cond_preprocessing_ = spec and transform_from_dict(spec)
        estimator.model_ = estimator._build(estimator.n_features_in_, estimator.n_cond_)
        estimator.model_.load_state_dict(saved["model"])
        estimator.model_.to(estimator.device_).eval()
        estimator.history_ = History(**saved["history"])
        return estimator


def _encode_params(params: dict) -> dict:
    """Hyperparameters as plain data (no pickled objects), for ``weights_only`` loading."""
    encoded = {}
    for name, value in params.items():
        if isinstance(value, Trainer):
            value = {"__trainer__": _encode_params(value.get_params(deep=False))}
        elif isinstance(value, Transform):
            value = {"__transform__": value.to_dict()}
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        encoded[name] = value
    return encoded


def _decode_params(params: dict) -> dict:
    decoded = {}
    for name, value in params.items():
        if isinstance(value, dict) and "__trainer__" in value:
            value = Trainer(**value["__trainer__"])
        elif isinstance(value, dict) and "__transform__" in value:
            value = transform_from_dict(value["__transform__"])
        decoded[name] = value
    return decoded
