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

Whole events (:func:`suep_pythia_lines`, :func:`suep_hooks`, the ``suep`` process of
:mod:`likely.data.generate.events`): Pythia makes the mediator in gluon fusion (a Higgs-like
scalar of mass ``mediator_mass``, narrow, kept undecayed); a user hook replaces it in the
hard-process record by its dark mesons, boosted from its rest frame; Pythia then showers
(ISR, MPI), carries the mesons along with the mediator's recoil, decays φ → A′A′ and A′ → e⁺e⁻,
μ⁺μ⁻, π⁺π⁻ (isotropic two-body decays) and hadronizes the rest of the event.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import kn

from likely._checks import check_positive
from likely.data.generate.pythia import E_CM, EventProcess, num
from likely.data.particles import Particles

__all__ = [
    "DARK_MESON",
    "DARK_PHOTON",
    "MEDIATOR",
    "SUEP_DEFAULTS",
    "SUEP_PROCESS",
    "check_suep",
    "maxwell_juttner_mean_energy",
    "sample_maxwell_juttner",
    "suep_decay",
    "suep_hooks",
    "suep_pythia_lines",
]

#: Particle ids: the mediator (Pythia's Higgs), the dark meson φ and the dark photon A′ (ids free in Pythia)
MEDIATOR, DARK_MESON, DARK_PHOTON = 25, 999999, 999998
#: The mediator's width as a fraction of its mass, and its line shape's half-range in widths
MEDIATOR_WIDTH, MEDIATOR_RANGE = 1e-3, 10.0
#: A′ branching-ratio parameters: their decay products and pair thresholds 2 m (GeV)
DARK_PHOTON_CHANNELS = {"br_ee": ((11, -11), 2 * 0.000511), "br_mumu": ((13, -13), 2 * 0.10566),
                        "br_pipi": ((211, -211), 2 * 0.13957)}
#: The parameters (GeV) and their defaults: seed 004's samples, after Knapen et al.; the A′
#: branching ratios at 0.7 GeV as in the CMS SUEP samples' "hadronic dark photon" mode
SUEP_DEFAULTS = {"mediator_mass": 125.0, "m_dark_meson": 2.0, "m_dark_photon": 0.7, "temperature": 2.0,
                 "br_ee": 0.15, "br_mumu": 0.15, "br_pipi": 0.70}


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


def _rest_frame_decay(n_events: int, mediator_mass: float, meson_mass: float, temperature: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energies (N, P), momenta (N, P, 3) and mask (N, P) of the mesons of ``n_events`` decays (float64)."""
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
    return np.sqrt(meson_mass**2 + (momenta**2).sum(axis=-1)), momenta, mask


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
    energy, momenta, mask = _rest_frame_decay(n_events, mediator_mass, meson_mass, temperature, rng)
    return Particles(np.concatenate([energy[..., None], momenta], axis=-1), mask, ("E", "px", "py", "pz"))


def _boost(energy: np.ndarray, momenta: np.ndarray, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Four-momenta (E (P,), p (P, 3); GeV) given in the rest frame of ``frame`` = (E, px, py, pz), in the lab.

    E′ = γ (E + β·p), p′ = p + β (γ² β·p / (1 + γ) + γ E), with β = p_frame / E_frame and
    γ = E_frame / m_frame; the mesons of a decay at rest add up to ``frame`` after it.
    """
    frame = np.asarray(frame, dtype=np.float64)
    mass = np.sqrt(frame[0] ** 2 - frame[1:] @ frame[1:])
    beta, gamma = frame[1:] / frame[0], frame[0] / mass
    bp = momenta @ beta
    return gamma * (energy + bp), momenta + np.outer(gamma**2 * bp / (1 + gamma) + gamma * energy, beta)


# ------------------------------------------------------------------------ parameters and Pythia lines
def _complete(params: Mapping[str, Any] | None) -> dict[str, float]:
    """``params`` over :data:`SUEP_DEFAULTS`, checked (:func:`check_suep`)."""
    params = {} if params is None else params
    unknown = sorted(set(params) - set(SUEP_DEFAULTS))
    if unknown:
        raise ValueError(f"params: SUEP has no parameter {unknown[0]!r}; its parameters are {sorted(SUEP_DEFAULTS)}")
    complete = {**SUEP_DEFAULTS, **params}
    check_suep(complete)
    return {name: float(value) for name, value in complete.items()}


def check_suep(p: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the parameter unless the SUEP parameters ``p`` can be generated."""
    for name in ("mediator_mass", "m_dark_meson", "m_dark_photon", "temperature"):
        check_positive(p[name], name)
    for name in DARK_PHOTON_CHANNELS:
        check_positive(p[name], name, allow_zero=True)
    if not p["mediator_mass"] > 2 * p["m_dark_meson"]:
        raise ValueError(f"mediator_mass ({p['mediator_mass']:g} GeV) must exceed two dark mesons "
                         f"(2 m_dark_meson = {2 * p['m_dark_meson']:g} GeV)")
    if not p["mediator_mass"] < E_CM:
        raise ValueError(f"mediator_mass must be below the collision energy {E_CM:g} GeV; got {p['mediator_mass']:g}")
    if not p["m_dark_photon"] < p["m_dark_meson"] / 2:
        raise ValueError(f"m_dark_photon ({p['m_dark_photon']:g} GeV) must be below m_dark_meson / 2 "
                         f"({p['m_dark_meson'] / 2:g} GeV) for φ → A′A′")
    total = sum(p[name] for name in DARK_PHOTON_CHANNELS)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"br_ee + br_mumu + br_pipi must be 1; got {total:g}")
    for name, (_, threshold) in DARK_PHOTON_CHANNELS.items():
        if p[name] > 0 and not p["m_dark_photon"] > threshold:
            raise ValueError(f"{name} > 0 needs m_dark_photon above the pair threshold {threshold:g} GeV; "
                             f"got {p['m_dark_photon']:g}")


def suep_pythia_lines(params: Mapping[str, Any] | None = None) -> list[str]:
    """The Pythia lines of SUEP production (added to the common 13 TeV lines; see :data:`SUEP_DEFAULTS`).

    gg → mediator (Pythia's Higgs at ``mediator_mass``, width forced to 10⁻³ of it, line shape
    cut at ±10 widths, not decayed by Pythia), ISR on; φ (scalar) → A′A′ and A′ (vector) → e⁺e⁻,
    μ⁺μ⁻, π⁺π⁻ with the ``br_*`` branching ratios, isotropic and prompt.
    """
    p = _complete(params)
    mass = p["mediator_mass"]
    width = MEDIATOR_WIDTH * mass
    channels = [f"{DARK_PHOTON}:addChannel = 1 {num(p[name])} 0 {a} {b}"
                for name, ((a, b), _) in DARK_PHOTON_CHANNELS.items() if p[name] > 0]
    return [
        "HiggsSM:gg2H = on",
        f"{MEDIATOR}:m0 = {num(mass)}",
        f"{MEDIATOR}:doForceWidth = on",
        f"{MEDIATOR}:mWidth = {num(width)}",
        f"{MEDIATOR}:mMin = {num(mass - MEDIATOR_RANGE * width)}",
        f"{MEDIATOR}:mMax = {num(mass + MEDIATOR_RANGE * width)}",
        f"{MEDIATOR}:mayDecay = off",  # the hook of suep_hooks decays it
        f"{DARK_MESON}:all = phi_dark void 1 0 0 {num(p['m_dark_meson'])} 0. 0. 0. 0.",
        f"{DARK_MESON}:isResonance = off",
        f"{DARK_MESON}:oneChannel = 1 1. 0 {DARK_PHOTON} {DARK_PHOTON}",
        f"{DARK_PHOTON}:all = Aprime_dark void 3 0 0 {num(p['m_dark_photon'])} 0. 0. 0. 0.",
        f"{DARK_PHOTON}:isResonance = off",
        channels[0].replace(":addChannel", ":oneChannel"),
        *channels[1:],
        "PartonLevel:ISR = on",
    ]


# ------------------------------------------------------------------------ the hand-off to Pythia
def _decay_mediator(process, params: Mapping[str, float], rng: np.random.Generator) -> None:
    """Replace the undecayed mediator of the hard-process record ``process`` by its dark mesons (lab frame)."""
    index = next((i for i in range(process.size()) if process[i].id() == MEDIATOR and process[i].status() > 0), None)
    if index is None:
        raise RuntimeError("the hard process has no undecayed mediator (id 25); was Pythia started with "
                           "suep_pythia_lines?")
    mediator = process[index]  # a reference into the record: read it before appending
    frame = np.array([mediator.e(), mediator.px(), mediator.py(), mediator.pz()])
    energy, momenta, mask = _rest_frame_decay(1, mediator.m(), params["m_dark_meson"], params["temperature"], rng)
    energy, momenta = _boost(energy[0][mask[0]], momenta[0][mask[0]], frame)
    first = process.size()
    for e, (px, py, pz) in zip(energy.tolist(), momenta.tolist(), strict=True):
        process.append(DARK_MESON, 23, index, 0, 0, 0, 0, 0, px, py, pz, e, params["m_dark_meson"])
    process[index].status(-22)  # a decayed resonance of the hard process: Pythia boosts its products along
    process[index].daughters(first, process.size() - 1)


@functools.cache
def _hook_class():
    """The Pythia user hook that decays the mediator (defined on first use: pythia8mc is imported lazily)."""
    import pythia8mc

    class SuepHook(pythia8mc.UserHooks):
        """Calls :func:`_decay_mediator` on every hard process, before the shower."""

        params: Mapping[str, float]
        rng: np.random.Generator

        def canVetoProcessLevel(self) -> bool:  # noqa: N802 (Pythia's name)
            return True

        def doVetoProcessLevel(self, process) -> bool:  # noqa: N802
            _decay_mediator(process, self.params, self.rng)
            return False

    return SuepHook


def suep_hooks(params: Mapping[str, Any] | None, rng: np.random.Generator):
    """The Pythia user hook that replaces every mediator by its dark mesons; give it to ``start_pythia``.

    Start Pythia with :func:`suep_pythia_lines` ``(params)`` and this hook (``start_pythia(lines,
    hooks=suep_hooks(params, rng))``): every ``pythia.nextBatch`` then gives SUEP events in its
    usual awkward layout. The mesons' momenta are drawn from ``rng`` (seed it from the chunk's
    Pythia seed, and the events are repeatable). In the record the last copy of the mediator
    (status −62) has the φ (status −23 once decayed) as daughters, φ the A′ (−91), A′ its SM pair.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    hook = _hook_class()()
    hook.params, hook.rng = _complete(params), rng
    return hook


#: The ``suep`` process of :mod:`likely.data.generate.events`.
SUEP_PROCESS = EventProcess(
    "suep", "SUEP: gg -> mediator -> dark mesons (Maxwell-Juttner at T_D) -> A'A' -> SM pairs (Knapen et al.)", 1,
    SUEP_DEFAULTS, suep_pythia_lines, check_suep, suep_hooks,
)
