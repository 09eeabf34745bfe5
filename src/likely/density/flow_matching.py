"""Conditional flow matching: a learned velocity field integrated as an ODE."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from zuko.distributions import DiagNormal, NormalizingFlow
from zuko.lazy import LazyDistribution
from zuko.transforms import FreeFormJacobianTransform

from likely._checks import check_cond, check_fitted, options, positive, validate_params, widths
from likely.density.base import DensityEstimator
from likely.nn import MLP, Trainer
from likely.nn.mlp import ACTIVATIONS
from likely.transforms import Transform

__all__ = ["ContinuousFlow", "FlowMatching", "SinusoidalEmbedding", "VelocityField"]


class SinusoidalEmbedding(nn.Module):
    """``u -> [u, sin(w_k u), cos(w_k u)]`` with ``w_k = pi 2^k / scale``, k < frequencies.

    Maps each of the F input columns to F (1 + 2 * frequencies) features.
    """

    def __init__(self, frequencies: int, scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("omega", math.pi * 2.0 ** torch.arange(frequencies) / scale)

    def forward(self, u: Tensor) -> Tensor:
        phase = (u[..., None] * self.omega).flatten(-2)
        return torch.cat([u, torch.sin(phase), torch.cos(phase)], dim=-1)

    def width(self, n_inputs: int) -> int:
        return n_inputs * (1 + 2 * len(self.omega))


class VelocityField(nn.Module):
    """MLP velocity ``v(x, t, c)`` with sinusoidal embeddings of time and condition."""

    def __init__(self, n_features: int, n_cond: int, hidden: Sequence[int], frequencies: int, activation: str):
        super().__init__()
        self.time = SinusoidalEmbedding(frequencies)
        # standardized conditions mostly lie in [-4, 4]: the slowest wave spans that range
        self.cond = SinusoidalEmbedding(frequencies, scale=4.0)
        width = n_features + self.time.width(1) + (self.cond.width(n_cond) if n_cond else 0)
        self.mlp = MLP(width, n_features, hidden, activation=activation)

    def forward(self, x: Tensor, t: Tensor, c: Tensor | None) -> Tensor:
        parts = [x, self.time(t.expand(x.shape[0], 1))]
        if c is not None:
            parts.append(self.cond(c))
        return self.mlp(torch.cat(parts, dim=-1))


class ContinuousFlow(LazyDistribution):
    """A velocity field as a zuko lazy distribution: ``flow(c)`` is p(z | c) of the ODE's end points.

    ``flow(c).sample()`` integrates ``dz/dt = v(z, t, c)`` from Gaussian noise at t = 0 to
    t = 1 (one draw per row of ``c``); ``flow(c).log_prob(z)`` integrates back while
    accumulating the divergence, ``log p(z) = log N(z(0)) - int_0^1 div v dt``, exactly or
    with Hutchinson's estimator (``exact=False``). ``velocity`` is the learned field.
    """

    def __init__(self, velocity: VelocityField, n_features: int, atol: float, rtol: float, exact: bool) -> None:
        super().__init__()
        self.velocity = velocity
        self.n_features, self.atol, self.rtol, self.exact = n_features, atol, rtol, exact

    def forward(self, c: Tensor | None = None) -> NormalizingFlow:
        return self.along(lambda t, x: self.velocity(x, t, c), None if c is None else len(c))

    def along(self, field, batch: int | None) -> NormalizingFlow:
        """The distribution of the flow of an arbitrary velocity ``field(t, x)`` (e.g. an interpolated one)."""
        weight = next(self.velocity.parameters())
        shape = (self.n_features,) if batch is None else (batch, self.n_features)
        zeros = torch.zeros(shape, device=weight.device, dtype=weight.dtype)
        to_noise = FreeFormJacobianTransform(field, t0=1.0, t1=0.0, atol=self.atol, rtol=self.rtol, exact=self.exact)
        return NormalizingFlow(to_noise, DiagNormal(zeros, torch.ones_like(zeros)))


class FlowMatching(DensityEstimator):
    """Conditional flow matching with the linear (rectified) path.

    The path ``x_t = (1 - t) x_0 + t x_1`` joins Gaussian noise ``x_0`` (t = 0) to data
    ``x_1`` (t = 1); an MLP learns its velocity ``x_1 - x_0`` by regression. Sampling
    integrates ``dx/dt = v`` from noise to data; ``log_prob`` integrates back while
    accumulating the divergence, ``log p(x_1) = log N(x_0) - int_0^1 div v dt``.

    Parameters
    ----------
    hidden : sequence of int
        Hidden widths of the velocity MLP.
    frequencies : int
        Sinusoidal frequencies embedding time and condition.
    activation : str
        Hidden activation (see :data:`likely.nn.ACTIVATIONS`).
    trace : {"exact", "hutchinson"}
        Divergence for ``log_prob``: exact (D backward passes per step; best for small D)
        or Hutchinson's unbiased one-probe estimator (noisy, cheap for large D).
    atol, rtol : float
        Tolerances of the adaptive Dormand-Prince ODE solver.
    preprocessing, trainer, device, random_state
        As for :class:`~likely.density.Flow`.
    """

    _parameter_constraints = {
        "hidden": widths(),
        "frequencies": positive(integer=True, allow_zero=True),
        "activation": options(*ACTIVATIONS),
        "trace": options("exact", "hutchinson"),
        "atol": positive(),
        "rtol": positive(),
    }

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (256, 256, 256),
        frequencies: int = 4,
        activation: str = "silu",
        trace: str = "exact",
        atol: float = 1e-5,
        rtol: float = 1e-5,
        preprocessing: str | Transform | None = "standardize",
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.frequencies = frequencies
        self.activation = activation
        self.trace = trace
        self.atol = atol
        self.rtol = rtol
        self.preprocessing = preprocessing
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def build_module(self, n_features: int, n_cond: int) -> ContinuousFlow:
        """An untrained velocity field of this architecture, as a :class:`ContinuousFlow`."""
        validate_params(self)
        velocity = VelocityField(n_features, n_cond, tuple(self.hidden), self.frequencies, self.activation)
        return ContinuousFlow(velocity, n_features, float(self.atol), float(self.rtol), self.trace == "exact")

    def set_params(self, **params) -> FlowMatching:
        """As scikit-learn's; ``atol``, ``rtol`` and ``trace`` also take effect on a fitted ``model_``."""
        super().set_params(**params)
        if hasattr(self, "model_"):
            self.model_.atol, self.model_.rtol = float(self.atol), float(self.rtol)
            self.model_.exact = self.trace == "exact"
        return self

    def _loss(self, z, c):
        # validation draws the same noise and times every epoch, so early stopping
        # compares like with like instead of chasing Monte Carlo fluctuations
        generator = None if self.model_.training else torch.Generator(z.device).manual_seed(0)
        noise = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        t = torch.rand(z.shape[0], 1, generator=generator, device=z.device, dtype=z.dtype)
        x_t = (1 - t) * noise + t * z
        return (self.model_.velocity(x_t, t, c) - (z - noise)).square().mean()

    def sample_interpolated(
        self, cond: Any, low: float, high: float, random_state: int | None = None
    ) -> np.ndarray:
        """Samples at ``cond`` from a velocity field interpolated between two conditions.

        ``v(x, t | m) = (1 - a) v(x, t | low) + a v(x, t | high)`` with
        ``a = (m - low) / (high - low)``: the model is only ever evaluated at the anchor
        conditions, never at ``m`` itself (SIGMA's way of estimating the background in a
        signal region from a model trained on all data). One draw per row of ``cond``
        (shape (M,) or (M, 1)); returns (M, D).
        """
        check_fitted(self, "model_")
        if self.n_cond_ != 1:
            raise ValueError(f"interpolation needs a single condition column; the model has {self.n_cond_}")
        if not low < high:
            raise ValueError(f"need low < high for the anchors; got low={low}, high={high}")
        cond = check_cond(cond, len(np.atleast_1d(cond)), n_features=1)
        anchors = self.preprocess_cond(np.array([low, high], dtype=np.float32))
        velocity = self.model_.velocity

        def sample_latent(n, c):
            a = (c - anchors[0]) / (anchors[1] - anchors[0])
            c_low, c_high = anchors[0].expand(n, 1), anchors[1].expand(n, 1)

            def field(t, x):
                return (1 - a) * velocity(x, t, c_low) + a * velocity(x, t, c_high)

            return self.model_.along(field, n).sample()

        return self._draw(sample_latent, len(cond), cond, random_state)
