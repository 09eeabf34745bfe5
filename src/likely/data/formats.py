"""Which of the known layouts a data file has, what it holds, and its particles a slice at a time.

:func:`detect_format` tells the layouts of :data:`FORMATS` apart by their headers alone (HDF5
datasets and attributes, pandas column names, ROOT branches; no events are read), and
:func:`describe_file` says what such a file holds: the number of events and every dataset,
column or branch with its shape. :func:`read_particle_file` reads the rows ``start:stop``
of any particle-level layout (:data:`PARTICLE_READERS`) as :class:`~likely.data.Particles`.

>>> from likely.data.samples import bundled_dijet_paths
>>> detect_format(bundled_dijet_paths()[0])
'lhco-features'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from likely._io import names_the_file, open_hdf5, unreadable
from likely.data import images, particles
from likely.data.adc import read_adc
from likely.data.event_images import DATASETS, N_TRACKS
from likely.data.jetclass import JETCLASS_LABELS, MOMENTA, TREE, read_jetclass
from likely.data.jetnet import read_jetnet
from likely.data.lhco import JET_COLUMNS
from likely.data.lhco_events import HADRON_COLUMNS, HADRONS, positional_layout, read_lhco_events
from likely.data.particles import Particles, read_particles
from likely.data.toptagging import read_top_tagging

__all__ = ["FORMATS", "PARTICLE_READERS", "FileInfo", "common_format", "describe_file", "detect_format",
           "particle_file", "read_particle_file"]

#: every layout :func:`detect_format` knows: name → what it is
FORMATS = {
    "particles": "likely particles file",
    "jet-images": "likely jet-images file",
    "top-tagging": "top-tagging landscape file",
    "jetnet": "JetNet file",
    "jetclass": "JetClass ROOT file",
    "adc": "ADC2021 multi-object file",
    "event-images": "seed-004 event-image file",
    "lhco-features": "LHC Olympics features file",
    "lhco-events": "LHC Olympics raw event file",
    "calogan": "CaloGAN-style shower file",
    "calochallenge": "CaloChallenge-style shower file",
    "table": "likely table",
}
#: HDF5 layouts told apart by their top-level datasets: name → (datasets it needs, the one counting events)
HDF5_DATASETS = {
    "jetnet": (("particle_features", "jet_features"), "particle_features"),
    "adc": (("Particles",), "Particles"),
    "event-images": ((*DATASETS, N_TRACKS), N_TRACKS),
    "calogan": (("layer_0", "energy"), "energy"),
    "calochallenge": (("incident_energies", "showers"), "incident_energies"),
}
#: likely's own HDF5 layouts, told apart by their ``format`` attribute: name → (attribute, dataset counting events)
LIKELY_FILES = {"particles": (particles.FORMAT, "mask"), "jet-images": (images.FORMAT, "images")}


@dataclass(frozen=True)
class FileInfo:
    """What :func:`describe_file` found: the layout (a key of :data:`FORMATS`), the events, the contents.

    ``contents`` maps each dataset, group of datasets, column group or branch group to a
    line on it (shape and dtype, or names).
    """

    path: Path
    format: str
    n_events: int
    contents: dict[str, str]

    def __str__(self) -> str:
        width = max(map(len, self.contents), default=0)
        lines = [f"{self.path}: {FORMATS[self.format]} ({self.format}), {self.n_events} events"]
        return "\n".join(lines + [f"  {name:<{width}}  {text}" for name, text in self.contents.items()])


def detect_format(path: str | os.PathLike) -> str:
    """The layout of the file ``path``: a key of :data:`FORMATS` (ValueError naming the file if none)."""
    return describe_file(path).format


def common_format(files: Sequence[str | os.PathLike], accepted: Sequence[str]) -> str:
    """The one layout of all ``files`` (a non-empty sequence of paths), which must be one of ``accepted``
    (keys of :data:`FORMATS`); a ValueError names the file of another layout, or the mix."""
    if isinstance(files, (str, os.PathLike)) or not files:
        raise ValueError(f"files must be a non-empty sequence of paths; got {files!r}")
    found = {str(path): detect_format(path) for path in files}
    for path, layout in found.items():
        if layout not in accepted:
            raise ValueError(f"{path}: {FORMATS[layout]} ({layout}); expected "
                             + " or ".join(f"{FORMATS[name]} ({name})" for name in accepted))
    if len(set(found.values())) > 1:
        raise ValueError(f"files mix layouts: {found}")
    return next(iter(found.values()))


@names_the_file
def describe_file(path: str | os.PathLike) -> FileInfo:
    """The layout, number of events and contents of the file ``path``, from its headers only.

    Raises ``FileNotFoundError`` for a missing file and a ``ValueError`` naming the file
    and listing the known layouts for a file of none of them.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file {path}")
    with open(path, "rb") as stream:
        magic = stream.read(4)
    if magic == b"root":
        return _describe_root(path)
    if not h5py.is_hdf5(path):
        raise _unknown(path, "it is neither HDF5 nor ROOT")
    with open_hdf5(path, "HDF5 file") as file:
        info = _describe_hdf5(path, file)
        is_pandas = any("pandas_type" in file[name].attrs for name in file)
        names = sorted(file)
    if info is not None:
        return info
    if is_pandas:
        return _describe_pandas(path)
    raise _unknown(path, f"an HDF5 file with {names}")


def _unknown(path: Path, what: str) -> ValueError:
    return ValueError(f"{path} is not a file of a known layout ({what}); known layouts: "
                      + ", ".join(f"{name} ({text})" for name, text in FORMATS.items()))


def _describe_hdf5(path: Path, file) -> FileInfo | None:
    """The info of an h5py ``file`` of one of the non-pandas layouts, else None."""
    import h5py

    found = [(name, count) for name, (attribute, count) in LIKELY_FILES.items()
             if file.attrs.get("format") == attribute]
    found += [(name, count) for name, (needed, count) in HDF5_DATASETS.items() if all(n in file for n in needed)]
    if not found:
        return None
    name, count = found[0]
    contents = {key: f"{item.shape} {item.dtype}" if isinstance(item, h5py.Dataset) else
                f"{len(item)} datasets: {', '.join(item)}" for key, item in file.items()}
    for key in ("features", *images.OPTIONS):
        if key in file.attrs:
            contents[key] = _text(file.attrs[key])
    for key in ("Particles_Names", "Particles_Classes"):
        if key in file:
            contents[key] = _text(file[key][()])
    return FileInfo(path, name, len(file[count]), contents)


def _text(value) -> str:
    """An HDF5 attribute or small dataset as text: lists joined by commas, bytes decoded."""
    values = np.atleast_1d(np.asarray(value)).tolist()
    return ", ".join(v.decode() if isinstance(v, bytes) else str(v) for v in values)


def _describe_pandas(path: Path) -> FileInfo:
    """The info of a pandas HDF file: top-tagging, LHCO events or features, or a likely table."""
    import pandas as pd

    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            key = next((k for k in ("table", "df") if f"/{k}" in keys), keys[0][1:] if len(keys) == 1 else None)
            if key is not None:
                header, storer = store.select(key, stop=0), store.get_storer(key)
                n_events = int(storer.nrows if getattr(storer, "is_table", False) else storer.shape[0])
    except Exception as error:  # PyTables / HDF5 / pandas raise their own exception types for damaged files
        raise unreadable(path, "pandas HDF file", error) from error
    if key is None:
        raise _unknown(path, f"a pandas HDF file with the tables {keys}")
    if not isinstance(header, pd.DataFrame):
        raise _unknown(path, f"a pandas {type(header).__name__} under {key!r}")
    columns = [str(name) for name in header.columns]
    kind, contents = _pandas_kind(path, key, columns)
    dtypes = ", ".join(sorted({str(dtype) for dtype in header.dtypes}))
    return FileInfo(path, kind, n_events, {"key": key, **contents, "dtypes": dtypes})


def _pandas_kind(path: Path, key: str, columns: list[str]) -> tuple[str, dict[str, str]]:
    """The layout of a pandas table of ``columns`` under ``key``, and lines on its columns."""
    if key == "table" and {"E_0", "is_signal_new"} <= set(columns):
        names = set(columns)
        n = sum(f"E_{i}" in names for i in range(len(columns)))
        others = [name for name in columns if name.split("_")[0] not in ("E", "PX", "PY", "PZ")]
        return "top-tagging", {"constituents": f"{n} x (E, PX, PY, PZ) in the columns E_i, PX_i, PY_i, PZ_i",
                               "columns": ", ".join(others)}
    has_label = positional_layout(columns, path)
    if has_label is not None:
        return "lhco-events", {"hadrons": f"{HADRONS} x (pT, eta, phi) in the columns 0..{HADRON_COLUMNS - 1}",
                               "label": f"column {HADRON_COLUMNS}" if has_label else "none (a black box)"}
    kind = "lhco-features" if set(JET_COLUMNS) <= set(columns) else "table" if key == "df" else None
    if kind is None:
        raise _unknown(path, f"a pandas table under {key!r} with the columns {columns[:8]}")
    return kind, {"columns": ", ".join(columns)}


def _describe_root(path: Path) -> FileInfo:
    """The info of a JetClass ROOT file."""
    import uproot

    try:
        with uproot.open(path) as file:
            keys = file.keys()
            tree = file[TREE] if TREE in file else None
            branches, n_events = (list(tree.keys()), int(tree.num_entries)) if tree is not None else ([], 0)
    except Exception as error:  # uproot raises its own types (and OSError) for a file that is not whole ROOT
        raise unreadable(path, "ROOT file", error) from error
    if tree is None:
        raise _unknown(path, f"a ROOT file without a TTree {TREE!r}: it has {keys}")
    missing = [name for name in (*MOMENTA, *JETCLASS_LABELS) if name not in branches]
    if missing:
        raise _unknown(path, f"a ROOT file whose tree {TREE!r} lacks {missing[:5]}")
    groups = {f"{prefix}*": ", ".join(name for name in branches if name.startswith(prefix))
              for prefix in ("part_", "jet_", "label_")}
    return FileInfo(path, "jetclass", n_events, {f"tree {TREE!r}": f"{len(branches)} branches", **groups})


def _read_lhco_particles(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> Particles:
    """The hadrons of a raw LHC Olympics event file as Particles ``(pt, eta, phi)`` (pT = 0 is padding)."""
    hadrons, label = read_lhco_events(path, start, stop)
    return Particles.from_padded(hadrons, hadrons[:, :, 0] != 0, ("pt", "eta", "phi"), label=label)


#: the particle-level layouts and their readers ``reader(path, start, stop) -> Particles``
PARTICLE_READERS = {
    "particles": read_particles, "top-tagging": read_top_tagging, "jetnet": read_jetnet,
    "jetclass": read_jetclass, "adc": read_adc, "lhco-events": _read_lhco_particles,
}


def particle_file(path: str | os.PathLike, format: str = "auto") -> FileInfo:
    """The info of ``path`` after checking it is a particle-level file (of ``format``, unless "auto")."""
    if format != "auto" and format not in PARTICLE_READERS:
        raise ValueError(f"format must be 'auto' or one of {tuple(PARTICLE_READERS)}; got {format!r}")
    info = describe_file(path)
    if format not in ("auto", info.format):
        raise ValueError(f"{path} is a {FORMATS[info.format]} ({info.format}), not a {FORMATS[format]} "
                         f"(format={format!r})")
    if info.format not in PARTICLE_READERS:
        raise ValueError(f"{path} is a {FORMATS[info.format]} ({info.format}), not particles; the particle-level "
                         f"layouts are {tuple(PARTICLE_READERS)}")
    return info


def read_particle_file(path: str | os.PathLike, start: int | None = None, stop: int | None = None, *,
                       format: str = "auto") -> Particles:
    """The rows ``start:stop`` of a particle-level file (``format``: a key of :data:`PARTICLE_READERS` or "auto")."""
    return PARTICLE_READERS[particle_file(path, format).format](path, start, stop)
