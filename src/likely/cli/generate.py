"""``likely generate``: make physics data sets locally.

``likely generate dijet`` runs Pythia 8 + FastJet (:func:`likely.data.generate.generate_dijet`)
and writes an LHC Olympics features file with a JSON record of every chunk beside it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from likely.cli.rundir import positive_int

log = logging.getLogger(__name__)


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text}")
    return value


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="generate physics events (Pythia 8 + FastJet)")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    dijet = kinds.add_parser(
        "dijet",
        help="LHC Olympics-style dijet events: QCD background or W' -> X Y signal",
        description=(
            "pp at 13 TeV (Pythia 8, MPI off), anti-kT R=1.0 jets of visible particles, leading "
            "jet pT > 1.2 TeV; writes the LHCO features schema (jet px, py, pz, m, tau1-3 of the "
            "two leading jets, label) to --out and a JSON record of the chunks beside it. "
            "Finished chunks are kept in <out>.chunks/, so a rerun resumes."
        ),
    )
    dijet.add_argument(
        "--process",
        required=True,
        choices=("qcd", "wprime", "zprime"),
        help="qcd: HardQCD:all background (label 0); wprime: W' -> X Y signal, zprime: Z' -> t tbar "
        "signal (label 1)",
    )
    dijet.add_argument(
        "--events", required=True, type=positive_int, help="number of selected events to write"
    )
    dijet.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    dijet.add_argument(
        "--chunk-size",
        type=positive_int,
        default=1000,
        help="selected events per chunk, the unit of parallelism and resuming (default: 1000)",
    )
    dijet.add_argument(
        "--workers", type=positive_int, default=1, help="parallel worker processes (default: 1)"
    )
    dijet.add_argument(
        "--seed",
        type=positive_int,
        default=1,
        help="Pythia seed of chunk 0; chunk k uses seed + k (default: 1)",
    )
    dijet.add_argument(
        "--pthat-min",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="qcd only: PhaseSpace:pTHatMin in GeV (default: 700; 600 is unbiased but 2.2x slower)",
    )
    dijet.add_argument(
        "--mwprime",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: W' mass in GeV (default: 3500)",
    )
    dijet.add_argument(
        "--mx",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: X mass in GeV, X -> qq' (default: 500)",
    )
    dijet.add_argument(
        "--my",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: Y mass in GeV, Y -> qq (default: 100)",
    )
    dijet.add_argument(
        "--mzprime",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="zprime only: Z' mass in GeV, Z' -> t tbar (default: 1300)",
    )
    for name, default in (("leading-pt-min", "1200"), ("leading-pt-max", "none"), ("subleading-pt-min", "20")):
        dijet.add_argument(
            f"--{name}",
            type=positive_float,
            default=None,
            metavar="GEV",
            help=f"jet cut: {name.replace('-', ' ')} pT in GeV (default: {default}; F+M study: 450, 800, 200)",
        )
    dijet.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing output file and regenerate chunks made with other settings",
    )
    dijet.set_defaults(run=run_dijet)


def run_dijet(args) -> Path:
    from likely.data.generate import generate_dijet

    masses = {"mwprime": args.mwprime, "mx": args.mx, "my": args.my}
    if args.process != "wprime" and any(value is not None for value in masses.values()):
        raise ValueError("--mwprime, --mx and --my apply only to --process wprime")
    if args.process != "zprime" and args.mzprime is not None:
        raise ValueError("--mzprime applies only to --process zprime")
    if args.process != "qcd" and args.pthat_min is not None:
        raise ValueError("--pthat-min applies only to --process qcd")
    masses["mzprime"] = args.mzprime
    cuts = {"leading_pt_min": args.leading_pt_min, "leading_pt_max": args.leading_pt_max,
            "subleading_pt_min": args.subleading_pt_min}
    options = {name: value for name, value in {**masses, **cuts}.items() if value is not None}
    if args.pthat_min is not None:
        options["pthat_min"] = args.pthat_min
    return generate_dijet(
        args.out,
        args.process,
        args.events,
        chunk_size=args.chunk_size,
        workers=args.workers,
        seed=args.seed,
        overwrite=args.force,
        progress=not args.quiet,
        **options,
    )
