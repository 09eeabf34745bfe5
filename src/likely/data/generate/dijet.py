"""LHC Olympics-style dijet events from Pythia 8 + FastJet: QCD background, W′ → X Y and Z′ → tt̄ signals.

The recipe of the LHC Olympics 2020 R&D data set, without detector simulation:

* pp at 13 TeV, multi-parton interactions off (no pileup);
* background: ``HardQCD:all`` with ``PhaseSpace:pTHatMin`` (700 GeV by default, which loses
  about 0.8 % of the triggered events, mostly at low mjj; 600 GeV is unbiased but 2.2× slower);
* signal: W′ → X Y, X → qq′ (X charged, a W′ is), Y → qq̄, with m(W′) = 3.5 TeV,
  mX = 500 GeV, mY = 100 GeV by default (X and Y are narrow scalars: width 1 % of the mass,
  mass window ±10 %; the W′ line shape is cut at ``max(mW′ − 1 TeV, 1.1 (mX + mY))``);
* signal for Flux+Mutability (seed 001): Z′ → tt̄ (``NewGaugeBoson:ffbar2gmZZprime``, pure Z′,
  only the top channel open), m(Z′) = 1.3 TeV by default, so that the leading jet's pT
  populates the paper's 450-800 GeV;
* anti-kT R = 1.0 jets of all visible final-state particles (neutrinos excluded);
* trigger: leading jet pT > 1.2 TeV and at least two jets with pT > 20 GeV by default;
  ``leading_pt_min``, ``leading_pt_max`` and ``subleading_pt_min`` change it (the F+M study
  uses 450, 800 and 200 GeV);
* per event, the two leading jets' px, py, pz, mass and N-subjettiness τ1, τ2, τ3 (β = 1,
  exclusive-kT axes; :func:`likely.data.jets.nsubjettiness`), the LHCO features schema.

A jet made of one particle has τ1 = τ2 = τ3 = 0, so its τ21 is NaN (rare: 1 of 175k QCD and 5
of 105k signal events in the reference sample). Such events stay in the file with their τ values as computed; readers
decide what to do with them.

Generation runs in seeded chunks: chunk k uses Pythia seed ``seed + k`` and keeps its first
``chunk_size`` selected events (the last chunk fewer), so the output depends only on the
seed and the settings, never on the number of workers. The physics settings of a sample
(process, masses, jet cuts) are one :class:`DijetSettings`. :func:`run_chunk` is a top-level
function of plain arguments that writes one chunk file, so it can be submitted to any
executor: a ``ProcessPoolExecutor`` (``workers=N``), a Dask client (``client.submit`` or
``executor=client.get_executor()``), or called directly; :func:`generate_dijet` runs the
chunks on the driver shared by every generator (:mod:`likely.data.generate.driver`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_choice, check_positive
from likely.data.generate.driver import (
    ChunkedGenerator, RunPlan, generate_in_chunks, load_chunk, plan_run, save_chunk, work_dir,
)
from likely.data.generate.pythia import (
    COMMON, ParticleTable, final_state, generator_versions, num, parton_ht_veto, prefix_record, select_events,
    selection_summary, start_pythia, validate_seed,
)
from likely.data.jets import JET_PT_MIN, JET_R, cluster_jets, first_jets, jet_columns
from likely.data.lhco_events import HADRONS, pad_hadrons, write_lhco_events

__all__ = [
    "DIJET_COLUMNS",
    "FORMATS",
    "PROCESSES",
    "DijetSettings",
    "generate_chunk",
    "generate_dijet",
    "load_chunk",
    "pythia_settings",
    "run_chunk",
    "work_dir",
]

log = logging.getLogger(__name__)

PROCESSES = ("qcd", "wprime", "zprime")
#: output formats: the LHCO features file, or the raw LHCO event file of the events' visible particles
FORMATS = ("features", "lhco-events")
#: The LHC Olympics features-file columns (GeV), jets ordered by pT; ``label`` is added on writing.
DIJET_COLUMNS = (
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
)  # fmt: skip
LABELS = {"qcd": 0, "wprime": 1, "zprime": 1}

TRIGGER_PT_MIN = 1200.0
CHUNK_FORMAT = 1

#: The record entries of every chunk listed in ``<out>.json`` (``parton_veto`` only with the veto).
CHUNK_KEYS = ("file", "label", "seed", "selected", "tried", "failed", "sigma_mb", "sigma_err_mb", "seconds",
              "settings", "parton_veto")


@dataclass(frozen=True)
class DijetSettings:
    """The physics of a dijet sample: process, signal masses and jet cuts (GeV); validated.

    Parameters
    ----------
    process : {"qcd", "wprime", "zprime"}
        QCD background (label 0), W′ → X Y or Z′ → tt̄ signal (label 1).
    pthat_min : float
        QCD ``PhaseSpace:pTHatMin`` (700 loses ≈0.8 % of triggered events, 600 is unbiased
        and 2.2× slower, 800 loses 3.6 %); must stay below 1.5 × ``leading_pt_min``.
    pthat_max : float or None
        QCD ``PhaseSpace:pTHatMax``: with ``pthat_min``, one slice of the hard scale;
        :func:`likely.data.generate.mix_slices` combines slices by their cross-sections.
    mwprime, mx, my : float
        W′ signal masses; ``mx + my`` below 0.8 ``mwprime``.
    wprime_width : float or None
        W′ total width (GeV), forced (``34:doForceWidth``); None: the width Pythia computes
        from the couplings. A wide W′ (e.g. 10 % of its mass) is a bump the search methods
        were not tuned on.
    mzprime : float
        Z′ → tt̄ signal mass, above 2 m_top.
    leading_pt_min, leading_pt_max, subleading_pt_min : float
        Jet cuts: leading jet pT > ``leading_pt_min`` (default 1200, the LHC Olympics
        trigger) and < ``leading_pt_max`` (None: no upper cut), subleading jet pT >
        ``subleading_pt_min`` (default 20, the jet threshold). The F+M study of seed 001
        uses 450, 800 and 200 with ``pthat_min`` 400.
    parton_veto : bool
        Skip hadronizing and clustering the events whose final partons cannot give a jet
        above ``leading_pt_min`` (:func:`~likely.data.generate.pythia.parton_ht_veto`): the
        same selected sample, statistically, about 1.2x faster for the QCD
        background (docs/generate.md); the recorded cross-section and events tried are
        then those after the veto. Off by default so that earlier commands reproduce their
        samples event by event.

    Examples
    --------
    >>> DijetSettings("wprime", mwprime=3000.0, mx=300.0, my=150.0).label
    1
    """

    process: str = "qcd"
    pthat_min: float = 700.0
    pthat_max: float | None = None
    mwprime: float = 3500.0
    mx: float = 500.0
    my: float = 100.0
    wprime_width: float | None = None
    mzprime: float = 1300.0
    leading_pt_min: float = TRIGGER_PT_MIN
    leading_pt_max: float | None = None
    subleading_pt_min: float = JET_PT_MIN
    parton_veto: bool = False

    def __post_init__(self):
        if not isinstance(self.parton_veto, bool):
            raise TypeError(f"parton_veto must be True or False; got {self.parton_veto!r}")
        check_choice(self.process, "process", PROCESSES)
        for name in ("pthat_min", "mwprime", "mx", "my", "mzprime", "leading_pt_min", "subleading_pt_min"):
            check_positive(getattr(self, name), name)
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.pthat_max is not None:
            check_positive(self.pthat_max, "pthat_max")
            object.__setattr__(self, "pthat_max", float(self.pthat_max))
            if self.pthat_max <= self.pthat_min or self.process != "qcd":
                raise ValueError(f"pthat_max must exceed pthat_min ({self.pthat_min:g} GeV) and applies to qcd only; "
                                 f"got {self.pthat_max:g} GeV for process {self.process!r}")
        if self.wprime_width is not None:
            check_positive(self.wprime_width, "wprime_width")
            object.__setattr__(self, "wprime_width", float(self.wprime_width))
        if self.leading_pt_max is not None:
            check_positive(self.leading_pt_max, "leading_pt_max")
            object.__setattr__(self, "leading_pt_max", float(self.leading_pt_max))
            if self.leading_pt_max <= self.leading_pt_min:
                raise ValueError(f"leading_pt_max must exceed leading_pt_min; got {self.leading_pt_max:g} <= "
                                 f"{self.leading_pt_min:g} GeV")
        self._check_process()

    def _check_process(self) -> None:
        if self.process == "zprime" and self.mzprime <= 2 * 173.0:
            raise ValueError(f"mzprime must exceed 2 m_top = 346 GeV for Z' -> t tbar; got {self.mzprime:g} GeV")
        if self.process == "wprime" and self.mx + self.my >= 0.8 * self.mwprime:
            raise ValueError(
                "mx + my must be below 0.8 * mwprime so that W' -> X Y is open over the W' line shape; "
                f"got mx + my = {self.mx + self.my:g} GeV, mwprime = {self.mwprime:g} GeV"
            )
        if self.process == "qcd" and self.pthat_min >= self.leading_pt_min * 1.5:
            raise ValueError(
                f"pthat_min = {self.pthat_min:g} GeV would cut deep into the selected events "
                f"(leading jet pT > {self.leading_pt_min:g} GeV); use at most {self.leading_pt_min * 1.5:g}"
            )

    @property
    def label(self) -> int:
        """The truth label of the process: 0 background, 1 signal."""
        return LABELS[self.process]

    @property
    def physics(self) -> dict[str, float]:
        """The generator-level settings (GeV), as recorded in ``<out>.json``."""
        return {name: getattr(self, name)
                for name in ("pthat_min", "pthat_max", "mwprime", "mx", "my", "wprime_width", "mzprime", "parton_veto")}

    @property
    def cuts(self) -> dict[str, float | None]:
        """The jet cuts (GeV), as recorded in every chunk."""
        return {name: getattr(self, name) for name in ("leading_pt_min", "leading_pt_max", "subleading_pt_min")}


def _selection(cuts: Mapping[str, Any]) -> dict[str, Any]:
    """The selection as recorded in the JSON beside an output file."""
    return {
        "jets": f"anti-kT R = {JET_R}, visible final-state particles (neutrinos excluded)",
        "jet_pt_min": JET_PT_MIN,
        "leading_jet_pt_min": cuts["leading_pt_min"],
        "leading_jet_pt_max": cuts["leading_pt_max"],
        "subleading_jet_pt_min": cuts["subleading_pt_min"],
        "min_jets": 2,
        "nsubjettiness": "beta = 1, exclusive-kT axes, normalized by sum(pT) * R0, R0 = 1.0",
    }


def _scalar(pid: int, names: str, charge3: int, mass: float) -> str:
    """A narrow colour-singlet scalar: width 1 % of the mass, mass window ±10 %."""
    width, low, high = (num(f * mass) for f in (0.01, 0.9, 1.1))
    return f"{pid}:all = {names} 1 {charge3} 0 {num(mass)} {width} {low} {high} 0."


def pythia_settings(settings: DijetSettings, seed: int) -> list[str]:
    """The Pythia 8 settings (``readString`` lines) of one chunk; they are recorded in the JSON."""
    validate_seed(seed, 1)
    lines = [*COMMON, f"Random:seed = {int(seed)}"]
    if settings.process == "qcd":
        lines += ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {settings.pthat_min}"]
        if settings.pthat_max is not None:
            lines.append(f"PhaseSpace:pTHatMax = {settings.pthat_max}")
    elif settings.process == "zprime":
        lines += [
            "NewGaugeBoson:ffbar2gmZZprime = on",
            "Zprime:gmZmode = 3",  # the Z' alone, no gamma*/Z interference
            f"32:m0 = {num(settings.mzprime)}",
            "32:onMode = off",
            "32:onIfAny = 6",  # Z' -> t tbar only; the tops decay as in the SM
        ]
    else:
        mx, my = settings.mx, settings.my
        reach = 1000.0 if settings.wprime_width is None else max(1000.0, 5 * settings.wprime_width)
        w_min = max(settings.mwprime - reach, 1.1 * (mx + my) + 1.0)
        width = [] if settings.wprime_width is None else [
            f"34:mWidth = {num(settings.wprime_width)}", "34:doForceWidth = on",
            f"34:mMax = {num(settings.mwprime + reach)}"]
        lines += [
            "NewGaugeBoson:ffbar2Wprime = on",
            f"34:m0 = {num(settings.mwprime)}",
            f"34:mMin = {num(w_min)}",
            *width,
            # X+ (scalar, colour singlet, charge +1) and Y (scalar, neutral): narrow resonances,
            # decayed at parton level before the shower so their quarks radiate normally
            _scalar(9000001, "X+ X-", 3, mx),
            "9000001:isResonance = on",
            "9000001:oneChannel = 1 0.5 100 2 -1",
            "9000001:addChannel = 1 0.5 100 4 -3",
            _scalar(9000002, "Y void", 0, my),
            "9000002:isResonance = on",
            "9000002:oneChannel = 1 0.25 100 1 -1",
            "9000002:addChannel = 1 0.25 100 2 -2",
            "9000002:addChannel = 1 0.25 100 3 -3",
            "9000002:addChannel = 1 0.25 100 4 -4",
            "34:onMode = off",
            "34:addChannel = 1 1.0 100 9000001 9000002",
        ]
    return [*lines, "PartonLevel:MPI = off"]


# ------------------------------------------------------------------------ one chunk
def _select(events, table: ParticleTable, prefilter: bool, cuts: Mapping[str, Any], keep_hadrons: bool = False):
    """Cluster a batch, apply the jet cuts; (event positions selected, {"features": (n, 14), and with
    ``keep_hadrons`` "hadrons": the selected events' visible particles as (n, 700, 3) pT, η, φ})."""
    state = final_state(events)
    n_events = len(state.counts)
    candidates = np.arange(n_events)
    if prefilter:
        # exact necessary condition, so it never changes the result: the transverse momenta
        # of all final particles (neutrinos included) sum to zero, so the leading jet's pT is
        # at most half their scalar sum
        ht = np.bincount(state.event, weights=np.hypot(state.px, state.py), minlength=n_events)
        candidates = np.flatnonzero(ht > 2 * cuts["leading_pt_min"] - 1.0)
    state = state.keep(table.visible(state.pid)).events(candidates)
    n_kept = state.counts
    nothing = np.zeros(0, dtype=np.int64), {"features": np.zeros((0, len(DIJET_COLUMNS)))} | (
        {"hadrons": np.zeros((0, HADRONS, 3))} if keep_hadrons else {})
    if len(candidates) == 0:
        return nothing
    px, py, pz, E = state.px, state.py, state.pz, state.E
    jets, jet_counts, constituents, offsets = cluster_jets(px, py, pz, E, n_kept, R=JET_R, pt_min=JET_PT_MIN)
    if len(jets["pt"]) == 0:
        return nothing
    first = first_jets(jet_counts)
    lead_pt = np.where(jet_counts > 0, jets["pt"][np.minimum(first, len(jets["pt"]) - 1)], 0.0)
    passed = (jet_counts >= 2) & (lead_pt > cuts["leading_pt_min"])
    if cuts["subleading_pt_min"] > JET_PT_MIN:  # every clustered jet already has pT > JET_PT_MIN
        second = np.minimum(first + 1, len(jets["pt"]) - 1)
        passed &= np.where(jet_counts > 1, jets["pt"][second], 0.0) > cuts["subleading_pt_min"]
    if cuts["leading_pt_max"] is not None:
        passed &= lead_pt < cuts["leading_pt_max"]
    if not passed.any():
        return nothing
    # the two leading jets of each selected event: j1 j2 j1 j2 ...
    chosen = np.stack([first[passed], first[passed] + 1], axis=1).ravel()
    per_jet = jet_columns(px, py, pz, E, jets, constituents, offsets, chosen, R0=JET_R)  # (2n, 7)
    selected = {"features": per_jet.reshape(-1, 2 * per_jet.shape[1])}
    if keep_hadrons:
        mine = np.repeat(passed, n_kept)  # the particles of the selected events
        selected["hadrons"] = _hadrons_of(px[mine], py[mine], pz[mine], n_kept[passed])
    return candidates[passed], selected


def _hadrons_of(px, py, pz, counts) -> np.ndarray:
    """Events' particles as the raw LHCO format holds them (massless pT, η, φ; 700 at most)."""
    pt = np.hypot(px, py)
    moving = pt > 0  # a particle along the beam has no η; the format would read it as padding
    event = np.repeat(np.arange(len(counts)), counts)[moving]
    pt, px, py, pz = pt[moving], px[moving], py[moving], pz[moving]
    hadrons, cut = pad_hadrons(pt, np.arcsinh(pz / pt), np.arctan2(py, px), np.bincount(event, minlength=len(counts)))
    if cut:
        log.info("%d event(s) have more than %d visible particles; the raw file keeps the hardest", cut, HADRONS)
    return hadrons


def generate_chunk(
    settings: DijetSettings, n_events: int, seed: int, *, prefilter: bool = True, hadrons: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Generate events of ``settings`` with one Pythia seed until ``n_events`` pass its jet cuts.

    Returns the LHCO columns (float64, GeV, in generation order) and the chunk's record:
    seed, label, selected, tried (attempts up to the last kept event, failed ones included),
    failed, cross-section (``sigma_mb``, ``sigma_err_mb``, Pythia's estimate over the whole
    chunk), the Pythia settings, the jet cuts and the wall time; with ``settings.parton_veto``
    also ``parton_veto``: the veto's H_T threshold (GeV) and the events it dropped while
    the chunk was made (tried and cross-section are then counted after the veto). The events are the first
    ``n_events`` selected with this seed, so a smaller ``n_events`` gives a prefix of a larger
    one. ``prefilter=False`` clusters every event (slower, same result; used by the tests).
    ``hadrons=True`` also keeps each event's visible particles, the content of a raw LHCO
    event file: column ``hadrons`` (n, 700, 3) of pT (GeV), η, φ, zero padded
    (:func:`likely.data.lhco_events.pad_hadrons`).
    """
    check_positive(n_events, "n_events", integer=True)
    lines = pythia_settings(settings, seed)
    start = time.perf_counter()
    veto = parton_ht_veto(settings.leading_pt_min) if settings.parton_veto else None
    pythia = start_pythia(lines, veto)
    table = ParticleTable(pythia)
    chosen = select_events(pythia, n_events, lambda events: _select(events, table, prefilter, settings.cuts, hadrons),
                           describe=f"process {settings.process!r}, settings {lines[len(COMMON):]}")
    record = {
        "format": CHUNK_FORMAT,
        "process": settings.process,
        "label": settings.label,
        "seed": int(seed),
        **chosen.record(),
        "seconds": round(time.perf_counter() - start, 3),
        "settings": lines,
        "cuts": settings.cuts,
        "hadrons": hadrons,
        **({} if veto is None else {"parton_veto": {"ht_min": veto.ht_min, "vetoed": int(veto.vetoed)}}),
    }
    data = chosen.columns["features"]
    columns = {name: np.ascontiguousarray(data[:, i]) for i, name in enumerate(DIJET_COLUMNS)}
    columns["attempt"] = chosen.attempt.astype(np.int64)
    if hadrons:
        columns["hadrons"] = chosen.columns["hadrons"]
    return columns, record


def run_chunk(path: str | os.PathLike, settings: DijetSettings, n_events: int, seed: int, hadrons: bool = False,
              ) -> dict[str, Any]:
    """Generate one chunk (:func:`generate_chunk`, with ``hadrons``) and save it atomically to ``path`` (.npz).

    A top-level function of plain arguments: submit it to a ``ProcessPoolExecutor`` or a
    Dask client as it is. Returns the chunk's record (also stored in the file).
    """
    columns, record = generate_chunk(settings, n_events, seed, hadrons=hadrons)
    record["file"] = Path(path).name
    save_chunk(path, columns, record)
    return record


def _trimmed(columns: Mapping[str, np.ndarray], record: dict, n: int) -> tuple[dict, dict]:
    """The first ``n`` events of a chunk and the record of that prefix."""
    columns = {name: values[:n] for name, values in columns.items()}
    return columns, prefix_record(record, n, int(columns["attempt"][-1]))


# ------------------------------------------------------------------------ the driver
def generate_dijet(
    out: str | os.PathLike,
    settings: DijetSettings | None = None,
    n_events: int = 1000,
    *,
    chunk_size: int = 1000,
    workers: int = 1,
    seed: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor: concurrent.futures.Executor | None = None,
    format: str = "features",
) -> Path:
    """Generate ``n_events`` selected dijet events and write them as an LHCO features or event file.

    Parameters
    ----------
    out : path (.h5)
        The output file (LHCO features schema plus ``label``: 0 QCD, 1 W′ or Z′ signal), written by
        :func:`likely.data.lhco.write_lhco`. ``<out>.json`` beside it records every chunk
        (seed, events tried and selected, cross-section, Pythia settings) and the totals.
    settings : DijetSettings, optional
        Process, masses and jet cuts (default: QCD with the LHC Olympics trigger).
    n_events : int
        Selected events wanted; chunk k holds ``chunk_size`` of them (the last one fewer).
    chunk_size : int
        Selected events per chunk (a chunk is the unit of parallelism and of resuming).
    workers : int
        Worker processes (``ProcessPoolExecutor``); 1 runs the chunks in this process.
    seed : int
        Chunk k uses Pythia seed ``seed + k``. Use different seeds for samples you combine.
    overwrite : bool
        Replace an existing output file, and regenerate chunks made with other settings.
    progress : bool
        Show a progress bar over chunks.
    executor : concurrent.futures.Executor, optional
        Run the chunks here instead (for example ``dask.distributed.Client(...).get_executor()``);
        ``workers`` is then ignored and the executor is not shut down.
    format : {"features", "lhco-events"}
        ``"features"``: the two leading jets (:func:`likely.data.lhco.write_lhco`).
        ``"lhco-events"``: the events' visible particles in the raw LHC Olympics event layout,
        R&D style with the label column (:func:`likely.data.lhco_events.write_lhco_events`):
        massless pT, η, φ, at most 700 per event (the hardest), so the readers recluster
        them; jet masses come out slightly different from the features format's, which uses
        the particles' true masses.

    Finished chunks are saved atomically in ``<out>.chunks/``; a rerun skips them (and reuses a
    longer chunk's first events), so a killed run resumes where it stopped. The folder is kept
    after the output is written; delete it when the sample is final.

    Returns
    -------
    Path of the output file.
    """
    settings = DijetSettings() if settings is None else settings
    if not isinstance(settings, DijetSettings):
        raise TypeError(f"settings must be a DijetSettings; got {settings!r}")
    check_choice(format, "format", FORMATS)
    hadrons = format == "lhco-events"
    plan = plan_run(out, n_events, chunk_size, workers, overwrite)
    validate_seed(seed, len(plan.sizes))
    # chunks made before the cuts were recorded used the default ones
    default_cuts = DijetSettings().cuts

    def matches(k: int, record: dict, size: int) -> bool:
        return (record.get("format") == CHUNK_FORMAT and record.get("settings") == pythia_settings(settings, seed + k)
                and record.get("cuts", default_cuts) == settings.cuts and record.get("hadrons", False) >= hadrons
                and ("parton_veto" in record) == settings.parton_veto)

    generator = ChunkedGenerator(
        name=f"{settings.process} events", count="selected",
        chunk_name=lambda k: f"chunk{k:05d}_seed{seed + k}.npz",
        run_chunk=run_chunk, chunk_args=lambda k, path, size: (path, settings, size, seed + k, hadrons),
        matches=matches, trim=_trimmed,
        write=lambda path, columns: _write(path, columns, settings.label, overwrite, format),
        summary=lambda columns, records: _summary(settings, plan, seed, records) | {"format": format},
        chunk_keys=CHUNK_KEYS, versions=generator_versions(),
    )
    return generate_in_chunks(generator, plan, workers=workers, executor=executor, progress=progress)


def _write(out: Path, columns: Mapping[str, np.ndarray], label: int, overwrite: bool, format: str) -> Path:
    from likely.data.lhco import write_lhco

    labels = np.full(len(columns[DIJET_COLUMNS[0]]), float(label))
    if format == "lhco-events":
        return write_lhco_events(out, columns["hadrons"], label=labels, overwrite=overwrite)
    return write_lhco(out, {**{name: columns[name] for name in DIJET_COLUMNS}, "label": labels}, overwrite=overwrite)


def _summary(settings: DijetSettings, plan: RunPlan, seed: int, records: list[dict]) -> dict[str, Any]:
    n_events = plan.n_events
    return {
        "n_background": n_events if settings.label == 0 else 0,
        "n_signal": n_events if settings.label == 1 else 0,
        "process": settings.process,
        "events": n_events,
        "chunk_size": plan.chunk_size,
        "seed": seed,
        **settings.physics,
        **selection_summary(records, n_events),
        "selection": _selection(settings.cuts),
    }
