"""Cost per event of the parametric detector, against making the same events with Pythia 8.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/detector.py                  # ~1 min: 400 Pythia QCD events
    .venv/bin/python benchmarks/detector.py --write docs/benchmarks.md

It generates ``--events`` QCD events (``HardQCD:all``, ``PhaseSpace:pTHatMin`` 250 GeV,
13 TeV, Pythia's defaults otherwise: MPI and hadronization on) and ``--minbias`` minimum-bias
events (``SoftQCD:nonDiffractive``) as truth particles
(:func:`likely.data.generate.pythia.truth_particles`), timing the QCD generation once
(without Pythia's initialization): the baseline. Then it times, in ``--repeats`` interleaved rounds (median), on all events in one
batch:

1. :func:`likely.data.detector.simulate` with the CMS-like card;
2. :func:`likely.data.detector.event_images` with ``pool=5`` (58 × 72) and ``pool=1``
   (286 × 360);
3. ``simulate`` with ``--mu`` minimum-bias events overlaid per event (Poisson),

and prints what the detector made (tracks, cells, jets, missing pT, the H_T > 500 GeV
fraction) as a sanity check.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
from _common import log, publish, rates, warn_if_busy

from likely.data.detector import DetectorCard, event_images, simulate
from likely.data.generate.pythia import COMMON, ParticleTable, final_state, start_pythia, truth_particles

SECTION = "Parametric detector: cost per event (benchmarks/detector.py)"


def generate(lines: list[str], n: int):
    """``n`` events of Pythia with ``lines`` as truth particles, and the seconds they took (without Pythia's init)."""
    import awkward as ak

    pythia = start_pythia(COMMON + lines)
    start = time.perf_counter()
    events = ak.drop_none(pythia.nextBatch(n, "none"), axis=0)
    truth = truth_particles(final_state(events), ParticleTable(pythia))
    return truth, time.perf_counter() - start


def summary(reco) -> str:
    """What the detector made, on average per event."""
    return (f"{reco.n_tracks.mean():.0f} tracks, {reco.ecal.counts.mean():.0f} ECAL and {reco.hcal.counts.mean():.0f} "
            f"HCAL cells, {reco.jets.counts.mean():.1f} jets, median missing pT {np.median(reco.met):.1f} GeV, "
            f"{100 * np.mean(reco.ht > 500):.0f} % with H_T > 500 GeV")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400, help="QCD events to generate (default: 400)")
    parser.add_argument("--minbias", type=int, default=300, help="minimum-bias events to generate (default: 300)")
    parser.add_argument("--mu", type=float, default=30.0, help="mean pile-up events per event (default: 30)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default: 3)")
    parser.add_argument("--seed", type=int, default=4001, help="Pythia seed of the QCD events (default: 4001)")
    parser.add_argument("--write", help="also write the table into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    log(f"generating {args.events} QCD and {args.minbias} minimum-bias events ...")
    truth, seconds = generate([f"Random:seed = {args.seed}", "HardQCD:all = on", "PhaseSpace:pTHatMin = 250."],
                              args.events)
    minimum_bias, _ = generate([f"Random:seed = {args.seed + 1}", "SoftQCD:nonDiffractive = on"], args.minbias)
    card = DetectorCard.cms()
    pileup_card = replace(card, pileup=replace(card.pileup, mean=args.mu))
    reco = simulate(truth, card, random_state=0)
    n = len(truth)
    log("timing ...")
    steps = {
        "simulate (CMS card)": lambda: simulate(truth, card, random_state=0),
        "event_images, pool=5 (58 x 72)": lambda: event_images(reco, pool=5),
        "event_images, pool=1 (286 x 360)": lambda: event_images(reco),
        f"simulate with pile-up, mu = {args.mu:g}": lambda: simulate(truth, pileup_card, pileup=minimum_bias,
                                                                    random_state=0),
    }
    speeds = dict(zip(steps, rates(list(steps.values()), n, repeats=args.repeats), strict=True))
    baseline_ms = 1000 * seconds / n
    rows = [["Pythia 8 generation (baseline)", f"{baseline_ms:.2f}", f"{n / seconds:,.0f}", "1.000"]]
    rows += [[name, f"{1000 / speed:.2f}", f"{speed:,.0f}", f"{1000 / speed / baseline_ms:.3f}"]
             for name, speed in speeds.items()]
    with_pileup = simulate(truth, pileup_card, pileup=minimum_bias, random_state=0)
    pileup_tracks = with_pileup.tracks.counts.mean() - with_pileup.n_tracks.mean()
    publish(args.write, SECTION,
            f"{n} Pythia 8 QCD events (HardQCD:all, pTHatMin 250 GeV, seed {args.seed}; median "
            f"{np.median(truth.counts):.0f} final-state particles), {len(minimum_bias)} minimum-bias events "
            f"(SoftQCD:nonDiffractive) for the pile-up; all events in one batch, {args.repeats} interleaved rounds "
            "(median), one process",
            ["step", "ms/event", "events/s", "time vs generation"], rows,
            footer=f"Per event without pile-up: {summary(reco)}. With mu = {args.mu:g}: {summary(with_pileup)}, "
                   f"{pileup_tracks:.0f} pile-up tracks.")


if __name__ == "__main__":
    main()
