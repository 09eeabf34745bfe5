"""The shared machinery of conditional density estimators.

A :class:`DensityEstimator` validates inputs, fits the preprocessing (features and
condition), trains its torch model with :class:`~likely.nn.Trainer`, and reports
log-densities in the user's original coordinates by adding the preprocessing's
log-Jacobian. Subclasses only say how to build and train the model in the preprocessed
("latent") space.

The public torch-level view, for methods built on a fitted density (R-ANODE's mixture,
CURTAINs' base density, CaloFlow's two flows):

- ``est.model_``: a zuko ``LazyDistribution``; ``est.model_(c)`` is the distribution of
  preprocessed features given a preprocessed condition ``c`` (B, C) (or ``est.model_()``
  unconditionally), with ``log_prob(z)`` and ``sample()``;
- ``est.preprocess(X, cond) -> (z, c, ladj)``: features and condition in those
  coordinates, with ``log|det dz/dx|`` so that ``log p(x) = model_(c).log_prob(z) + ladj``;
- ``est.preprocess_cond(cond) -> c`` and ``est.build_module(n_features, n_cond)``, a fresh
  untrained module of the same architecture.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from zuko.lazy import LazyDistribution

from likely._checks import Constraint, check_array, check_cond, check_fitted, check_positive, instance, seed, validate_params
from likely._persist import Saveable
from likely.nn import Trainer, batch_slices, resolve_device, seeded, to_numpy, to_tensor
from likely.transforms import Standardize, make_preprocessing

__all__ = ["DensityEstimator"]

#: values (events x features) per forward pass at inference; bounds memory, not results.
#: A flow's activations grow with both (a 504-voxel coupling flow holds ~2 MB per event), and
#: smaller batches also run faster on a CPU (cache); see docs/benchmarks.md.
INFERENCE_VALUES = 2**17
#: the most events per forward pass, for low-dimensional models
INFERENCE_BATCH = 32768


class DensityEstimator(Saveable, BaseEstimator):
    _parameter_constraints = {
        "preprocessing": Constraint(lambda value, name: make_preprocessing(value), "a preset name, a Transform or None"),
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": seed(),
    }
    _expected_failed_checks = {
        "check_fit_score_takes_y": "fit(X, cond=None, ...): the second argument is a condition, not y",
        "check_n_features_in_after_fitting": "score(X, cond) has no y argument (the check calls score(X, y=y))",
        "check_methods_sample_order_invariance": "the check's y becomes a condition, then score_samples(X) lacks it",
        "check_methods_subset_invariance": "the check's y becomes a condition, then score_samples(X) lacks it",
    }

    """Base class: ``fit`` / ``log_prob`` / ``sample`` / ``save`` / ``load``.

    Subclasses define ``__init__`` (storing hyperparameters only, among them
    ``preprocessing``, ``trainer``, ``device`` and ``random_state``) and implement
    :meth:`build_module` (returning a zuko ``LazyDistribution`` over latent points) and
    ``_loss``; :meth:`save` and :meth:`load` come with the one save format.

    Attributes
    ----------
    model_ : zuko.lazy.LazyDistribution
        The trained model: ``model_(c)`` is p(z | c) in preprocessed coordinates.
    preprocessing_, cond_preprocessing_ : Transform
        The fitted feature and condition maps (the condition is standardized).
    n_features_in_, n_cond_ : int
        Feature and condition columns seen at fit.
    history_ : History
        The training record.
    device_ : torch.device
        Where the model lives.
    """

    # --------------------------------------------------------------- subclass API
    def build_module(self, n_features: int, n_cond: int) -> LazyDistribution:
        """A fresh, untrained model for ``n_features`` features given ``n_cond`` condition columns."""
        raise NotImplementedError

    def _loss(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Mean training loss of a batch of latent points ``z`` (B, D) given ``c`` (B, C)."""
        raise NotImplementedError

    def _log_prob_latent(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Log-density (B,) of latent points."""
        return self.model_(c).log_prob(z)

    def _sample_latent(self, n: int, c: torch.Tensor | None) -> torch.Tensor:
        """``n`` latent samples (n, D); one per row of ``c`` when conditional."""
        return self.model_(c).sample() if c is not None else self.model_().sample((n,))

    def init_module(self, name: str) -> LazyDistribution:
        """The untrained ``model_`` with the fitted sizes (to load saved weights into)."""
        if name != "model_":
            return super().init_module(name)
        return self.build_module(self.n_features_in_, self.n_cond_)

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
        validate_params(self)
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
            self.model_ = self.build_module(self.n_features_in_, n_cond).to(self.device_)
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

    # ------------------------------------------------------- torch-level view
    def preprocess(self, X: Any, cond: Any = None) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Features and condition in the model's coordinates, as tensors on ``device_``.

        ``X`` (N, D) and ``cond`` (N, C) or (N,) are arrays or tensors. Returns ``z``
        (N, D), ``c`` (N, C) or None, and ``ladj`` (N,) = log|det dz/dx|, so that
        ``log p(x | cond) = model_(c).log_prob(z) + ladj``. Rows outside the
        preprocessing's domain have non-finite ``z``.
        """
        check_fitted(self, "model_")
        x = _as_tensor(X, self.device_, "X", self.n_features_in_)
        z, ladj = self.preprocessing_(x)
        return z, self.preprocess_cond(cond, len(x)), ladj

    def preprocess_cond(self, cond: Any, n_rows: int | None = None) -> torch.Tensor | None:
        """The condition (N, C) or (N,) in the model's coordinates, (N, C) on ``device_`` (None if unconditional)."""
        check_fitted(self, "model_")
        if cond is None:
            if self.n_cond_:
                raise ValueError("cond is required: the model is conditional")
            return None
        c = _as_tensor(cond, self.device_, "cond", self.n_cond_, n_rows)
        return self._cond_latent(c)

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



def _as_tensor(values: Any, device: torch.device, name: str, n_columns: int, n_rows: int | None = None) -> torch.Tensor:
    """An array or tensor as a float32 (N, n_columns) tensor on ``device``, with a clear error otherwise."""
    if isinstance(values, torch.Tensor):
        t = values.to(device=device, dtype=torch.float32)
        t = t[:, None] if t.ndim == 1 else t
        if t.ndim != 2 or t.shape[1] != n_columns or (n_rows is not None and len(t) != n_rows):
            raise ValueError(f"{name} has shape {tuple(values.shape)}; expected ({n_rows or 'N'}, {n_columns})")
        return t
    array = check_array(values, name, n_features=n_columns) if name == "X" else check_cond(
        values, n_rows if n_rows is not None else len(np.atleast_1d(values)), name, n_features=n_columns)
    return to_tensor(array, device)
