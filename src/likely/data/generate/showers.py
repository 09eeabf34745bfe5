"""GFLASH-parametrized electromagnetic showers in a Pb/LAr sampling calorimeter, binned into a geometry.

Implements the parametrization of Grindhammer & Peters (hep-ex/0001020) as digested in
``notes/gflash.md`` (the section numbers below refer to it). No Geant4: each shower is

1. a start point: electrons start where they enter; photons convert after an exponential
   depth of mean 9/7 X0,eff (§7);
2. a correlated draw of (ln T, ln α) of its Gamma longitudinal profile (§3.3, sampling form);
3. energy per 0.1 X0 step from the Gamma CDF, with the sampling fluctuation
   ΔE' ~ Gamma(ΔE/c², c²) in GeV, so σ/E = c/√E (§6);
4. equal-energy spots per step, their number from the spot Gamma profile (§5.1–5.2);
5. a radius per spot from the core + tail profile at the step's scaled depth τ (§4) and a
   uniform azimuth;
6. visible energy = sampling fraction × spot energy, summed into the geometry's voxels
   (spots outside the acceptance are lost: leakage).

Everything is vectorized over showers and spots (NumPy; showers are processed in batches
of bounded spot count). Energies are in GeV inside the physics and MeV in the output
(:class:`likely.data.showers.Showers`). Lengths are in mm.

Sources: single photons or electrons along the calorimeter axis, and the seed-000 signal:
an invisible χ moving along +z from the detector centre that decays to γγ at a fixed
displacement (or at displacements drawn with a fixed lifetime).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gammainc

from likely._checks import check_choice, check_positive
from likely.data.generate.driver import ChunkedGenerator, generate_in_chunks, plan_run, save_chunk
from likely.data.geometry import CartesianGeometry, CylindricalGeometry, Geometry, seed000_geometry
from likely.data.showers import MEV_PER_GEV, Showers, write_calochallenge, write_calogan

__all__ = [
    "LEAD",
    "LIQUID_ARGON",
    "SEED000_DISPLACEMENTS",
    "SEED000_LIFETIMES",
    "SEED000_MASSES",
    "Material",
    "SamplingMedium",
    "Source",
    "average_profile",
    "chi_decay",
    "decay_displacements",
    "deposit",
    "draw_longitudinal",
    "generate_showers",
    "lifetime_weights",
    "longitudinal_parameters",
    "make_geometry",
    "radial_parameters",
    "run_shower_chunk",
    "shower_spots",
    "simulate_showers",
]

log = logging.getLogger(__name__)

#: Scale energy E_s in MeV (§2.1).
E_SCALE = 21.2
#: Speed of light in m/ns.
C_LIGHT = 0.299792458
#: Seed 000's decay displacements (m from the detector centre), χ masses (GeV), lifetimes (ns).
SEED000_DISPLACEMENTS = (0.33, 0.66, 1.00, 1.04, 1.08, 1.16, 1.24, 1.32, 1.40, 1.44)
SEED000_MASSES = (0.005, 0.05, 0.5, 5.0)
SEED000_LIFETIMES = (0.01, 0.1, 1.0)
#: Below this energy (GeV) the shape formulas are evaluated at this energy (G4's kill threshold).
E_MIN_SHAPE = 0.1
STEP_X0 = 0.1
MAX_PATH_X0 = 60.0
PHOTON_MEAN_FREE_PATH_X0 = 9.0 / 7.0
MAX_SPOTS_PER_BATCH = 400_000
CHUNK_FORMAT = 1
#: What each output format holds, recorded as ``file_units`` in ``<out>.json``.
FILE_UNITS = {
    "calogan": {"voxels": "MeV (visible)", "incident": "GeV"},
    "calochallenge": {"voxels": "MeV (visible)", "incident": "MeV"},
}


@dataclass(frozen=True)
class Material:
    """A pure material: Z, A, density (g/cm³), X0 (g/cm²), minimum dE/dx (MeV cm²/g); PDG values."""

    name: str
    Z: float
    A: float
    density: float
    X0: float
    dedx: float

    @property
    def critical_energy(self) -> float:
        """E_c = 2.66 MeV (X0 Z / A)^1.1 with X0 in g/cm² (§2.1), in MeV."""
        return 2.66 * (self.X0 * self.Z / self.A) ** 1.1


LEAD = Material("Pb", 82.0, 207.2, 11.35, 6.37, 1.122)
LIQUID_ARGON = Material("LAr", 18.0, 39.948, 1.396, 19.55, 1.519)


@dataclass(frozen=True)
class SamplingMedium:
    """A periodic passive/active stack replaced by an effective medium (§2.2).

    The default, 1.5 mm Pb + 4.0 mm LAr (ATLAS-like), has X0,eff = 18.6 mm, R_M,eff = 41.7 mm,
    E_c,eff = 9.46 MeV and a visible (electron) sampling fraction of 21 %.
    ``resolution`` is the stochastic term c of σ/E = c/√E[GeV].
    """

    passive: Material = LEAD
    active: Material = LIQUID_ARGON
    d_passive: float = 1.5
    d_active: float = 4.0
    resolution: float = 0.10

    def __post_init__(self):
        for name in ("d_passive", "d_active", "resolution"):
            check_positive(getattr(self, name), name)

    @property
    def _weights(self) -> tuple[float, float]:
        mp = self.passive.density * self.d_passive
        ma = self.active.density * self.d_active
        return mp / (mp + ma), ma / (mp + ma)

    @property
    def Z(self) -> float:
        wp, wa = self._weights
        return wp * self.passive.Z + wa * self.active.Z

    @property
    def density(self) -> float:
        return (self.passive.density * self.d_passive + self.active.density * self.d_active) / (
            self.d_passive + self.d_active)

    @property
    def _ec_over_x0(self) -> float:
        wp, wa = self._weights
        return sum(w * m.critical_energy / m.X0 for w, m in ((wp, self.passive), (wa, self.active)))

    @property
    def X0_gcm2(self) -> float:
        wp, wa = self._weights
        return 1.0 / (wp / self.passive.X0 + wa / self.active.X0)

    @property
    def X0(self) -> float:
        """Effective radiation length in mm."""
        return 10.0 * self.X0_gcm2 / self.density

    @property
    def critical_energy(self) -> float:
        """Effective critical energy in MeV."""
        return self.X0_gcm2 * self._ec_over_x0

    @property
    def moliere_radius(self) -> float:
        """Effective Molière radius in mm."""
        return 10.0 * E_SCALE / self._ec_over_x0 / self.density

    @property
    def sampling_frequency(self) -> float:
        """F_S = X0,eff / (d_a + d_p)."""
        return self.X0 / (self.d_passive + self.d_active)

    @property
    def e_hat(self) -> float:
        """e/mip = 1 / (1 + 0.007 (Z_passive − Z_active))."""
        return 1.0 / (1.0 + 0.007 * (self.passive.Z - self.active.Z))

    @property
    def sampling_fraction(self) -> float:
        """Visible fraction of shower energy: ê · f_mip."""
        sa = self.d_active * self.active.density * self.active.dedx
        sp = self.d_passive * self.passive.density * self.passive.dedx
        return self.e_hat * sa / (sa + sp)

    def describe(self) -> dict[str, Any]:
        """Settings and derived constants, for the JSON record."""
        return {
            **asdict(self),
            "Z_eff": self.Z, "X0_eff_mm": self.X0, "critical_energy_MeV": self.critical_energy,
            "moliere_radius_mm": self.moliere_radius, "sampling_frequency": self.sampling_frequency,
            "e_hat": self.e_hat, "sampling_fraction": self.sampling_fraction,
        }


# ------------------------------------------------------------------ parametrization
def _ln_y(energy, medium):
    return np.log(np.maximum(energy, E_MIN_SHAPE) * MEV_PER_GEV / medium.critical_energy)


def longitudinal_parameters(energy, medium: SamplingMedium) -> dict[str, np.ndarray]:
    """Mean, σ and correlation of (ln T, ln α) for single showers (§3.3, sampling; E in GeV).

    Guards as in Geant4: log arguments ≥ 0.1, means ≥ 0.1, σ ≤ 0.5.
    """
    ln_y = _ln_y(np.asarray(energy, dtype=np.float64), medium)
    fs, e_hat, Z = medium.sampling_frequency, medium.e_hat, medium.Z
    ln_t_hom = np.log(np.maximum(ln_y - 0.812, 0.1))
    ln_a_hom = np.log(np.maximum(0.81 + (0.458 + 2.26 / Z) * ln_y, 0.1))
    ln_t = np.log(np.maximum(np.exp(ln_t_hom) - 0.55 / fs - 0.69 * (1 - e_hat), 0.1))
    ln_a = np.log(np.maximum(np.exp(ln_a_hom) - 0.476 / fs, 0.1))

    def sigma(a, b):
        denom = a + b * ln_y
        return np.where(denom > 2.0, 1.0 / np.maximum(denom, 2.0), 0.5)

    return {
        "mean_ln_T": np.maximum(ln_t, 0.1), "sigma_ln_T": sigma(-2.5, 1.25),
        "mean_ln_alpha": np.maximum(ln_a, 0.1), "sigma_ln_alpha": sigma(-0.82, 0.79),
        "rho": 0.784 - 0.023 * ln_y,
    }


def average_profile(energy, medium: SamplingMedium) -> tuple[np.ndarray, np.ndarray]:
    """(T, α) of the *average* longitudinal profile (§3.2, sampling; E in GeV, T in X0,eff)."""
    ln_y = _ln_y(np.asarray(energy, dtype=np.float64), medium)
    T = ln_y - 0.858 - 0.59 / medium.sampling_frequency - 0.53 * (1 - medium.e_hat)
    alpha = 0.21 + (0.492 + 2.38 / medium.Z) * ln_y - 0.444 / medium.sampling_frequency
    return T, alpha


def draw_longitudinal(energy, medium: SamplingMedium, rng: np.random.Generator):
    """Per-shower (T, α, β) from the correlated log-normal (§3.3); T ≥ 1, α ≥ 1.1."""
    par = longitudinal_parameters(energy, medium)
    z = rng.standard_normal((2, np.size(energy)))
    a, b = np.sqrt((1 + par["rho"]) / 2), np.sqrt((1 - par["rho"]) / 2)
    T = np.maximum(np.exp(par["mean_ln_T"] + par["sigma_ln_T"] * (a * z[0] + b * z[1])), 1.0)
    alpha = np.maximum(np.exp(par["mean_ln_alpha"] + par["sigma_ln_alpha"] * (a * z[0] - b * z[1])), 1.1)
    return T, alpha, (alpha - 1) / T


def radial_parameters(tau, energy, medium: SamplingMedium):
    """(R_C, R_T, p) at scaled depth τ (§4.3–4.4, sampling; radii in Molière radii, E in GeV)."""
    ln_e = np.log(np.maximum(energy, E_MIN_SHAPE))
    Z, fs, one_e = medium.Z, medium.sampling_frequency, 1 - medium.e_hat
    r_core = (0.0251 + 0.00319 * ln_e) + (0.1162 - 0.000381 * Z) * tau
    k4 = 0.3585 + 0.0421 * ln_e
    r_tail = (0.659 - 0.00309 * Z) * (np.exp(-2.59 * (tau - 0.645)) + np.exp(k4 * (tau - 0.645)))
    p3 = 1.313 - 0.0686 * ln_e
    arg = ((0.401 + 0.00187 * Z) - tau) / p3
    p = (2.632 - 0.00094 * Z) * np.exp(arg - np.exp(arg))
    r_core = r_core - 0.0203 * one_e + 0.0397 * np.exp(-tau) / fs
    r_tail = r_tail - 0.14 * one_e - 0.495 * np.exp(-tau) / fs
    p = p + one_e * (0.348 - 0.642 * np.exp(-((tau - 1) ** 2)) / fs)
    return np.maximum(r_core, 1e-3), np.maximum(r_tail, 1e-3), np.clip(p, 0.0, 1.0)


def _n_spots(energy, medium):
    """Spots per shower, (10.3 / c) E^0.959 (§5.1)."""
    return 10.3 / medium.resolution * np.maximum(energy, E_MIN_SHAPE) ** 0.959


def _frame(direction):
    """Two unit vectors perpendicular to each direction (n, 3) and to each other."""
    helper = np.where(np.abs(direction[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    e1 = np.cross(direction, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(direction, e1)


# ------------------------------------------------------------------ spots
def shower_spots(energy, start, direction, converts, medium: SamplingMedium,
                 rng: np.random.Generator, max_path: float | np.ndarray = MAX_PATH_X0) -> dict[str, np.ndarray]:
    """Energy spots of n showers, vectorized over showers and spots.

    Parameters
    ----------
    energy : (n,) GeV, > 0
    start : (n, 3) mm
        Where each particle enters the medium (x, y, depth).
    direction : (n, 3)
        Unit vectors.
    converts : (n,) bool
        True for photons: the shower starts after an Exp(9/7 X0) conversion depth.
    max_path : float or (n,)
        Path length in X0,eff after which the profile is cut (the back of the calorimeter).

    Returns
    -------
    dict with per-spot ``x``, ``y``, ``depth`` (mm), ``energy`` (GeV, before the sampling
    fraction), ``shower`` (index), ``t`` (X0 from the shower start), ``r`` (Molière radii), and
    per-shower ``T``, ``alpha``, ``beta``, ``t0`` (conversion depth, X0).
    """
    energy = np.asarray(energy, dtype=np.float64)
    n = energy.size
    c2 = medium.resolution**2
    t0 = np.where(converts, rng.exponential(PHOTON_MEAN_FREE_PATH_X0, n), 0.0)
    T, alpha, beta = draw_longitudinal(energy, medium, rng)
    path = np.clip(np.broadcast_to(max_path, (n,)) - t0, 0.0, MAX_PATH_X0)
    n_steps = max(int(math.ceil(path.max() / STEP_X0)), 1)
    edges = np.arange(n_steps + 1) * STEP_X0
    # energy per step from the Gamma CDF, cut at each shower's own back face, then fluctuated
    cdf = gammainc(alpha[:, None], beta[:, None] * np.minimum(edges[None, :], path[:, None]))
    d_energy = energy[:, None] * np.diff(cdf, axis=1)
    d_energy = rng.gamma(d_energy / c2, c2)
    # spots per step from the spot profile (§5.2, CMS form)
    Z = medium.Z
    t_spot = T * (0.698 + 0.00212 * Z) * (0.813 + 0.0019 * Z)
    a_spot = np.maximum(alpha * (0.639 + 0.00334 * Z) * (0.844 + 0.0026 * Z), 1.1)
    cdf_spot = gammainc(a_spot[:, None], ((a_spot - 1) / t_spot)[:, None] * edges[None, :])
    counts = np.floor(_n_spots(energy, medium)[:, None] * np.diff(cdf_spot, axis=1))
    counts = np.where(d_energy > 0, np.maximum(counts, 1), 0).astype(np.int64).ravel()
    # expand (shower, step) cells to spots; spots come out ordered by shower, then step, so
    # per-cell and per-shower values are spread with np.repeat (faster than gathering)
    per_shower = counts.reshape(n, n_steps).sum(axis=1)

    def cells(values):
        return np.repeat(np.broadcast_to(values, (n, n_steps)).ravel(), counts)

    def showers(values):
        return np.repeat(values, per_shower)

    j = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    width = np.divide(STEP_X0, counts, out=np.zeros(counts.shape), where=counts > 0)
    t = cells(edges[:-1]) + (j + 0.5) * np.repeat(width, counts)
    spot_energy = np.repeat(d_energy.ravel() * width / STEP_X0, counts)
    # radial profile at each step's scaled depth τ (§4.2), evaluated at the step's middle
    alpha_med = np.exp(longitudinal_parameters(energy, medium)["mean_ln_alpha"])
    scale = (alpha_med / (alpha_med - 1)) / (alpha / beta)
    tau = (edges[:-1] + STEP_X0 / 2)[None, :] * scale[:, None]
    r_core, r_tail, p = radial_parameters(tau, energy[:, None], medium)
    u = rng.random((3, t.size))
    u2 = np.minimum(u[1], 1 - 1e-9)
    r = np.where(u[0] < cells(p), cells(r_core), cells(r_tail)) * np.sqrt(u2 / (1 - u2))
    phi = 2 * math.pi * u[2]
    cos, sin = np.cos(phi), np.sin(phi)
    e1, e2 = _frame(direction)
    along = (showers(t0) + t) * medium.X0
    across = r * medium.moliere_radius
    pos = [showers(start[:, k]) + along * showers(direction[:, k])
           + across * (cos * showers(e1[:, k]) + sin * showers(e2[:, k])) for k in range(3)]
    shower = np.repeat(np.arange(n), per_shower)
    return {
        "x": pos[0], "y": pos[1], "depth": pos[2], "energy": spot_energy, "shower": shower,
        "t": t, "r": r, "T": T, "alpha": alpha, "beta": beta, "t0": t0,
    }


def _batches(energy, medium, limit=MAX_SPOTS_PER_BATCH):
    """Consecutive index ranges whose expected spot count stays below ``limit``."""
    cost = np.cumsum(np.asarray(_n_spots(energy, medium), dtype=np.float64) + 300.0)
    cuts = np.searchsorted(cost, np.arange(limit, cost[-1] if cost.size else 0, limit))
    bounds = np.unique(np.concatenate([[0], cuts, [energy.size]]))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def deposit(geometry: Geometry, energy, entry, direction, converts, hits, medium: SamplingMedium,
            rng: np.random.Generator) -> np.ndarray:
    """Visible voxel energies in MeV, (n, n_voxels), of particles entering at ``entry``.

    ``entry`` (n, 3) in calorimeter coordinates (x, y, depth), ``hits`` (n,) False for
    particles that miss the calorimeter (they deposit nothing).
    """
    n = len(energy)
    out = np.zeros((n, geometry.n_voxels))
    live = np.flatnonzero(hits & (energy > 0))
    nz = np.maximum(direction[live, 2], 1e-9)
    path = (geometry.depth - entry[live, 2]) / nz / medium.X0  # to the back plane, in X0
    for lo, hi in _batches(energy[live], medium):
        idx = live[lo:hi]
        spots = shower_spots(energy[idx], entry[idx], direction[idx], converts[idx], medium, rng,
                             max_path=path[lo:hi])
        out[idx] = geometry.bin(spots["x"], spots["y"], spots["depth"],
                                spots["energy"] * MEV_PER_GEV * medium.sampling_fraction,
                                spots["shower"], n_showers=hi - lo)
    return out


# ------------------------------------------------------------------ sources
def chi_decay(energy, mass: float, rng: np.random.Generator):
    """χ → γγ for χ moving along +z with total energy ``energy`` (GeV, (n,)); isotropic in its rest frame.

    Returns photon energies (n, 2) in GeV and unit directions (n, 2, 3).
    """
    energy = np.asarray(energy, dtype=np.float64)
    momentum = np.sqrt((energy - mass) * (energy + mass))
    one_minus_beta = mass**2 / (energy * (energy + momentum))  # without cancellation at large boosts
    cos = rng.uniform(-1.0, 1.0, energy.size)
    sin = np.sqrt((1 - cos) * (1 + cos))
    phi = rng.uniform(0.0, 2 * math.pi, energy.size)
    half = energy / 2  # gamma m / 2
    # forward (+cos) and backward photon: E = (E/2)(1 ± beta cos), pz = (E/2)(beta ± cos)
    e_ph = half[:, None] * np.stack([1 + cos - cos * one_minus_beta, 1 - cos + cos * one_minus_beta], axis=1)
    pz = half[:, None] * np.stack([1 + cos - one_minus_beta, 1 - cos - one_minus_beta], axis=1)
    pt = mass / 2 * sin
    sign = np.array([1.0, -1.0])
    px = sign * (pt * np.cos(phi))[:, None]
    py = sign * (pt * np.sin(phi))[:, None]
    p = np.stack([px, py, pz], axis=-1)
    return e_ph, p / np.linalg.norm(p, axis=-1, keepdims=True)


def lifetime_weights(mass: float, energy, lifetime: float,
                     displacements=SEED000_DISPLACEMENTS) -> np.ndarray:
    """Seed 000's fractions w_i of χ decays at each fixed displacement for a lifetime τ (ns).

    P_d(z) = 1 − exp(−z / (c τ √(γ² − 1))) with γ = E/m is the probability to decay before
    z (m); w_1 = P_d(z_1), w_i = P_d(z_i) − P_d(z_{i−1}), normalized to sum 1 (decays beyond
    the last displacement are not kept). ``energy`` (GeV) may be an array: rows of weights.
    """
    check_positive(mass, "mass")
    check_positive(lifetime, "lifetime")
    energy = np.asarray(energy, dtype=np.float64)
    if np.any(energy <= mass):
        raise ValueError(f"energy must exceed the mass {mass} GeV; got min {energy.min()}")
    beta_gamma = np.sqrt((energy - mass) * (energy + mass)) / mass
    z = np.asarray(displacements, dtype=np.float64)
    p_decay = -np.expm1(-z / (C_LIGHT * lifetime * beta_gamma[..., None]))
    w = np.diff(p_decay, axis=-1, prepend=0.0)
    return w / w.sum(axis=-1, keepdims=True)


def decay_displacements(mass: float, energy, lifetime: float, rng: np.random.Generator,
                        displacements=SEED000_DISPLACEMENTS) -> np.ndarray:
    """One decay displacement (m) per χ of total energy ``energy`` (GeV, (n,)), drawn with :func:`lifetime_weights`."""
    energy = np.atleast_1d(np.asarray(energy, dtype=np.float64))
    w = lifetime_weights(mass, energy, lifetime, displacements)
    pick = (rng.random(energy.size)[:, None] > np.cumsum(w, axis=1)).sum(axis=1)
    return np.asarray(displacements, dtype=np.float64)[np.minimum(pick, len(displacements) - 1)]


def _energies(n, energy, spectrum, rng):
    if np.ndim(energy) == 0:
        return np.full(n, float(energy))
    lo, hi = (float(v) for v in energy)
    if spectrum == "uniform":
        return rng.uniform(lo, hi, n)
    return np.exp(rng.uniform(math.log(lo), math.log(hi), n))


@dataclass(frozen=True)
class Source:
    """What enters the calorimeter (validated settings of :func:`simulate_showers`)."""

    particle: str = "photon"
    energy: float | tuple[float, float] = (1.0, 100.0)
    spectrum: str = "uniform"
    mass: float | None = None
    displacement: float | None = None
    lifetime: float | None = None
    position: tuple[float, float] = field(default=(0.0, 0.0))

    def __post_init__(self):
        check_choice(self.particle, "particle", ("photon", "electron", "chi"))
        check_choice(self.spectrum, "spectrum", ("uniform", "log-uniform"))
        energy = self.energy
        if np.ndim(energy) == 0:
            check_positive(energy, "energy")
        else:
            if len(energy) != 2 or not 0 < energy[0] < energy[1] or not np.isfinite(energy[1]):
                raise ValueError(f"energy range must be (low, high) with 0 < low < high; got {energy}")
            object.__setattr__(self, "energy", (float(energy[0]), float(energy[1])))
        if self.particle == "chi":
            if self.mass is None:
                raise ValueError("particle 'chi' needs mass (GeV)")
            check_positive(self.mass, "mass")
            if (self.displacement is None) == (self.lifetime is None):
                raise ValueError("particle 'chi' needs exactly one of displacement (m) or lifetime (ns)")
            if self.displacement is not None:
                check_positive(self.displacement, "displacement")
            else:
                check_positive(self.lifetime, "lifetime")
            if np.ndim(energy) == 0 and energy <= self.mass:
                raise ValueError(f"chi energy {energy} GeV must exceed its mass {self.mass} GeV")
            if tuple(self.position) != (0.0, 0.0):
                raise ValueError("position applies only to photons and electrons (chi flies along the axis)")
        elif any(v is not None for v in (self.mass, self.displacement, self.lifetime)):
            raise ValueError("mass, displacement and lifetime apply only to particle 'chi'")
        if len(self.position) != 2 or not np.all(np.isfinite(self.position)):
            raise ValueError(f"position must be two finite numbers (x, y) in mm; got {self.position}")
        object.__setattr__(self, "position", (float(self.position[0]), float(self.position[1])))

    @property
    def label(self) -> int:
        return int(self.particle == "chi")


def simulate_showers(n: int, geometry: Geometry | None = None, source: Source | None = None,
                     medium: SamplingMedium | None = None, random_state=None) -> Showers:
    """Simulate ``n`` showers of ``source`` in ``medium``, binned into ``geometry`` (default seed 000).

    Single particles enter at the front face at ``source.position`` (x, y in mm) along the
    axis. For ``particle="chi"`` the χ starts at the detector centre (global z = 0) along
    +z; ``energy`` is its total energy (a number) or its kinetic energy range (low, high),
    and it decays at ``displacement`` m or at one of seed 000's displacements drawn with the
    lifetime weights (:func:`lifetime_weights`). ``incident_energies`` are the particle's
    (χ: total) energies in MeV.
    """
    check_positive(n, "n", integer=True)
    geometry = seed000_geometry() if geometry is None else geometry
    source = Source() if source is None else source
    medium = SamplingMedium() if medium is None else medium
    rng = np.random.default_rng(random_state)
    energy = _energies(n, source.energy, source.spectrum, rng)
    if source.particle != "chi":
        origin = np.zeros((n, 3))
        origin[:, :2] = source.position
        origin[:, 2] = geometry.z_front
        direction = np.tile([0.0, 0.0, 1.0], (n, 1))
        entry, hits = geometry.entry(origin, direction)
        converts = np.full(n, source.particle == "photon")
        voxels = deposit(geometry, energy, entry, direction, converts, hits, medium, rng)
    else:
        if np.ndim(source.energy) != 0:
            energy = energy + source.mass  # kinetic → total
        voxels = _chi_voxels(geometry, energy, source, medium, rng)
    return Showers(voxels.astype(np.float32), (energy * MEV_PER_GEV).astype(np.float32),
                   layer_shapes=geometry.layer_shapes, label=np.full(n, source.label))


def _chi_voxels(geometry, energy, source, medium, rng):
    n = energy.size
    if source.displacement is not None:
        z_decay = np.full(n, source.displacement)
    else:
        z_decay = decay_displacements(source.mass, energy, source.lifetime, rng)
    e_ph, direction = chi_decay(energy, source.mass, rng)
    origin = np.zeros((n, 2, 3))
    origin[..., 2] = 1000.0 * z_decay[:, None]
    entry, hits = geometry.entry(origin.reshape(-1, 3), direction.reshape(-1, 3))
    voxels = deposit(geometry, e_ph.ravel(), entry, direction.reshape(-1, 3), np.ones(2 * n, bool),
                     hits, medium, rng)
    return voxels.reshape(n, 2, -1).sum(axis=1)


# ------------------------------------------------------------------ chunks and the driver
def _settings(source: Source, geometry_spec: dict, medium: SamplingMedium) -> dict[str, Any]:
    return json.loads(json.dumps({"source": asdict(source), "geometry": geometry_spec,
                                  "medium": asdict(medium)}))


def make_geometry(spec: dict) -> Geometry:
    """A geometry from its JSON spec: ``{"kind": "seed000"}`` or ``{"kind": "xml", "path", "particle", "depths", "total_depth"}``."""
    if spec["kind"] == "seed000":
        return seed000_geometry()
    return CylindricalGeometry.from_xml(spec["path"], spec.get("particle"), depths=spec.get("depths"),
                                        total_depth=spec.get("total_depth", 480.0))


def _from_settings(settings):
    src = dict(settings["source"])
    if isinstance(src["energy"], list):
        src["energy"] = tuple(src["energy"])
    src["position"] = tuple(src["position"])
    med = dict(settings["medium"])
    med["passive"] = Material(**med["passive"])
    med["active"] = Material(**med["active"])
    return Source(**src), make_geometry(settings["geometry"]), SamplingMedium(**med)


def run_shower_chunk(path: str | os.PathLike, n: int, seed: int, chunk: int, settings: dict) -> dict:
    """Simulate chunk ``chunk`` (NumPy seed ``[seed, chunk]``) and save it atomically to ``path`` (.npz)."""
    start = time.perf_counter()
    source, geometry, medium = _from_settings(settings)
    showers = simulate_showers(n, geometry, source, medium, random_state=[seed, chunk])
    record = {"format": CHUNK_FORMAT, "file": Path(path).name, "chunk": chunk, "seed": [seed, chunk],
              "showers": n, "seconds": round(time.perf_counter() - start, 3), "settings": settings}
    save_chunk(path, {"energies": showers.energies, "incident_energies": showers.incident_energies}, record)
    return record


def generate_showers(
    out: str | os.PathLike,
    n_events: int = 1000,
    *,
    source: Source | None = None,
    geometry: dict | None = None,
    medium: SamplingMedium | None = None,
    fmt: str = "calogan",
    chunk_size: int = 1000,
    workers: int = 1,
    seed: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor=None,
) -> Path:
    """Simulate ``n_events`` showers in seeded chunks and write one HDF5 file plus ``<out>.json``.

    ``geometry`` is a spec for :func:`make_geometry` (default seed 000). ``fmt`` is
    ``"calogan"`` (Cartesian geometries only) or ``"calochallenge"``. Chunk k uses the
    NumPy seed ``[seed, k]``, so the output depends only on the seed and the settings, not on
    ``workers``. Finished chunks are kept in ``<out>.chunks/`` and reused by a rerun with the
    same settings (resume); the JSON records the settings, the derived medium constants and
    every chunk's seed and time. Every energy in the JSON is in GeV (``energy_unit``), also
    the generated showers' ``incident_energy_range``; ``file_units`` says what the HDF5 file
    holds (voxels in MeV; incident energies in GeV in CaloGAN files, MeV in CaloChallenge ones).
    """
    source = Source() if source is None else source
    medium = SamplingMedium() if medium is None else medium
    spec = {"kind": "seed000"} if geometry is None else dict(geometry)
    check_choice(fmt, "fmt", FILE_UNITS)
    plan = plan_run(out, n_events, chunk_size, workers, overwrite)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0; got {seed}")
    if spec["kind"] == "xml":
        spec["path"] = str(Path(spec["path"]).resolve())
    geo = make_geometry(spec)
    if fmt == "calogan" and not isinstance(geo, CartesianGeometry):
        raise ValueError("fmt 'calogan' needs a Cartesian geometry; use fmt 'calochallenge' with --xml")
    settings = _settings(source, spec, medium)

    def matches(k: int, record: dict, size: int) -> bool:
        return (record.get("format") == CHUNK_FORMAT and record["settings"] == settings
                and record["seed"] == [seed, k] and record["showers"] == size)

    def write(path: Path, columns: dict) -> Path:
        showers = Showers(columns["energies"], columns["incident_energies"], layer_shapes=geo.layer_shapes,
                          label=np.full(plan.n_events, source.label))
        return (write_calogan if fmt == "calogan" else write_calochallenge)(path, showers, overwrite=overwrite)

    def summary(columns: dict, records: list[dict]) -> dict:
        incident = columns["incident_energies"] / MEV_PER_GEV
        return {
            "generator": "likely GFLASH-parametrized EM showers (hep-ex/0001020)",
            "format": fmt, "energy_unit": "GeV",
            "incident_energy_range": [float(incident.min()), float(incident.max())],
            "file_units": FILE_UNITS[fmt],
            "showers": plan.n_events, "chunk_size": chunk_size, "seed": seed, **settings,
            "medium_derived": medium.describe(), "geometry_repr": repr(geo),
        }

    generator = ChunkedGenerator(
        name=f"{source.particle} showers", count="showers", chunk_name=lambda k: f"chunk{k:05d}.npz",
        run_chunk=run_shower_chunk, chunk_args=lambda k, path, size: (path, size, seed, k, settings),
        matches=matches, write=write, summary=summary,
        chunk_keys=("file", "chunk", "seed", "showers", "seconds"), versions={"numpy": np.__version__},
    )
    return generate_in_chunks(generator, plan, workers=workers, executor=executor, progress=progress)
