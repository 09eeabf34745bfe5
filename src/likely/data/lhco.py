"""The LHC Olympics 2020 R&D features file: reader, writer and the standard derived features.

The file (``events_anomalydetection_v2.features.h5``) is a pandas HDF table, key ``df``,
fixed format, float32, with the two leading-pT anti-kT R = 1.0 jets of each event:
``pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1 pxj2 pyj2 pzj2 mj2 tau1j2 tau2j2 tau3j2`` (GeV)
and ``label`` (1 = signal).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from likely._checks import check_choice
from likely._io import atomic_path
from likely.data.events import EventSet

__all__ = ["DEFAULT_FEATURES", "FEATURES", "RAW_COLUMNS", "derive_features", "read_lhco", "write_lhco"]

log = logging.getLogger(__name__)

RAW_COLUMNS = (
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
)
#: the conditioning variable first, then CATHODE's four features
DEFAULT_FEATURES = ("mjj", "mj1", "delta_mj", "tau21_j1", "tau21_j2")
#: every feature :func:`derive_features` makes (masses, momenta in TeV)
FEATURES = (
    "mjj", "mj1", "mj2", "delta_mj", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2",
    "delta_r", "pt_j1", "pt_j2",
)
_KEY = "df"


def derive_features(raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The community's features from the raw jet columns (vectorized), as float32 arrays (N,).

    Jets are ordered by mass: ``j1`` is the lighter jet, ``j2`` the heavier (CATHODE's
    convention). ``mjj``: invariant mass of the two jets; ``mj1``, ``mj2``, ``delta_mj`` =
    mj2 − mj1; ``pt_j1``, ``pt_j2`` — all in TeV. ``tau21`` = τ2/τ1 and ``tau32`` = τ3/τ2 per
    jet (NaN where the denominator is 0, e.g. one-particle jets). ``delta_r``: distance of
    the jets in pseudorapidity and azimuth.
    """
    jets = [_jet(raw, index) for index in (1, 2)]
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
    with np.errstate(divide="ignore", invalid="ignore"):
        features = {
            "mjj": mjj / 1000, "mj1": m1 / 1000, "mj2": m2 / 1000, "delta_mj": (m2 - m1) / 1000,
            "tau21_j1": np.where(t1[0] > 0, t2[0] / t1[0], np.nan),
            "tau21_j2": np.where(t1[1] > 0, t2[1] / t1[1], np.nan),
            "tau32_j1": np.where(t2[0] > 0, t3[0] / t2[0], np.nan),
            "tau32_j2": np.where(t2[1] > 0, t3[1] / t2[1], np.nan),
            "delta_r": np.hypot(jets[0]["eta"] - jets[1]["eta"], _delta_phi(jets[0]["phi"], jets[1]["phi"])),
            "pt_j1": pt[0] / 1000, "pt_j2": pt[1] / 1000,
        }
    return {name: values.astype(np.float32) for name, values in features.items()}


def _jet(raw: Mapping[str, np.ndarray], index: int) -> dict[str, np.ndarray]:
    jet = {name: np.asarray(raw[f"{name}j{index}"], dtype=np.float64)
           for name in ("px", "py", "pz", "m", "tau1", "tau2", "tau3")}
    jet["pt"] = np.hypot(jet["px"], jet["py"])
    jet["eta"] = np.arcsinh(jet["pz"] / np.where(jet["pt"] > 0, jet["pt"], np.nan))
    jet["phi"] = np.arctan2(jet["py"], jet["px"])
    return jet


def _delta_phi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b + np.pi) % (2 * np.pi) - np.pi)


def read_lhco(
    path: str | os.PathLike, *, features: Sequence[str] = DEFAULT_FEATURES, nan: str = "drop"
) -> EventSet:
    """Read an LHC Olympics features file into an :class:`EventSet` of derived ``features``.

    Parameters
    ----------
    path : path
        The HDF file.
    features : sequence of str
        Which of :data:`FEATURES` to derive (default: ``mjj`` and CATHODE's four).
    nan : {"drop", "keep", "raise"}
        What to do with events whose selected features are NaN (e.g. τ21 of a
        one-particle jet): drop them (logged), keep them, or raise.
    """
    check_choice(nan, "nan", ("drop", "keep", "raise"))
    unknown = [name for name in features if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; available: {list(FEATURES)}")
    raw = _read_raw(path)
    derived = derive_features(raw)
    label = raw["label"].to_numpy() if "label" in raw else None
    events = EventSet({name: derived[name] for name in features}, label=label)
    bad = ~np.isfinite(events.array(features)).all(axis=1)
    if bad.any():
        if nan == "raise":
            raise ValueError(f"{path}: {bad.sum()} event(s) have NaN in the features {list(features)}")
        if nan == "drop":
            log.info("%s: dropping %d of %d events with NaN features", path, bad.sum(), len(events))
            events = events[~bad]
    return events


def _read_raw(path: str | os.PathLike):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    raw = pd.read_hdf(path)
    missing = [name for name in RAW_COLUMNS if name not in raw.columns]
    if missing:
        raise ValueError(f"{path} is not an LHC Olympics features file: columns {missing} are missing")
    return raw


def write_lhco(path: str | os.PathLike, raw: Mapping[str, np.ndarray], *, overwrite: bool = False) -> Path:
    """Write the raw jet columns (and ``label`` if given) as an LHC Olympics features file.

    The file is written to a temporary name and renamed, so an existing file is never
    left half-written; it is replaced only with ``overwrite=True``.
    """
    import pandas as pd

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    columns = [*RAW_COLUMNS, *(["label"] if "label" in raw else [])]
    missing = [name for name in RAW_COLUMNS if name not in raw]
    if missing:
        raise ValueError(f"raw is missing the columns {missing}")
    table = pd.DataFrame({name: np.asarray(raw[name], dtype=np.float32) for name in columns})
    momenta = table[[c for c in RAW_COLUMNS if not c.startswith("tau")]].to_numpy()
    if not np.isfinite(momenta).all():
        raise ValueError("raw has NaN/inf jet momenta or masses")
    if "label" in raw and not np.isin(table["label"].to_numpy(), (0, 1)).all():
        raise ValueError("raw['label'] must contain only 0 and 1")
    with atomic_path(path) as tmp:
        table.to_hdf(tmp, key=_KEY, mode="w", format="fixed")
    return path
