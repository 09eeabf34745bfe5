"""Run directories: one folder per run holding its config, results, plots and models."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from likely._io import check_can_create
from likely.data import EventSet
from likely.data.invalid import InvalidRows

__all__ = [
    "add_strict", "check_run_dir", "fresh_file", "input_line", "input_record", "on_invalid", "positive_int",
    "prepare_run_dir", "read_events",
]


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0; got {value}")
    return value


def check_run_dir(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse ``path`` as a new run's folder (a file, not empty without ``force``, under a file); create nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"--out {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise FileExistsError(f"run directory {path} is not empty; pass --force to overwrite its results")
    check_can_create(path)
    return path


def prepare_run_dir(path: str | os.PathLike, force: bool = False) -> Path:
    """Create ``path`` for a new run after :func:`check_run_dir`.

    With ``force`` the folder is reused and the run's files are overwritten one by one
    (atomically); nothing else in it is deleted.
    """
    path = check_run_dir(path, force)
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_file(path: str | os.PathLike, force: bool = False) -> Path:
    """``path`` for an output file; refuse an existing one unless ``force``, and one that cannot be made."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    check_can_create(path)
    return path


def add_strict(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """The ``--strict`` flag of a command that reads data files (see :func:`on_invalid`)."""
    parser.add_argument("--strict", action="store_true", help=help or (
        "refuse data files with NaN/inf values (default: drop those events and report how many)"))


def on_invalid(args: argparse.Namespace) -> str:
    """The readers' non-finite policy (:mod:`likely.data.invalid`) chosen by ``--strict``."""
    return "raise" if args.strict else "drop"


def read_events(files, on_invalid: str = "drop", **options) -> tuple[EventSet, InvalidRows]:
    """LHC Olympics ``files`` as one EventSet, and the account of their non-finite events.

    Each file is a features file or a raw event file (R&D or black box), told apart by its
    columns; event files are clustered into the features first (a progress bar per file).
    """
    from likely.data.lhco import read_lhco

    parts = [read_lhco(path, on_invalid=on_invalid, return_invalid=True, **options) for path in files]
    return EventSet.concat([events for events, _ in parts]), InvalidRows.combine([a for _, a in parts])


def input_record(invalid: InvalidRows | None) -> dict:
    """The ``input`` entry of a results.json: events read and dropped for NaN/inf, per column."""
    if invalid is None:
        return {"source": "generated", "n_read": None, "n_dropped": 0, "columns": {}}
    return invalid.to_dict()


def input_line(record: dict | None) -> str:
    """The report's sentence on what reading the data dropped (``input`` of results.json)."""
    if not record or record["n_read"] is None:
        return ""
    if not record["n_dropped"]:
        return f"Input: {record['n_read']} events read, none with NaN/inf values."
    columns = ", ".join(f"{name} ({n})" for name, n in record["columns"].items())
    return (f"Input: {record['n_read']} events read; **{record['n_dropped']} dropped** for NaN/inf values "
            f"(events per column: {columns}).")
