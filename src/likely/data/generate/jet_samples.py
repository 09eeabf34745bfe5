"""Jets with their constituents from Pythia 8 + FastJet: top tagging, dark (semi-visible) jets, light QCD.

The samples of the top-tagging and dark-jet studies of seed 003 (digest §2.3–2.4), made here:

* **top**: all-hadronic tt̄ (``Top:gg2ttbar``, ``Top:qqbar2ttbar``, W → qq̄′ only); a jet is
  kept when the last copy of a top quark (after its radiation, before its decay) lies within
  ΔR < ``match_dr`` of the jet axis. The public top-tagging set (Kasieczka, Plehn, Russell,
  Schell, arXiv:1707.08966 and 1902.09914): anti-kT R = 0.8, pT 550–650 GeV, |η| < 2, the
  200 hardest constituents (E, px, py, pz).
* **dark**: s-channel Z′ → q_d q̄_d with Pythia's Hidden Valley module (``HiddenValley:ffbar2Zv``,
  dark SU(3), running coupling, dark showers and fragmentation), dark mesons decaying to
  invisible stable particles (ids 51, 53) with probability ``r_inv`` and to SM quarks
  (hadronized by Pythia, ``meMode 91``) otherwise. The jet must lie within ΔR < ``match_dr``
  of a dark quark. Presets (:data:`DARK_PRESETS`): the "Aachen" benchmark of seed 003
  (Z′ 2 TeV, m_qd 0.5 GeV, m_πd 4 GeV, m_ρd 5 GeV, r_inv 0.75; jets pT 150–300 GeV) with
  its variations, and seed 004's semi-visible jets (after Canelli et al., JHEP 02 (2022) 074:
  m_dark 20 GeV, r_inv 0.3) at Z′ masses 2.1, 3.1 and 4.1 TeV.
* **qcd**: light-QCD dijets (``HardQCD:all``), the background of both; no matching.

Common to all: 13 TeV, multi-parton interactions on, anti-kT jets of every visible
final-state particle (neutrinos and dark invisibles excluded); of each event the hardest
jet that passes the pT window, |η| < ``eta_max`` and the matching is kept (one jet per
event, so the jets of a sample are independent). Per jet: its constituents sorted by pT
(the ``max_constituents`` hardest, as E, px, py, pz in GeV) and the columns of
:data:`JET_COLUMNS`.

Generation runs in seeded chunks on the shared driver (:mod:`likely.data.generate.driver`),
so it parallelizes, resumes after a kill, and does not depend on the number of workers.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_choice, check_positive
from likely.data.generate.driver import ChunkedGenerator, generate_in_chunks, plan_run, save_chunk
from likely.data.generate.pythia import (
    COMMON, ParticleTable, final_state, generator_versions, last_copies, num, prefix_record, select_events,
    selection_summary, start_pythia, validate_seed,
)
from likely.data.jets import _ranges, cluster_jets, jet_columns
from likely.data.particles import Particles, write_particles

__all__ = [
    "DARK_PRESETS",
    "JET_COLUMNS",
    "JET_FEATURES",
    "JET_PROCESSES",
    "JetSettings",
    "generate_jet_chunk",
    "generate_jets",
    "jet_pythia_settings",
    "run_jet_chunk",
]

JET_PROCESSES = ("qcd", "top", "dark")
#: constituent features, as in the public top-tagging set
JET_FEATURES = ("E", "px", "py", "pz")
#: per-jet columns; ``truth_*`` (the matched top or dark quark) and ``truth_dr`` are 0 for QCD jets
JET_COLUMNS = ("pt", "eta", "phi", "mass", "tau1", "tau2", "tau3", "n_constituents",
               "truth_pt", "truth_eta", "truth_phi", "truth_dr")
LABELS = {"qcd": 0, "top": 1, "dark": 1}
#: the partons a signal jet is matched to: tops, dark quarks
MATCHED = {"top": (6,), "dark": (4900101,)}
DARK_QUARK, DARK_PION, DARK_RHO, ZPRIME = 4900101, 4900111, 4900113, 4900023
CHUNK_FORMAT = 1
CHUNK_KEYS = ("file", "label", "seed", "selected", "tried", "failed", "sigma_mb", "sigma_err_mb", "seconds",
              "settings")
#: SM hadron pair thresholds (GeV) for the quark a dark meson decays to: above 2 m_B + 1, b b̄; above 2 m_D + 0.5, c c̄
QUARK_THRESHOLDS = ((5, 2 * 5.28 + 1.0), (4, 2 * 1.87 + 0.5))

#: Named dark-sector settings (GeV): seed 003's Aachen benchmark and variations, seed 004's SVJ.
DARK_PRESETS: dict[str, dict[str, float]] = {
    "aachen": dict(mzprime=2000.0, m_dark_quark=0.5, m_dark_pion=4.0, m_dark_rho=5.0, r_inv=0.75, pt_min=150.0,
                   pt_max=300.0),
    "aachen-rinv0.5": dict(mzprime=2000.0, m_dark_quark=0.5, m_dark_pion=4.0, m_dark_rho=5.0, r_inv=0.5,
                           pt_min=150.0, pt_max=300.0),
    "aachen-rinv0.2": dict(mzprime=2000.0, m_dark_quark=0.5, m_dark_pion=4.0, m_dark_rho=5.0, r_inv=0.2,
                           pt_min=150.0, pt_max=300.0),
    "aachen-m10": dict(mzprime=2000.0, m_dark_quark=5.0, m_dark_pion=10.0, m_dark_rho=10.0, r_inv=0.75,
                       pt_min=150.0, pt_max=300.0),
    "aachen-m20": dict(mzprime=2000.0, m_dark_quark=10.0, m_dark_pion=20.0, m_dark_rho=20.0, r_inv=0.75,
                       pt_min=150.0, pt_max=300.0),
    **{f"svj-{m:.1f}": dict(mzprime=1000.0 * m, m_dark_quark=10.0, m_dark_pion=20.0, m_dark_rho=20.0, r_inv=0.3,
                            pt_min=150.0, pt_max=None) for m in (2.1, 3.1, 4.1)},
}


@dataclass(frozen=True)
class JetSettings:
    """The physics of a jet sample (GeV); validated.

    Parameters
    ----------
    process : {"qcd", "top", "dark"}
        Light-QCD dijets (label 0), all-hadronic tt̄ or Hidden Valley Z′ → q_d q̄_d (label 1).
    pt_min, pt_max : float
        Jet pT window (``pt_max`` None: no upper cut). Default 550–650 (top tagging).
    eta_max : float
        Jet |η| cut.
    R : float
        Anti-kT radius; also the N-subjettiness normalization R0.
    match_dr : float
        Signal jets lie within this ΔR (η, φ) of the matched top or dark quark.
    max_constituents : int
        Constituents kept per jet, the hardest.
    pthat_min : float or None
        ``PhaseSpace:pTHatMin`` of qcd and top (None: 0.8 × ``pt_min``, which loses a few per
        mille of the jets at the bottom of the window; see docs/generate.md).
    mzprime, m_dark_quark, m_dark_pion, m_dark_rho, r_inv, dark_lambda
        The dark sector (process "dark"): Z′ mass, dark-quark, dark-pion and dark-rho masses,
        the invisible fraction of dark-meson decays, and the dark confinement scale
        Λ_d (None: ``m_dark_rho``).

    Examples
    --------
    >>> JetSettings.preset("aachen").r_inv
    0.75
    """

    process: str = "qcd"
    pt_min: float = 550.0
    pt_max: float | None = 650.0
    eta_max: float = 2.0
    R: float = 0.8
    match_dr: float = 0.8
    max_constituents: int = 200
    pthat_min: float | None = None
    mzprime: float = 2000.0
    m_dark_quark: float = 0.5
    m_dark_pion: float = 4.0
    m_dark_rho: float = 5.0
    r_inv: float = 0.75
    dark_lambda: float | None = None

    def __post_init__(self) -> None:
        check_choice(self.process, "process", JET_PROCESSES)
        for name in ("pt_min", "eta_max", "R", "match_dr", "mzprime", "m_dark_quark", "m_dark_pion", "m_dark_rho"):
            check_positive(getattr(self, name), name)
            object.__setattr__(self, name, float(getattr(self, name)))
        check_positive(self.max_constituents, "max_constituents", integer=True)
        for name in ("pt_max", "pthat_min", "dark_lambda"):
            if getattr(self, name) is not None:
                check_positive(getattr(self, name), name)
                object.__setattr__(self, name, float(getattr(self, name)))
        if self.pt_max is not None and self.pt_max <= self.pt_min:
            raise ValueError(f"pt_max must exceed pt_min; got {self.pt_max:g} <= {self.pt_min:g} GeV")
        if self.pthat_min is not None and self.pthat_min >= self.pt_min:
            raise ValueError(f"pthat_min ({self.pthat_min:g} GeV) must stay below pt_min ({self.pt_min:g} GeV), "
                             "or it removes jets inside the window")
        if not 0.0 <= self.r_inv <= 1.0:  # checked for every process: a stray value is a mistake
            raise ValueError(f"r_inv must be in [0, 1]; got {self.r_inv!r}")
        if self.process == "dark":
            self._check_dark()

    def _check_dark(self) -> None:
        check_dark_sector(self.record())
        if self.mzprime <= 2 * self.m_dark_quark + self.pt_min:
            raise ValueError(f"mzprime ({self.mzprime:g} GeV) is too light to make jets above pt_min = {self.pt_min:g}")

    @classmethod
    def preset(cls, name: str, **changes: Any) -> JetSettings:
        """The dark-jet preset ``name`` (:data:`DARK_PRESETS`), with ``changes`` applied."""
        check_choice(name, "preset", tuple(DARK_PRESETS))
        return replace(cls("dark", **DARK_PRESETS[name]), **changes)

    @property
    def label(self) -> int:
        """0 for QCD, 1 for the signals."""
        return LABELS[self.process]

    @property
    def pthat(self) -> float:
        """The ``PhaseSpace:pTHatMin`` of qcd and top (GeV)."""
        return 0.8 * self.pt_min if self.pthat_min is None else self.pthat_min

    def record(self) -> dict[str, Any]:
        """All settings, as recorded in every chunk and in ``<out>.json``."""
        return asdict(self)


#: the parameters of a Hidden Valley dark sector (GeV; ``dark_lambda`` None: ``m_dark_rho``)
DARK_PARAMETERS = ("mzprime", "m_dark_quark", "m_dark_pion", "m_dark_rho", "r_inv", "dark_lambda")


def check_dark_sector(p: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless the dark sector ``p`` (:data:`DARK_PARAMETERS`) can be generated."""
    if not 0.0 <= p["r_inv"] <= 1.0:
        raise ValueError(f"r_inv must be in [0, 1]; got {p['r_inv']!r}")
    if not p["m_dark_pion"] >= 2 * p["m_dark_quark"]:
        raise ValueError(f"m_dark_pion ({p['m_dark_pion']:g} GeV) must be at least 2 m_dark_quark "
                         f"({2 * p['m_dark_quark']:g} GeV)")
    if p["m_dark_rho"] < p["m_dark_pion"]:
        raise ValueError(f"m_dark_rho ({p['m_dark_rho']:g} GeV) must be at least m_dark_pion ({p['m_dark_pion']:g})")
    if p["m_dark_pion"] <= 2 * 0.5:
        raise ValueError(f"m_dark_pion must exceed 1 GeV so that its s s̄ decay can hadronize; got {p['m_dark_pion']:g}")


def dark_sector_lines(p: Mapping[str, Any]) -> list[str]:
    """The Hidden Valley lines of the dark sector ``p``: Z′ → q_d q̄_d, dark showers and fragmentation,
    dark-meson decays (invisible with probability ``r_inv``, else to the heaviest open SM quark pair)."""
    quark = next((q for q, threshold in QUARK_THRESHOLDS if p["m_dark_pion"] > threshold), 3)
    rho_quarks = [q for q in (1, 2, 3, 4, 5)
                  if q <= 3 or any(q == k and p["m_dark_rho"] > t for k, t in QUARK_THRESHOLDS)]
    visible_rho = (1.0 - p["r_inv"]) / len(rho_quarks)
    invisible_mass = num(0.4 * p["m_dark_pion"])  # stable dark matter, light enough for both meson decays
    lam = p["m_dark_rho"] if p.get("dark_lambda") is None else p["dark_lambda"]
    return [
        "HiddenValley:ffbar2Zv = on",
        f"{ZPRIME}:m0 = {num(p['mzprime'])}",
        f"{ZPRIME}:mMin = {num(0.5 * p['mzprime'])}",
        f"{ZPRIME}:mMax = {num(1.5 * p['mzprime'])}",
        f"{ZPRIME}:onMode = off",
        f"{ZPRIME}:onIfAny = {DARK_QUARK}",
        "HiddenValley:Ngauge = 3",
        "HiddenValley:nFlav = 1",  # one dark flavour: every dark meson is flavour-diagonal and decays
        "HiddenValley:fragment = on",
        "HiddenValley:FSR = on",
        "HiddenValley:alphaOrder = 1",
        f"HiddenValley:Lambda = {num(lam)}",
        f"HiddenValley:pTminFSR = {num(1.1 * lam)}",
        "HiddenValley:spinFv = 0",
        f"{DARK_QUARK}:m0 = {num(p['m_dark_quark'])}",
        f"{DARK_PION}:m0 = {num(p['m_dark_pion'])}",
        f"{DARK_RHO}:m0 = {num(p['m_dark_rho'])}",
        f"51:m0 = {invisible_mass}",
        f"53:m0 = {invisible_mass}",
        f"{DARK_PION}:oneChannel = 1 {num(1.0 - p['r_inv'])} 91 -{quark} {quark}",
        f"{DARK_PION}:addChannel = 1 {num(p['r_inv'])} 0 51 -51",
        f"{DARK_RHO}:oneChannel = 1 {num(p['r_inv'])} 0 53 -53",
        *(f"{DARK_RHO}:addChannel = 1 {num(visible_rho)} 91 -{q} {q}" for q in rho_quarks),
    ]


def jet_pythia_settings(settings: JetSettings, seed: int) -> list[str]:
    """The Pythia 8 lines of one chunk of ``settings`` with ``seed``; recorded with the chunk."""
    validate_seed(seed, 1)
    lines = [*COMMON, f"Random:seed = {int(seed)}"]
    if settings.process == "qcd":
        lines += ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {num(settings.pthat)}"]
    elif settings.process == "top":
        lines += ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", f"PhaseSpace:pTHatMin = {num(settings.pthat)}",
                  "24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
    else:
        lines += dark_sector_lines(settings.record())
    return [*lines, "PartonLevel:MPI = on"]


# ------------------------------------------------------------------------ one batch
def _eta(px, py, pz) -> np.ndarray:
    """Pseudorapidity; ±inf along the beam."""
    with np.errstate(divide="ignore"):
        return np.arcsinh(pz / np.hypot(px, py))


def _delta_r(eta1, phi1, eta2, phi2) -> np.ndarray:
    dphi = np.abs(np.mod(phi1 - phi2 + np.pi, 2 * np.pi) - np.pi)
    return np.hypot(eta1 - eta2, dphi)


def _matched(jet_event, jet_eta, jet_phi, partons, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """Per jet: the index of the nearest parton of its event (or -1) and that ΔR (inf without one)."""
    event, _, p = partons
    counts = np.bincount(event, minlength=n_events)
    width = int(counts.max(initial=0))
    if width == 0:
        return np.full(len(jet_event), -1), np.full(len(jet_event), np.inf)
    slot = np.arange(len(event)) - np.repeat(np.cumsum(counts) - counts, counts)
    eta = np.full((n_events, width), np.inf)
    phi = np.zeros((n_events, width))
    eta[event, slot] = _eta(p[:, 1], p[:, 2], p[:, 3])
    phi[event, slot] = np.arctan2(p[:, 2], p[:, 1])
    with np.errstate(invalid="ignore"):
        dr = np.nan_to_num(_delta_r(jet_eta[:, None], jet_phi[:, None], eta[jet_event], phi[jet_event]), nan=np.inf)
    nearest = np.argmin(dr, axis=1)
    best = dr[np.arange(len(jet_event)), nearest]
    start = np.cumsum(counts) - counts
    return np.where(np.isfinite(best), start[jet_event] + nearest, -1), best


def _select(events, table: ParticleTable, s: JetSettings):
    """One batch: (positions of the events that give a jet, {"constituents": (n, P, 4), "columns": (n, 12)})."""
    state = final_state(events)
    n_events = len(state.counts)
    # exact necessary condition: a jet's pT is at most the scalar pT sum of the event's visible particles
    state = state.keep(table.visible(state.pid))
    ht = np.bincount(state.event, weights=np.hypot(state.px, state.py), minlength=n_events)
    candidates = np.flatnonzero(ht > s.pt_min)
    state = state.events(candidates)
    nothing = np.zeros(0, dtype=np.int64), {"constituents": np.zeros((0, s.max_constituents, 4), np.float32),
                                            "columns": np.zeros((0, len(JET_COLUMNS)))}
    if len(candidates) == 0:
        return nothing
    jets, jet_counts, constituents, offsets = cluster_jets(state.px, state.py, state.pz, state.E, state.counts,
                                                           R=s.R, pt_min=s.pt_min)
    jet_event = np.repeat(np.arange(len(candidates)), jet_counts)
    eta = _eta(jets["px"], jets["py"], jets["pz"])
    phi = np.arctan2(jets["py"], jets["px"])
    passed = np.abs(eta) < s.eta_max
    if s.pt_max is not None:
        passed &= jets["pt"] < s.pt_max
    truth, truth_dr = np.full(len(eta), -1), np.zeros(len(eta))
    partons = None
    if s.process in MATCHED:
        event, pid, p = last_copies(events, MATCHED[s.process])
        keep = np.isin(event, candidates)
        partons = (np.searchsorted(candidates, event[keep]), pid[keep], p[keep])
        truth, truth_dr = _matched(jet_event, eta, phi, partons, len(candidates))
        passed &= truth_dr < s.match_dr
    # the hardest passing jet of each event (jets are sorted by pT within events)
    chosen = np.flatnonzero(passed)
    chosen = chosen[np.unique(jet_event[chosen], return_index=True)[1]]
    if len(chosen) == 0:
        return nothing
    columns = _jet_columns(state, jets, constituents, offsets, chosen, s.R, eta, phi)
    if partons is not None:
        p = partons[2][truth[chosen]]
        columns[:, -4:] = np.column_stack([np.hypot(p[:, 1], p[:, 2]), _eta(p[:, 1], p[:, 2], p[:, 3]),
                                           np.arctan2(p[:, 2], p[:, 1]), truth_dr[chosen]])
    return candidates[jet_event[chosen]], {
        "constituents": _hardest_constituents(state, constituents, offsets, chosen, s.max_constituents),
        "columns": columns,
    }


def _jet_columns(state, jets, constituents, offsets, chosen, R, eta, phi) -> np.ndarray:
    """The :data:`JET_COLUMNS` of the jets ``chosen`` (truth columns zero)."""
    kinematics = jet_columns(state.px, state.py, state.pz, state.E, jets, constituents, offsets, chosen, R0=R)
    sizes = offsets[chosen + 1] - offsets[chosen]
    out = np.zeros((len(chosen), len(JET_COLUMNS)))
    out[:, :7] = np.column_stack([jets["pt"][chosen], eta[chosen], phi[chosen], kinematics[:, 3:]])
    out[:, 7] = sizes
    return out


def _hardest_constituents(state, constituents, offsets, chosen, width: int) -> np.ndarray:
    """(n, width, 4) E, px, py, pz of each chosen jet's hardest constituents, zero padded."""
    sizes = offsets[chosen + 1] - offsets[chosen]
    members = constituents[_ranges(offsets[chosen], sizes)]
    jet = np.repeat(np.arange(len(chosen)), sizes)
    order = np.lexsort((-np.hypot(state.px[members], state.py[members]), jet))
    members = members[order]
    flat = np.stack([state.E[members], state.px[members], state.py[members], state.pz[members]], axis=1)
    return Particles.from_counts(flat, sizes, JET_FEATURES, max_particles=width).values


# ------------------------------------------------------------------------ one chunk
def generate_jet_chunk(settings: JetSettings, n_jets: int, seed: int) -> tuple[Particles, dict[str, Any]]:
    """The first ``n_jets`` jets of ``settings`` that Pythia seed ``seed`` makes, and the chunk's record.

    Returns :class:`~likely.data.Particles` of ``JET_FEATURES`` (GeV) with the
    :data:`JET_COLUMNS` and ``label``, and the record (events tried, failed, cross-section,
    Pythia lines, settings, wall time). A smaller ``n_jets`` gives a prefix of a larger one.
    """
    check_positive(n_jets, "n_jets", integer=True)
    lines = jet_pythia_settings(settings, seed)
    start = time.perf_counter()
    pythia = start_pythia(lines)
    table = ParticleTable(pythia)
    chosen = select_events(pythia, n_jets, lambda events: _select(events, table, settings),
                           describe=f"{settings.process} jets, settings {settings.record()}")
    values = chosen.columns["constituents"]
    jets = Particles(values, np.any(values != 0, axis=2), JET_FEATURES,
                     columns=dict(zip(JET_COLUMNS, chosen.columns["columns"].T)),
                     label=np.full(n_jets, settings.label))
    jets.columns["attempt"] = chosen.attempt.astype(np.float32)
    record = {"format": CHUNK_FORMAT, "process": settings.process, "label": settings.label, "seed": int(seed),
              **chosen.record(), "seconds": round(time.perf_counter() - start, 3), "settings": lines,
              "jet_settings": settings.record()}
    return jets, record


def _chunk_columns(jets: Particles) -> dict[str, np.ndarray]:
    return {"constituents": jets.values, **{f"column_{name}": column for name, column in jets.columns.items()}}


def _chunk_jets(columns: Mapping[str, np.ndarray], label: int) -> Particles:
    values = columns["constituents"]
    return Particles(values, np.any(values != 0, axis=2), JET_FEATURES, label=np.full(len(values), label),
                     columns={name.removeprefix("column_"): column for name, column in columns.items()
                              if name.startswith("column_") and name != "column_attempt"})


def run_jet_chunk(path: str | os.PathLike, settings: JetSettings, n_jets: int, seed: int) -> dict[str, Any]:
    """Make one chunk (:func:`generate_jet_chunk`) and save it atomically to ``path`` (.npz); returns its record.

    A top-level function of plain arguments, for any executor (process pool, Dask).
    """
    jets, record = generate_jet_chunk(settings, n_jets, seed)
    record["file"] = Path(path).name
    save_chunk(path, _chunk_columns(jets), record)
    return record


def _trimmed(columns: Mapping[str, np.ndarray], record: dict, n: int) -> tuple[dict, dict]:
    columns = {name: values[:n] for name, values in columns.items()}
    return columns, prefix_record(record, n, int(columns["column_attempt"][-1]))


# ------------------------------------------------------------------------ the driver
def generate_jets(
    out: str | os.PathLike,
    settings: JetSettings | None = None,
    n_jets: int = 1000,
    *,
    chunk_size: int = 1000,
    workers: int = 1,
    seed: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor: concurrent.futures.Executor | None = None,
) -> Path:
    """Generate ``n_jets`` jets of ``settings`` and write them as a particles file.

    Parameters
    ----------
    out : path (.h5)
        Output, :func:`likely.data.write_particles` layout (read it back with
        :func:`likely.data.read_particles`): constituents (N, ``max_constituents``, 4) E,
        px, py, pz in GeV, the :data:`JET_COLUMNS` and ``label``. ``<out>.json`` beside it
        records every chunk (seed, events tried, cross-section, Pythia lines).
    settings : JetSettings, optional
        Process and cuts (default: QCD jets of the top-tagging window).
    n_jets, chunk_size, workers, seed, overwrite, progress, executor
        As in :func:`likely.data.generate.generate_dijet`: chunk k holds ``chunk_size`` jets
        made with Pythia seed ``seed + k``; finished chunks in ``<out>.chunks/`` are reused
        by a rerun.

    Returns
    -------
    Path of the output file.
    """
    settings = JetSettings() if settings is None else settings
    if not isinstance(settings, JetSettings):
        raise TypeError(f"settings must be a JetSettings; got {settings!r}")
    plan = plan_run(out, n_jets, chunk_size, workers, overwrite)
    validate_seed(seed, len(plan.sizes))

    def matches(k: int, record: dict, size: int) -> bool:
        return (record.get("format") == CHUNK_FORMAT and record.get("settings") == jet_pythia_settings(settings, seed + k)
                and record.get("jet_settings") == settings.record())

    def summary(columns, records) -> dict[str, Any]:
        return {"process": settings.process, "label": settings.label, "jets": plan.n_events,
                "chunk_size": plan.chunk_size, "seed": seed, **settings.record(),
                **selection_summary(records, plan.n_events),
                "selection": f"anti-kT R = {settings.R} jets of visible final-state particles; the hardest per "
                             "event in the pT window and |eta| cut" + (
                                 f", within dR < {settings.match_dr} of a {'top' if settings.process == 'top' else 'dark quark'}"
                                 if settings.process in MATCHED else "")}

    generator = ChunkedGenerator(
        name=f"{settings.process} jets", count="selected",
        chunk_name=lambda k: f"chunk{k:05d}_seed{seed + k}.npz",
        run_chunk=run_jet_chunk, chunk_args=lambda k, path, size: (path, settings, size, seed + k),
        matches=matches, trim=_trimmed,
        write=lambda path, columns: write_particles(path, _chunk_jets(columns, settings.label), overwrite=overwrite),
        summary=summary, chunk_keys=CHUNK_KEYS, versions=generator_versions(),
    )
    return generate_in_chunks(generator, plan, workers=workers, executor=executor, progress=progress)
