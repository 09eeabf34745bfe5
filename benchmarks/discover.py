"""Discovery on unlabelled data: null calibration, significance vs injected signal, cost.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/discover.py --write docs/benchmarks.md

On the reference Pythia sample (``../shared/data/lhco-pythia``), with the analysis of
``likely search discover`` (CWoLa, 5 folds, cuts on out-of-fold scores, dijet fits):

- **Null calibration**: ``--null`` signal-free pseudo-data sets, each a random half of the
  background (drawn without replacement, so no event appears twice inside a set); the
  local p-values of every window and cut should be uniform. The sets overlap (halves of
  one sample), so the KS test's p-value is indicative, not exact.
- **Injection**: the W' (3.5 TeV) signal injected at several S/sqrt(B) in 3.3-3.7 TeV; the
  best window, its local Z and the global Z (pseudo-experiments and Gross-Vitells).
- **Black boxes** (``--box FILE S``): a signal file made with ``likely generate dijet`` at a
  mass none of the settings were tuned on, injected at S/sqrt(B) = S in the 0.4 TeV window
  centred on its mjj median, searched for with the command's default sliding windows.
- **Cost**: wall time of each discovery run on this machine.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from _common import log, publish, warn_if_busy
from scipy import stats
from search_quality import REFERENCE, load_reference

from likely.data import EventSet
from likely.nn import set_progress_bars
from likely.search import Decorrelator, Window
from likely.search.discover import discover, sliding_windows

EDGES = np.round(np.arange(2.8, 5.2001, 0.1), 3)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null", type=int, default=20, help="signal-free pseudo-data sets (default: 20)")
    parser.add_argument("--significances", type=float, nargs="*", default=[0.0, 1.0, 2.0, 3.0, 5.0],
                        help="injected S/sqrt(B) in 3.3-3.7 TeV (default: 0 1 2 3 5)")
    parser.add_argument("--windows", type=float, nargs="+", default=[3.1, 3.3, 3.5],
                        help="low edges of the 0.4 TeV signal regions (default: 3.1 3.3 3.5)")
    parser.add_argument("--efficiencies", type=float, nargs="+", default=[0.1, 0.01, 0.001])
    parser.add_argument("--pseudo", type=int, default=200, help="pseudo-experiments per injected run")
    parser.add_argument("--box", nargs=2, action="append", default=[], metavar=("SIGNAL_FILE", "S_OVER_SQRT_B"),
                        help="a black box: this signal at this S/sqrt(B), searched with the default windows "
                             "(repeatable)")
    parser.add_argument("--box-widths", type=float, nargs="+", default=[0.4], metavar="WIDTH",
                        help="window widths (TeV) scanned over 3.0-4.6 TeV in steps of 0.2 for the black boxes "
                             "(default: 0.4, the command's default)")
    parser.add_argument("--decorrelate", action="store_true",
                        help="decorrelate the features from mjj out of fold (a flow on the whole fit range, 2 folds)")
    parser.add_argument("--on-sidebands", action="store_true",
                        help="with --decorrelate: fit the flows on each window's sidebands (default: once on the "
                             "whole fit range)")
    parser.add_argument("--write", help="write the tables as sections of this markdown file")
    return parser.parse_args()


def run(events: EventSet, args, n_pseudo: int, seed: int, windows=None):
    """One discovery on ``events`` (default windows: ``args.windows``), and its wall time in seconds."""
    windows = windows if windows is not None else [Window(low, round(low + 0.4, 3)) for low in args.windows]
    start = time.perf_counter()
    result = discover(events.shuffle(seed), windows, EDGES, efficiencies=args.efficiencies, n_pseudo=n_pseudo,
                      decorrelator=Decorrelator() if args.decorrelate else None,
                      decorrelate_on="sidebands" if args.on_sidebands else "fit range", random_state=seed, progress=False)
    return result, time.perf_counter() - start


def result_cells(result, elapsed: float) -> list[str]:
    """The table cells every discovery row shares: best window, cut, local and global Z, seconds."""
    best = result.best
    return [f"{best.window.low:g}-{best.window.high:g}", f"{best.efficiency:g}", f"{best.z_local:.2f}",
            f"{float(stats.norm.isf(result.p_global)):.2f}", f"{float(stats.norm.isf(result.p_global_gv)):.2f}",
            f"{elapsed:.0f}"]


def null_calibration(background: EventSet, args) -> None:
    p_values, seconds = [], []
    for seed in range(args.null):
        half = np.random.default_rng(1000 + seed).permutation(len(background))[: len(background) // 2]
        result, elapsed = run(background[np.sort(half)], args, n_pseudo=1, seed=seed)
        tested = [t.p_local for row in result.tests for t in row if t.tested]
        p_values += tested
        seconds.append(elapsed)
        log(f"null set {seed}: {len(tested)} tests, smallest p {min(tested):.3g} ({elapsed:.0f} s); "
            f"p = {np.round(tested, 4).tolist()}")
    p = np.array(p_values)
    ks = stats.kstest(p, "uniform")
    excess = stats.kstest(p, "uniform", alternative="greater")  # too many small p-values: sculpting
    rows = [[f"{args.null}", f"{len(p)}", f"{np.mean(p <= 0.05):.3f}", f"{np.mean(p <= 0.01):.3f}",
             f"{ks.statistic:.3f}", f"{ks.pvalue:.3g}", f"{excess.pvalue:.3g}", f"{np.median(seconds):.0f}"]]
    publish(args.write, f"Discovery: null calibration{_variant(args)} (benchmarks/discover.py)",
            f"{args.null} random halves of the reference background ({len(background) // 2} events each), "
            f"windows {args.windows} (+0.4 TeV), efficiencies {args.efficiencies}; target (issue 13): "
            "local p-values uniform, KS p > 0.05",
            ["sets", "tests", "P(p <= 0.05)", "P(p <= 0.01)", "KS D", "KS p", "one-sided KS p", "s per set"], rows,
            footer="Discrete (Z_Bi) p-values are conservative, so P(p <= alpha) below alpha is expected. One-sided KS: "
                   "the alternative is an excess of small p-values (a sculpted background), which the conservative "
                   "pile-up near p = 1 does not trigger.")


def injection(background: EventSet, signal: EventSet, args) -> None:
    window = Window(3.3, 3.7)
    b_in_sr = int(window.in_sr(background).sum())
    acceptance = float(window.in_sr(signal).mean())
    rows = []
    for significance in args.significances:
        n_inject = int(round(significance * np.sqrt(b_in_sr) / acceptance))
        chosen = np.random.default_rng(7).choice(len(signal), n_inject, replace=False)
        events = EventSet.concat([background, signal[np.sort(chosen)]])
        result, elapsed = run(events, args, n_pseudo=args.pseudo, seed=0)
        rows.append([f"{significance:g}", f"{n_inject}", *result_cells(result, elapsed)])
        log(f"S/sqrt(B) {significance}: best {result.best.window} Z {result.best.z_local:.2f}, "
            f"global p {result.p_global:.3g}")
    publish(args.write, f"Discovery: significance vs injected signal{_variant(args)} (benchmarks/discover.py)",
            f"reference background ({len(background)} events) + W' (3.5 TeV) signal at S/sqrt(B) in 3.3-3.7 TeV "
            f"({b_in_sr} background events there, signal acceptance {acceptance:.3f}); windows {args.windows} "
            f"(+0.4 TeV), efficiencies {args.efficiencies}, {args.pseudo} pseudo-experiments; target (issue 13): "
            ">= 3 sigma global at S/sqrt(B) 2-3, <= 2 sigma without signal",
            ["S/sqrt(B)", "injected", "best SR [TeV]", "eps", "Z local", "Z global (pseudo)", "Z global (GV)",
             "s per run"], rows,
            footer=f"Z global (pseudo) cannot exceed {float(stats.norm.isf(1 / (1 + args.pseudo))):.2f} with "
                   f"{args.pseudo} pseudo-experiments; Gross-Vitells extrapolates beyond.")


def black_boxes(background: EventSet, args) -> None:
    from likely.data.lhco import read_lhco

    rows = []
    for path, strength in args.box:
        signal = read_lhco(path)
        centre = float(np.median(signal.column("mjj")))
        true = Window(round(centre - 0.2, 3), round(centre + 0.2, 3))
        n_inject = int(round(float(strength) * np.sqrt(true.in_sr(background).sum()) / true.in_sr(signal).mean()))
        if n_inject > len(signal):
            raise SystemExit(f"{path} has {len(signal)} events; {n_inject} are needed")
        events = EventSet.concat([background, signal[:n_inject]])
        windows = [window for width in args.box_widths for window in sliding_windows(3.0, 4.6, width, 0.2)]
        result, elapsed = run(events, args, n_pseudo=args.pseudo, seed=0, windows=windows)
        rows.append([Path(path).name, f"{centre:.2f}", strength, f"{n_inject}", *result_cells(result, elapsed)])
        log(f"box {path}: best {result.best.window} Z {result.best.z_local:.2f}")
    publish(args.write, f"Discovery: black boxes{_variant(args)} (benchmarks/discover.py)",
            f"reference background ({len(background)} events) + signals generated with `likely generate dijet`, "
            f"injected at S/sqrt(B) in the 0.4 TeV window centred on the signal's mjj median; windows "
            f"3.0-4.6 TeV of widths {args.box_widths} TeV, step 0.2, efficiencies {args.efficiencies}, {args.pseudo} "
            "pseudo-experiments; target (issue 13): the injected window found, >= 3 sigma global at S/sqrt(B) 2-3",
            ["signal", "mjj median [TeV]", "S/sqrt(B)", "injected", "best SR [TeV]", "eps", "Z local",
             "Z global (pseudo)", "Z global (GV)", "s"], rows)


def _variant(args) -> str:
    if not args.decorrelate:
        return ", raw features"
    return f", features decorrelated from mjj out of fold on the {'sidebands' if args.on_sidebands else 'fit range'}"


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    set_progress_bars(False)
    warn_if_busy()
    background, signal = load_reference(REFERENCE)
    background, signal = background[background.label == 0], signal
    if args.box:
        black_boxes(background, args)
    if args.significances:
        injection(background, signal, args)
    if args.null:
        null_calibration(background, args)


if __name__ == "__main__":
    main()
