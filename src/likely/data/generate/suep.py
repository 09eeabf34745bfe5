"""Soft unclustered energy patterns: a mediator decaying to a thermal bath of dark mesons.

The decay of the SUEP_Generator of Knapen, Griso, Papucci & Robinson, "Triggering Soft
Bombs at the LHC" (JHEP 08 (2017) 076, arXiv:1612.00850), written from the paper and
vectorized over events. In the mediator's rest frame (mass ``M``) the dark mesons (mass
``m``) are a relativistic gas at the dark temperature ``T``: their momenta follow the
Maxwell–Jüttner distribution

    f(p) ∝ p² exp(−√(p² + m²) / T),     ⟨E⟩ = m K₁(m/T) / K₂(m/T) + 3T,

with isotropic directions. Per event:

1. mesons are drawn until their energies add up to more than ``M``; the last one is dropped;
2. the set is boosted to its zero-momentum frame;
3. all momenta are scaled by one factor κ so that the energies add up to ``M`` exactly
   (Σᵢ √(m² + κ² pᵢ²) = M, solved by Newton's method, monotonic in κ).

The result conserves four-momentum exactly and keeps the thermal shape of the spectrum.
The mesons' decays (φ → A′A′, A′ → SM pairs) and the showering are Pythia's.
"""

from __future__ import annotations

import numpy as np
from scipy.special import kn

from likely.data.particles import Particles

__all__ = ["maxwell_juttner_mean_energy", "sample_maxwell_juttner", "suep_decay"]


def maxwell_juttner_mean_energy(mass: float, temperature: float) -> float:
    """⟨E⟩ of the Maxwell–Jüttner distribution (GeV): m K₁(m/T) / K₂(m/T) + 3T."""
    x = mass / temperature
    return float(mass * kn(1, x) / kn(2, x) + 3 * temperature)


def sample_maxwell_juttner(n: int, mass: float, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` momentum magnitudes |p| (GeV) from f(p) ∝ p² exp(−√(p² + m²)/T).

    Rejection from the Gamma(3, T) density p² exp(−p/T): the acceptance exp(−(E − p)/T)
    is at least exp(−m/T), so few rounds are needed for m ~ T.
    """
    if not (mass > 0 and temperature > 0):
        raise ValueError(f"mass and temperature must be > 0 GeV; got {mass!r}, {temperature!r}")
    out = np.empty(n)
    filled = 0
    while filled < n:
        need = n - filled
        p = rng.gamma(3.0, temperature, int(need * 1.2 * np.exp(mass / temperature)) + 16)
        accept = rng.random(len(p)) < np.exp(-(np.sqrt(p**2 + mass**2) - p) / temperature)
        kept = p[accept][:need]
        out[filled:filled + len(kept)] = kept
        filled += len(kept)
    return out


def _isotropic(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Three-momenta (..., 3) of magnitudes ``p`` in uniformly random directions."""
    cos_theta = rng.uniform(-1.0, 1.0, p.shape)
    phi = rng.uniform(0.0, 2 * np.pi, p.shape)
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    return p[..., None] * np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], axis=-1)


def _to_rest_frame(momenta: np.ndarray, energy: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every event's particles boosted to the frame where their total three-momentum is zero."""
    total_p = np.where(mask[..., None], momenta, 0.0).sum(axis=1)
    total_e = np.where(mask, energy, 0.0).sum(axis=1)
    beta = total_p / total_e[:, None]  # (N, 3)
    b2 = (beta**2).sum(axis=1, keepdims=True)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = (momenta * beta[:, None]).sum(axis=-1)  # (N, P)
    factor = np.divide(gamma - 1.0, b2, out=np.zeros_like(b2), where=b2 > 0)  # (N, 1)
    new_p = momenta + (factor * bp - gamma * energy)[..., None] * beta[:, None]
    return new_p, gamma * (energy - bp)


def _scale_to_mass(p2: np.ndarray, mass: float, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """κ (N,) with Σ √(m² + κ² p²) = target over each event's particles (Newton from κ = 1)."""
    kappa = np.ones(len(p2))
    for _ in range(100):
        e = np.sqrt(mass**2 + kappa[:, None] ** 2 * p2)
        excess = np.where(mask, e, 0.0).sum(axis=1) - target
        slope = np.where(mask, kappa[:, None] * p2 / e, 0.0).sum(axis=1)
        step = excess / slope
        kappa = np.maximum(kappa - step, 0.5 * kappa)
        if np.all(np.abs(step) < 1e-12 * kappa):
            break
    return kappa


def suep_decay(n_events: int, mediator_mass: float, meson_mass: float = 2.0, temperature: float = 2.0, *,
               rng: np.random.Generator) -> Particles:
    """Dark-meson four-momenta ``(E, px, py, pz)`` (GeV) of ``n_events`` decays, in the mediator's rest frame.

    Defaults: m_φ = 2 GeV, T_D = 2 GeV (seed 004, after Knapen et al.). Every event's mesons
    add up to ``(mediator_mass, 0, 0, 0)``.
    """
    if not mediator_mass > 2 * meson_mass:
        raise ValueError(f"mediator_mass ({mediator_mass!r} GeV) must exceed two meson masses ({meson_mass!r} GeV)")
    if not isinstance(n_events, (int, np.integer)) or n_events < 1:
        raise ValueError(f"n_events must be a positive integer; got {n_events!r}")
    mean_e = maxwell_juttner_mean_energy(meson_mass, temperature)
    width = int(np.ceil(1.5 * mediator_mass / mean_e)) + 8
    while True:  # step 1 needs more candidates per event than mesons fit; widen until every event has them
        p = sample_maxwell_juttner(n_events * width, meson_mass, temperature, rng).reshape(n_events, width)
        energy = np.sqrt(p**2 + meson_mass**2)
        spent = np.cumsum(energy, axis=1)
        if np.all(spent[:, -1] > mediator_mass):
            break
        width *= 2
    mask = spent <= mediator_mass
    mask[:, :2] = True  # at least two mesons, so the zero-momentum frame exists
    momenta = _isotropic(p, rng)
    momenta, energy = _to_rest_frame(momenta, energy, mask)
    kappa = _scale_to_mass((momenta**2).sum(axis=-1), meson_mass, mask, np.full(n_events, float(mediator_mass)))
    momenta = momenta * kappa[:, None, None]
    energy = np.sqrt(meson_mass**2 + (momenta**2).sum(axis=-1))
    values = np.concatenate([energy[..., None], momenta], axis=-1)
    return Particles(values, mask, ("E", "px", "py", "pz"))
