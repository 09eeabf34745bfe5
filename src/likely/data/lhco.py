"""The LHC Olympics 2020 R&D features file: reader, writer and the standard derived features.

The file (``events_anomalydetection_v2.features.h5``) is a pandas HDF store holding one
DataFrame under the key ``df``, written in pandas' *fixed* format (not *table*), float32,
with the two leading-pT anti-kT R = 1.0 jets of each event, in this column order::

    pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1 pxj2 pyj2 pzj2 mj2 tau1j2 tau2j2 tau3j2 label

Momenta and masses are in GeV, τN are N-subjettiness values, ``label`` is 1 for signal and
0 for background. In the file ``j1`` / ``j2`` are ordered by pT; the derived features of
:func:`derive_features` order the jets by **mass** instead (CATHODE's convention) and are
in **TeV**.

The readers also take the raw event files the features file was made from (the R&D
``events_anomalydetection*.h5`` and the black boxes ``events_LHCO2020_BlackBox*.h5``):
they are recognized from their columns and clustered into these columns
(:mod:`likely.data.lhco_events`).

Examples
--------
>>> events = read_lhco("events_anomalydetection_v2.features.h5")  # doctest: +SKIP
>>> events.names                                                    # doctest: +SKIP
['mjj', 'mj1', 'delta_mj', 'tau21_j1', 'tau21_j2']
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, unreadable
from likely.data.events import EventSet
from likely.data.invalid import InvalidRows, drop_invalid
from likely.data.lhco_events import (
    HADRON_COLUMNS, KEY, check_binary, cluster_lhco_file, positional_layout, table_key,
)

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "FEATURE_INPUTS",
    "FM_FEATURES",
    "JET_COLUMNS",
    "RAW_COLUMNS",
    "derive_features",
    "read_fm_features",
    "read_lhco",
    "read_lhco_raw",
    "write_lhco",
]

log = logging.getLogger(__name__)

#: the 15 columns of a features file, in the file's order (GeV; ``label`` 1 = signal)
RAW_COLUMNS = (
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
    "label",
)
#: the 14 jet columns (every column but ``label``): required in every file and by the writer
JET_COLUMNS = RAW_COLUMNS[:-1]
#: the conditioning variable first, then CATHODE's four features
DEFAULT_FEATURES = ("mjj", "mj1", "delta_mj", "tau21_j1", "tau21_j2")
#: every feature :func:`derive_features` makes (masses and momenta in TeV)
FEATURES = (
    "mjj", "mj1", "mj2", "delta_mj", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2",
    "delta_r", "pt_j1", "pt_j2",
)
#: Flux+Mutability's dijet features (GeV; seed 001, section 3.2): the jets' kinematics and
#: N-subjettiness in the file's pT order, less the leading jet's pT, which is the condition
FM_FEATURES = (
    "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "ptj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
)  # fmt: skip
_DTYPE = np.float32  # the published file's dtype
_KINEMATIC = tuple(name for name in JET_COLUMNS if not name.startswith("tau"))


def _both(*names: str) -> tuple[str, ...]:
    return tuple(f"{name}j{k}" for k in (1, 2) for name in names)


#: the raw columns each derived feature is computed from (every feature orders the jets by mass)
FEATURE_INPUTS = {
    "mjj": _both("px", "py", "pz", "m"),
    **dict.fromkeys(("mj1", "mj2", "delta_mj"), _both("m")),
    **dict.fromkeys(("tau21_j1", "tau21_j2"), _both("m", "tau1", "tau2")),
    **dict.fromkeys(("tau32_j1", "tau32_j2"), _both("m", "tau2", "tau3")),
    "delta_r": _both("px", "py", "pz", "m"),
    **dict.fromkeys(("pt_j1", "pt_j2"), _both("px", "py", "m")),
}


# --------------------------------------------------------------------------- features
def derive_features(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The community's high-level features from the raw jet columns, vectorized.

    Parameters
    ----------
    raw : mapping of str to array-like (N,), or pandas.DataFrame
        At least the 14 :data:`JET_COLUMNS` (momenta and masses in GeV, as in the file);
        other entries (``label``) are ignored.

    Returns
    -------
    dict of str to float32 ndarray (N,)
        One entry per name in :data:`FEATURES`. The jets are ordered by **mass**: ``j1``
        is the lighter jet, ``j2`` the heavier one (CATHODE's convention; on equal masses
        the file's order is kept). Masses and momenta are in **TeV**.

        - ``mjj``: invariant mass of the two jets, √((E1 + E2)² − |p1 + p2|²), with each
          jet's energy E = √(|p|² + m²).
        - ``mj1``, ``mj2``: the lighter and the heavier jet mass; ``delta_mj`` = mj2 − mj1 ≥ 0.
        - ``tau21_j1``, ``tau21_j2``: τ2/τ1 of the lighter / heavier jet;
          ``tau32_j1``, ``tau32_j2``: τ3/τ2. **NaN** where the denominator is 0 (a jet of
          one particle has τ1 = 0, one of two particles τ2 = 0); no value is invented.
        - ``delta_r``: √(Δη² + Δφ²) of the two jet momenta, with the **pseudorapidity**
          η = asinh(pz/pT) and azimuth φ (Δφ wrapped into [0, π]); NaN if a jet has pT = 0.
        - ``pt_j1``, ``pt_j2``: transverse momenta √(px² + py²) of the lighter / heavier jet.

    Raises
    ------
    ValueError
        If a jet column is missing (the message names it) or the columns differ in length.

    Examples
    --------
    >>> raw = {name: [0.0] for name in JET_COLUMNS}
    >>> raw.update(pxj1=[1500.0], mj1=[500.0], pxj2=[-1500.0], mj2=[100.0])
    >>> f = derive_features(raw)
    >>> round(float(f["mj1"][0]), 3), round(float(f["delta_mj"][0]), 3), round(float(f["delta_r"][0]), 4)
    (0.1, 0.4, 3.1416)
    """
    with np.errstate(all="ignore"):  # NaN/inf in, NaN/inf out: the readers' on_invalid policy decides
        return _derive(_jet_columns(raw, "raw"))


def _derive(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    jets = [_jet(columns, index) for index in (1, 2)]
    p = [np.stack([jet["px"], jet["py"], jet["pz"]]) for jet in jets]
    energy = [np.sqrt((pj**2).sum(0) + jet["m"] ** 2) for pj, jet in zip(p, jets)]
    total = p[0] + p[1]
    mjj = np.sqrt(np.maximum((energy[0] + energy[1]) ** 2 - (total**2).sum(0), 0.0))
    heavier_first = jets[0]["m"] > jets[1]["m"]

    def by_mass(name: str) -> tuple[np.ndarray, np.ndarray]:
        a, b = jets[0][name], jets[1][name]
        return np.where(heavier_first, b, a), np.where(heavier_first, a, b)

    m1, m2 = by_mass("m")
    t1, t2, t3 = (by_mass(f"tau{n}") for n in (1, 2, 3))
    pt = by_mass("pt")
    features = {
        "mjj": mjj / 1000,
        "mj1": m1 / 1000,
        "mj2": m2 / 1000,
        "delta_mj": (m2 - m1) / 1000,
        "tau21_j1": _ratio(t2[0], t1[0]),
        "tau21_j2": _ratio(t2[1], t1[1]),
        "tau32_j1": _ratio(t3[0], t2[0]),
        "tau32_j2": _ratio(t3[1], t2[1]),
        "delta_r": np.hypot(jets[0]["eta"] - jets[1]["eta"], _delta_phi(jets[0]["phi"], jets[1]["phi"])),
        "pt_j1": pt[0] / 1000,
        "pt_j2": pt[1] / 1000,
    }
    return {name: values.astype(np.float32) for name, values in features.items()}


def _jet_columns(raw: Any, name: str) -> dict[str, np.ndarray]:
    """The 14 jet columns of ``raw`` as 1-D float64 arrays of one length; errors name the problem."""
    try:
        missing = [column for column in JET_COLUMNS if column not in raw]
    except TypeError as error:
        raise TypeError(f"{name} must be a mapping of column names to arrays or a DataFrame; "
                        f"got {type(raw).__name__}") from error
    if missing:
        raise ValueError(f"{name} is missing the column(s) {missing}; an LHC Olympics features "
                         f"table needs {list(JET_COLUMNS)}")
    columns = {}
    for column in JET_COLUMNS:
        try:
            values = np.asarray(raw[column], dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name}[{column!r}] must hold numbers") from error
        if values.ndim != 1:
            raise ValueError(f"{name}[{column!r}] must be 1-D; got shape {values.shape}")
        columns[column] = values
    lengths = {column: len(values) for column, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the columns of {name} have different lengths: {lengths}")
    return columns


def _jet(columns: Mapping[str, np.ndarray], index: int) -> dict[str, np.ndarray]:
    jet = {name: columns[f"{name}j{index}"] for name in ("px", "py", "pz", "m", "tau1", "tau2", "tau3")}
    jet["pt"] = np.hypot(jet["px"], jet["py"])
    jet["eta"] = np.arcsinh(jet["pz"] / np.where(jet["pt"] > 0, jet["pt"], np.nan))
    jet["phi"] = np.arctan2(jet["py"], jet["px"])
    return jet


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.where(denominator != 0, numerator / denominator, np.nan)


def _delta_phi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b + np.pi) % (2 * np.pi) - np.pi)


# --------------------------------------------------------------------------- reading
@names_the_file
def read_lhco_raw(path: str | os.PathLike, *, on_invalid: str = "drop", progress: bool = True):
    """Read a features file as published: a validated ``pandas.DataFrame`` of raw columns.

    A raw event file (:mod:`likely.data.lhco_events`: the R&D or black-box hadrons, 2100
    or 2101 columns named by position) is recognized from its columns and clustered into
    the same columns, a chunk of events at a time (:func:`~likely.data.lhco_events.cluster_lhco_file`).

    Parameters
    ----------
    path : path
        A pandas HDF file holding one DataFrame (key ``df`` in the published file; a file
        with another single key is read too).
    on_invalid : {"drop", "raise", "keep"}
        Events with NaN/inf in any of the 14 jet columns: drop them and log how many per
        column (the default), raise, or keep them (:mod:`likely.data.invalid`). Clustered
        events with fewer than two jets have NaN in the missing jet's columns.
    progress : bool
        Show a progress bar while clustering a raw event file.

    Returns
    -------
    pandas.DataFrame (N, 14 or 15)
        The :data:`RAW_COLUMNS` in the file's dtype and units (GeV; float64 for a clustered
        event file); ``label`` only if the file has it. Other columns of the file are dropped.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file (the message names the path).
    ValueError
        If the file is not a readable pandas HDF file, holds several tables but none under
        ``df``, is neither a features file (jet columns missing, named in the message) nor an
        event file (2100 or 2101 columns), or has labels other than 0 and 1.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such LHC Olympics features file: {path}")
    try:
        with pd.HDFStore(path, mode="r") as store:
            key = table_key(store, path, "LHC Olympics features file")
            header = store.select(key, stop=0)
            is_events = isinstance(header, pd.DataFrame) and positional_layout(header.columns, path) is not None
            table = None if is_events else store[key]
    except ValueError:
        raise
    except Exception as error:  # PyTables / HDF5 raise their own exception types
        raise unreadable(path, "pandas HDF file", error) from error
    if is_events:
        table = pd.DataFrame(cluster_lhco_file(path, progress=progress))
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{path} holds a {type(table).__name__}, not an LHC Olympics features table")
    missing = [name for name in JET_COLUMNS if name not in table.columns]
    if missing:
        raise ValueError(f"{path} is not an LHC Olympics features file: missing column(s) {missing} "
                         f"(it has {list(map(str, table.columns))}), nor an event file ({HADRON_COLUMNS} or "
                         f"{HADRON_COLUMNS + 1} columns named by position)")
    duplicated = sorted({str(name) for name in table.columns[table.columns.duplicated()]})
    if duplicated:
        raise ValueError(f"{path} has the column(s) {duplicated} more than once")
    table = table[[name for name in RAW_COLUMNS if name in table.columns]]
    numeric = [name for name in table.columns if not pd.api.types.is_numeric_dtype(table[name])]
    if numeric:
        raise TypeError(f"{path}: column(s) {numeric} must hold numbers; got {[str(table[n].dtype) for n in numeric]}")
    if "label" in table.columns:
        check_binary(table["label"].to_numpy(), f"{path}: column 'label'")
    keep, _ = drop_invalid({name: table[name].to_numpy() for name in JET_COLUMNS}, source=str(path),
                           on_invalid=on_invalid)
    return table if keep.all() else table[keep]


@names_the_file
def read_lhco(
    path: str | os.PathLike, *, features: Sequence[str] = DEFAULT_FEATURES, on_invalid: str = "drop",
    return_invalid: bool = False, progress: bool = True,
) -> EventSet | tuple[EventSet, InvalidRows]:
    """Read an LHC Olympics features file into an :class:`EventSet` of derived features.

    Parameters
    ----------
    path : path
        A features file or a raw event file (see :func:`read_lhco_raw`).
    features : sequence of str
        Which of :data:`FEATURES` to derive, in this order (default
        :data:`DEFAULT_FEATURES`: ``mjj``, the conditioning variable, and CATHODE's four).
        Masses and momenta in TeV; see :func:`derive_features` for the definitions.
    on_invalid : {"drop", "raise", "keep"}
        Events with NaN/inf in a raw column a feature is computed from
        (:data:`FEATURE_INPUTS`) or in a derived feature (e.g. τ21 of a one-particle jet):
        drop them and log how many per column (the default), raise, or keep them
        (:mod:`likely.data.invalid`).
    return_invalid : bool
        Also return the :class:`~likely.data.invalid.InvalidRows` account.
    progress : bool
        Show a progress bar while clustering a raw event file.

    Returns
    -------
    EventSet
        N events with the columns ``features`` (float32) and ``label`` from the file if it
        has one (else None).
    InvalidRows
        Only with ``return_invalid``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unknown feature name (the message lists the available ones), a file that
        lacks required columns, or ``on_invalid="raise"`` and non-finite events (the
        message gives their count per column).
    """
    features = _check_features(features)
    raw = read_lhco_raw(path, on_invalid="keep", progress=progress)
    derived = derive_features(raw)
    used = dict.fromkeys(column for name in features for column in FEATURE_INPUTS[name])
    keep, account = drop_invalid({**{column: raw[column].to_numpy() for column in used},
                                  **{name: derived[name] for name in features}},
                                 source=str(path), on_invalid=on_invalid)
    label = raw["label"].to_numpy()[keep] if "label" in raw.columns else None
    events = EventSet({name: derived[name][keep] for name in features}, label=label)
    return (events, account) if return_invalid else events


def _check_features(features: Sequence[str]) -> list[str]:
    if isinstance(features, str):
        raise TypeError(f"features must be a sequence of feature names, not the string {features!r}; "
                        f"use features=({features!r},)")
    features = list(features)
    if not features:
        raise ValueError(f"features is empty; choose from {list(FEATURES)}")
    unknown = [name for name in features if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; available features: {list(FEATURES)}")
    repeated = sorted({name for name in features if features.count(name) > 1})
    if repeated:
        raise ValueError(f"features names {repeated} more than once")
    return features


# --------------------------------------------------------------------------- writing
def write_lhco(path: str | os.PathLike, raw: Mapping[str, Any], *, overwrite: bool = False) -> Path:
    """Write raw jet columns as an LHC Olympics features file (the published format).

    Parameters
    ----------
    path : path
        The file to write (parent folders are created).
    raw : mapping of str to array-like (N,), or pandas.DataFrame
        The 14 :data:`JET_COLUMNS` (GeV) and, optionally, ``label`` (only 0 and 1). Other
        entries are ignored. Momenta and masses must be finite; τN may be anything the
        clustering produced.
    overwrite : bool
        Replace an existing file. Without it an existing file raises ``FileExistsError``.

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The table is written like the published file: key ``df``, pandas fixed format,
    float32 columns in :data:`RAW_COLUMNS` order. It goes to a temporary file in the same
    folder that is renamed over ``path`` only once complete, so a failed or interrupted
    write leaves an existing file as it was.
    """
    import pandas as pd

    path = check_overwrite(path, overwrite)
    columns = _jet_columns(raw, "raw")
    has_label = "label" in raw
    if has_label:
        label = np.asarray(raw["label"])
        if label.shape != (len(columns["pxj1"]),):
            raise ValueError(f"raw['label'] must have shape ({len(columns['pxj1'])},) like the jet columns; "
                             f"got {label.shape}")
        check_binary(label, "raw['label']")
        columns["label"] = label
    with np.errstate(over="ignore"):
        columns = {name: values.astype(_DTYPE) for name, values in columns.items()}
    for name in _KINEMATIC:  # checked after the cast: a finite float64 may overflow float32
        finite = np.isfinite(columns[name])
        if not finite.all():
            raise ValueError(f"raw[{name!r}] has {int((~finite).sum())} NaN/inf value(s) "
                             f"(first at index {int(np.argmin(finite))}); momenta and masses must be finite")
    table = pd.DataFrame({name: columns[name] for name in RAW_COLUMNS if name in columns})
    with atomic_path(path) as tmp:
        table.to_hdf(tmp, key=KEY, mode="w", format="fixed")
    return path


def _fm_view(table) -> dict[str, np.ndarray]:
    """:data:`FM_FEATURES` and ``pt_j1`` of a raw table as float32 columns (GeV).

    The transverse momenta are computed in float64 and may still overflow float32 to inf,
    so the caller applies the non-finite policy to these columns rather than the raw ones.
    """
    def pt(jet: str) -> np.ndarray:
        return np.hypot(table[f"px{jet}"].to_numpy(np.float64), table[f"py{jet}"].to_numpy(np.float64))

    with np.errstate(over="ignore"):
        view = {name: table[name].to_numpy(np.float32) for name in FM_FEATURES if name != "ptj2"}
        view["ptj2"], view["pt_j1"] = pt("j2").astype(np.float32), pt("j1").astype(np.float32)
    return view


def read_fm_features(
    paths: Sequence[str | os.PathLike], *, on_invalid: str = "drop", return_invalid: bool = False,
) -> tuple:
    """Flux+Mutability's view of features files: :data:`FM_FEATURES` and the leading jet's pT.

    Parameters
    ----------
    paths : sequence of path
        LHC Olympics features files (e.g. written by ``likely generate dijet``), concatenated
        in order.
    on_invalid : {"drop", "raise", "keep"}
        Events with NaN/inf in a feature or in pT (from the raw values, or from a momentum
        too large for float32): drop them and log how many per column (the default), raise,
        or keep them (:mod:`likely.data.invalid`).
    return_invalid : bool
        Also return the :class:`~likely.data.invalid.InvalidRows` account of all files.

    Returns
    -------
    features : ndarray (N, 11), float32
        :data:`FM_FEATURES` in GeV (τN dimensionless).
    pt : ndarray (N,), float32
        The leading (in pT) jet's transverse momentum in GeV, the condition.
    labels : ndarray (N,) of int64, or None
        The files' labels; None if they have none.
    invalid : InvalidRows
        Only with ``return_invalid``.
    """

    if isinstance(paths, (str, os.PathLike)):
        raise TypeError(f"paths must be a sequence of paths, not the single path {str(paths)!r}; use [{str(paths)!r}]")
    parts, labels, accounts = [], [], []
    for path in paths:
        table = read_lhco_raw(path, on_invalid="keep")
        part = _fm_view(table)
        keep, account = drop_invalid(part, source=str(path), on_invalid=on_invalid)
        parts.append({name: values[keep] for name, values in part.items()})
        labels.append(table["label"].to_numpy(np.int64)[keep] if "label" in table else None)
        accounts.append(account)
    if not parts:
        raise ValueError("paths is empty; give at least one features file")
    if len({label is None for label in labels}) > 1:
        unlabelled = [str(path) for path, label in zip(paths, labels) if label is None]
        raise ValueError(f"paths mix labelled and unlabelled files ({unlabelled[0]} has no 'label' column); "
                         "give files of one kind")
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    features = np.stack([merged[name] for name in FM_FEATURES], axis=1)
    result = (features, merged["pt_j1"], None if labels[0] is None else np.concatenate(labels))
    return (*result, InvalidRows.combine(accounts)) if return_invalid else result
