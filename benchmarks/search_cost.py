"""Sliding-window cost: SIGMA (one model for every window) vs CATHODE (retrained per window).

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/search_cost.py --write docs/benchmarks.md

Signal is injected into the reference background (``shared/data/lhco-pythia``) at the
CATHODE benchmark's significance in the 3.3-3.7 TeV window; both methods then run over
the same sliding windows (width 0.4 TeV, step 0.2 TeV). CATHODE trains a sideband flow
per window; SIGMA trains one flow-matching model on all the data and, per window, only
interpolates, samples and trains its classifier. The cost is the wall time of the whole
scan; the quality is the max SIC in the window that holds the signal, measured on the
held-out test set there. Targets (issue 3): SIGMA >= 4x cheaper at <= 10 % loss of max SIC.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from _common import log, publish, warn_if_busy
from search_quality import REFERENCE, injection_for, load_reference

from likely.metrics import auc, max_sic
from likely.search import CATHODE, SIGMA, Window, make_search_sample

SIGNAL_WINDOW = Window(3.3, 3.7)


def sliding_windows(n_windows: int, width: float = 0.4, step: float = 0.2) -> list[Window]:
    """``n_windows`` windows of ``width`` TeV, ``step`` apart, placed so one is 3.3-3.7 TeV."""
    first = SIGNAL_WINDOW.low - step * ((n_windows - 1) // 2)
    return [Window(round(first + i * step, 3), round(first + i * step + width, 3)) for i in range(n_windows)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=8, help="number of sliding windows (>= 8 for the target)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def scan(make_method, sample, windows: list[Window]) -> tuple[float, float]:
    """Fit a method per window; (wall seconds of the scan, max SIC in the signal window)."""
    start, sic = time.perf_counter(), float("nan")
    for window in windows:
        method = make_method().fit(sample.data, window)
        if window == SIGNAL_WINDOW:
            score = method.score(sample.test)
            sic = max_sic(sample.test.label, score)
            log(f"{type(method).__name__} in {window}: AUC {auc(sample.test.label, score):.3f}, max SIC {sic:.2f}")
    return time.perf_counter() - start, sic


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    warn_if_busy()
    background, signal = load_reference(args.reference)
    windows = sliding_windows(args.windows)
    n_signal = injection_for(background, signal, SIGNAL_WINDOW, "significance")
    sample = make_search_sample(background, signal, n_signal, window=SIGNAL_WINDOW, random_state=args.seed)
    log(f"{len(windows)} windows {windows[0].low}-{windows[-1].high} TeV, {n_signal} injected signal events")

    cathode_seconds, cathode_sic = scan(lambda: CATHODE(random_state=args.seed), sample, windows)

    start = time.perf_counter()
    density = SIGMA(random_state=args.seed).fit_density(sample.data)
    train_seconds = time.perf_counter() - start
    sigma_seconds, sigma_sic = scan(lambda: SIGMA(density=density, prefit=True, random_state=args.seed),
                                    sample, windows)
    sigma_seconds += train_seconds

    headers = ["method", "scan wall time (s)", "per window (s)", "max SIC in 3.3-3.7 TeV"]
    rows = [
        ["CATHODE (flow per window)", f"{cathode_seconds:.0f}", f"{cathode_seconds / len(windows):.0f}",
         f"{cathode_sic:.2f}"],
        [f"SIGMA (one model, trained in {train_seconds:.0f} s)", f"{sigma_seconds:.0f}",
         f"{(sigma_seconds - train_seconds) / len(windows):.0f} + training", f"{sigma_sic:.2f}"],
    ]
    summary = (f"SIGMA/CATHODE: {cathode_seconds / sigma_seconds:.1f}x cheaper, max SIC ratio "
               f"{sigma_sic / cathode_sic:.2f} (targets: >= 4x, >= 0.90).")
    setup = (f"Reference sample, {len(windows)} sliding windows of 0.4 TeV from {windows[0].low} to "
             f"{windows[-1].high} TeV, {n_signal} injected signal events, seed {args.seed}, default models.")
    publish(args.write, "Sliding-window cost: SIGMA vs CATHODE (benchmarks/search_cost.py)",
            setup, headers, rows, summary)


if __name__ == "__main__":
    main()
