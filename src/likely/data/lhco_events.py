"""The raw LHC Olympics 2020 event files: the hadrons of every event, and their jets.

The R&D file (``events_anomalydetection.h5``, ``events_anomalydetection_v2.h5``: 1.1M
events) and the black boxes (``events_LHCO2020_BlackBox1.h5`` … ``BlackBox3.h5``: 1M
events each) are pandas HDF stores holding one DataFrame (read without a key, so any single
key; ``df`` is preferred, and is what :func:`write_lhco_events` uses). One row is one event::

    column 3i, 3i + 1, 3i + 2   pT (GeV), pseudorapidity η, azimuth φ of hadron i, i = 0..699
    column 2100                 the truth label, 1 = signal (R&D file only)

The columns are named by their positions (``0`` … ``2099`` or ``2100``), the values are
float64, the hadrons are massless (detector coordinates) and an event with fewer than 700 is
zero padded (a hadron with pT = 0 is padding, wherever it sits). Fixed and table HDF layouts
are both read, a slice of rows at a time, so the 1.1M × 2101 floats (17 GiB) are never in
memory at once.

:func:`cluster_lhco_events` turns hadrons into the columns of a features file
(:mod:`likely.data.lhco`), the way the published features file was made: anti-kT R = 1.0
jets (FastJet) of all hadrons, the two jets of highest pT, their momenta, masses and
N-subjettiness τ1, τ2, τ3 (β = 1; :func:`likely.data.jets.jet_columns`, the code the dijet
generator uses too). :func:`~likely.data.lhco.read_lhco` reads such files directly.

Examples
--------
>>> hadrons, label = read_lhco_events("events_anomalydetection.h5", stop=1000)  # doctest: +SKIP
>>> hadrons.shape                                                                # doctest: +SKIP
(1000, 700, 3)
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, unreadable
from likely.data.jets import JET_PT_MIN, JET_R, cluster_jets, first_jets, jet_columns, massless_momenta

__all__ = [
    "CLUSTERED_COLUMNS", "HADRONS", "EventsFile", "cluster_lhco_events", "cluster_lhco_file", "inspect_lhco_events",
    "pad_hadrons", "read_lhco_events", "write_lhco_events",
]

log = logging.getLogger(__name__)

#: hadrons per event in the published files (zero padded)
HADRONS = 700
#: the hadron columns: 700 × (pT, η, φ)
HADRON_COLUMNS = 3 * HADRONS
#: the HDF key pandas writes the published files under
KEY = "df"
#: events read and clustered at a time (about 170 MB of float64 hadrons)
CHUNK_SIZE = 10_000
#: per jet, the quantities of a features file (GeV; τN dimensionless)
JET_QUANTITIES = ("px", "py", "pz", "m", "tau1", "tau2", "tau3")
#: the columns :func:`cluster_lhco_events` makes: the two leading-pT jets, the features file's jet columns
CLUSTERED_COLUMNS = tuple(f"{name}j{k}" for k in (1, 2) for name in JET_QUANTITIES)


@dataclass(frozen=True)
class EventsFile:
    """What the header of a raw event file says: its HDF key, number of events, whether it has labels."""

    key: str
    n_events: int
    has_label: bool


# --------------------------------------------------------------------------- the file's layout
def table_key(store, path: Path, what: str = "LHC Olympics file") -> str:
    """The key of the one table of ``store``: ``df`` if there, else its only key; ValueError otherwise."""
    keys = store.keys()
    if f"/{KEY}" in keys:
        return KEY
    if len(keys) == 1:
        return keys[0]
    raise ValueError(f"{path} holds {len(keys)} tables {keys} and none under the key {KEY!r}; an {what} holds one")


def positional_layout(columns, path: Path) -> bool | None:
    """For a table whose columns are named by position: whether it has the label column (2101
    columns) or not (2100); None for named columns (not an event file). Other counts raise."""
    names = [str(name) for name in columns]
    if names != [str(i) for i in range(len(names))]:
        return None
    if len(names) not in (HADRON_COLUMNS, HADRON_COLUMNS + 1):
        raise ValueError(f"{path} has {len(names)} columns named by position; an LHC Olympics event file has "
                         f"{HADRON_COLUMNS} ({HADRONS} hadrons x pT, eta, phi) or {HADRON_COLUMNS + 1} (and the label)")
    return len(names) == HADRON_COLUMNS + 1


def check_binary(labels: np.ndarray, what: str) -> None:
    """Raise a ValueError naming ``what`` unless every label is 0 or 1."""
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        raise ValueError(f"{what} must contain only 0 and 1; found {int(bad.sum())} other value(s), "
                         f"e.g. {labels[bad][:3].tolist()}")


def _open(path: str | os.PathLike):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such LHC Olympics event file: {path}")
    try:
        return pd.HDFStore(path, mode="r")
    except Exception as error:  # PyTables / HDF5 raise their own exception types
        raise unreadable(path, "pandas HDF file", error) from error


def _layout(store, path: Path) -> EventsFile:
    import pandas as pd

    key = table_key(store, path, "LHC Olympics event file")
    try:
        header = store.select(key, stop=0)
        storer = store.get_storer(key)
    except Exception as error:
        raise unreadable(path, "pandas HDF table", error) from error
    if not isinstance(header, pd.DataFrame):
        raise ValueError(f"{path} holds a {type(header).__name__}, not a DataFrame of LHC Olympics events")
    has_label = positional_layout(header.columns, path)
    if has_label is None:
        raise ValueError(f"{path} is not an LHC Olympics event file: its columns are not named 0..{HADRON_COLUMNS - 1} "
                         f"(it has {list(map(str, header.columns))[:5]}...)")
    n_events = storer.nrows if getattr(storer, "is_table", False) else storer.shape[0]
    return EventsFile(key, int(n_events), has_label)


@names_the_file
def inspect_lhco_events(path: str | os.PathLike) -> EventsFile:
    """The layout of a raw event file, from its header only (nothing of the events is read).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for
    anything that is not a DataFrame of 2100 or 2101 columns named by position.
    """
    with _open(path) as store:
        return _layout(store, Path(path))


# --------------------------------------------------------------------------- reading
def _rows(start: int | None, stop: int | None, n_events: int) -> tuple[int, int]:
    for value, name in ((start, "start"), (stop, "stop")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0):
            raise ValueError(f"{name} must be an integer >= 0 or None; got {value!r}")
    start = 0 if start is None else min(int(start), n_events)
    stop = n_events if stop is None else min(int(stop), n_events)
    if stop < start:
        raise ValueError(f"stop must be >= start; got start={start}, stop={stop}")
    return start, stop


@names_the_file
def read_lhco_events(path: str | os.PathLike, start: int | None = None, stop: int | None = None,
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """Read events ``start:stop`` of a raw LHC Olympics event file (only those rows are read).

    Parameters
    ----------
    path : path
        An R&D or black-box event file (module docstring for the format).
    start, stop : int, optional
        Rows to read, as in a slice (clipped to the file's length; default all of them).

    Returns
    -------
    hadrons : ndarray (N, 700, 3), float64
        pT (GeV), η, φ of each event's hadrons as stored, padding included (pT = 0), NaN/inf
        too if the file has them (:func:`cluster_lhco_events` marks such events invalid).
    label : ndarray (N,) of int64, or None
        The truth label (1 = signal) of a file with the 2101st column; None for a black box.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        Naming the file: not a pandas HDF file, not a DataFrame, a column count other than
        2100 or 2101, labels other than 0 and 1; or a bad ``start``/``stop``.
    """
    path = Path(path)
    with _open(path) as store:
        layout = _layout(store, path)
        start, stop = _rows(start, stop, layout.n_events)
        try:
            values = store.select(layout.key, start=start, stop=stop).to_numpy(np.float64)
        except Exception as error:
            raise unreadable(path, "pandas HDF table", error) from error
    label = None
    if layout.has_label:
        label = values[:, HADRON_COLUMNS]
        check_binary(label, f"{path}: column {HADRON_COLUMNS} (the label)")
        label = label.astype(np.int64)
    return values[:, :HADRON_COLUMNS].reshape(len(values), HADRONS, 3), label


# --------------------------------------------------------------------------- clustering
def cluster_lhco_events(hadrons: Any) -> dict[str, np.ndarray]:
    """The features-file jet columns of events given by their hadrons.

    Parameters
    ----------
    hadrons : array-like (N, H, 3)
        pT (GeV), η, φ of up to H massless hadrons per event; rows with pT = 0 are padding.

    Returns
    -------
    dict of str to float64 ndarray (N,)
        :data:`CLUSTERED_COLUMNS` (``pxj1`` … ``tau3j2``, GeV): anti-kT R = 1.0 jets above
        20 GeV of all hadrons, ``j1`` / ``j2`` the jets of highest / second-highest pT (a
        features file's order; :func:`~likely.data.lhco.derive_features` orders by mass).
        An event with fewer than two jets has NaN for the missing jet, and one with a
        negative pT, a NaN/inf value in a hadron or a momentum too large for float64 has NaN
        for both: the readers' ``on_invalid`` policy decides.

    Raises
    ------
    ValueError
        If ``hadrons`` is not a 3-D numeric array with 3 values per hadron.
    """
    hadrons = _check_hadrons(hadrons, "hadrons")
    n_events = len(hadrons)
    real = hadrons[..., 0] != 0  # NaN too: only an exact 0 is padding
    with np.errstate(all="ignore"):  # hostile values (1e300) overflow; their events become NaN below
        momenta = massless_momenta(*(hadrons[..., i] for i in range(3)))
        finite = np.isfinite(hadrons).all(axis=2) & np.logical_and.reduce([np.isfinite(p) for p in momenta])
        valid = (finite | ~real).all(axis=1) & ~(hadrons[..., 0] < 0).any(axis=1)
        real &= valid[:, None]
        px, py, pz, E = (p[real] for p in momenta)
        columns = np.full((n_events, 2, len(JET_QUANTITIES)), np.nan)
        jets, jet_counts, constituents, offsets = cluster_jets(px, py, pz, E, real.sum(axis=1), R=JET_R,
                                                               pt_min=JET_PT_MIN)
        first = first_jets(jet_counts)
        for slot in (0, 1):
            has = jet_counts > slot
            columns[has, slot] = jet_columns(px, py, pz, E, jets, constituents, offsets, first[has] + slot, R0=JET_R)
    flat = columns.reshape(n_events, len(CLUSTERED_COLUMNS))
    return {name: np.ascontiguousarray(flat[:, i]) for i, name in enumerate(CLUSTERED_COLUMNS)}


def _check_hadrons(hadrons: Any, name: str) -> np.ndarray:
    try:
        hadrons = np.asarray(hadrons, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array of shape (N, hadrons, 3)") from error
    if hadrons.ndim != 3 or hadrons.shape[2] != 3:
        raise ValueError(f"{name} must have shape (N, hadrons, 3) of pT, eta, phi; got {hadrons.shape}")
    return hadrons


@names_the_file
def cluster_lhco_file(path: str | os.PathLike, *, start: int | None = None, stop: int | None = None,
                      chunk_size: int = CHUNK_SIZE, progress: bool = True) -> dict[str, np.ndarray]:
    """Read a raw event file ``chunk_size`` events at a time and cluster each chunk.

    Parameters
    ----------
    path : path
        An R&D or black-box event file.
    start, stop : int, optional
        The events to use, as in a slice.
    chunk_size : int
        Events in memory at once (10 000: about 170 MB of hadrons).
    progress : bool
        Show a progress bar over the chunks (when there is more than one).

    Returns
    -------
    dict of str to ndarray (N,)
        The :data:`CLUSTERED_COLUMNS` (float64, GeV; see :func:`cluster_lhco_events`) and,
        if the file has labels, ``label`` (int64).
    """
    from likely.nn import batch_slices

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    layout = inspect_lhco_events(path)
    start, stop = _rows(start, stop, layout.n_events)
    parts, labels = [], []
    for low, high in batch_slices(stop - start, chunk_size, desc=f"cluster {Path(path).name}", enabled=progress):
        hadrons, label = read_lhco_events(path, start + low, start + high)
        parts.append(cluster_lhco_events(hadrons))
        labels.append(label)
    if not parts:  # an empty slice
        parts.append(cluster_lhco_events(np.zeros((0, HADRONS, 3))))
        labels.append(np.zeros(0, dtype=np.int64) if layout.has_label else None)
    columns = {name: np.concatenate([part[name] for part in parts]) for name in CLUSTERED_COLUMNS}
    if layout.has_label:
        columns["label"] = np.concatenate(labels)
    log.info("%s: clustered %d events", path, stop - start)
    return columns


# --------------------------------------------------------------------------- writing
def pad_hadrons(pt: Any, eta: Any, phi: Any, counts: Any) -> tuple[np.ndarray, int]:
    """Flat hadrons of many events as the files' (N, 700, 3) array, zero padded.

    An event with more than 700 hadrons keeps its 700 of highest pT (in their order), as
    the published files hold at most 700. Returns the array and how many events were cut.
    """
    pt, eta, phi = (np.asarray(v, dtype=np.float64) for v in (pt, eta, phi))
    counts = np.asarray(counts, dtype=np.int64)
    event = np.repeat(np.arange(len(counts)), counts)
    rank = np.empty(len(pt), dtype=np.int64)  # 0 for the hardest hadron of each event
    order = np.lexsort((-pt, event))
    rank[order] = np.arange(len(pt)) - np.repeat(np.cumsum(counts) - counts, counts)
    kept = rank < HADRONS
    slot = (np.cumsum(kept) - 1) - np.repeat(np.cumsum(np.minimum(counts, HADRONS)) - np.minimum(counts, HADRONS),
                                              counts)
    hadrons = np.zeros((len(counts), HADRONS, 3))
    hadrons[event[kept], slot[kept]] = np.column_stack([pt, eta, phi])[kept]
    return hadrons, int((counts > HADRONS).sum())


def write_lhco_events(path: str | os.PathLike, hadrons: Any, *, label: Any = None, overwrite: bool = False) -> Path:
    """Write events as a raw LHC Olympics event file (the published layout).

    Parameters
    ----------
    path : path
        The file to write (parent folders are created).
    hadrons : array-like (N, H, 3), H <= 700
        pT (GeV, >= 0; 0 = padding), η, φ of each event's hadrons; padded to 700 with zeros.
    label : array-like (N,), optional
        Truth labels (0 and 1), written as the 2101st column (the R&D layout); without
        them the file has the black boxes' 2100 columns.
    overwrite : bool
        Replace an existing file; without it an existing file raises ``FileExistsError``.

    Returns
    -------
    Path
        ``path``. The DataFrame (float64, columns named 0..2099 or 2100) goes under the key
        ``df`` in pandas' fixed format, to a temporary file renamed over ``path`` when complete.
    """
    import pandas as pd

    path = check_overwrite(path, overwrite)
    hadrons = _check_hadrons(hadrons, "hadrons")
    if hadrons.shape[1] > HADRONS:
        raise ValueError(f"hadrons has {hadrons.shape[1]} hadrons per event; the format holds at most {HADRONS} "
                         "(pad_hadrons keeps the hardest)")
    bad = ~np.isfinite(hadrons).all(axis=(1, 2)) | (hadrons[..., 0] < 0).any(axis=1)
    if bad.any():
        raise ValueError(f"hadrons has NaN/inf or negative pT in {int(bad.sum())} event(s) "
                         f"(first: event {int(np.argmax(bad))})")
    values = np.zeros((len(hadrons), HADRON_COLUMNS + (label is not None)))
    values[:, : 3 * hadrons.shape[1]] = hadrons.reshape(len(hadrons), -1)
    if label is not None:
        label = np.asarray(label)
        if label.shape != (len(hadrons),):
            raise ValueError(f"label must have shape ({len(hadrons)},), one per event; got {label.shape}")
        check_binary(label, "label")
        values[:, HADRON_COLUMNS] = label
    with atomic_path(path) as tmp:
        pd.DataFrame(values).to_hdf(tmp, key=KEY, mode="w", format="fixed")
    return path
