"""The Pythia 8 plumbing every event generator shares: settings, seeds, the selection loop, final states.

A generator describes its physics as Pythia ``readString`` lines and a *selection*: a
function of one batch of events (the awkward record of ``Pythia.nextBatch``, failed events
dropped) that returns which of them it keeps and per-event arrays for those. :func:`select_events`
runs the batches until enough events are kept and does the bookkeeping every chunk records
(events tried, failed attempts, cross-section). :func:`final_state` flattens a batch's
final-state particles into NumPy arrays with an event index, the form FastJet, the
parametric detector and :class:`~likely.data.Particles` take.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "COMMON",
    "E_CM",
    "MAX_SEED",
    "PARTON_HT_MARGIN",
    "TRUTH_FEATURES",
    "EventProcess",
    "FinalState",
    "ParticleTable",
    "Selection",
    "final_state",
    "generator_versions",
    "last_copies",
    "num",
    "parton_ht_veto",
    "prefix_record",
    "select_events",
    "selection_summary",
    "start_pythia",
    "truth_particles",
    "validate_seed",
]

E_CM = 13000.0
#: Pythia's largest seed (``Random:seed``); 0 would mean "seed from the clock".
MAX_SEED = 900_000_000
#: A chunk that has selected nothing after this many tries stops with an error.
MAX_TRIES_WITHOUT_EVENT = 20_000
MAX_BATCH = 500

#: The lines every generator starts from: 13 TeV, quiet, seeded.
COMMON = [
    f"Beams:eCM = {E_CM:.0f}.",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Init:showProcesses = off",
    "Init:showMultipartonInteractions = off",
    "Init:showChangedSettings = off",
    "Init:showChangedParticleData = off",
    "Print:quiet = on",
    "Random:setSeed = on",
]

#: A batch selection: ``(events) -> (positions kept, {name: per-kept-event array})``.
Selection = Callable[[Any], tuple[np.ndarray, dict[str, np.ndarray]]]


def num(value: float) -> str:
    """Pythia-style number: ``3500.`` for 3500, ``0.5`` for 0.5."""
    text = f"{float(value):.10g}"
    return text if any(c in text for c in ".e") else text + "."


def validate_seed(seed, n_chunks: int) -> None:
    """Raise unless ``seed .. seed + n_chunks - 1`` are all valid Pythia seeds."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    if seed < 1 or seed + n_chunks - 1 > MAX_SEED:
        raise ValueError(
            f"seed must be in [1, {MAX_SEED - n_chunks + 1}] so that the {n_chunks} chunk seeds "
            f"seed .. seed + {n_chunks - 1} are valid Pythia seeds; got {seed}"
        )


def generator_versions() -> dict[str, str]:
    """The versions of the generator packages, recorded with every sample."""
    from importlib.metadata import version

    return {"pythia8mc": version("pythia8mc"), "fastjet": version("fastjet")}


#: The user hooks of every live Pythia instance, kept alive with it.
_HOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def start_pythia(lines: Sequence[str], hooks=None):
    """A Pythia instance initialized with ``lines`` (and user ``hooks``, read by Pythia only at
    initialization); a rejected line or a failed init raises ``RuntimeError``."""
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in lines:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if hooks is not None:
        pythia.setUserHooksPtr(hooks)
        _HOOKS[pythia] = hooks  # a Python hook Pythia holds is dropped with its last Python reference
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialize with settings {list(lines)}")
    return pythia


#: Safety margin (GeV) of :func:`parton_ht_veto`: over 20,000 LHCO QCD events (pTHat > 700 GeV)
#: hadronization changed the scalar pT sum of the final state by -8 to +22 GeV.
PARTON_HT_MARGIN = 100.0


@functools.cache
def _ht_veto_class():
    """The parton-level veto hook (defined on first use: pythia8mc is imported lazily)."""
    import pythia8mc

    class PartonHTVeto(pythia8mc.UserHooks):
        """Vetoes events whose final partons' scalar pT sum is below ``ht_min`` (GeV), before hadronization."""

        ht_min: float
        vetoed: int

        def canVetoPartonLevel(self) -> bool:  # noqa: N802 (Pythia's name)
            return True

        def doVetoPartonLevel(self, event) -> bool:  # noqa: N802
            ht = 0.0
            for i in range(event.size()):
                particle = event[i]
                if particle.isFinal():
                    ht += particle.pT()
            veto = ht < self.ht_min
            self.vetoed += veto
            return veto

    return PartonHTVeto


def parton_ht_veto(leading_pt_min: float, margin: float = PARTON_HT_MARGIN):
    """A Pythia user hook that skips the hadronization of events that cannot have a jet above ``leading_pt_min``.

    The final-state transverse momenta sum to zero, so a jet's pT is at most half the
    scalar sum ``H_T`` of all final particles. Hadronization moves ``H_T`` by tens of GeV
    at most (:data:`PARTON_HT_MARGIN`), so an event whose final partons have
    ``H_T < 2 leading_pt_min - margin`` (GeV) would fail the trigger after hadronization;
    Pythia drops it there and generates the next one (``Check:abortIfVeto`` off). The
    vetoed events never reach ``nextBatch``, and Pythia's ``sigmaGen`` is the cross-section
    after the veto, so the bookkeeping of :func:`select_events` (tried, efficiency,
    cross-sections) stays consistent; ``hook.vetoed`` counts the vetoes. Give it to
    :func:`start_pythia`.
    """
    hook = _ht_veto_class()()
    hook.ht_min, hook.vetoed = 2.0 * float(leading_pt_min) - float(margin), 0
    return hook


Params = Mapping[str, Any]


def _no_check(params: Params) -> None:
    """Accept any parameters."""


@dataclass(frozen=True)
class EventProcess:
    """A process of the whole-event generator (:mod:`likely.data.generate.events`).

    Attributes
    ----------
    name, description : str
        Its name (``--process``) and a one-line description.
    label : int
        Label of its events (0 background, 1 signal).
    defaults : mapping
        Its parameters and their defaults (GeV unless said); a ``None`` default is derived.
    lines : callable ``(params) -> list of str``
        The Pythia lines of the hard process (added to the common 13 TeV lines).
    check : callable ``(params) -> None``
        Raises ``ValueError`` naming a parameter that is out of range.
    user_hooks : callable ``(params, rng) -> pythia8mc.UserHooks``, optional
        A hook that completes Pythia's events (SUEP replaces its mediator by dark mesons);
        ``rng`` is a NumPy generator seeded with the chunk's Pythia seed.
    """

    name: str
    description: str
    label: int
    defaults: Mapping[str, Any]
    lines: Callable[[Params], list[str]]
    check: Callable[[Params], None] = _no_check
    user_hooks: Callable[..., Any] | None = None


@dataclass
class Chosen:
    """What :func:`select_events` returns: the kept events' arrays and the chunk's bookkeeping."""

    columns: dict[str, np.ndarray]
    attempt: np.ndarray  # (n,) 1-based attempt number of each kept event
    failed_attempts: list[int]  # attempts Pythia failed, before the last kept event
    sigma_mb: float
    sigma_err_mb: float

    def record(self) -> dict[str, Any]:
        """The bookkeeping entries of a chunk record."""
        return {
            "selected": len(self.attempt),
            "tried": int(self.attempt[-1]),
            "failed": len(self.failed_attempts),
            "failed_attempts": self.failed_attempts,
            "sigma_mb": self.sigma_mb,
            "sigma_err_mb": self.sigma_err_mb,
        }


def prefix_record(record: Mapping[str, Any], n: int, last_attempt: int) -> dict[str, Any]:
    """The record of a chunk's first ``n`` selected events, the last of which was attempt ``last_attempt``."""
    failed = [a for a in record["failed_attempts"] if a < last_attempt]
    return {**record, "selected": n, "tried": int(last_attempt), "failed": len(failed), "failed_attempts": failed}


def selection_summary(records: Sequence[Mapping[str, Any]], n_events: int) -> dict[str, float]:
    """Events tried, selection efficiency and cross-sections (mb) of a run, from its chunks' records."""
    tried = sum(r["tried"] for r in records)
    sigma = sum(r["sigma_mb"] * r["tried"] for r in records) / tried
    return {"tried": tried, "efficiency": n_events / tried, "sigma_mb": sigma,
            "sigma_selected_mb": sigma * n_events / tried}


def select_events(pythia, n_events: int, select: Selection, *, describe: str, max_batch: int = MAX_BATCH) -> Chosen:
    """Generate batches with ``pythia`` until ``select`` has kept ``n_events``; the first ``n_events`` kept.

    The batch size only sets how many events one ``nextBatch`` call makes; it never changes
    which events are kept, so a smaller ``n_events`` gives a prefix of a larger one.
    ``describe`` names the process in the error raised when nothing passes in
    ``MAX_TRIES_WITHOUT_EVENT`` tries. Every selected array must have the same trailing shape
    in every batch; a selected :class:`~likely.data.Particles` may differ in width (the parts are
    padded to the widest).
    """
    import awkward as ak

    parts: list[dict[str, np.ndarray]] = []
    attempts, failures = [], []
    tried = selected = 0
    while selected < n_events:
        if selected == 0 and tried >= MAX_TRIES_WITHOUT_EVENT:
            raise RuntimeError(f"no event passed the selection in {tried} tries ({describe}); "
                               "the selection is out of reach")
        efficiency = (selected + 1) / (tried + 1)
        batch = int(min(max_batch, max(20, 1.2 * (n_events - selected) / efficiency)))
        events = pythia.nextBatch(batch, "none")
        ok = ~ak.to_numpy(ak.is_none(events, axis=0))
        positions = np.flatnonzero(ok)
        failures.extend((tried + np.flatnonzero(~ok) + 1).tolist())
        where, columns = select(ak.drop_none(events, axis=0))
        parts.append(columns)
        attempts.append(tried + positions[where] + 1)
        tried += batch
        selected += len(where)
    attempt = np.concatenate(attempts)[:n_events]
    columns = {name: _joined([part[name] for part in parts if name in part])[:n_events] for name in parts[-1]}
    info = pythia.infoPython()
    return Chosen(columns, attempt, [a for a in failures if a < attempt[-1]], float(info.sigmaGen()),
                  float(info.sigmaErr()))


def _joined(parts: list):
    """Arrays concatenated, or Particles stacked (padded to the widest)."""
    from likely.data.particles import Particles

    return Particles.concat(parts) if isinstance(parts[0], Particles) else np.concatenate(parts)


class ParticleTable:
    """Per-id properties from Pythia's particle data, asked once per distinct id."""

    def __init__(self, pythia) -> None:
        self._data = pythia.particleData
        self._visible: dict[int, bool] = {}
        self._charge: dict[int, float] = {}

    def _lookup(self, ids: np.ndarray, cache: dict, ask) -> np.ndarray:
        unique, inverse = np.unique(ids, return_inverse=True)
        for pid in unique.tolist():
            if pid not in cache:
                cache[pid] = ask(pid)
        return np.array([cache[pid] for pid in unique.tolist()])[inverse.ravel()]

    def visible(self, ids: np.ndarray) -> np.ndarray:
        """Pythia's ``isVisible`` per particle id (neutrinos and dark-sector invisibles are not)."""
        return self._lookup(np.abs(ids), self._visible, lambda pid: bool(self._data.isVisible(pid))).astype(bool)

    def charge(self, ids: np.ndarray) -> np.ndarray:
        """Electric charge (e) per particle id."""
        return self._lookup(ids, self._charge, lambda pid: float(self._data.charge(pid))).astype(np.float64)


@dataclass(frozen=True)
class FinalState:
    """Final-state particles of a batch, flat: four-momenta (GeV), ids, and ``counts`` per event."""

    E: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    pid: np.ndarray
    counts: np.ndarray

    @property
    def event(self) -> np.ndarray:
        """The event index of every particle."""
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def keep(self, mask: np.ndarray) -> FinalState:
        """The particles where ``mask`` (per particle) holds."""
        counts = np.bincount(self.event[mask], minlength=len(self.counts))
        return FinalState(self.E[mask], self.px[mask], self.py[mask], self.pz[mask], self.pid[mask], counts)

    def events(self, rows: np.ndarray) -> FinalState:
        """The particles of events ``rows`` (indices, increasing), in that order."""
        chosen = np.zeros(len(self.counts), dtype=bool)
        chosen[rows] = True
        kept = self.keep(np.repeat(chosen, self.counts))
        return FinalState(kept.E, kept.px, kept.py, kept.pz, kept.pid, self.counts[rows])


def final_state(events) -> FinalState:
    """The final-state particles (status > 0) of a batch of ``nextBatch`` events."""
    import awkward as ak

    prt = events["prt"]
    final = prt[prt["status"] > 0]
    counts = ak.to_numpy(ak.num(final, axis=1)).astype(np.int64)
    flat = ak.flatten(final)
    E, px, py, pz = (ak.to_numpy(flat["p", f]).astype(np.float64) for f in ("e", "px", "py", "pz"))
    return FinalState(E, px, py, pz, ak.to_numpy(flat["id"]).astype(np.int64), counts)


def last_copies(events, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The last copy (no daughter of the same id) of every particle with ``|id|`` in ``ids``.

    Returns flat ``(event index, pid, (M, 4) E, px, py, pz)`` in record order: the tops, W′
    or dark quarks after their radiation, for truth matching.
    """
    import awkward as ak

    prt = events["prt"]
    counts = ak.to_numpy(ak.num(prt, axis=1))
    flat = ak.flatten(prt)
    pid = ak.to_numpy(flat["id"]).astype(np.int64)
    first, last = (ak.to_numpy(flat[name]).astype(np.int64) for name in ("daughter1", "daughter2"))
    offset = np.repeat(np.cumsum(counts) - counts, counts)
    wanted = np.isin(np.abs(pid), np.asarray(ids))
    # a copy of a particle (after a shower emission or a recoil) is its daughter1 or daughter2
    copied = np.zeros(len(pid), dtype=bool)
    for daughter in (first, last):
        child = np.minimum(offset + daughter, len(pid) - 1)
        copied |= (daughter > 0) & (pid[child] == pid)
    keep = wanted & ~copied
    event = np.repeat(np.arange(len(counts)), counts)[keep]
    p = np.stack([ak.to_numpy(flat["p", f])[keep] for f in ("e", "px", "py", "pz")], axis=1).astype(np.float64)
    return event, pid[keep], p


#: The features of truth particles as :func:`truth_particles` writes them and the parametric detector reads them.
TRUTH_FEATURES = ("E", "px", "py", "pz", "pid", "charge")


def truth_particles(state: FinalState, table: ParticleTable, **extras: Any):
    """``state`` as :class:`~likely.data.Particles` of ``TRUTH_FEATURES`` (one row per event, hardest first)."""
    from likely.data.particles import Particles

    order = np.lexsort((-np.hypot(state.px, state.py), state.event))
    flat = np.stack([state.E, state.px, state.py, state.pz, state.pid, table.charge(state.pid)], axis=1)[order]
    return Particles.from_counts(flat, state.counts, TRUTH_FEATURES, **extras)
