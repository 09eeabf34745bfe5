"""Max SIC vs injected signal: an injection scan with ``likely search scan`` on the reference sample.

Run by hand from the repository root (resumable: a rerun keeps the finished jobs)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/search_injection.py --workers 2 --write docs/benchmarks.md

The scan is ``benchmarks/search_injection_scan.toml`` (methods, seeds, S/sqrt(B) targets);
its directory also gets the scan report and ``max_sic_vs_s_over_b.png``. The table gives
the median max SIC and its 16-84 % range over seeds for each method and injection, and
the fraction of seeds in which R-ANODE's max SIC is at least CATHODE's.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import publish, warn_if_busy

from likely.cli import main as likely_main
from likely.search.scan_config import read_scan_config

CONFIG = Path(__file__).with_name("search_injection_scan.toml")
#: background events in 3.3-3.7 TeV of the LHCO R&D data set (CATHODE's benchmark)
LHCO_SR_BACKGROUND = 121_352


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="scan config (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/injection-scan"), help="scan directory")
    parser.add_argument("--workers", type=int, default=1, help="local Dask worker processes")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def summarize(jobs: list[dict], methods: list[str]) -> tuple[list[str], list[list[str]]]:
    """One row per injection: S/B, S/sqrt(B), then each method's max SIC median [16 %, 84 %]."""
    by = defaultdict(list)
    for job in jobs:
        by[job["job"]["injection"], job["method"]].append(job)
    injections = sorted({job["job"]["injection"] for job in jobs}, key=lambda name: float(name.lstrip("nsbz")))
    rows = []
    for name in injections:
        first = by[name, methods[0]]
        s_over_b = np.median([job["s_over_b"] for job in first])
        significance = np.median([job["significance"] for job in first])
        cells = []
        for method in methods:
            sic = np.array([job["max_sic"] for job in by[name, method]])
            low, mid, high = np.quantile(sic, [0.16, 0.5, 0.84]) if len(sic) else (np.nan,) * 3
            cells.append(f"{mid:.2f} [{low:.2f}, {high:.2f}]")
        rows.append([name, f"{100 * s_over_b:.2f} %", f"{significance:.2f}", str(len(first)), *cells,
                     _ranode_wins(by[name, "ranode"], by[name, "cathode"])])
    return ["injection", "S/B", "S/√B", "seeds", *methods, "R-ANODE ≥ CATHODE"], rows


def _ranode_wins(ranode: list[dict], cathode: list[dict]) -> str:
    cathode_by_seed = {job["seed"]: job["max_sic"] for job in cathode}
    pairs = [(job["max_sic"], cathode_by_seed[job["seed"]]) for job in ranode if job["seed"] in cathode_by_seed]
    return f"{sum(r >= c for r, c in pairs)} / {len(pairs)}" if pairs else "—"


def main() -> None:
    args = parse_args()
    warn_if_busy()
    config = read_scan_config(args.config)
    command = ["search", "scan", str(args.config), "--out", str(args.out), "--workers", str(args.workers)]
    if likely_main(command) != 0:  # the scan as a user runs it: resumable, and it writes the report
        raise SystemExit(f"likely {' '.join(command)} failed")
    results = json.loads((args.out / "results.json").read_text())
    headers, rows = summarize(results["jobs"], list(config.methods))
    setup = (f"`likely search scan {args.config.name}` (reference sample, SR 3.3-3.7 TeV, signal injected to "
             f"S/√B targets in the SR; {len(config.seeds)} seed(s); max SIC with >= 25 test background "
             f"events passing, median [16 %, 84 %] over seeds; S/B and S/√B in the SR of the training data)")
    lhco = ", ".join(f"{100 * z / np.sqrt(LHCO_SR_BACKGROUND):.2g} %" for z in config.amounts)
    footer = (f"Matched in significance, these are the S/B {lhco} of the LHCO R&D signal region "
              f"({LHCO_SR_BACKGROUND:,} background events), the range of the R-ANODE paper's scan.")
    publish(args.write, "Max SIC vs injected signal (benchmarks/search_injection.py)", setup, headers, rows, footer)


if __name__ == "__main__":
    main()
