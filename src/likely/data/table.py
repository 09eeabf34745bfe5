"""Any EventSet as an HDF5 table: named float32 columns and an optional ``label``.

The layout is the LHC Olympics features file's (a pandas DataFrame under key ``df``, fixed
format), so the same tools open both; unlike :func:`~likely.data.read_lhco` nothing is
derived: the columns are read back as they were written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from likely._io import atomic_path, check_overwrite, unreadable
from likely.data.events import EventSet

__all__ = ["read_table", "write_table"]

KEY = "df"


def write_table(path: str | os.PathLike, events: EventSet, *, overwrite: bool = False) -> Path:
    """Write ``events`` (its columns, and ``label`` if set) to ``path`` atomically; returns ``path``.

    An existing file raises ``FileExistsError`` unless ``overwrite``.
    """
    import pandas as pd

    path = check_overwrite(path, overwrite)
    if "label" in events:
        raise ValueError("events has a column named 'label'; the table keeps that name for the truth labels")
    columns = {name: events.column(name) for name in events.names}
    if events.label is not None:
        columns["label"] = events.label.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pd.DataFrame(columns).to_hdf(tmp, key=KEY, mode="w", format="fixed")
    return path


def read_table(path: str | os.PathLike) -> EventSet:
    """The EventSet :func:`write_table` wrote (``label`` becomes the truth labels)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no table file {path}")
    try:
        frame = pd.read_hdf(path, key=KEY)
    except Exception as error:  # PyTables / HDF5 raise their own exception types
        raise unreadable(path, f"events table (a pandas DataFrame under key {KEY!r})", error) from error
    label = frame.pop("label").to_numpy() if "label" in frame else None
    return EventSet({name: frame[name].to_numpy() for name in frame.columns}, label=label)
