"""Sliding-window cost of CURTAINs: one transport per window vs one transport for every window.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/curtains_cost.py --write docs/benchmarks.md

A subsample of the reference background (``--events``) with signal injected at the CATHODE
benchmark's significance in the 3.3-3.7 TeV window; CURTAINs (MLE, CURTAINsF4F) then runs
over the same sliding windows (width 0.4 TeV, step 0.2 TeV) of :mod:`search_cost` twice:
with ``train_once=False`` it trains its base density q and transport f on each window's
sidebands; with ``train_once=True`` it trains them once on all events
(``fit_density``) and per window only moves events and trains the classifier. The models
are smaller than the defaults (see ``models``) so that the run takes minutes on 2 cores;
both modes use the same ones. Cost: wall time of the whole scan; quality: max SIC in the
signal window on its held-out test set, per seed.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
from _common import log, publish, warn_if_busy
from search_cost import SIGNAL_WINDOW, scan, sliding_windows
from search_quality import REFERENCE, injection_for, load_reference

from likely.classify import Ensemble, TreeClassifier
from likely.density import Flow
from likely.nn import Trainer
from likely.search import CURTAINs, make_search_sample


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=4, help="number of sliding windows")
    parser.add_argument("--events", type=int, default=150_000, help="background events used (the first ones)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def models(seed: int, train_once: bool) -> CURTAINs:
    """CURTAINs with small models: q a 3-transform MAF (64 x 64), f the default transport, 20 epochs each."""
    trainer = Trainer(epochs=20, lr=1e-3, progress=False)
    return CURTAINs(density=Flow(transforms=3, hidden=(64, 64), trainer=trainer, random_state=seed),
                    network=Flow(kind="coupling", transforms=4, hidden=(32, 32), bins=4, trainer=trainer),
                    classifier=Ensemble(TreeClassifier(), n_members=3), train_once=train_once, random_state=seed)


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(1)
    warn_if_busy()
    background, signal = load_reference(args.reference)
    background = background[:args.events]
    windows = sliding_windows(args.windows)
    n_signal = injection_for(background, signal, SIGNAL_WINDOW, "significance")
    log(f"{len(windows)} windows {windows[0].low}-{windows[-1].high} TeV, {n_signal} injected signal events")
    results = {"per window": [], "once": []}
    for seed in range(args.seeds):
        sample = make_search_sample(background, signal, n_signal, window=SIGNAL_WINDOW, random_state=seed)
        results["per window"].append(scan(lambda: models(seed, False), sample, windows))  # noqa: B023
        start = time.perf_counter()
        shared = models(seed, True).fit_density(sample.data)
        train = time.perf_counter() - start
        seconds, sic = scan(lambda: models(seed, True).with_prefit(shared), sample, windows)  # noqa: B023
        results["once"].append((seconds + train, sic, train))
    headers = ["CURTAINs transport", "scan wall time (s)", "per window (s)", "max SIC in 3.3-3.7 TeV (seed 0 / 1 / ...)"]
    per_window = np.array([r[:2] for r in results["per window"]])
    once = np.array(results["once"])
    rows = [
        ["trained per window (`train_once=False`)", _spread(per_window[:, 0]),
         _spread(per_window[:, 0] / len(windows)), " / ".join(f"{s:.2f}" for s in per_window[:, 1])],
        [f"trained once (`train_once=True`, {_spread(once[:, 2])} s)", _spread(once[:, 0]),
         f"{_spread((once[:, 0] - once[:, 2]) / len(windows))} + training",
         " / ".join(f"{s:.2f}" for s in once[:, 1])],
    ]
    per_window_cost = per_window[:, 0].mean() / len(windows)
    once_cost = (once[:, 0] - once[:, 2]).mean() / len(windows)
    break_even = once[:, 2].mean() / (per_window_cost - once_cost)
    ratio = per_window[:, 0].mean() / once[:, 0].mean()
    verdict = f"{ratio:.1f}x cheaper than" if ratio >= 1 else f"{1 / ratio:.1f}x dearer than"
    summary = (f"Per window the once-trained scan costs {once_cost:.0f} s against {per_window_cost:.0f} s (moving "
               f"events and the classifier only), but its one training on all events, {len(sample.data)} against "
               f"the sidebands' few thousand, costs as much as {break_even:.0f} windows trained one by one: over "
               f"these {len(windows)} windows the scan is {verdict} the per-window one. Mean max SIC "
               f"{once[:, 1].mean():.2f} (once) vs {per_window[:, 1].mean():.2f} (per window).")
    setup = (f"First {len(background)} reference background events, {len(windows)} sliding windows of 0.4 TeV from "
             f"{windows[0].low} to {windows[-1].high} TeV, {n_signal} injected signal events, seeds 0-{args.seeds - 1} "
             "(times: mean [min, max] over seeds), small models (q: MAF 3 x 64 x 64, f: 4 coupling RQS 32 x 32, 20 epochs "
             "each; 3 boosted trees), one torch thread.")
    publish(args.write, "Sliding-window cost: CURTAINs per window vs trained once (benchmarks/curtains_cost.py)",
            setup, headers, rows, summary)


def _spread(values: np.ndarray) -> str:
    return f"{values.mean():.0f} [{values.min():.0f}, {values.max():.0f}]"


if __name__ == "__main__":
    main()
