"""Clustering speed of the raw LHC Olympics event reader, and what the massless format changes.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/lhco_events.py                 # ~1 min: 600 Pythia QCD events
    .venv/bin/python benchmarks/lhco_events.py --events 2000 --write docs/benchmarks.md

It generates ``--events`` QCD dijet events with ``likely generate dijet --format lhco-events``
(the raw R&D layout: each event's visible particles as massless pT, η, φ, zero padded to
700), then times, in ``--repeats`` interleaved rounds (median and range),

1. reading the file alone (:func:`likely.data.lhco_events.read_lhco_events`, chunks of
   ``--chunk-size``);
2. reading and clustering into the features columns
   (:func:`likely.data.lhco_events.cluster_lhco_file`: vectorized anti-kT R = 1.0 over the
   chunk with FastJet's multi-event interface, τ1..τ3 of the two leading jets);
3. the baseline: FastJet's classic per-event interface (a ``PseudoJet`` list per event, as
   the LHC Olympics example notebooks do), jets only, no N-subjettiness,

and compares the features read back with the generator's own (which use the particles'
true masses): the share of jets whose pT agrees to 1e-9 (same constituents), and the median
shift of the jet masses. The last column extrapolates to the 1.1M events of the R&D file.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import fmt_rate, log, publish, rates, warn_if_busy

from likely.data.generate import DijetSettings, generate_dijet
from likely.data.generate.driver import load_chunk, work_dir
from likely.data.lhco import JET_COLUMNS
from likely.data.lhco_events import HADRONS, cluster_lhco_file, read_lhco_events

SECTION = "Raw LHC Olympics event files: clustering speed (benchmarks/lhco_events.py)"
RND_EVENTS = 1_100_000


def read_only(path: Path, n: int, chunk_size: int) -> None:
    for start in range(0, n, chunk_size):
        read_lhco_events(path, start, start + chunk_size)


def classic_fastjet(path: Path, n: int, chunk_size: int) -> None:
    """The two leading anti-kT jets of every event, one event at a time (the baseline)."""
    import fastjet

    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0)
    for start in range(0, n, chunk_size):
        hadrons, _ = read_lhco_events(path, start, start + chunk_size)
        for event in hadrons:
            pt, eta, phi = event[event[:, 0] > 0].T
            particles = [fastjet.PseudoJet(*p) for p in zip(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta),
                                                             pt * np.cosh(eta))]
            fastjet.sorted_by_pt(fastjet.ClusterSequence(particles, definition).inclusive_jets(20.0))[:2]


def compare(path: Path) -> tuple[float, float, float]:
    """(share of jets with the generator's pT, median relative jet-mass shift, median hadrons per event)."""
    ours = cluster_lhco_file(path, progress=False)
    chunks = [load_chunk(chunk)[0] for chunk in sorted(work_dir(path).glob("chunk*.npz"))]
    truth = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in JET_COLUMNS}
    same, shift = [], []
    for k in (1, 2):
        pt = np.hypot(ours[f"pxj{k}"], ours[f"pyj{k}"]) / np.hypot(truth[f"pxj{k}"], truth[f"pyj{k}"])
        same.append(np.abs(pt - 1) < 1e-9)
        shift.append(ours[f"mj{k}"] / truth[f"mj{k}"] - 1)
    hadrons, _ = read_lhco_events(path)
    return float(np.mean(same)), float(np.median(shift)), float(np.median((hadrons[..., 0] > 0).sum(axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=600, help="QCD events to generate (default: 600)")
    parser.add_argument("--chunk-size", type=int, default=200, help="events per read (default: 200)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method (default: 3)")
    parser.add_argument("--seed", type=int, default=7001, help="first Pythia seed (default: 7001)")
    parser.add_argument("--write", type=Path, help="also write the table into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events_qcd.h5"
        log(f"generating {args.events} QCD events ...")
        generate_dijet(path, DijetSettings("qcd"), args.events, chunk_size=max(args.events // 2, 1), seed=args.seed,
                       progress=False, format="lhco-events")
        n, size = args.events, args.chunk_size
        log("timing ...")
        methods = {
            "read only": lambda: read_only(path, n, size),
            "read + cluster + tau (likely)": lambda: cluster_lhco_file(path, chunk_size=size, progress=False),
            "read + per-event FastJet, jets only (baseline)": lambda: classic_fastjet(path, n, size),
        }
        runs = [rates(list(methods.values()), n, repeats=1) for _ in range(args.repeats)]  # interleaved
        speeds = {name: sorted(run[i] for run in runs) for i, name in enumerate(methods)}
        same, shift, multiplicity = compare(path)
    baseline = np.median(speeds["read + per-event FastJet, jets only (baseline)"])
    rows = [[name, fmt_rate(np.median(speed)), f"{fmt_rate(speed[0])}-{fmt_rate(speed[-1])}",
             f"{np.median(speed) / baseline:.2f}", f"{RND_EVENTS / np.median(speed) / 60:.1f}"]
            for name, speed in speeds.items()]
    publish(args.write, SECTION,
            f"{n} Pythia 8 QCD events (pTHatMin 700 GeV, seeds {args.seed}..), `likely generate dijet --format "
            f"lhco-events` (median {multiplicity:.0f} visible particles per event, {HADRONS} slots), read in chunks "
            f"of {size}, {args.repeats} interleaved rounds, one process",
            ["method", "events/s (median)", "range", "vs baseline", "min for 1.1M events"], rows,
            footer=f"Against the generator's own features (true particle masses): {100 * same:.1f} % of the jets "
                   f"have the same pT to 1e-9 (same constituents); the massless format shifts the jet masses by "
                   f"{100 * shift:+.2f} % (median). The R&D file holds Delphes objects, not Pythia particles, so "
                   "its multiplicities and speeds differ.")


if __name__ == "__main__":
    main()
