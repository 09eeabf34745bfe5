"""The relaxed categorical (Gumbel-Softmax / Concrete) distribution and a mixture prior of it, in log space.

Jang et al. 2017, Maddison et al. 2017 (the "Concrete" distribution). A sample on the
simplex of K categories with logits ``α`` and temperature ``τ`` is

    z = softmax((α + g) / τ),   g_k = −log(−log u_k),   u_k ~ U(0, 1).

Densities are evaluated on ``x = log z`` (the ExpConcrete density), which stays finite at
low temperatures where ``z`` underflows:

    log q(x; α, τ) = log (K − 1)! + (K − 1) log τ + Σ_k (α_k − τ x_k) − K logsumexp_k(α_k − τ x_k).

A KL divergence between two such distributions is the same in ``z`` and in ``x`` (one
invertible map for both), so the Monte-Carlo estimates of the categorical CoDVAE use it.
Categories are along the third axis from the end: tensors ``(..., K, H, W)``, one
distribution per grid location, temperatures ``(..., 1, H, W)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MixturePrior", "exp_concrete_log_prob", "gumbel_noise", "log_gumbel_softmax"]

#: the category axis
AXIS = -3
_TINY = torch.finfo(torch.float32).tiny


def gumbel_noise(shape, *, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Standard Gumbel noise ``g = −log(−log u)``, ``u ~ U(0, 1)``, of ``shape`` on ``device``: drawn there
    from torch's RNG, or on the CPU from ``generator`` (a CPU generator) and moved."""
    u = torch.rand(shape, device=device if generator is None else "cpu", generator=generator)
    u = u.clamp_(_TINY, 1 - 2**-24)
    return (-torch.log(-torch.log(u))).to(device)


def log_gumbel_softmax(logits: torch.Tensor, temperature: torch.Tensor | float, noise: torch.Tensor) -> torch.Tensor:
    """``log z`` of the relaxed sample ``z = softmax((logits + noise) / temperature)`` over the category axis.

    ``logits`` (..., K, H, W), ``temperature`` broadcastable to it (e.g. (..., 1, H, W)),
    ``noise`` Gumbel noise broadcastable to it (a leading sample axis gives several samples).
    """
    return torch.log_softmax((logits + noise) / temperature, dim=AXIS)


def exp_concrete_log_prob(log_z: torch.Tensor, logits: torch.Tensor, temperature: torch.Tensor | float) -> torch.Tensor:
    """Log density of ``log_z`` (..., K, H, W) under the relaxed categorical (``logits``, ``temperature``) in log
    space (module docstring): (..., H, W)."""
    k = log_z.shape[AXIS]
    temperature = torch.as_tensor(temperature, dtype=log_z.dtype, device=log_z.device)
    t = logits - temperature * log_z
    log_tau = torch.log(temperature).expand(t.shape[:AXIS] + (1,) + t.shape[AXIS + 1:]).squeeze(AXIS)
    return math.lgamma(k) + (k - 1) * log_tau + t.sum(AXIS) - k * torch.logsumexp(t, AXIS)


class MixturePrior(nn.Module):
    """A uniform mixture of M relaxed categoricals at every location of a ``(K, H, W)`` latent grid (seed 004, Eq. 3).

    Component m has logits ``logits[m]`` (K, H, W), trained with the model and initialized
    from N(μ_m, 1) with μ_m evenly spaced in [−``spread``, ``spread``], and a fixed temperature
    ``temperatures[m]`` drawn from U(``low``, ``high``) when the prior is built (torch's RNG).
    Locations are independent: log p(x) = Σ_locations log (1/M) Σ_m q_m(x_location).
    """

    def __init__(self, shape, *, components: int = 5, temperatures: tuple[float, float] = (0.1, 1.0),
                 spread: float = 3.0) -> None:
        super().__init__()
        centres = torch.linspace(-spread, spread, components).reshape(-1, 1, 1, 1)
        self.logits = nn.Parameter(centres + torch.randn(components, *shape))
        low, high = temperatures
        self.register_buffer("temperatures", low + (high - low) * torch.rand(components))

    def log_prob(self, log_z: torch.Tensor) -> torch.Tensor:
        """Log density of ``log_z`` (..., K, H, W) at each location: (..., H, W)."""
        per_component = exp_concrete_log_prob(log_z.unsqueeze(AXIS - 1), self.logits,
                                              self.temperatures.reshape(-1, 1, 1, 1))
        return torch.logsumexp(per_component, AXIS) - math.log(len(self.temperatures))

    def sample_log(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples of ``log z`` (n, K, H, W): a uniformly chosen component per location, then its relaxed sample."""
        m, _, height, width = self.logits.shape
        choice = torch.randint(m, (n, height, width), generator=generator).to(self.logits.device)
        onehot = nn.functional.one_hot(choice, m).permute(0, 3, 1, 2).to(self.logits.dtype)  # (n, M, H, W)
        logits = torch.einsum("nmij,mkij->nkij", onehot, self.logits)
        temperature = torch.einsum("nmij,m->nij", onehot, self.temperatures).unsqueeze(1)
        noise = gumbel_noise(logits.shape, generator=generator, device=logits.device)
        return log_gumbel_softmax(logits, temperature, noise)
