"""``likely search run`` (a signal-injection study) and ``likely search scan`` (a grid of them on Dask)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json
from likely.cli.report import write_scan_report, write_search_report
from likely.cli.rundir import positive_int, prepare_run_dir
from likely.data import EventSet, resonant_toy
from likely.data.samples import load_bundled_dijets
from likely.search import Window
from likely.search.study import METHODS, run_study, split_arrays

log = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    search = subparsers.add_parser("search", help="resonant anomaly detection (bump hunts)")
    commands = search.add_subparsers(dest="search_command", required=True, metavar="SUBCOMMAND")
    run = commands.add_parser("run", help="inject signal, run methods, write results and a report")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, nargs="+", metavar="FILE",
                        help="LHC Olympics features files; their labels split background from signal")
    source.add_argument("--bundled", action="store_true",
                        help="use the small dijet sample shipped with likely (made by 'likely generate dijet')")
    source.add_argument("--toy", type=positive_int, metavar="N",
                        help="use N background events of the built-in dijet-like toy instead of files")
    run.add_argument("--method", nargs="+", default=["cathode"], choices=sorted(METHODS),
                     help="methods to run (default: cathode)")
    run.add_argument("--bounds", action="store_true", help="also run the idealized and supervised bounds")
    run.add_argument("--sr", type=float, nargs=2, default=(3.3, 3.7), metavar=("LOW", "HIGH"),
                     help="signal region in mjj, TeV (default: 3.3 3.7)")
    run.add_argument("--inject", type=int, default=1000, help="signal events injected (default: 1000)")
    run.add_argument("--seeds", type=positive_int, default=1, help="independent runs per method (default: 1)")
    run.add_argument("--out", type=Path, required=True, help="run directory")
    run.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    run.set_defaults(run=run_search)

    scan = commands.add_parser("scan", help="methods x injections x seeds x windows as resumable jobs on Dask")
    scan.add_argument("config", type=Path, help="TOML scan config (see docs/search.md, 'Scans')")
    scan.add_argument("--out", type=Path, help="scan directory (default: runs/NAME for a config NAME.toml)")
    where = scan.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=1,
                       help="worker processes of the local Dask cluster (default: 1)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on this Dask scheduler (e.g. tcp://host:8786) instead of a local cluster")
    scan.add_argument("--force", action="store_true",
                      help="use a non-empty directory, or one holding a scan with another config")
    scan.set_defaults(run=run_scan_command)


def load_events(files=None, bundled: bool = False, toy: int | None = None,
                n_signal: int = 0) -> tuple[EventSet, EventSet]:
    """(background, signal) from LHCO ``files``, the bundled sample, or ``toy`` background events.

    The toy gets ``max(2 * n_signal, 2000)`` signal events.
    """
    if bundled:
        return load_bundled_dijets()
    if toy:
        events = resonant_toy(toy, max(2 * n_signal, 2_000), random_state=12345)
    else:
        from likely.data.lhco import read_lhco

        events = EventSet.concat([read_lhco(path) for path in files])
    if events.label is None:
        raise ValueError("data files need a 'label' column to split background from signal")
    return events[events.label == 0], events[events.label == 1]


def _load(args) -> tuple[EventSet, EventSet]:
    return load_events(args.data, args.bundled, args.toy, args.inject)


def run_search(args) -> Path:
    methods = list(dict.fromkeys([*args.method, *(["iad", "supervised"] if args.bounds else [])]))
    if args.inject < 0:
        raise ValueError(f"--inject must be >= 0; got {args.inject}")
    window = Window(*args.sr)
    out = prepare_run_dir(args.out, args.force)
    background, signal = _load(args)
    source = [str(p) for p in args.data] if args.data else ("bundled" if args.bundled else f"toy ({args.toy})")
    config = {"command": "search run", "data": source,
              "methods": methods, "sr": list(args.sr), "inject": args.inject, "seeds": args.seeds}
    write_json(out / "config.json", config)
    study = run_study(background, signal, methods, args.inject, window, seeds=range(args.seeds),
                      progress=not args.quiet)
    save_study(out, study)
    write_search_report(out)
    log.info("report written to %s", out / "report.md")
    return out


def save_study(out: Path, study: dict) -> None:
    """results.json (numbers) and scores.npz (test labels and scores of every run)."""
    arrays = {}
    for i, run in enumerate(study["runs"]):
        study["runs"][i], run_arrays = split_arrays(run)
        arrays.update({f"{name}_{i}": values for name, values in run_arrays.items()})
    with atomic_write(out / "scores.npz") as stream:
        np.savez_compressed(stream, **arrays)
    write_json(out / "results.json", study)


def run_scan_command(args) -> Path:
    from likely.search.scan import ScanError, injected_counts, run_scan
    from likely.search.scan_config import read_scan_config

    import distributed  # noqa: F401  (its import sets its loggers' levels, lowered here)

    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines drown the scan's own
    config = read_scan_config(args.config)
    out = args.out or Path("runs") / args.config.stem
    background, signal = load_events(**config.data)
    if "toy" in config.data:  # the toy is made with enough signal for the largest injection
        most = max(injected_counts(config, background, signal).values())
        background, signal = load_events(**config.data, n_signal=most)
    client = None
    if args.scheduler:
        from dask.distributed import Client

        client = Client(args.scheduler)
    try:
        run_scan(config, background, signal, out, client=client, workers=args.workers, force=args.force,
                 progress=not args.quiet)
    except ScanError as error:
        raise SystemExit(f"likely search scan: error: {error}") from None
    finally:
        if client is not None:
            client.close()
    write_scan_report(out)
    log.info("report written to %s", out / "report.md")
    return out
