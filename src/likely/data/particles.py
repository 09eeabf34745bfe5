"""Variable-length particle sets — jet constituents, event objects — padded for torch.

One :class:`Particles` holds ``N`` sets of up to ``P`` particles with ``F`` named features
each as a padded float32 array ``(N, P, F)`` and a boolean mask ``(N, P)`` (True: a real
particle), which is what masked-set models consume, with per-set columns ``(N,)`` (jet
pT, mass, ...), truth labels and weights alongside. Padding is always zero and real
particles come first in each row, so truncating to the ``P'`` first keeps the hardest ones
once :meth:`Particles.sorted_by` has ordered them.

Awkward arrays (Scikit-HEP) convert both ways (:meth:`Particles.from_awkward`,
:meth:`Particles.to_awkward`); named four-momentum fields (``E, px, py, pz`` or
``pt, eta, phi, mass``) get the ``vector`` library's behaviour there.

The HDF5 layout of :func:`write_particles` (and of :func:`append_particles`, batch by batch)::

    particles   (N, P, F) float32, gzip     the padded features (zero where mask is False)
    mask        (N, P) bool
    columns/    one (N,) float32 dataset per set column
    label       (N,) int8, optional         weight   (N,) float32, optional
    attrs       format = "likely.particles", version = 1, features = [F names]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, open_hdf5
from likely.data.events import EventSet

__all__ = ["Particles", "append_particles", "read_particles", "write_particles"]

FORMAT, VERSION = "likely.particles", 1
#: float32 values per HDF5 chunk (256 KiB)
CHUNK_VALUES = 2**16
FOUR_MOMENTA = {("E", "px", "py", "pz"): "Momentum4D", ("pt", "eta", "phi", "mass"): "Momentum4D",
                ("pt", "eta", "phi"): "Momentum3D"}


class Particles:
    """``N`` sets of up to ``P`` particles with ``F`` named features, padded, with a mask.

    Parameters
    ----------
    values : array-like (N, P, F)
        Particle features; entries where ``mask`` is False are set to zero.
    mask : array-like (N, P) of bool
        True for real particles; they must come before the padding in each row.
    features : sequence of str (F,)
        Names of the features, e.g. ``("pt", "eta", "phi")`` or ``("E", "px", "py", "pz")``.
    columns : mapping of str to array-like (N,), optional
        Per-set columns (jet pT, jet mass, ...), float32.
    label, weight : array-like (N,), optional
        Truth labels (0 background, 1 signal) and per-set weights.

    Examples
    --------
    >>> jets = Particles.from_counts([[100., 0.1, 0.2], [50., -0.1, 0.3], [80., 1.0, 2.0]],
    ...                              counts=[2, 1], features=("pt", "eta", "phi"))
    >>> jets.values.shape, jets.counts.tolist()
    ((2, 2, 3), [2, 1])
    """

    def __init__(self, values: Any, mask: Any, features: Sequence[str], *, columns: Mapping[str, Any] | None = None,
                 label: Any = None, weight: Any = None) -> None:
        values = np.array(values, dtype=np.float32)
        mask = np.asarray(mask)
        if values.ndim != 3:
            raise ValueError(f"values must have shape (N, P, F); got shape {values.shape}")
        if mask.shape != values.shape[:2] or mask.dtype != bool:
            raise ValueError(f"mask must be a boolean array of shape {values.shape[:2]}; "
                             f"got {mask.dtype} of shape {mask.shape}")
        if np.any(mask[:, 1:] & ~mask[:, :-1]):
            raise ValueError("mask has padding before a real particle: real particles must come first in each row")
        features = tuple(str(name) for name in features)
        if len(features) != values.shape[2] or len(set(features)) != len(features):
            raise ValueError(f"features must name the {values.shape[2]} features once each; got {features}")
        values[~mask] = 0.0
        self.values, self.mask, self.features = values, mask, features
        n = len(values)
        self.columns = {str(name): _aligned(column, n, f"columns[{name!r}]", np.float32)
                        for name, column in (columns or {}).items()}
        self.label = None if label is None else _aligned(label, n, "label", np.int8)
        self.weight = None if weight is None else _aligned(weight, n, "weight", np.float32)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_counts(cls, flat: Any, counts: Any, features: Sequence[str], *, max_particles: int | None = None,
                    **extras: Any) -> Particles:
        """Pad jagged particles: ``flat`` (M, F), the sets' particles one after another, ``counts`` (N,).

        Sets longer than ``max_particles`` (default: the longest) keep their first ones.
        ``extras``: ``columns``, ``label``, ``weight`` as in the constructor.
        """
        flat = np.asarray(flat, dtype=np.float32)
        counts = np.asarray(counts)
        if flat.ndim != 2:
            raise ValueError(f"flat must have shape (M, F); got shape {flat.shape}")
        if counts.ndim != 1 or (counts.size and (counts.min() < 0 or not np.issubdtype(counts.dtype, np.integer))):
            raise ValueError("counts must be a 1-d array of non-negative integers")
        if counts.sum() != len(flat):
            raise ValueError(f"counts add up to {counts.sum()}, but flat has {len(flat)} particles")
        longest = int(counts.max(initial=0))
        width = longest if max_particles is None else int(max_particles)
        if width < 0:
            raise ValueError(f"max_particles must be >= 0; got {max_particles}")
        slot = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
        row = np.repeat(np.arange(len(counts)), counts)
        kept = slot < width
        values = np.zeros((len(counts), width, flat.shape[1]), dtype=np.float32)
        values[row[kept], slot[kept]] = flat[kept]
        mask = np.arange(width) < np.minimum(counts, width)[:, None]
        return cls(values, mask, features, **extras)

    @classmethod
    def from_padded(cls, values: Any, real: Any, features: Sequence[str], **extras: Any) -> Particles:
        """From padded ``values`` (N, P, F) whose real particles (``real`` (N, P) bool) may sit anywhere in a row.

        The real particles are moved to the front of each row, keeping their order (files
        such as the top-tagging and JetNet ones do not promise where the padding is).
        """
        values, real = np.asarray(values), np.asarray(real, dtype=bool)
        if real.shape != values.shape[:2]:
            raise ValueError(f"real must have shape {values.shape[:2]}; got shape {real.shape}")
        order = np.argsort(~real, axis=1, kind="stable")
        return cls(np.take_along_axis(values, order[:, :, None], axis=1), np.take_along_axis(real, order, axis=1),
                   features, **extras)

    @classmethod
    def from_awkward(cls, array: Any, *, features: Sequence[str] | None = None, max_particles: int | None = None,
                     **extras: Any) -> Particles:
        """From an awkward array of records, one variable-length list per set (``N * var * {fields}``).

        ``features``: the record fields to keep, in order (default: all).
        """
        import awkward as ak

        array = ak.Array(array)
        if array.ndim != 2 or not ak.fields(array):
            raise ValueError(f"array must be N * var * {{fields}} records; got type {array.type}")
        features = tuple(ak.fields(array)) if features is None else tuple(features)
        missing = [name for name in features if name not in ak.fields(array)]
        if missing:
            raise KeyError(f"no fields {missing} in the array; available: {ak.fields(array)}")
        counts = ak.to_numpy(ak.num(array, axis=1))
        flat = np.stack([ak.to_numpy(ak.flatten(array[name])).astype(np.float32) for name in features], axis=1)
        return cls.from_counts(flat.reshape(-1, len(features)), counts, features, max_particles=max_particles,
                               **extras)

    def to_awkward(self):
        """An awkward array ``N * var * {features}``; four-momentum fields get ``vector``'s behaviour."""
        import awkward as ak

        name = FOUR_MOMENTA.get(self.features)
        behavior = None
        if name is not None:
            import vector

            behavior = vector.backends.awkward.behavior
        flat = self.values[self.mask]
        records = ak.zip({feature: flat[:, i] for i, feature in enumerate(self.features)},
                         with_name=name, behavior=behavior)
        return ak.unflatten(records, self.counts)

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        extras = "".join(f", {what}" for what in ("label", "weight") if getattr(self, what) is not None)
        return (f"Particles({len(self)} sets of up to {self.values.shape[1]}, features={list(self.features)}, "
                f"columns={list(self.columns)}{extras})")

    @property
    def counts(self) -> np.ndarray:
        """Real particles per set (N,) int64."""
        return self.mask.sum(axis=1)

    def feature(self, name: str) -> np.ndarray:
        """One feature of every particle (N, P), zero in the padding."""
        if name not in self.features:
            raise KeyError(f"no feature {name!r} in the particles; available: {list(self.features)}")
        return self.values[:, :, self.features.index(name)]

    def table(self) -> EventSet:
        """The per-set columns, labels and weights as an :class:`EventSet`."""
        if not self.columns:
            raise ValueError("these particles have no per-set columns")
        return EventSet(self.columns, label=self.label, weight=self.weight)

    def __getitem__(self, key: np.ndarray | slice | Sequence[int]) -> Particles:
        """The sets selected by a boolean mask (N,), indices or a slice."""
        if isinstance(key, (str, int, np.integer)):
            raise TypeError("select sets with a slice, indices or a boolean mask; use feature(name) for a feature "
                            "and columns[name] for a column")
        return self.with_values(self.values[key], self.mask[key], rows=key)

    def with_values(self, values: Any, mask: Any, *, rows: Any = slice(None)) -> Particles:
        """These sets with new ``values`` (N', P', F) and ``mask``, same features.

        Columns, labels and weights are those of the sets ``rows`` (default: all).
        """
        return Particles(values, mask, self.features, columns={name: c[rows] for name, c in self.columns.items()},
                         label=None if self.label is None else self.label[rows],
                         weight=None if self.weight is None else self.weight[rows])

    # -------------------------------------------------------------- reshaping
    def sorted_by(self, name: str, *, descending: bool = True) -> Particles:
        """Each set's particles ordered by feature ``name`` (hardest first by default), padding last."""
        key = self.feature(name).astype(np.float64)
        key = np.where(self.mask, -key if descending else key, np.inf)
        order = np.argsort(key, axis=1, kind="stable")
        values = np.take_along_axis(self.values, order[:, :, None], axis=1)
        return self.with_values(values, np.take_along_axis(self.mask, order, axis=1))

    def truncated(self, max_particles: int) -> Particles:
        """At most ``max_particles`` per set, the first ones (zero-padded up to it if fewer)."""
        if not isinstance(max_particles, (int, np.integer)) or max_particles < 0:
            raise ValueError(f"max_particles must be an integer >= 0; got {max_particles!r}")
        return self.with_values(*_pad_to(self.values[:, :max_particles], self.mask[:, :max_particles], max_particles))

    @staticmethod
    def concat(sets: Iterable[Particles]) -> Particles:
        """Stack particle sets with the same features and columns, padded to the widest.

        Labels and weights are kept only if every part has them.
        """
        sets = list(sets)
        if not sets:
            raise ValueError("sets is empty")
        first = sets[0]
        for other in sets[1:]:
            if other.features != first.features or set(other.columns) != set(first.columns):
                raise ValueError(f"cannot concatenate particles with features {other.features} and columns "
                                 f"{sorted(other.columns)} to features {first.features}, columns {sorted(first.columns)}")
        width = max(part.values.shape[1] for part in sets)
        padded = [_pad_to(part.values, part.mask, width) for part in sets]

        def stacked(what):
            parts = [getattr(part, what) for part in sets]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return Particles(np.concatenate([v for v, _ in padded]), np.concatenate([m for _, m in padded]),
                         first.features, columns={name: np.concatenate([part.columns[name] for part in sets])
                                                  for name in first.columns},
                         label=stacked("label"), weight=stacked("weight"))


def _pad_to(values: np.ndarray, mask: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    extra = width - values.shape[1]
    if extra <= 0:
        return values, mask
    return np.pad(values, ((0, 0), (0, extra), (0, 0))), np.pad(mask, ((0, 0), (0, extra)))


def _aligned(values: Any, n: int, name: str, dtype: type) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got shape {array.shape}")
    return array.astype(dtype)


def write_particles(path: str | os.PathLike, particles: Particles, *, overwrite: bool = False) -> Path:
    """Write ``particles`` to an HDF5 file (layout in the module docstring) atomically; returns ``path``.

    An existing file raises ``FileExistsError`` unless ``overwrite``; a failed write leaves it intact.
    """
    import h5py

    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        append_particles(file, particles)
    return path


def append_particles(file, particles: Particles) -> None:
    """Add ``particles`` to the open HDF5 ``file`` (h5py, writable), creating the layout on the first call.

    For writers that read or make sets batch by batch. The file grows along the sets and,
    when a batch is wider than the file, along the particles (earlier sets are zero padded,
    as :meth:`Particles.concat` pads). Every batch must have the file's features and
    columns, and labels (weights) in all batches or in none.
    """
    if not isinstance(particles, Particles):
        raise TypeError(f"particles must be a Particles; got {type(particles).__name__}")
    arrays = {f"columns/{name}": column for name, column in particles.columns.items()}
    arrays.update({what: getattr(particles, what) for what in ("label", "weight")
                   if getattr(particles, what) is not None})
    if "mask" not in file:
        _, width, n_features = particles.values.shape
        rows = max(1, CHUNK_VALUES // max(1, width * n_features))  # chunks of about 256 KiB
        file.attrs.update(format=FORMAT, version=VERSION, features=list(particles.features))
        file.create_dataset("particles", data=particles.values, maxshape=(None, None, n_features),
                            chunks=(rows, max(width, 1), n_features), compression="gzip", shuffle=True)
        file.create_dataset("mask", data=particles.mask, maxshape=(None, None), chunks=(rows, max(width, 1)),
                            compression="gzip")
        file.create_group("columns")
        for name, array in arrays.items():
            file.create_dataset(name, data=array, maxshape=(None,), chunks=(CHUNK_VALUES,), compression="gzip")
        return
    stored = {f"columns/{name}" for name in file["columns"]} | {what for what in ("label", "weight") if what in file}
    if tuple(file.attrs["features"]) != particles.features or stored != set(arrays):
        raise ValueError(f"particles with features {list(particles.features)} and {sorted(arrays)} cannot be added "
                         f"to a file of features {list(file.attrs['features'])} and {sorted(stored)}")
    width = max(file["mask"].shape[1], particles.values.shape[1])
    for name in ("particles", "mask"):
        file[name].resize(width, axis=1)
    arrays.update(zip(("particles", "mask"), _pad_to(particles.values, particles.mask, width)))
    for name, array in arrays.items():
        dataset = file[name]
        dataset.resize(len(dataset) + len(array), axis=0)
        dataset[len(dataset) - len(array):] = array


@names_the_file
def read_particles(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> Particles:
    """The :class:`Particles` :func:`write_particles` wrote, sets ``start:stop`` (default all)."""
    rows = slice(start, stop)
    with open_hdf5(path, "likely particles file") as file:
        if file.attrs.get("format") != FORMAT:
            raise ValueError(f"{path} is not a likely particles file (its 'format' attribute is "
                             f"{file.attrs.get('format')!r}, not {FORMAT!r})")
        if int(file.attrs.get("version", -1)) > VERSION:
            raise ValueError(f"{path} has particles format version {file.attrs['version']}; this likely "
                             f"reads up to {VERSION}")
        optional = {what: file[what][rows] for what in ("label", "weight") if what in file}
        return Particles(file["particles"][rows], file["mask"][rows], list(file.attrs["features"]),
                         columns={name: data[rows] for name, data in file["columns"].items()}, **optional)
