"""Resonant-search quality on the reference sample: max SIC per method over seeds.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/search_quality.py --seeds 5 --write docs/benchmarks.md
    .venv/bin/python benchmarks/search_quality.py --methods iad cathode --seeds 1

Every finished (method, seed) is appended to a JSON-lines record (``--record``), and the
table summarizes all records of the same setup in it, so seeds can be added in later
runs (``--first-seed 3 --seeds 2``) and an interrupted run loses only its current seed.

Signal is injected into the reference background (``shared/data/lhco-pythia``) at the
CATHODE benchmark's S/B in the 3.3-3.7 TeV signal region (772 / 121,352 = 0.636 %), every
method is trained on the same injected sample per seed, and the max SIC (cuts passed by
at least 25 test background events) and AUC are measured on held-out SR background and
signal. The paper's numbers (CATHODE repository, S/B 0.6 %, 1M-event sample) are shown
for the ordering; the absolute values differ because our test set is smaller (the SIC
floor caps max SIC at sqrt(N_test_background / 25)).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from pathlib import Path

import numpy as np
from _common import commit, log, publish, warn_if_busy

from likely.data import EventSet, read_lhco
from likely.search import Window, make_search_sample
from likely.search.study import METHODS, run_study

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "lhco-pythia"
#: CATHODE's benchmark in the signal region: S/B and S/sqrt(B) (772 signal, 121,352 background)
TARGET = {"s_over_b": 772 / 121_352, "significance": 772 / 121_352**0.5}
#: max SIC in the CATHODE repository's plotting notebook (S/B 0.6 %)
PAPER_MAX_SIC = {"supervised": 17.65, "iad": 15.08, "cathode": 13.99, "cwola": 10.75, "anode": 6.46}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, default=5,
                        help="independent injections and trainings (0: only summarize the record)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed, first-seed + 1, ...")
    parser.add_argument("--record", type=Path, default=Path("benchmarks/search_quality.jsonl"),
                        help="JSON-lines file the runs are appended to and summarized from")
    parser.add_argument("--match", choices=list(TARGET), default="s_over_b",
                        help="inject to CATHODE's S/B (0.64 %%) or to its S/sqrt(B) (2.2) in the SR")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def load_reference(folder: Path) -> tuple[EventSet, EventSet]:
    """The reference background and W' signal samples."""
    return (read_lhco(folder / "background_pt700_part1.features.h5"),
            read_lhco(folder / "signal_wprime3500_x500_y100.features.h5"))


def injection_for(background: EventSet, signal: EventSet, window: Window, match: str = "s_over_b") -> int:
    """Signal events to inject (over all mjj) so that the SR's S/B or S/sqrt(B) is CATHODE's."""
    probe = make_search_sample(background, signal, 0, window=window, random_state=0)
    background_in_sr = probe.summary(window)["background_in_sr"]
    in_sr = TARGET[match] * (background_in_sr if match == "s_over_b" else np.sqrt(background_in_sr))
    return int(round(in_sr / window.in_sr(signal).mean()))


def append_records(path: Path, setup: dict, study: dict) -> None:
    """Append each run's metrics (no arrays) with the setup that produced it."""
    with path.open("a") as file:
        for run in study["runs"]:
            metrics = {key: run[key] for key in ("method", "seed", "auc", "max_sic", "fit_seconds")}
            file.write(json.dumps({**setup, **metrics, "commit": commit()}) + "\n")


def read_records(path: Path, setup: dict) -> list[dict]:
    """The runs recorded for ``setup``; a later record of the same (method, seed) wins."""
    runs = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if all(record.get(key) == value for key, value in setup.items()):
            runs[record["method"], record["seed"]] = record
    return list(runs.values())


def summarize(all_runs: list[dict], methods: list[str]) -> list[list[str]]:
    rows = []
    for name in methods:
        runs = [run for run in all_runs if run["method"] == name]
        if not runs:
            continue
        sic = np.array([run["max_sic"] for run in runs])
        low, median, high = np.nanquantile(sic, [0.16, 0.5, 0.84])
        rows.append([
            name, str(len(runs)), f"{median:.2f} [{low:.2f}, {high:.2f}]",
            f"{statistics.median(run['auc'] for run in runs):.3f}",
            f"{statistics.mean(run['fit_seconds'] for run in runs):.0f}",
            str(PAPER_MAX_SIC.get(name, "—")),
        ])
    return rows


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    warn_if_busy()
    background, signal = load_reference(args.reference)
    window = Window(3.3, 3.7)
    n_signal = injection_for(background, signal, window, args.match)
    log(f"injecting {n_signal} signal events into {len(background)} background events")
    if args.seeds < 0:
        raise SystemExit("--seeds must be >= 0 (0: only summarize the record)")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    setup = {"match": args.match, "n_signal": n_signal, "n_background": len(background)}
    for seed in seeds:
        study = run_study(background, signal, args.methods, n_signal, window, seeds=[seed])
        append_records(args.record, setup, study)
    runs = read_records(args.record, setup)
    if not runs:
        raise SystemExit(f"no runs of this setup in {args.record}")
    first = min(run["seed"] for run in runs)  # the injected sample of a seed is cheap to redraw
    counts = make_search_sample(background, signal, n_signal, window=window, random_state=first).summary(window)
    headers = ["method", "seeds", "max SIC median [16 %, 84 %]", "AUC (median)", "fit time (s)", "paper max SIC"]
    rows = summarize(runs, list(METHODS))
    description = (
        f"Reference sample, SR 3.3-3.7 TeV, {n_signal} injected signal events: S = {counts['signal_in_sr']}, "
        f"B = {counts['background_in_sr']} in the SR (S/B = {100 * counts['s_over_b']:.2f} %, "
        f"S/sqrt(B) = {counts['significance']:.2f}; the sample of seed {first}), "
        f"seeds {sorted({run['seed'] for run in runs})}, default models of every method."
    )
    heading = {"s_over_b": "CATHODE's S/B", "significance": "CATHODE's S/sqrt(B)"}[args.match]
    publish(args.write, f"Resonant search quality at {heading} (benchmarks/search_quality.py)",
            description, headers, rows)


if __name__ == "__main__":
    main()
