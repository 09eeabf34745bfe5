"""SUEP events: generation rate, dark-meson and charged-particle multiplicities against the mediator mass.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/generate_suep.py --events 50                      # ~1 min on one core
    .venv/bin/python benchmarks/generate_suep.py --events 50 --write docs/benchmarks.md

For each mediator mass it makes ``--events`` SUEP events (``likely.data.generate.suep``, the
lines of ``generate_events``' ``suep`` process, one worker) and, as the baseline measured in
the same run, as many events of the same production with Pythia's own Standard-Model decays
of the mediator (``25:mayDecay = on``). It reports

1. the speed: events per second once Pythia runs (median of ``--repeats`` batches of
   ``--events``, SUEP and baseline interleaved; the awkward record of every event included),
   and the start-up time (initialization and a first event; SUEP initializes
   twice, since Pythia reads the decay hook at initialization);
2. the mean number of dark mesons against M / ⟨E⟩ of the Maxwell–Jüttner distribution;
3. the mean number of charged final-state particles, all and "tracks" (|η| < 2.5,
   pT > 1 GeV), for SUEP and the baseline.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import awkward as ak
import numpy as np
from _common import log, markdown_table, provenance, rates, text_table, warn_if_busy, write_section

from likely.data.generate.events import EventSettings, event_pythia_settings
from likely.data.generate.pythia import ParticleTable, final_state, start_pythia
from likely.data.generate.suep import DARK_MESON, maxwell_juttner_mean_energy, suep_hooks

SECTION = "SUEP events: rate and multiplicities (benchmarks/generate_suep.py)"
MASSES = (125.0, 400.0, 1000.0)


def _charged(events, table: ParticleTable) -> tuple[float, float]:
    """Mean charged final-state particles per event: all, and |η| < 2.5 with pT > 1 GeV."""
    state = final_state(events)
    charged = table.charge(state.pid) != 0
    pt = np.hypot(state.px, state.py)
    eta = np.arcsinh(state.pz / np.maximum(pt, 1e-12))
    track = charged & (pt > 1.0) & (np.abs(eta) < 2.5)
    n = len(state.counts)
    return float(np.bincount(state.event[charged], minlength=n).mean()), float(
        np.bincount(state.event[track], minlength=n).mean())


def _started(lines: list[str], hooks=None) -> tuple[float, object]:
    """(seconds, pythia) to start Pythia with ``lines`` and ``hooks`` and make one event."""
    start = time.perf_counter()
    pythia = start_pythia(lines, hooks)
    pythia.nextBatch(1, "none")
    return time.perf_counter() - start, pythia


def run(mass: float, n_events: int, seed: int, repeats: int) -> list[str]:
    settings = EventSettings("suep", {"mediator_mass": mass})
    lines = event_pythia_settings(settings, seed)
    hooks = suep_hooks(settings.params, np.random.default_rng(seed))
    startup, pythia = _started(lines, hooks)
    sm_startup, sm_pythia = _started([line for line in lines if line != "25:mayDecay = off"])
    events, sm_events = (ak.drop_none(p.nextBatch(n_events, "none"), axis=0) for p in (pythia, sm_pythia))
    rate, sm_rate = rates([lambda: pythia.nextBatch(n_events, "none"), lambda: sm_pythia.nextBatch(n_events, "none")],
                          n_events, repeats)
    mesons = ak.to_numpy(ak.sum(events.prt.id == DARK_MESON, axis=1))
    table = ParticleTable(pythia)
    (charged, tracks), (sm_charged, sm_tracks) = _charged(events, table), _charged(sm_events, table)
    expected = mass / maxwell_juttner_mean_energy(settings.params["m_dark_meson"], settings.params["temperature"])
    return [f"{mass:.0f}", f"{rate:.0f}", f"{sm_rate:.0f}", f"{startup:.1f} / {sm_startup:.1f}",
            f"{mesons.mean():.1f} ± {mesons.std():.1f}", f"{expected:.1f}", f"{charged:.0f}", f"{sm_charged:.0f}",
            f"{tracks:.0f}", f"{sm_tracks:.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50, help="events per mass (default 50)")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches of --events, interleaved (default 5)")
    parser.add_argument("--seed", type=int, default=301, help="Pythia and NumPy seed (default 301)")
    parser.add_argument("--write", type=Path, default=None, help="write the result section into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    rows = []
    for mass in MASSES:
        log(f"M = {mass:g} GeV: {args.events} SUEP and {args.events} SM-decay events")
        rows.append(run(mass, args.events, args.seed, args.repeats))
    headers = ["M (GeV)", "SUEP events/s", "SM-decay events/s", "start-up s (SUEP / SM)", "dark mesons", "M / <E>", "charged", "charged (SM)",
               "tracks", "tracks (SM)"]
    print(text_table(headers, rows))
    if args.write:
        setup = (f"One worker; multiplicities of {args.events} events per mass, seed {args.seed}; m_φ = T_D = 2 GeV, "
                 f"m_A′ = 0.7 GeV; rates: median of {args.repeats} interleaved batches of {args.events} after "
                 "start-up; tracks: charged, |η| < 2.5, pT > 1 GeV; no detector.")
        write_section(args.write, SECTION, "\n\n".join([provenance(), setup, markdown_table(headers, rows)]))
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
