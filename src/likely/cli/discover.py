"""``likely search discover``: a bump hunt on unlabelled data, from scores to a global p-value."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.cli.rundir import (
    add_strict, check_run_dir, input_line, input_record, on_invalid, positive_int, prepare_run_dir, read_events,
)
from likely.data import EventSet, resonant_toy
from likely.data.samples import load_bundled_dijets
from likely.search import CWoLa, Decorrelator
from likely.search.discover import DEFAULT_EFFICIENCIES, Discovery, check_windows, discover, sliding_windows

log = logging.getLogger(__name__)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "discover", help="bump hunt on unlabelled data: cut, sideband fit, local and global p-values",
        description="Slide a signal region over mjj; in each, train CWoLa (SR vs the rest of the fit range, "
                    "k-folded), cut on every event's out-of-fold score at fixed efficiencies, fit the dijet "
                    "function to the kept spectrum's sidebands and compute the local p-value of the signal "
                    "region; the global p-value comes from background-only pseudo-experiments "
                    "(docs/search.md, 'From scores to a p-value').")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, nargs="+", metavar="FILE",
                        help="LHC Olympics features files or raw event files (R&D events_anomalydetection*.h5, "
                             "black boxes events_LHCO2020_BlackBox*.h5; clustered into the features first); "
                             "labels, if any, are only used to report the truth")
    source.add_argument("--bundled", action="store_true", help="the bundled dijet sample, with --inject signal")
    source.add_argument("--toy", type=positive_int, metavar="N", help="N events of the dijet-like toy, with --inject")
    parser.add_argument("--inject", type=int, default=0,
                        help="signal events added to --bundled or --toy background (default: 0)")
    parser.add_argument("--windows", type=float, nargs=4, action="append", metavar=("FIRST", "LAST", "WIDTH", "STEP"),
                        help="signal regions [low, low + WIDTH) for low from FIRST in STEPs while low + WIDTH <= LAST "
                             "(TeV; default: 3.0 4.6 0.4 0.2). Repeat for several widths, e.g. a second scan "
                             "3.0 4.6 0.8 0.2 for wide resonances: the look-elsewhere correction covers all")
    parser.add_argument("--range", dest="fit_range", type=float, nargs=2, default=(2.8, 5.2), metavar=("LOW", "HIGH"),
                        help="fit range in mjj, TeV: the method trains and the fit runs here (default: 2.8 5.2)")
    parser.add_argument("--bin-width", type=float, default=0.1, help="mjj bin width, TeV (default: 0.1)")
    parser.add_argument("--efficiencies", type=float, nargs="+", default=DEFAULT_EFFICIENCIES, metavar="EPS",
                        help="fractions of events kept by the cuts, decreasing (default: 0.1 0.01 0.001)")
    parser.add_argument("--folds", type=positive_int, default=5, help="CWoLa's k folds (default: 5)")
    parser.add_argument("--decorrelate", action=argparse.BooleanOptionalAction, default=True,
                        help="map the features to z = f^-1(x | mjj) of a conditional flow, out of fold "
                             "(2 folds; see --decorrelate-on), before CWoLa (default: on). The "
                             "LHCO jet masses follow mjj and a cut on them sculpts a bump; --no-decorrelate only "
                             "for features that do not depend on mjj")
    parser.add_argument("--decorrelate-on", choices=("fit-range", "sidebands"), default="fit-range",
                        help="fit the decorrelating flows once on the whole fit range (default; 2 flows: a "
                             "calibrated null, but they learn part of a signal where the background is sparse) "
                             "or on each window's sidebands (2 flows per window: no flow sees the window it "
                             "tests, but interpolating into it sculpts signal-free data: local p-values too small)")
    parser.add_argument("--pseudo", type=positive_int, default=200,
                        help="pseudo-experiments for the global p-value (default: 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    add_strict(parser)
    parser.set_defaults(run=run_discover)


#: the default scan: FIRST LAST WIDTH STEP of --windows (TeV)
DEFAULT_WINDOWS = (3.0, 4.6, 0.4, 0.2)


def binning(low: float, high: float, width: float) -> np.ndarray:
    """Bin edges from ``low`` to ``high`` (TeV) in steps of ``width``; ``high - low`` must be a multiple of it."""
    if not (0 < low < high and width > 0):
        raise ValueError(f"--range needs 0 < LOW < HIGH and --bin-width > 0; got {low} {high}, {width}")
    count = (high - low) / width
    if abs(count - round(count)) > 1e-6:
        raise ValueError(f"--range {low} {high} is not a whole number of --bin-width {width} bins")
    return np.round(np.linspace(low, high, int(round(count)) + 1), 6)


def run_discover(args) -> Path:
    check_run_dir(args.out, args.force)
    if args.inject < 0 or (args.inject and args.data):
        raise ValueError(f"--inject needs --bundled or --toy and must be >= 0; got {args.inject}")
    windows = [window for scan in args.windows or [DEFAULT_WINDOWS] for window in sliding_windows(*scan)]
    edges = binning(*args.fit_range, args.bin_width)
    check_windows(windows, edges)
    events, invalid = _events(args)
    out = prepare_run_dir(args.out, args.force)
    write_json(out / "config.json", {key: _plain(v) for key, v in vars(args).items()
                                     if key not in ("run", "quiet", "force")} | {"command": "search discover"})
    events = events.shuffle(args.seed)  # the folds see the files' order otherwise
    method = CWoLa(n_folds=args.folds)
    result = discover(events, windows, edges, method=method,
                      efficiencies=args.efficiencies, n_pseudo=args.pseudo,
                      decorrelator=Decorrelator() if args.decorrelate else None,
                      decorrelate_on=args.decorrelate_on.replace("-", " "), random_state=args.seed,
                      progress=not args.quiet)
    summary = result.summary() | {"input": input_record(invalid), "truth": _truth(events, windows, edges)}
    write_json(out / "results.json", summary)
    _write_scores(out / "scores.npz", events, edges, result)
    _write_figures(out, result, _in_range(events, edges), list(method.features))
    write_text(out / "report.md", discovery_report(summary))
    log.info("report written to %s", out / "report.md")
    return out


def _plain(value):
    """A command-line value as JSON: paths (also the list of --data files) as strings."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def _events(args) -> tuple[EventSet, object]:
    if args.data:
        return read_events(args.data, on_invalid(args))
    if args.bundled:
        background, signal = load_bundled_dijets()
    else:
        events = resonant_toy(args.toy, max(args.inject, 1), random_state=12345)
        background, signal = events[events.label == 0], events[events.label == 1]
    if args.inject > len(signal):
        raise ValueError(f"--inject {args.inject} is more than the {len(signal)} signal events available")
    chosen = np.random.default_rng(args.seed).choice(len(signal), args.inject, replace=False)
    return EventSet.concat([background, signal[np.sort(chosen)]]), None


def _truth(events: EventSet, windows, edges) -> dict | None:
    """Signal and background in each signal region before any cut, if the data has labels."""
    if events.label is None:
        return None
    rows = []
    for window in windows:
        in_sr = window.in_sr(events)
        s, b = int((in_sr & (events.label == 1)).sum()), int((in_sr & (events.label == 0)).sum())
        rows.append({"sr": [window.low, window.high], "signal": s, "background": b,
                     "s_over_sqrt_b": s / np.sqrt(b) if b else None})
    return {"windows": rows, "signal_events": int((events.label == 1).sum())}


def _in_range(events: EventSet, edges) -> EventSet:
    """The events of the fit range, in the order of the discovery's scores."""
    return events[(events.column("mjj") >= edges[0]) & (events.column("mjj") < edges[-1])]


def _write_scores(path: Path, events: EventSet, edges, result: Discovery) -> None:
    events = _in_range(events, edges)
    arrays = {"mjj": events.column("mjj"), "scores": np.stack(result.scores)}
    if events.label is not None:
        arrays["label"] = events.label
    with atomic_write(path) as stream:
        np.savez_compressed(stream, **arrays)


def _write_figures(out: Path, result: Discovery, events: EventSet, features: list[str]) -> None:
    """The report's figures; ``events``: the fit range's, in the order of the scores, with the method's ``features``."""
    from likely.plot import (
        plot_bump_hunts, plot_null_pvalues, plot_selected_features, plot_significance_scan, save_figure,
    )

    save_figure(plot_significance_scan(result), out / "significance_scan.png")
    best = result.best
    i = next(i for i, row in enumerate(result.tests) if best in row)
    save_figure(plot_bump_hunts(result.tests[i], result.edges), out / "spectra_best_window.png")
    save_figure(plot_selected_features(events.array(features), features, events.column("mjj"), result.scores[i],
                                       best), out / "features_best_window.png")
    save_figure(plot_null_pvalues(result), out / "null_pvalues.png")


def discovery_report(summary: dict) -> str:
    """report.md of a discovery run (``summary``: its results.json)."""
    best = summary["best"]
    lines = [
        "# Bump hunt on unlabelled data (likely search discover)", "",
        f"Most significant: signal region {best['sr'][0]:g}–{best['sr'][1]:g} TeV at efficiency "
        f"{best['efficiency']:g}: {best['observed']:.0f} events observed, {best['background']:.1f} ± "
        f"{best['background_error']:.1f} expected from the {best['n_params']}-parameter dijet fit of the "
        f"sidebands (χ²/ndof {best['chi2']:.1f}/{best['ndof']}).", "",
        f"- local significance: **Z = {best['z_local']:.2f}** (p = {best['p_local']:.3g})",
        f"- global significance (look-elsewhere over {len(summary['tests'])} windows × cuts, "
        f"{summary['pseudo_experiments']} background-only pseudo-experiments): **Z = {summary['z_global']:.2f}** "
        f"(p = {summary['p_global']:.3g}"
        + (", the smallest these pseudo-experiments resolve" if summary["p_global"] <= 1 / summary[
            "pseudo_experiments"] else "") + ")",
        f"- Gross–Vitells estimate of the global significance: Z = {summary['z_global_gross_vitells']:.2f}", "",
        input_line(summary.get("input")), "",
        "![significance scan](significance_scan.png)", "",
        "![kept spectra of the best window](spectra_best_window.png)", "",
        "The features of the events the best cut keeps, in its signal region and in the sidebands:", "",
        "![features of the kept events](features_best_window.png)", "",
        "Local p-values of every window and cut in the background-only pseudo-experiments (uniform when the "
        "fits are unbiased) and of the data:", "",
        "![p-values of the pseudo-experiments](null_pvalues.png)", "",
        "## Every window and cut", "",
        "| SR [TeV] | ε | observed | background | Z local | fit | χ²/ndof |", "|---|---|---|---|---|---|---|",
    ]
    for test in summary["tests"]:
        if test["failure"]:
            lines.append(f"| {test['sr'][0]:g}–{test['sr'][1]:g} | {test['efficiency']:g} | {test['observed']:.0f} | "
                         f"not fitted: {test['failure']} | | | |")
            continue
        lines.append(f"| {test['sr'][0]:g}–{test['sr'][1]:g} | {test['efficiency']:g} | {test['observed']:.0f} | "
                     f"{test['background']:.1f} ± {test['background_error']:.1f} | {test['z_local']:.2f} | "
                     f"{test['n_params']} par. | {test['chi2']:.1f}/{test['ndof']} |")
    if summary.get("truth"):
        lines += ["", "## Truth (the data has labels; the search did not use them)", "",
                  "| SR [TeV] | signal | background | S/√B |", "|---|---|---|---|"]
        for row in summary["truth"]["windows"]:
            ratio = "–" if row["s_over_sqrt_b"] is None else f"{row['s_over_sqrt_b']:.2f}"
            lines.append(f"| {row['sr'][0]:g}–{row['sr'][1]:g} | {row['signal']} | {row['background']} | {ratio} |")
    return "\n".join(lines) + "\n"
