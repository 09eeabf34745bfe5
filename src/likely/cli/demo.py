"""``likely demo``: the main job on the bundled sample.

CATHODE with the idealized and supervised bounds, at one signal injection, on the small
Pythia 8 + FastJet dijet sample shipped with the package; ends with a report and the
SIC plot in the run directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from likely.cli.search import run_search

#: signal events injected: about 10 % S/B and S/sqrt(B) ~ 5 in the signal region of the
#: bundled sample, enough for CATHODE to find on a sample this small
DEMO_INJECTION = 350
#: independent injections and trainings, for the median and 68 % band of the SIC curves
DEMO_SEEDS = 3


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="CATHODE and its bounds on the bundled dijet sample, with a report")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="run directory (default: runs/demo)")
    parser.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    parser.set_defaults(run=run_demo)


def run_demo(args) -> Path:
    search_args = argparse.Namespace(
        bundled=True, data=None, toy=None, method=["cathode"], bounds=True, sr=(3.3, 3.7),
        inject=DEMO_INJECTION, seeds=DEMO_SEEDS, out=args.out, force=args.force, quiet=args.quiet,
    )
    return run_search(search_args)
