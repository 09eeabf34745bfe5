"""ADC2021 processes: generation rate, truth lepton-filter efficiency, and the background mix it implies.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/generate_multiobject.py                            # ~5 min on one core
    .venv/bin/python benchmarks/generate_multiobject.py --write docs/benchmarks.md

For every process of :mod:`likely.data.generate.multiobject` and for QCD multijets
(``qcd`` at pthat_min = 30 GeV, the background, and 100 GeV, to show what a harder cut
keeps) it makes ``--events`` unfiltered events in one chunk (one worker, Pythia's
initialization included in the wall time; ``--rare-events`` for the processes whose filter
efficiency is about 1 % or below) and reports

1. generated events per second;
2. the fraction with an electron or muon of pT > 23 GeV in |η| < 2.5 (the ADC trigger at
   truth level, ``lepton_pt_min = 23``), with its binomial error, and the filtered rate it gives;
3. Pythia's cross-section and cross-section × efficiency, and from these the shares of the
   four backgrounds after the filter, next to the published set's (seed 003 §2.5), which
   were taken after Delphes and the reconstructed trigger.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section

from likely.data.generate.events import EventSettings, generate_event_chunk
from likely.data.generate.multiobject import ADC_PROCESSES

SECTION = "ADC2021 multi-object processes (benchmarks/generate_multiobject.py)"
LEPTON_PT = 23.0
RARE = ("qcd", "qcd pthat_min=100", "hplus")
#: the published background shares after its trigger (seed 003 §2.5), %
ADC_SHARES = {"wjets": 59.2, "zjets": 6.7, "ttbar": 0.3, "qcd": 33.8}


def measure(name: str, settings: EventSettings, n_events: int, seed: int) -> dict:
    log(f"generating {n_events} {name} events")
    start = time.perf_counter()
    events, record = generate_event_chunk(settings, n_events, seed)
    seconds = time.perf_counter() - start
    passed = int(np.sum(events.columns["lepton_pt"] >= LEPTON_PT))
    eff = passed / n_events
    return {"name": name, "n": n_events, "passed": passed, "eff": eff,
            "err": np.sqrt(eff * (1 - eff) / n_events), "rate": n_events / seconds,
            "sigma_pb": record["sigma_mb"] * 1e9}


def _efficiency(r: dict) -> str:
    """``eff ± binomial error``, or the 95 % upper limit 3/n when nothing passed."""
    if r["passed"] == 0:
        return f"< {300 / r['n']:.2g} %"
    return f"{100 * r['eff']:.2f} ± {100 * r['err']:.2f} %"


def rows(results: list[dict]) -> list[list[str]]:
    return [[r["name"], f"{r['n']}", f"{r['rate']:.0f}", _efficiency(r),
             f"{r['rate'] * r['eff']:.2f}", f"{r['sigma_pb']:.3g}", f"{r['sigma_pb'] * r['eff']:.3g}"]
            for r in results]


def shares(results: list[dict]) -> list[list[str]]:
    visible = {r["name"]: r["sigma_pb"] * r["eff"] for r in results if r["name"] in ADC_SHARES}
    total = sum(visible.values())
    return [[name, f"{100 * visible[name] / total:.1f} %", f"{ADC_SHARES[name]} %"] for name in ADC_SHARES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per process (default 200)")
    parser.add_argument("--rare-events", type=int, default=5000,
                        help=f"events of {', '.join(RARE)}, whose efficiency is about 1 %% or below (default 5000)")
    parser.add_argument("--seed", type=int, default=1001, help="Pythia seed (default 1001)")
    parser.add_argument("--write", type=Path, default=None,
                        help="write the result section into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    samples = {p.name: EventSettings(p.name) for p in ADC_PROCESSES}
    samples["qcd"] = EventSettings("qcd", {"pthat_min": 30.0})
    samples["qcd pthat_min=100"] = EventSettings("qcd", {"pthat_min": 100.0})
    results = [measure(name, settings, args.rare_events if name in RARE else args.events, args.seed)
               for name, settings in samples.items()]
    headers = ["process", "events", "generated ev/s", "filter eff", "filtered ev/s", "σ (pb)", "σ × eff (pb)"]
    share_headers = ["background", "ours (σ × eff)", "ADC2021"]
    tables = [(headers, rows(results)), (share_headers, shares(results))]
    for h, r in tables:
        print(text_table(h, r), end="\n\n")
    if args.write:
        setup = (f"One worker, one chunk per process, seed {args.seed}, MPI on, no filter while generating; "
                 f"filter eff: the fraction with a truth e or μ of pT > {LEPTON_PT:.0f} GeV in abs(η) < 2.5 "
                 "(binomial error); no detector; the shares use qcd at pthat_min = 30 GeV.")
        write_section(args.write, SECTION, "\n\n".join([provenance(), setup,
                                                         *(markdown_table(h, r) for h, r in tables)]))
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
