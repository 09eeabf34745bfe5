"""LHC Olympics scale: wall time by stage and peak memory of the resonant searches on 1M events.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/search_scale.py --write docs/benchmarks.md
    .venv/bin/python benchmarks/search_scale.py --methods cathode --background qcd_1M.h5 --write docs/benchmarks.md

The data are ``--events`` background events plus W′ signal injected at the CATHODE paper's
S/B (0.6 %) in the 3.3-3.7 TeV signal region, as the paper's data set. Without
``--background`` the background is the reference sample (175k events) resampled with
replacement to ``--events``: the arrays have the size and the distributions of a 1M-event
sample, so the timings are those of one, but every event appears ~6 times, so a test set
would share events with the training data and no quality is reported. With a real
background file of at least ``--events`` + 100k events, the events after the first
``--events`` are the held-out test background and the max SIC is reported as well.

Each method runs in a fresh process, so its peak resident memory is its own, with
``--threads`` torch and OpenMP threads. Stages: the background model (``fit_density``:
CATHODE's and R-ANODE's sideband flow, SIGMA's flow matching, CURTAINs' transport), the
rest of ``fit`` with that model prefit (sampling and the classifier; R-ANODE's signal
flow), and scoring the test events. Target (issue 17): CATHODE end to end <= 10 min on
the 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import time
from pathlib import Path

import numpy as np
from _common import log, publish, warn_if_busy
from search_quality import REFERENCE, load_reference

PAPER_S_OVER_B = 0.006
N_TEST = 100_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["cathode", "sigma", "ranode", "curtains"])
    parser.add_argument("--events", type=int, default=1_000_000, help="background events in the data")
    parser.add_argument("--background", type=Path, help="a real background features file (else: resampled reference)")
    parser.add_argument("--threads", type=int, default=2, help="torch and OpenMP threads per method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def make_data(args):
    """(data with injected signal, test events or None for a resampled background, setup text)."""
    from likely.data import EventSet, read_lhco
    from likely.search import Window

    window = Window()
    reference_background, signal = load_reference(args.reference)
    rng = np.random.default_rng(args.seed)
    if args.background is None:
        background = reference_background[rng.integers(0, len(reference_background), args.events)]
        test, origin = None, f"reference background resampled with replacement to {args.events} events (timing only)"
    else:
        events = read_lhco(args.background).shuffle(rng)
        if len(events) < args.events + N_TEST:
            raise SystemExit(f"--background has {len(events)} events; need {args.events} + {N_TEST} for testing")
        background, test = events[: args.events], events[args.events:]
        origin = f"{args.background.name}: {args.events} events, the rest held out"
    signal = signal.with_label(1).shuffle(rng)
    b_sr = int(window.in_sr(background).sum())
    n_signal = int(round(PAPER_S_OVER_B * b_sr / window.in_sr(signal).mean()))
    data = EventSet.concat([background.with_label(0), signal[:n_signal]]).shuffle(rng)
    if test is not None:
        test = window.signal_region(EventSet.concat([test.with_label(0), signal[n_signal:]]))
    s_sr = int(window.in_sr(signal[:n_signal]).sum())
    setup = (f"{origin}; W' signal injected: S = {s_sr}, B = {b_sr} in {window} TeV (S/B {100 * s_sr / b_sr:.2f} %, "
             f"S/sqrt(B) {s_sr / b_sr ** 0.5:.2f}); seed {args.seed}; default models; {args.threads} threads per method")
    return data, test, setup


def run_method(name: str, data, test, seed: int, threads: int) -> dict:
    """Fit one method in stages (in a fresh process); seconds per stage, peak MiB and max SIC."""
    import torch

    from likely.metrics import max_sic
    from likely.nn import set_progress_bars
    from likely.search import Window
    from likely.search.study import make_method

    torch.set_num_threads(threads)
    set_progress_bars(False)
    window, method = Window(), make_method(name, random_state=seed)
    start = time.perf_counter()
    model = method.fit_density(data, window)
    background_model = time.perf_counter() - start
    method.with_prefit(model).fit(data, window)
    rest = time.perf_counter() - start - background_model
    start = time.perf_counter()
    score = method.score(test if test is not None else window.signal_region(data)[:N_TEST])
    scoring = time.perf_counter() - start
    return {"background model": background_model, "rest of fit": rest, "scoring": scoring,
            "peak MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "max SIC": max_sic(test.label, score) if test is not None else None}


def main() -> None:
    args = parse_args()
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the classifiers' threads, inherited by the workers
        os.environ[variable] = str(args.threads)
    warn_if_busy()
    data, test, setup = make_data(args)
    log(setup)
    rows = []
    context = multiprocessing.get_context("spawn")
    for name in args.methods:
        with context.Pool(1) as pool:
            result = pool.apply(run_method, (name, data, test, args.seed, args.threads))
        total = result["background model"] + result["rest of fit"] + result["scoring"]
        log(f"{name}: {result}")
        sic = "—" if result["max SIC"] is None else f"{result['max SIC']:.2f}"
        rows.append([name, f"{result['background model']:.0f}", f"{result['rest of fit']:.0f}",
                     f"{result['scoring']:.1f}", f"{total:.0f} ({total / 60:.1f} min)", f"{result['peak MiB']:.0f}", sic])
    headers = ["method", "background model (s)", "sampling, classifier etc. (s)", "scoring (s)", "end to end (s)",
               "peak memory (MiB)", "max SIC"]
    publish(args.write, "Resonant searches at LHC Olympics scale (benchmarks/search_scale.py)", setup, headers, rows)


if __name__ == "__main__":
    main()
