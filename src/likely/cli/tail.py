"""``likely search tail``: a tail (non-resonant) search with flow decorrelation and ABCD."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.cli.rundir import (
    add_strict, check_run_dir, input_line, input_record, on_invalid, prepare_run_dir, read_events,
)
from likely.data.lhco import FEATURES
from likely.search import DEFAULT_FEATURES, abcd_at, tail_search

log = logging.getLogger(__name__)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "tail", help="tail search: decorrelate, classify data against a reference, predict the tail with ABCD",
        description="A signal in the tail of a feature t (default mjj) rather than a bump: a conditional flow "
                    "fitted on the reference makes the features independent of t, a k-folded classifier of data "
                    "against reference gives every data event an out-of-fold score, and ABCD in (score, t) "
                    "predicts the background above --t-cut (docs/search.md, 'The ABCD tail search'; "
                    "arXiv:2404.07258).")
    parser.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE",
                        help="LHC Olympics files (features or raw events) of the data")
    parser.add_argument("--reference", type=Path, nargs="+", required=True, metavar="FILE",
                        help="LHC Olympics files of a background-like reference (a control sample, simulation)")
    parser.add_argument("--tail-feature", default="mjj", choices=FEATURES, help="the tail feature t (default: mjj)")
    parser.add_argument("--t-cut", type=float, required=True, help="the tail: t > T_CUT (units of the feature)")
    parser.add_argument("--features", nargs="+", default=list(DEFAULT_FEATURES), choices=FEATURES,
                        help=f"classifier features (default: {' '.join(DEFAULT_FEATURES)})")
    parser.add_argument("--efficiencies", type=float, nargs="+", default=[0.1, 0.01], metavar="EPS",
                        help="fractions of the data below the tail kept by the score cut (default: 0.1 0.01)")
    parser.add_argument("--folds", type=int, default=5, help="classifier folds (default: 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    add_strict(parser)
    parser.set_defaults(run=run_tail)


def run_tail(args) -> Path:
    check_run_dir(args.out, args.force)
    if args.tail_feature in args.features:
        raise ValueError(f"--features must not include the tail feature {args.tail_feature!r}")
    if not args.efficiencies or any(not 0 < e < 1 for e in args.efficiencies):
        raise ValueError(f"--efficiencies must be fractions in (0, 1); got {args.efficiencies}")
    if args.folds < 2:
        raise ValueError(f"--folds must be >= 2; got {args.folds}")
    columns = [*args.features, args.tail_feature]
    data, invalid = read_events(args.data, on_invalid(args), features=columns)
    reference, _ = read_events(args.reference, on_invalid(args), features=columns)
    out = prepare_run_dir(args.out, args.force)
    write_json(out / "config.json", {key: ([str(p) for p in v] if key in ("data", "reference") else
                                           (str(v) if isinstance(v, Path) else v)) for key, v in vars(args).items()
                                     if key not in ("run", "quiet", "force")} | {"command": "search tail"})
    t = data.column(args.tail_feature)
    _, score = tail_search(data.array(args.features), t, reference.array(args.features),
                           reference.column(args.tail_feature), t_cut=args.t_cut, efficiency=args.efficiencies[0],
                           n_folds=args.folds, random_state=args.seed)
    regions = [abcd_at(score, t, args.t_cut, efficiency) for efficiency in args.efficiencies]
    summary = {"tail_feature": args.tail_feature, "t_cut": args.t_cut, "input": input_record(invalid),
               "n_data": len(data), "n_reference": len(reference),
               "cuts": [{"efficiency": e} | r.summary() for e, r in zip(args.efficiencies, regions)]}
    write_json(out / "results.json", summary)
    with atomic_write(out / "scores.npz") as stream:
        np.savez_compressed(stream, score=score, t=t)
    from likely.plot import plot_abcd, save_figure

    save_figure(plot_abcd(score, t, args.t_cut, args.efficiencies, t_label=args.tail_feature),
                out / "efficiency_vs_t.png")
    write_text(out / "report.md", tail_report(summary))
    log.info("report written to %s", out / "report.md")
    return out


def tail_report(summary: dict) -> str:
    """report.md of a tail search (``summary``: its results.json)."""
    lines = [
        "# Tail search with ABCD (likely search tail)", "",
        f"Tail: {summary['tail_feature']} > {summary['t_cut']:g}; {summary['n_data']} data events against "
        f"{summary['n_reference']} reference events. A: tail and score above the cut, B: tail below, C: "
        "control above, D: control below; the background in A is B·C/D ± its Poisson error.", "",
        input_line(summary.get("input")), "",
        "| ε | A observed | B | C | D | predicted A | Z |", "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {c['efficiency']:g} | {c['A']} | {c['B']} | {c['C']} | {c['D']} | {c['predicted']:.1f} ± "
              f"{c['error']:.1f} | {c['z']:.2f} |" for c in summary["cuts"]]
    lines += ["", "The fraction of events above each cut along the tail feature should be flat for "
              "background (the ABCD assumption); a rise in the tail is an excess:", "",
              "![efficiency vs tail feature](efficiency_vs_t.png)"]
    return "\n".join(lines) + "\n"
