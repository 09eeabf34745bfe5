"""Langevin Monte Carlo for energy-based models: the negative-sample sampler of the normalized autoencoder.

One step of a chain on an energy E (seed 003, eqs. 3.35 and 5.8), for a batch of objects x::

    x' = Π(x − λ g(x) + σ_t ε),   ε ~ N(0, 1),   g = ∇_x E clipped to norm ≤ c per object

with a projection Π (onto the unit sphere for latent points, into the pixel range for images),
optional noise annealing σ_t = σ / (1 + t), and an optional Metropolis-adjusted (MALA) test:
the proposal is the Gaussian N(x − λ g(x), σ_t²), so it samples exp(−E / T_t) with the
chain's own temperature T_t = σ_t² / (2λ), and is accepted with probability min(1, α),

    log α = [E(x) − E(x') + ¼ (g(x) + g(x'))·(2 (x' − x) + λ (g(x) − g(x')))] / T_t

which is −ΔE / T + log q(x | x') − log q(x' | x) written without the cancelling large terms
(computed in float64). A rejected object keeps its x, energy and gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from likely._checks import check_positive

__all__ = [
    "ChainState",
    "Langevin",
    "ReplayBuffer",
    "chain_state",
    "clip_norm",
    "langevin_chain",
    "langevin_step",
    "mala_log_ratio",
    "metropolis_accept",
    "to_sphere",
    "uniform_on_sphere",
]

Energy = Callable[[torch.Tensor], torch.Tensor]
Projection = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Langevin:
    """Settings of one Langevin chain.

    Parameters
    ----------
    step : float
        λ, the step along −∇E.
    noise : float
        σ, the standard deviation of the noise (of the first step when ``anneal``).
    steps : int
        Number of steps.
    metropolis : bool
        Accept each step by the Metropolis-adjusted (MALA) test at T_t = σ_t² / (2λ).
    anneal : bool
        Noise annealing: σ_t = σ / (1 + t) at step t = 0, 1, ...
    grad_clip : float or None
        Largest norm of ∇E per object (over all its entries); None does not clip.
    """

    step: float
    noise: float
    steps: int
    metropolis: bool = True
    anneal: bool = False
    grad_clip: float | None = 0.01

    def __post_init__(self) -> None:
        check_positive(self.step, "step")
        check_positive(self.noise, "noise", allow_zero=True)
        check_positive(self.steps, "steps", integer=True, allow_zero=True)
        if self.grad_clip is not None:
            check_positive(self.grad_clip, "grad_clip")

    def noise_at(self, t: int) -> float:
        """σ_t, the noise of step ``t``."""
        return self.noise / (1 + t) if self.anneal else self.noise

    def temperature(self, t: int = 0) -> float:
        """T_t = σ_t² / (2λ), the temperature that step ``t`` samples at."""
        return self.noise_at(t) ** 2 / (2 * self.step)


class ChainState(NamedTuple):
    """Objects ``x`` (N, ...), their energies (N,) and their clipped energy gradients (N, ...)."""

    x: torch.Tensor
    energy: torch.Tensor
    grad: torch.Tensor


def _rows(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-object (N,) tensor shaped to broadcast against ``like`` (N, ...)."""
    return values.view(-1, *[1] * (like.ndim - 1))


def to_sphere(z: torch.Tensor) -> torch.Tensor:
    """Each row of ``z`` (N, D) divided by its norm: points on the unit sphere S^{D−1}."""
    return z / z.norm(dim=1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)


def uniform_on_sphere(n: int, dim: int, *, generator: torch.Generator | None = None,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` points drawn uniformly on the unit sphere S^{dim−1}, (n, dim)."""
    return to_sphere(torch.randn(n, dim, generator=generator, device=device))


def clip_norm(grad: torch.Tensor, max_norm: float | None) -> torch.Tensor:
    """``grad`` (N, ...) with each object's norm (over all its entries) cut to at most ``max_norm``."""
    if max_norm is None:
        return grad
    norm = grad.flatten(1).norm(dim=1).clamp_min(torch.finfo(grad.dtype).tiny)
    return grad * _rows((max_norm / norm).clamp(max=1.0), grad)


def chain_state(energy: Energy, x: torch.Tensor, grad_clip: float | None = None) -> ChainState:
    """``x`` with its energies ``energy(x)`` (N,) and clipped gradients ∇_x E, all detached."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        value = energy(x)
        (grad,) = torch.autograd.grad(value.sum(), x)
    return ChainState(x.detach(), value.detach(), clip_norm(grad, grad_clip))


def mala_log_ratio(current: ChainState, proposal: ChainState, step: float, noise: float) -> torch.Tensor:
    """log α (N,) float64 of the Metropolis-adjusted Langevin test at T = noise² / (2 step) (module docstring)."""
    x, y = current.x.double().flatten(1), proposal.x.double().flatten(1)
    g_x, g_y = current.grad.double().flatten(1), proposal.grad.double().flatten(1)
    drop = current.energy.double() - proposal.energy.double()
    bracket = drop + 0.25 * ((g_x + g_y) * (2 * (y - x) + step * (g_x - g_y))).sum(1)
    return bracket / (noise**2 / (2 * step))


def metropolis_accept(log_ratio: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Accept each proposal with probability min(1, exp(``log_ratio``)); (N,) bool.

    ``log_ratio`` = −ΔE / T + log q(x | x') − log q(x' | x) (the last two cancel for symmetric
    proposals); NaN is rejected.
    """
    uniform = torch.rand(log_ratio.shape, generator=generator, device=log_ratio.device, dtype=torch.float64)
    return torch.log(uniform) < log_ratio


def langevin_step(current: ChainState, energy: Energy, step: float, noise: float, eps: torch.Tensor, *,
                  grad_clip: float | None = None, project: Projection | None = None, metropolis: bool = False,
                  generator: torch.Generator | None = None) -> tuple[ChainState, torch.Tensor]:
    """One step x' = Π(x − λ g + σ ε) from ``current`` with the noise draw ``eps`` (shape of x).

    Returns the new state and which objects moved, (N,) bool (all, without ``metropolis``).
    """
    x = current.x - step * current.grad + noise * eps
    proposal = chain_state(energy, x if project is None else project(x), grad_clip)
    if not metropolis:
        return proposal, torch.ones(len(x), dtype=torch.bool, device=x.device)
    accept = metropolis_accept(mala_log_ratio(current, proposal, step, noise), generator)
    kept = ChainState(*(torch.where(_rows(accept, new), new, old) for new, old in zip(proposal, current)))
    return kept, accept


def langevin_chain(x: torch.Tensor, energy: Energy, chain: Langevin, *, project: Projection | None = None,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, float]:
    """Run ``chain`` from ``x`` (N, ...); returns the final objects (detached) and the mean acceptance rate."""
    state = chain_state(energy, x, chain.grad_clip)
    accepted = torch.zeros((), device=x.device)
    for t in range(chain.steps):
        eps = torch.randn(x.shape, generator=generator, device=x.device)
        state, accept = langevin_step(state, energy, chain.step, chain.noise_at(t), eps, grad_clip=chain.grad_clip,
                                      project=project, metropolis=chain.metropolis, generator=generator)
        accepted += accept.float().mean()
    return state.x, float(accepted) / chain.steps if chain.steps else math.nan


class ReplayBuffer:
    """The last ``size`` final points of the latent chains, which later chains start from.

    :meth:`draw` starts each chain at a random stored point with probability ``ratio`` and
    uniformly on the unit sphere otherwise (always, while the buffer is empty).
    """

    def __init__(self, size: int, dim: int, device: torch.device | str = "cpu") -> None:
        self.size, self.dim = size, dim
        self.points = torch.empty(0, dim, device=device)

    def __len__(self) -> int:
        return len(self.points)

    def push(self, points: torch.Tensor) -> None:
        """Store ``points`` (n, dim), dropping the oldest beyond ``size``."""
        stored = torch.cat([self.points, points.detach()])
        self.points = stored[max(len(stored) - self.size, 0):]

    def draw(self, n: int, ratio: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` starting points (n, dim)."""
        device = self.points.device
        fresh = uniform_on_sphere(n, self.dim, generator=generator, device=device)
        if not len(self):
            return fresh
        replay = torch.rand(n, generator=generator, device=device) < ratio
        stored = self.points[torch.randint(len(self), (n,), generator=generator, device=device)]
        return torch.where(replay[:, None], stored, fresh)
