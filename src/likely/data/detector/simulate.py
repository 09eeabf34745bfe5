"""The parametric detector: truth particles → tracks, calorimeter cells, e, μ, γ, jets and missing pT.

A parametrization in the spirit of Delphes, not a simulation of the detector's material
(no Geant4, no showers, no magnetic field, no fakes): each step draws from the card's
efficiencies and resolutions (docs/detector.md has every formula and its source).
:func:`simulate` works on all events of a batch at once, on flat arrays with an event
index; FastJet clusters the jets of all events in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from likely.data.detector.card import ETA_LIMIT, DetectorCard
from likely.data.generate.pythia import TRUTH_FEATURES
from likely.data.jets import _ranges, cluster_jets
from likely.data.particles import Particles

__all__ = ["CELL_FEATURES", "JET_FEATURES", "LEPTON_FEATURES", "TRACK_FEATURES", "Reconstruction", "simulate"]

TRACK_FEATURES = ("pt", "eta", "phi", "charge", "is_pileup")
CELL_FEATURES = ("eta", "phi", "E")
LEPTON_FEATURES = ("pt", "eta", "phi", "charge")
JET_FEATURES = ("pt", "eta", "phi", "mass")
#: the identified objects, in the order they are looked for, and their |PDG id|
OBJECT_IDS = {"photons": 22, "electrons": 11, "muons": 13}


@dataclass(frozen=True)
class Reconstruction:
    """What the detector saw in ``N`` events; every :class:`Particles` has one row per event.

    Attributes
    ----------
    tracks : Particles (pt, eta, phi, charge, is_pileup)
        Reconstructed tracks, GeV; ``is_pileup`` 1 for tracks of overlaid minimum-bias events.
    ecal, hcal : Particles (eta, phi, E)
        Calorimeter cells above threshold: cell centre and measured energy (GeV).
    electrons, muons, photons : Particles (pt, eta, phi, charge)
        Identified, isolated objects, hardest first.
    jets : Particles (pt, eta, phi, mass)
        Anti-kT jets above the card's pT and within its |η|, hardest first.
    met, met_phi : (N,) float32
        Missing pT (GeV) and its azimuth: minus the vector sum of the card's ``met.objects``.
    n_tracks : (N,) int64
        Reconstructed tracks not from pile-up.
    ht : (N,) float32
        Scalar sum of the pT of electrons, muons, photons and jets (GeV; seed 004's H_T).
    card : DetectorCard
        The card that made it.
    label, columns
        The truth events' label (N,) and per-event columns, carried along.
    """

    tracks: Particles
    ecal: Particles
    hcal: Particles
    electrons: Particles
    muons: Particles
    photons: Particles
    jets: Particles
    met: np.ndarray
    met_phi: np.ndarray
    n_tracks: np.ndarray
    ht: np.ndarray
    card: DetectorCard
    label: np.ndarray | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.met)

    def __getitem__(self, rows) -> Reconstruction:
        """The events ``rows`` (a boolean mask, indices or a slice)."""
        sets = {name: getattr(self, name)[rows] for name in ("tracks", "ecal", "hcal", "electrons", "muons",
                                                             "photons", "jets", "met", "met_phi", "n_tracks", "ht")}
        return Reconstruction(**sets, card=self.card, label=None if self.label is None else self.label[rows],
                              columns={name: column[rows] for name, column in self.columns.items()})


class _Event:
    """All particles of a batch, flat and event after event, with the quantities every step uses."""

    def __init__(self, columns: dict[str, np.ndarray], event: np.ndarray, pileup: np.ndarray, n_events: int,
                 card: DetectorCard) -> None:
        self.E, self.px, self.py, self.pz = (columns[name] for name in ("E", "px", "py", "pz"))
        self.pid, self.charge = np.rint(columns["pid"]).astype(np.int64), columns["charge"]
        self.event, self.pileup, self.n_events = event, pileup, n_events
        self.pt = np.hypot(self.px, self.py)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.eta = np.arcsinh(self.pz / self.pt)  # ±inf along the beam, NaN for p = 0: never accepted
        self.abs_eta = np.abs(self.eta)
        self.phi = np.arctan2(self.py, self.px)
        self.visible = ~card.invisible(self.pid)

    def __len__(self) -> int:
        return len(self.E)


def _flat(particles: Particles, name: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The real particles of ``particles`` (TRUTH_FEATURES) as float64 columns, and their event index."""
    if not isinstance(particles, Particles):
        raise TypeError(f"{name} must be Particles; got {type(particles).__name__}")
    missing = [f for f in TRUTH_FEATURES if f not in particles.features]
    if missing:
        raise ValueError(f"{name} must have the truth features {TRUTH_FEATURES}; it lacks {missing}")
    flat = particles.values[particles.mask].astype(np.float64)
    if not np.isfinite(flat).all():
        raise ValueError(f"{name} has non-finite particle features")
    columns = {f: flat[:, particles.features.index(f)] for f in TRUTH_FEATURES}
    if (columns["E"] < 0).any():
        raise ValueError(f"{name} has particles of negative energy")
    return columns, np.nonzero(particles.mask)[0]


def _overlay(truth: Particles, pileup: Particles | None, mean: float, card: DetectorCard,
             rng: np.random.Generator) -> _Event:
    """The truth particles with Poisson(``mean``) random minimum-bias events of ``pileup`` added to each event."""
    columns, event = _flat(truth, "truth")
    n = len(truth)
    if pileup is None:
        return _Event(columns, event, np.zeros(len(event), dtype=bool), n, card)
    pool, _ = _flat(pileup, "pileup")
    counts = pileup.counts
    if len(counts) == 0:
        raise ValueError("pileup has no events")
    n_overlaid = rng.poisson(mean, n)
    chosen = rng.integers(0, len(counts), n_overlaid.sum())
    rows = _ranges((np.cumsum(counts) - counts)[chosen], counts[chosen])
    pileup_event = np.repeat(np.repeat(np.arange(n), n_overlaid), counts[chosen])
    event = np.concatenate([event, pileup_event])
    order = np.argsort(event, kind="stable")
    merged = {name: np.concatenate([columns[name], pool[name][rows]])[order] for name in columns}
    flags = np.concatenate([np.zeros(len(columns["E"]), dtype=bool), np.ones(len(rows), dtype=bool)])
    return _Event(merged, event[order], flags[order], n, card)


def _sets(event: np.ndarray, n_events: int, features: tuple[str, ...], *columns: np.ndarray) -> Particles:
    """Particles of ``features`` from flat ``columns`` with their ``event``; hardest (first column) first."""
    order = np.lexsort((-columns[0], event))
    flat = np.stack(columns, axis=1)[order] if len(event) else np.zeros((0, len(features)))
    return Particles.from_counts(flat, np.bincount(event, minlength=n_events), features)


def _tracks(p: _Event, card: DetectorCard, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which particles became tracks, and every particle's measured pT (GeV)."""
    tracker = card.tracker
    charged = p.visible & (p.charge != 0) & tracker.accepts(p.abs_eta, p.pt)
    efficiency = np.where(charged, tracker.efficiency(p.abs_eta, p.pt), 0.0)
    found = rng.random(len(p)) < efficiency
    pt = p.pt * (1.0 + tracker.resolution.relative(p.abs_eta, p.pt) * rng.standard_normal(len(p)))
    return found & (pt > 0), pt


def _cells(p: _Event, energy: np.ndarray, calo, rng: np.random.Generator) -> tuple[Particles, np.ndarray]:
    """The cells of one calorimeter above threshold, and which particles deposited in it."""
    hit = (energy > 0) & (p.abs_eta < calo.eta_max)
    offset = int(np.ceil(calo.eta_max / calo.eta_cell)) + 1
    ring = 2 * offset * calo.phi_cells
    i = np.floor(p.eta[hit] / calo.eta_cell).astype(np.int64) + offset
    j = np.floor((p.phi[hit] + np.pi) / calo.phi_cell).astype(np.int64) % calo.phi_cells
    cells, where = np.unique(p.event[hit] * ring + i * calo.phi_cells + j, return_inverse=True)
    true = np.bincount(where.ravel(), weights=energy[hit], minlength=len(cells))
    event, rest = np.divmod(cells, ring)
    eta = (rest // calo.phi_cells - offset + 0.5) * calo.eta_cell
    phi = -np.pi + (rest % calo.phi_cells + 0.5) * calo.phi_cell
    sigma = calo.resolution.sigma(np.abs(eta), true)
    measured = true + sigma * rng.standard_normal(len(cells))
    keep = (measured > calo.energy_min) & (measured > calo.significance_min * sigma)
    return _sets(event[keep], p.n_events, CELL_FEATURES, eta[keep], phi[keep], measured[keep]), hit


def _calorimeters(p: _Event, card: DetectorCard, rng: np.random.Generator) -> tuple[Particles, Particles, np.ndarray]:
    """ECAL and HCAL cells, and which particles left energy in a calorimeter."""
    ecal_fraction, hcal_fraction = card.deposits.fractions(p.pid)
    ecal, in_ecal = _cells(p, np.where(p.visible, ecal_fraction * p.E, 0.0), card.ecal, rng)
    hcal, in_hcal = _cells(p, np.where(p.visible, hcal_fraction * p.E, 0.0), card.hcal, rng)
    return ecal, hcal, in_ecal | in_hcal


def _isolation(p: _Event, others: np.ndarray, candidates: np.ndarray, cone: float) -> np.ndarray:
    """Σ pT (GeV) of the particles ``others`` (indices) within ΔR < ``cone`` of each candidate, itself excluded."""
    width = 4 * ETA_LIMIT  # one event's keys never reach the next's: accepted |η| < ETA_LIMIT, cones <= 2
    key = p.event[others] * width + p.eta[others]
    order = np.argsort(key, kind="stable")
    centre = p.event[candidates] * width + p.eta[candidates]
    low = np.searchsorted(key[order], centre - cone, side="left")
    size = np.searchsorted(key[order], centre + cone, side="right") - low
    pair = np.repeat(np.arange(len(candidates)), size)
    other = others[order[_ranges(low, size)]]
    mine = candidates[pair]
    dphi = np.angle(np.exp(1j * (p.phi[other] - p.phi[mine])))
    near = ((p.eta[other] - p.eta[mine]) ** 2 + dphi**2 < cone**2) & (other != mine)
    return np.bincount(pair[near], weights=p.pt[other[near]], minlength=len(candidates))


def _measured_pt(p: _Event, kind: str, index: np.ndarray, card: DetectorCard, rng: np.random.Generator) -> np.ndarray:
    """pT (GeV) of candidate electrons and photons (ECAL energy resolution) or muons (momentum resolution)."""
    noise = rng.standard_normal(len(index))
    if kind == "muons":
        return p.pt[index] * (1.0 + card.muons.resolution.relative(p.abs_eta[index], p.pt[index]) * noise)
    energy = p.E[index]
    measured = energy + card.ecal.resolution.sigma(p.abs_eta[index], energy) * noise
    return p.pt[index] * measured / energy


def _objects(p: _Event, flow: np.ndarray, card: DetectorCard, rng: np.random.Generator) -> dict[str, tuple]:
    """Per kind, the identified isolated objects: (particle index, measured pT)."""
    objects = {}
    for kind, pid in OBJECT_IDS.items():
        cuts = getattr(card, kind)
        index = np.flatnonzero(p.visible & (np.abs(p.pid) == pid) & (p.E > 0))
        pt = _measured_pt(p, kind, index, card, rng)
        found = rng.random(len(index)) < cuts.probability(p.abs_eta[index], pt)
        index, pt = index[found], pt[found]
        others = np.flatnonzero(flow & (p.pt > cuts.isolation.pt_min))
        isolated = _isolation(p, others, index, cuts.isolation.cone) <= cuts.isolation.max_ratio * pt
        objects[kind] = (index[isolated], pt[isolated])
    return objects


def _jets(p: _Event, inputs: np.ndarray, card: DetectorCard, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Anti-kT jets of the particles ``inputs`` (mask), each four-momentum scaled by 1 + (σ(pT)/pT)·N(0, 1)."""
    chosen = np.flatnonzero(inputs)
    counts = np.bincount(p.event[chosen], minlength=p.n_events)
    jets, jet_counts, _, _ = cluster_jets(p.px[chosen], p.py[chosen], p.pz[chosen], p.E[chosen], counts,
                                          R=card.jets.radius, pt_min=0.0)
    event = np.repeat(np.arange(p.n_events), jet_counts)
    scale = 1.0 + card.jets.relative(jets["pt"]) * rng.standard_normal(len(event))
    px, py, pz, E, pt = (jets[name] * scale for name in ("px", "py", "pz", "E", "pt"))
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(pz / pt)
    keep = (scale > 0) & (pt > card.jets.pt_min) & (np.abs(eta) < card.jets.eta_max)
    mass = np.sqrt(np.maximum(E**2 - px**2 - py**2 - pz**2, 0.0))
    return {"event": event[keep], "pt": pt[keep], "eta": eta[keep], "phi": np.arctan2(py, px)[keep],
            "mass": mass[keep]}


def _missing_pt(found: dict[str, dict[str, np.ndarray]], names: tuple[str, ...], n: int) -> tuple[np.ndarray, ...]:
    """Missing pT and its azimuth: minus the vector sum of the objects ``names``."""
    sums = [sum((np.bincount(found[k]["event"], weights=found[k]["pt"] * trig(found[k]["phi"]), minlength=n)
                 for k in names), np.zeros(n)) for trig in (np.cos, np.sin)]
    met = np.hypot(*sums)
    return met, np.where(met > 0, np.arctan2(-sums[1], -sums[0]), 0.0)


def simulate(truth: Particles, card: DetectorCard | None = None, *, pileup: Particles | None = None,
             random_state=None) -> Reconstruction:
    """Pass truth events through the parametric detector described by ``card`` (default: CMS-like).

    Parameters
    ----------
    truth : Particles
        Final-state particles with features ``TRUTH_FEATURES`` = (E, px, py, pz [GeV], pid, charge [e]),
        one row per event (what :func:`likely.data.generate.pythia.truth_particles` makes).
    card : DetectorCard, optional
        The detector; ``DetectorCard.cms()`` if None.
    pileup : Particles, optional
        Minimum-bias truth events: each event gets Poisson(``card.pileup.mean``) of them, drawn
        at random with replacement. Their tracks are flagged and left out of ``n_tracks`` and
        of the jets and isolation sums (charged-hadron subtraction); the calorimeters keep them.
    random_state : int, numpy Generator or None
        Seed of every random draw: the same seed and input give the same reconstruction.

    Returns
    -------
    Reconstruction
        Row ``i`` of every member is event ``i`` of ``truth``.
    """
    card = DetectorCard.cms() if card is None else card
    if not isinstance(card, DetectorCard):
        raise TypeError(f"card must be a DetectorCard; got {type(card).__name__}")
    mean = card.pileup.mean
    if (pileup is None) != (mean == 0):
        raise ValueError(f"pileup events and card.pileup.mean go together: pileup is "
                         f"{'missing' if pileup is None else 'given'} and card.pileup.mean is {mean:g}")
    rng = np.random.default_rng(random_state)
    p = _overlay(truth, pileup, mean, card, rng)
    tracked, track_pt = _tracks(p, card, rng)
    ecal, hcal, deposited = _calorimeters(p, card, rng)
    flow = (tracked | deposited) & ~(p.pileup & tracked)
    objects = _objects(p, flow, card, rng)
    used = np.zeros(len(p), dtype=bool)
    for index, _ in objects.values():
        used[index] = True
    found = {kind: {"event": p.event[index], "pt": pt, "eta": p.eta[index], "phi": p.phi[index],
                    "charge": p.charge[index]} for kind, (index, pt) in objects.items()}
    found["jets"] = _jets(p, flow & ~used, card, rng)
    return _reconstruction(p, tracked, track_pt, ecal, hcal, found, card, truth)


def _reconstruction(p: _Event, tracked, track_pt, ecal, hcal, found, card: DetectorCard,
                    truth: Particles) -> Reconstruction:
    n = p.n_events
    tracks = _sets(p.event[tracked], n, TRACK_FEATURES, track_pt[tracked], p.eta[tracked], p.phi[tracked],
                   p.charge[tracked], p.pileup[tracked].astype(np.float64))
    objects = {kind: _sets(f["event"], n, LEPTON_FEATURES, f["pt"], f["eta"], f["phi"], f["charge"])
               for kind, f in found.items() if kind != "jets"}
    jets = found["jets"]
    met, met_phi = _missing_pt(found, card.met.objects, n)
    ht = sum(np.bincount(f["event"], weights=f["pt"], minlength=n) for f in found.values())
    return Reconstruction(
        tracks=tracks, ecal=ecal, hcal=hcal, **objects,
        jets=_sets(jets["event"], n, JET_FEATURES, jets["pt"], jets["eta"], jets["phi"], jets["mass"]),
        met=met.astype(np.float32), met_phi=met_phi.astype(np.float32),
        n_tracks=np.bincount(p.event[tracked & ~p.pileup], minlength=n).astype(np.int64),
        ht=np.asarray(ht, dtype=np.float32), card=card, label=truth.label, columns=dict(truth.columns))
