"""Whole events as truth final states: what the parametric detector, event images and multi-object
layouts are made from.

A process is an :class:`~likely.data.generate.pythia.EventProcess`: its Pythia lines as a function of its parameters, a
label, and optionally a Pythia user hook that completes its events (SUEP replaces the
mediator by its dark mesons before the shower). :data:`EVENT_PROCESSES` lists the known ones;
an :class:`EventSettings` picks one, overrides some of its parameters and sets the
generator-level filters. Every kept event is written with all its final-state particles
inside ``|η| < eta_max`` (:data:`~likely.data.generate.pythia.TRUTH_FEATURES`: E, px, py,
pz in GeV, PDG id, charge; hardest first) and the per-event :data:`EVENT_COLUMNS`.

Generator-level filters (both off at 0) keep the expensive samples small; the detector's
own selection (e.g. seed 004's reconstructed H_T > 500 GeV, the ADC lepton trigger) is
applied afterwards by ``likely generate detector``, so a filter must be looser than it:

* ``ht_min``: H_T of the truth jets (anti-kT R = 0.4 of visible particles, pT > 30 GeV,
  |η| < 2.5), the truth analogue of seed 004's preselection;
* ``lepton_pt_min``: at least one electron or muon with |η| < 2.5 above it.

Generation runs in seeded chunks on the shared driver (:mod:`likely.data.generate.driver`),
so it parallelizes, resumes after a kill, and does not depend on the number of workers.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_choice, check_positive
from likely.data.generate.driver import ChunkedGenerator, generate_in_chunks, plan_run, save_chunk
from likely.data.generate.jet_samples import DARK_PRESETS, check_dark_sector, dark_sector_lines
from likely.data.generate.multiobject import ADC_PROCESSES
from likely.data.generate.pythia import (
    COMMON, E_CM, TRUTH_FEATURES, EventProcess, Params, ParticleTable, final_state, generator_versions, num,
    prefix_record, select_events, selection_summary, start_pythia, truth_particles, validate_seed,
)
from likely.data.generate.suep import SUEP_PROCESS
from likely.data.jets import cluster_jets
from likely.data.particles import Particles, write_particles

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_PROCESSES",
    "EventProcess",
    "EventSettings",
    "event_pythia_settings",
    "generate_event_chunk",
    "generate_events",
    "run_event_chunk",
]

#: per-event columns: truth-jet H_T, truth missing pT (invisible particles), leading e/μ pT (GeV), particles kept
EVENT_COLUMNS = ("ht", "met", "lepton_pt", "n_particles")
#: truth jets of the H_T filter: anti-kT radius, pT threshold (GeV), |η| range
HT_JET_R, HT_JET_PT_MIN, HT_JET_ETA_MAX = 0.4, 30.0, 2.5
LEPTON_ETA_MAX = 2.5
CHUNK_FORMAT = 1
CHUNK_KEYS = ("file", "label", "seed", "selected", "tried", "failed", "sigma_mb", "sigma_err_mb", "seconds",
              "settings")

def _qcd_check(p: Params) -> None:
    check_positive(p["pthat_min"], "pthat_min")


def _svj_check(p: Params) -> None:
    check_dark_sector(p)
    for name in ("mzprime", "m_dark_quark", "m_dark_pion", "m_dark_rho"):
        check_positive(p[name], name)


_SVJ = {name: value for name, value in DARK_PRESETS["svj-3.1"].items() if not name.startswith("pt_")}

#: The processes of :func:`generate_events`, by name.
EVENT_PROCESSES: dict[str, EventProcess] = {
    process.name: process for process in (
        EventProcess("qcd", "QCD multijets (HardQCD:all), the background of the event-image studies and, with a "
                     "lower pthat_min and the lepton filter, of the ADC multi-object events", 0,
                     {"pthat_min": 150.0},
                     lambda p: ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {num(p['pthat_min'])}"], _qcd_check),
        EventProcess("svj", "semi-visible jets: Hidden Valley Z' -> q_d q_d~ (seed 004, after Canelli et al.)", 1,
                     {**_SVJ, "dark_lambda": None}, dark_sector_lines, _svj_check),
        SUEP_PROCESS,
        EventProcess("minbias", "minimum-bias (inelastic non-diffractive) collisions, to overlay as pile-up", 0, {},
                     lambda p: ["SoftQCD:nonDiffractive = on"]),
        *ADC_PROCESSES,
    )
}


@dataclass(frozen=True)
class EventSettings:
    """The physics of an event sample: a process, its parameters, generator-level filters (GeV).

    Parameters
    ----------
    process : str
        A name of :data:`EVENT_PROCESSES`.
    params : mapping, optional
        Parameters of the process to change from its defaults (unknown names are refused).
    ht_min : float
        Keep events whose truth-jet H_T is at least this (0: all).
    lepton_pt_min : float
        Keep events with an electron or muon above this pT in |η| < 2.5 (0: all).
    eta_max : float
        Final-state particles beyond this |η| are not written (5: the reach of a CMS-like detector).

    Examples
    --------
    >>> EventSettings("svj", {"mzprime": 2100.0}).params["r_inv"]
    0.3
    """

    process: str = "qcd"
    params: Mapping[str, Any] = field(default_factory=dict)
    ht_min: float = 0.0
    lepton_pt_min: float = 0.0
    eta_max: float = 5.0

    def __post_init__(self) -> None:
        check_choice(self.process, "process", tuple(EVENT_PROCESSES))
        defaults = EVENT_PROCESSES[self.process].defaults
        unknown = sorted(set(self.params) - set(defaults))
        if unknown:
            raise ValueError(f"params: {self.process} has no parameter {unknown[0]!r}; "
                             f"its parameters are {sorted(defaults)}")
        params = {**defaults, **self.params}
        for name, value in params.items():
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
                    raise TypeError(f"params[{name!r}] must be a number; got {value!r}")
                params[name] = float(value)
        EVENT_PROCESSES[self.process].check(params)
        object.__setattr__(self, "params", dict(sorted(params.items())))
        for name, reach in (("ht_min", E_CM), ("lepton_pt_min", E_CM / 2)):
            check_positive(getattr(self, name), name, allow_zero=True)
            if getattr(self, name) >= reach:
                raise ValueError(f"{name} must be below {reach:g} GeV, the most a 13 TeV collision can give; "
                                 f"got {getattr(self, name)!r}: nothing would pass")
            object.__setattr__(self, name, float(getattr(self, name)))
        check_positive(self.eta_max, "eta_max")
        object.__setattr__(self, "eta_max", float(self.eta_max))

    @property
    def label(self) -> int:
        return EVENT_PROCESSES[self.process].label

    def record(self) -> dict[str, Any]:
        """All settings, as recorded in every chunk and in ``<out>.json``."""
        return {"process": self.process, "params": dict(self.params), "ht_min": self.ht_min,
                "lepton_pt_min": self.lepton_pt_min, "eta_max": self.eta_max}


def event_pythia_settings(settings: EventSettings, seed: int) -> list[str]:
    """The Pythia 8 lines of one chunk of ``settings`` with ``seed``; recorded with the chunk."""
    validate_seed(seed, 1)
    process = EVENT_PROCESSES[settings.process]
    return [*COMMON, f"Random:seed = {int(seed)}", *process.lines(settings.params), "PartonLevel:MPI = on"]


# ------------------------------------------------------------------------ one batch
def _pt_eta(px, py, pz) -> tuple[np.ndarray, np.ndarray]:
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pt, np.arcsinh(pz / pt)


def _truth_ht(state) -> np.ndarray:
    """(n_events,) scalar pT sum of the anti-kT R = 0.4 jets (pT > 30 GeV, |η| < 2.5) of ``state``."""
    jets, jet_counts, _, _ = cluster_jets(state.px, state.py, state.pz, state.E, state.counts, R=HT_JET_R,
                                          pt_min=HT_JET_PT_MIN)
    _, eta = _pt_eta(jets["px"], jets["py"], jets["pz"])
    central = np.abs(eta) < HT_JET_ETA_MAX
    event = np.repeat(np.arange(len(state.counts)), jet_counts)
    return np.bincount(event[central], weights=jets["pt"][central], minlength=len(state.counts))


def _leading_lepton_pt(state) -> np.ndarray:
    """(n_events,) pT of the hardest electron or muon in |η| < 2.5 (0 without one)."""
    pt, eta = _pt_eta(state.px, state.py, state.pz)
    lepton = np.isin(np.abs(state.pid), (11, 13)) & (np.abs(eta) < LEPTON_ETA_MAX)
    leading = np.zeros(len(state.counts))
    np.maximum.at(leading, state.event[lepton], pt[lepton])
    return leading


def _missing_pt(state) -> np.ndarray:
    """(n_events,) magnitude of the vector pT sum of ``state``'s particles."""
    n = len(state.counts)
    return np.hypot(np.bincount(state.event, weights=state.px, minlength=n),
                    np.bincount(state.event, weights=state.py, minlength=n))


def _select(events, table: ParticleTable, s: EventSettings):
    """One batch: (positions of the events that pass the filters, {"particles": their truth Particles})."""
    state = final_state(events)
    visible = table.visible(state.pid)
    met = _missing_pt(state.keep(~visible))
    _, eta = _pt_eta(state.px, state.py, state.pz)
    state = state.keep(np.abs(eta) < s.eta_max)
    ht = _truth_ht(state.keep(visible[np.abs(eta) < s.eta_max]))
    lepton = _leading_lepton_pt(state)
    rows = np.flatnonzero((ht >= s.ht_min) & (lepton >= s.lepton_pt_min))
    chosen = state.events(rows)
    columns = dict(zip(EVENT_COLUMNS, (ht[rows], met[rows], lepton[rows], chosen.counts)))
    return rows, {"particles": truth_particles(chosen, table, columns=columns,
                                               label=np.full(len(rows), s.label))}


# ------------------------------------------------------------------------ one chunk
def generate_event_chunk(settings: EventSettings, n_events: int, seed: int) -> tuple[Particles, dict[str, Any]]:
    """The first ``n_events`` events of ``settings`` that Pythia seed ``seed`` makes, and the chunk's record.

    Returns truth :class:`~likely.data.Particles` (``TRUTH_FEATURES``, hardest first) with
    the :data:`EVENT_COLUMNS`, an ``attempt`` column and ``label``, and the record (events
    tried, failed, cross-section, Pythia lines, settings, wall time). A smaller ``n_events``
    gives a prefix of a larger one.
    """
    check_positive(n_events, "n_events", integer=True)
    lines = event_pythia_settings(settings, seed)
    process = EVENT_PROCESSES[settings.process]
    start = time.perf_counter()
    hooks = None if process.user_hooks is None else process.user_hooks(settings.params, np.random.default_rng(seed))
    pythia = start_pythia(lines, hooks)
    table = ParticleTable(pythia)
    chosen = select_events(pythia, n_events, lambda events: _select(events, table, settings),
                           describe=f"{settings.process} events, settings {settings.record()}")
    events = chosen.columns["particles"]
    events.columns["attempt"] = chosen.attempt.astype(np.float32)
    record = {"format": CHUNK_FORMAT, "process": settings.process, "label": settings.label, "seed": int(seed),
              **chosen.record(), "seconds": round(time.perf_counter() - start, 3), "settings": lines,
              "event_settings": settings.record()}
    return events, record


def _chunk_columns(events: Particles) -> dict[str, np.ndarray]:
    """Flat particles (M, F) and counts, so chunks of different widths concatenate."""
    return {"particles": events.values[events.mask], "counts": events.counts,
            **{f"column_{name}": column for name, column in events.columns.items()}}


def _chunk_events(columns: Mapping[str, np.ndarray], label: int) -> Particles:
    counts = columns["counts"]
    return Particles.from_counts(columns["particles"], counts, TRUTH_FEATURES, label=np.full(len(counts), label),
                                 columns={name.removeprefix("column_"): column for name, column in columns.items()
                                          if name.startswith("column_") and name != "column_attempt"})


def run_event_chunk(path: str | os.PathLike, settings: EventSettings, n_events: int, seed: int) -> dict[str, Any]:
    """Make one chunk (:func:`generate_event_chunk`) and save it atomically to ``path`` (.npz); returns its record.

    A top-level function of plain arguments, for any executor (process pool, Dask).
    """
    events, record = generate_event_chunk(settings, n_events, seed)
    record["file"] = Path(path).name
    save_chunk(path, _chunk_columns(events), record)
    return record


def _trimmed(columns: Mapping[str, np.ndarray], record: dict, n: int) -> tuple[dict, dict]:
    kept = int(columns["counts"][:n].sum())
    columns = {name: values[:kept] if name == "particles" else values[:n] for name, values in columns.items()}
    return columns, prefix_record(record, n, int(columns["column_attempt"][-1]))


# ------------------------------------------------------------------------ the driver
def generate_events(
    out: str | os.PathLike,
    settings: EventSettings | None = None,
    n_events: int = 1000,
    *,
    chunk_size: int = 1000,
    workers: int = 1,
    seed: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor: concurrent.futures.Executor | None = None,
) -> Path:
    """Generate ``n_events`` whole events of ``settings`` and write their truth final states.

    Parameters
    ----------
    out : path (.h5)
        Output, :func:`likely.data.write_particles` layout (read it back with
        :func:`likely.data.read_particles`; ``likely generate detector`` reads it): per event
        its final-state particles (E, px, py, pz in GeV, pid, charge), hardest first, the
        :data:`EVENT_COLUMNS` and ``label``. ``<out>.json`` beside it records every chunk.
    settings : EventSettings, optional
        Process, parameters and filters (default: QCD multijets, no filter).
    n_events, chunk_size, workers, seed, overwrite, progress, executor
        As in :func:`likely.data.generate.generate_dijet`: chunk k holds ``chunk_size``
        events made with Pythia seed ``seed + k``; finished chunks in ``<out>.chunks/`` are
        reused by a rerun.

    Returns
    -------
    Path of the output file.
    """
    settings = EventSettings() if settings is None else settings
    if not isinstance(settings, EventSettings):
        raise TypeError(f"settings must be an EventSettings; got {settings!r}")
    plan = plan_run(out, n_events, chunk_size, workers, overwrite)
    validate_seed(seed, len(plan.sizes))

    def matches(k: int, record: dict, size: int) -> bool:
        return (record.get("format") == CHUNK_FORMAT
                and record.get("settings") == event_pythia_settings(settings, seed + k)
                and record.get("event_settings") == settings.record())

    def summary(columns, records) -> dict[str, Any]:
        return {**settings.record(), "label": settings.label, "events": plan.n_events, "chunk_size": plan.chunk_size,
                "seed": seed, **selection_summary(records, plan.n_events),
                "mean_particles": float(np.mean(columns["counts"]))}

    generator = ChunkedGenerator(
        name=f"{settings.process} events", count="selected",
        chunk_name=lambda k: f"chunk{k:05d}_seed{seed + k}.npz",
        run_chunk=run_event_chunk, chunk_args=lambda k, path, size: (path, settings, size, seed + k),
        matches=matches, trim=_trimmed,
        write=lambda path, columns: write_particles(path, _chunk_events(columns, settings.label), overwrite=overwrite),
        summary=summary, chunk_keys=CHUNK_KEYS, versions=generator_versions(),
    )
    return generate_in_chunks(generator, plan, workers=workers, executor=executor, progress=progress)
