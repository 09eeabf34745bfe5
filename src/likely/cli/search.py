"""``likely search run`` (a signal-injection study) and ``likely search scan`` (a grid of them on Dask)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json
from likely.cli import discover, latent_map, tail
from likely.cli.report import write_scan_report, write_search_report
from likely.cli.rundir import (
    add_strict, fresh_file, input_record, on_invalid, positive_int, prepare_run_dir, read_events,
)
from likely.data import resonant_toy
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
                        help="LHC Olympics features or raw event files; their labels split background from signal")
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
    add_strict(run)
    run.set_defaults(run=run_search)

    score = commands.add_parser("score", help="score events with a method saved by 'search run' or 'search scan'")
    score.add_argument("model", type=Path, help="a saved method's folder, e.g. RUN/models/cathode_seed0")
    score.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE",
                       help="LHC Olympics features or raw event files holding the method's features and mjj")
    score.add_argument("--out", type=Path, required=True, help="scores file to write (.npz)")
    score.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    score.add_argument("--trust", action="store_true",
                       help="load pickled scikit-learn estimators of your own (sklearn.pkl) and classes from "
                            "outside likely: both can run code, so pass this only for folders you made or trust")
    add_strict(score, "refuse files with NaN/inf features (default: such events get score NaN)")
    score.set_defaults(run=run_score)

    discover.add_parser(commands)
    latent_map.add_parser(commands)
    tail.add_parser(commands)

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
    scan.add_argument("--save-models", action="store_true",
                      help="also save each job's fitted method in DIR/jobs/<id>/model/ (off by default: "
                           "models travel back from the workers and can be large)")
    add_strict(scan)
    scan.set_defaults(run=run_scan_command)


def load_events(files=None, bundled: bool = False, toy: int | None = None, n_signal: int = 0,
                on_invalid: str = "drop", return_invalid: bool = False) -> tuple:
    """(background, signal) from LHCO ``files``, the bundled sample, or ``toy`` background events.

    The toy gets ``max(2 * n_signal, 2000)`` signal events. ``on_invalid`` is the files'
    non-finite policy (:mod:`likely.data.invalid`); ``return_invalid`` adds the
    :class:`~likely.data.invalid.InvalidRows` account of the files (None for the others).
    """
    account = None
    if bundled:
        background, signal = load_bundled_dijets()
    else:
        if toy:
            events = resonant_toy(toy, max(2 * n_signal, 2_000), random_state=12345)
        else:
            events, account = read_events(files, on_invalid)
        if events.label is None:
            raise ValueError("data files need a 'label' column to split background from signal")
        background, signal = events[events.label == 0], events[events.label == 1]
    return (background, signal, account) if return_invalid else (background, signal)


def _load(args) -> tuple:
    return load_events(args.data, args.bundled, args.toy, args.inject, on_invalid=on_invalid(args),
                       return_invalid=True)


def run_search(args) -> Path:
    methods = list(dict.fromkeys([*args.method, *(["iad", "supervised"] if args.bounds else [])]))
    if args.inject < 0:
        raise ValueError(f"--inject must be >= 0; got {args.inject}")
    window = Window(*args.sr)
    out = prepare_run_dir(args.out, args.force)
    background, signal, invalid = _load(args)
    source = [str(p) for p in args.data] if args.data else ("bundled" if args.bundled else f"toy ({args.toy})")
    config = {"command": "search run", "data": source, "strict": args.strict,
              "methods": methods, "sr": list(args.sr), "inject": args.inject, "seeds": args.seeds}
    write_json(out / "config.json", config)
    study = run_study(background, signal, methods, args.inject, window, seeds=range(args.seeds),
                      progress=not args.quiet, keep_models=True)
    study["input"] = input_record(invalid)
    save_study(out, study)
    write_search_report(out)
    log.info("report written to %s", out / "report.md")
    return out


def save_study(out: Path, study: dict) -> None:
    """results.json (numbers), scores.npz (test labels and scores of every run) and models/.

    A run holding its fitted method (``model``) has it saved to ``models/<method>_seed<k>/``,
    and its entry in results.json names that folder, relative to ``out``.
    """
    arrays = {}
    for i, run in enumerate(study["runs"]):
        study["runs"][i], run_arrays = split_arrays(run)
        if "model" in run:
            study["runs"][i]["model"] = folder = f"models/{run['method']}_seed{run['seed']}"
            run["model"].save(out / folder)
        arrays.update({f"{name}_{i}": values for name, values in run_arrays.items()})
    with atomic_write(out / "scores.npz") as stream:
        np.savez_compressed(stream, **arrays)
    write_json(out / "results.json", study)


def run_score(args) -> Path:
    """Score every event of ``--data`` with a saved method; write the scores to ``--out`` (.npz).

    The file holds ``score`` (NaN for events with a NaN/inf feature; ``--strict`` refuses
    such files instead), the resonant variable,
    ``in_sr`` (the method scores signal-region events as it was trained to) and ``label``
    if the data has labels, one entry per event of the files in their order.
    """
    from likely.search import ResonantMethod

    fresh_file(args.out, args.force)
    method = ResonantMethod.load(args.model, trust=args.trust)
    variable = method.window_.variable
    columns = list(dict.fromkeys([variable, *method.features_]))
    events, invalid = read_events(args.data, "raise" if args.strict else "keep", features=columns)
    finite = np.isfinite(events.array(columns)).all(axis=1)
    score = np.full(len(events), np.nan, dtype=np.float32)
    score[finite] = method.score(events[finite])
    arrays = {"score": score, variable: events.column(variable), "in_sr": method.window_.in_sr(events)}
    if events.label is not None:
        arrays["label"] = events.label
    with atomic_write(args.out) as stream:
        np.savez_compressed(stream, **arrays)
    log.info("%s: %d events scored (%d in the signal region %s, %d with NaN/inf features left unscored: %s)",
             args.out, len(events), arrays["in_sr"].sum(), method.window_, (~finite).sum(), invalid.columns)
    return args.out


def run_scan_command(args) -> Path:
    from likely.search.scan import ScanError, injected_counts, run_scan
    from likely.search.scan_config import read_scan_config

    import distributed  # noqa: F401  (its import sets its loggers' levels, lowered here)

    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines drown the scan's own
    config = read_scan_config(args.config)
    out = args.out or Path("runs") / args.config.stem
    background, signal, invalid = load_events(**config.data, on_invalid=on_invalid(args), return_invalid=True)
    if "toy" in config.data:  # the toy is made with enough signal for the largest injection
        most = max(injected_counts(config, background, signal).values())
        background, signal = load_events(**config.data, n_signal=most)
    client = None
    if args.scheduler:
        from dask.distributed import Client

        client = Client(args.scheduler)
    try:
        run_scan(config, background, signal, out, client=client, workers=args.workers, force=args.force,
                 progress=not args.quiet, save_models=args.save_models, inputs=input_record(invalid))
    except ScanError as error:
        raise SystemExit(f"likely search scan: error: {error}") from None
    finally:
        if client is not None:
            client.close()
    write_scan_report(out)
    log.info("report written to %s", out / "report.md")
    return out
