"""Run directories: one folder per run holding its config, results, plots and models."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["fresh_file", "positive_int", "prepare_run_dir"]


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0; got {value}")
    return value


def prepare_run_dir(path: str | os.PathLike, force: bool = False) -> Path:
    """Create ``path`` for a new run; refuse a non-empty one unless ``force``.

    With ``force`` the folder is reused and the run's files are overwritten one by one
    (atomically); nothing else in it is deleted.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"--out {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise FileExistsError(f"run directory {path} is not empty; pass --force to overwrite its results")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_file(path: str | os.PathLike, force: bool = False) -> Path:
    """``path`` for an output file; refuse an existing one unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    return path
