"""``Showers``: calorimeter showers as voxel energies, with CaloGAN and CaloChallenge HDF5 IO.

Units: **MeV** everywhere inside ``Showers`` (voxel energies and incident energies), the unit
of the CaloChallenge files. CaloGAN-style files store the incident ``energy`` in GeV and
the layer deposits in MeV (the convention of the CaloGAN data set and of seed 000's
successor files); the readers and writers convert, and both take ``incident_unit`` to
override that.

The library's models work in **GeV**: :func:`read_showers` and :func:`write_showers` are
the GeV view of a CaloChallenge-style file (plain arrays, converted with
:data:`MEV_PER_GEV`), the way training, sampling and scoring read and write showers.

File layouts (N showers):

* CaloGAN: ``layer_0``, ``layer_1``, ... of shape (N, rows, cols) and ``energy`` (N, 1);
* CaloChallenge: ``incident_energies`` (N, 1) and ``showers`` (N, n_voxels).

An optional ``label`` (N,) dataset (0 background, 1 signal) is read and written in both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_array, check_choice, check_showers
from likely._io import atomic_path, check_overwrite, names_the_file, open_hdf5
from likely.data.invalid import InvalidRows, drop_invalid

__all__ = [
    "MEV_PER_GEV",
    "Showers",
    "read_calochallenge",
    "read_calogan",
    "read_showers",
    "write_calochallenge",
    "write_calogan",
    "write_showers",
]

#: MeV per GeV: files (and :class:`Showers`) hold MeV, the models work in GeV.
MEV_PER_GEV = 1000.0
_UNITS = {"MeV": 1.0, "GeV": MEV_PER_GEV}


class Showers:
    """N showers of a calorimeter with ``layer_sizes`` voxels per layer.

    Parameters
    ----------
    energies : array-like (N, n_voxels)
        Deposited (visible) energy per voxel in MeV, >= 0.
    incident_energies : array-like (N,) or (N, 1)
        Energy of the incoming particle in MeV, > 0.
    layer_sizes : sequence of int
        Voxels per layer (their sum must equal n_voxels); default one layer.
    layer_shapes : sequence of (rows, cols), optional
        2-D shape of each layer (needed to write CaloGAN files).
    label : array-like (N,), optional
        Integer truth labels (0 background, 1 signal).

    Examples
    --------
    >>> s = Showers([[1.0, 2.0, 3.0]], [10.0], layer_sizes=[1, 2])
    >>> s.layer(1).tolist(), s.layer_energies().tolist()
    ([[2.0, 3.0]], [[1.0, 5.0]])
    """

    def __init__(self, energies, incident_energies, layer_sizes: Sequence[int] | None = None,
                 layer_shapes: Sequence[tuple[int, int]] | None = None, label: Any = None):
        energies = check_array(energies, "energies")
        incident = np.asarray(incident_energies)
        if incident.ndim == 2 and incident.shape[1] == 1:
            incident = incident[:, 0]
        incident = check_array(incident, "incident_energies", ndim=1)
        if len(incident) != len(energies):
            raise ValueError(
                f"incident_energies has {len(incident)} rows, energies has {len(energies)}"
            )
        if np.any(energies < 0):
            raise ValueError(
                f"energies must be >= 0; got {np.count_nonzero(energies < 0)} negative value(s) "
                f"(min {energies.min():g} MeV)"
            )
        if np.any(incident <= 0):
            raise ValueError(f"incident_energies must be > 0 MeV; got min {incident.min():g}")
        if layer_shapes is not None:
            layer_shapes = tuple((int(r), int(c)) for r, c in layer_shapes)
            shape_sizes = tuple(r * c for r, c in layer_shapes)
            if layer_sizes is not None and tuple(int(n) for n in layer_sizes) != shape_sizes:
                raise ValueError(f"layer_sizes {tuple(layer_sizes)} disagree with layer_shapes {layer_shapes}")
            layer_sizes = shape_sizes
        sizes = (energies.shape[1],) if layer_sizes is None else tuple(int(n) for n in layer_sizes)
        if any(n < 0 for n in sizes) or sum(sizes) != energies.shape[1]:
            raise ValueError(
                f"energies has {energies.shape[1]} voxels per shower, but layer_sizes {sizes} "
                f"sum to {sum(sizes)}"
            )
        if label is not None:
            label = np.asarray(label)
            if label.shape != (len(energies),) or not np.issubdtype(label.dtype, np.number):
                raise ValueError(f"label must be a numeric array of shape ({len(energies)},); got {label.shape}")
            if not np.all(label == np.round(label)):
                raise ValueError("label must hold integers")
            label = label.astype(np.int64)
        self.energies = energies
        self.incident_energies = incident
        self.layer_sizes = sizes
        self.layer_shapes = layer_shapes
        self.label = label

    def __len__(self) -> int:
        return len(self.energies)

    def __repr__(self) -> str:
        return f"Showers(n={len(self)}, layer_sizes={self.layer_sizes}, label={'yes' if self.label is not None else 'no'})"

    @property
    def n_voxels(self) -> int:
        return self.energies.shape[1]

    def __getitem__(self, index) -> Showers:
        """A subset by integer indices, a slice or a boolean mask."""
        return Showers(
            self.energies[index], self.incident_energies[index], self.layer_sizes,
            self.layer_shapes, None if self.label is None else self.label[index],
        )

    def layer(self, k: int) -> np.ndarray:
        """Voxel energies of layer ``k``: (N, layer_sizes[k]) in MeV."""
        if not 0 <= k < len(self.layer_sizes):
            raise ValueError(f"layer must be in [0, {len(self.layer_sizes) - 1}]; got {k}")
        start = sum(self.layer_sizes[:k])
        return self.energies[:, start : start + self.layer_sizes[k]]

    def layer_energies(self) -> np.ndarray:
        """Energy per layer: (N, n_layers) in MeV."""
        edges = np.concatenate([[0], np.cumsum(self.layer_sizes)])[:-1]
        sums = np.add.reduceat(self.energies, edges, axis=1) if self.n_voxels else np.zeros((len(self), 0))
        empty = np.asarray(self.layer_sizes) == 0  # reduceat copies the next value for empty layers
        sums[:, empty] = 0
        return sums.astype(np.float32)

    def total_energy(self) -> np.ndarray:
        """Deposited energy per shower: (N,) in MeV."""
        return self.energies.sum(axis=1, dtype=np.float64).astype(np.float32)

    def check_nonzero(self) -> Showers:
        """Raise ``ValueError`` if any shower deposits no energy (models that normalize need this)."""
        zero = np.flatnonzero(self.total_energy() <= 0)
        if zero.size:
            raise ValueError(
                f"{zero.size} shower(s) deposit no energy (first at row {zero[0]}); "
                "drop them, e.g. showers[showers.total_energy() > 0]"
            )
        return self

    @staticmethod
    def concatenate(parts: Sequence[Showers]) -> Showers:
        """Showers of the same layout stacked in order."""
        if not parts:
            raise ValueError("parts is empty")
        first = parts[0]
        for p in parts[1:]:
            if p.layer_sizes != first.layer_sizes:
                raise ValueError(f"layer_sizes differ: {first.layer_sizes} vs {p.layer_sizes}")
        labels = [p.label for p in parts]
        if any(lab is None for lab in labels) and not all(lab is None for lab in labels):
            raise ValueError("some parts have labels and some do not")
        return Showers(
            np.concatenate([p.energies for p in parts]),
            np.concatenate([p.incident_energies for p in parts]),
            first.layer_sizes, first.layer_shapes,
            None if labels[0] is None else np.concatenate(labels),
        )


# ------------------------------------------------------------------------ IO
def _finite_showers(path, arrays: dict[str, np.ndarray], on_invalid: str) -> tuple[np.ndarray, InvalidRows]:
    """Rows of ``arrays`` to keep under the non-finite policy (``"keep"`` is not offered: Showers are finite)."""
    check_choice(on_invalid, "on_invalid", ("drop", "raise"))
    return drop_invalid(arrays, source=str(path), on_invalid=on_invalid)


def _float32(dataset, scale: float = 1.0) -> np.ndarray:
    """A dataset as float32 (times ``scale``); values beyond float32 become ±inf for the non-finite policy."""
    values = dataset[()]
    if not np.issubdtype(np.asarray(values).dtype, np.number):
        raise TypeError(f"dataset {dataset.name!r} must hold numbers; got dtype {np.asarray(values).dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.asarray(values, dtype=np.float64) * scale).astype(np.float32)


def _read_label(handle, n: int):
    if "label" not in handle:
        return None
    label = np.asarray(handle["label"][:]).reshape(-1)
    if label.shape != (n,):
        raise ValueError(f"dataset 'label' has {label.size} entries for {n} showers")
    return label


@names_the_file
def read_calogan(path: str | os.PathLike, incident_unit: str = "GeV", *, on_invalid: str = "drop",
                 return_invalid: bool = False) -> Showers | tuple[Showers, InvalidRows]:
    """Read a CaloGAN-style HDF5 file (``layer_0``.., ``energy``): layers in MeV, ``energy`` in ``incident_unit``.

    Showers with NaN/inf in a layer or the energy are dropped and logged
    (``on_invalid="drop"``) or refused (``"raise"``); ``return_invalid`` also returns the
    :class:`~likely.data.invalid.InvalidRows` account.
    """
    check_choice(incident_unit, "incident_unit", _UNITS)
    with open_hdf5(path, "HDF5 shower file") as handle:
        names = sorted((k for k in handle if k.startswith("layer_") and k[6:].isdigit()), key=lambda k: int(k[6:]))
        if not names or "energy" not in handle:
            raise ValueError(f"{path} is not a CaloGAN-style file: needs layer_0.. and energy; has {list(handle)}")
        if names != [f"layer_{k}" for k in range(len(names))]:
            raise ValueError(f"{path}: layer datasets must be numbered from 0 without gaps; got {names}")
        layers = [_float32(handle[name]) for name in names]
        for name, layer in zip(names, layers, strict=True):
            if layer.ndim != 3:
                raise ValueError(f"{path}: {name} must have shape (N, rows, cols); got {layer.shape}")
        energy = _float32(handle["energy"], scale=_UNITS[incident_unit]).reshape(-1)
        label = _read_label(handle, len(energy))
    for name, layer in zip(names, layers, strict=True):
        if len(layer) != len(energy):
            raise ValueError(f"{path}: {name} has {len(layer)} showers, energy has {len(energy)}")
    keep, account = _finite_showers(path, {**dict(zip(names, layers, strict=True)), "energy": energy}, on_invalid)
    showers = Showers(
        np.concatenate([layer[keep].reshape(int(keep.sum()), -1) for layer in layers], axis=1),
        energy[keep], layer_shapes=[layer.shape[1:] for layer in layers],
        label=None if label is None else label[keep],
    )
    return (showers, account) if return_invalid else showers


def write_calogan(path: str | os.PathLike, showers: Showers, *, incident_unit: str = "GeV",
                  overwrite: bool = False) -> Path:
    """Write ``showers`` as a CaloGAN-style HDF5 file, atomically (needs ``showers.layer_shapes``)."""
    import h5py

    check_choice(incident_unit, "incident_unit", _UNITS)
    if showers.layer_shapes is None:
        raise ValueError("showers.layer_shapes is needed to write CaloGAN layers (N, rows, cols)")
    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        for k, shape in enumerate(showers.layer_shapes):
            handle.create_dataset(f"layer_{k}", data=showers.layer(k).reshape(len(showers), *shape),
                                  compression="gzip", shuffle=True)
        handle.create_dataset("energy", data=(showers.incident_energies / _UNITS[incident_unit])[:, None])
        if showers.label is not None:
            handle.create_dataset("label", data=showers.label)
    return path


@names_the_file
def read_calochallenge(path: str | os.PathLike, layer_sizes: Sequence[int] | None = None, *,
                       on_invalid: str = "drop", return_invalid: bool = False) -> Showers | tuple[Showers, InvalidRows]:
    """Read a CaloChallenge-style HDF5 file (``incident_energies`` (N, 1), ``showers`` (N, n_voxels); MeV).

    ``layer_sizes`` (e.g. ``geometry.layer_sizes``) checks the voxel count and enables layer
    slicing. Showers with NaN/inf voxels or incident energy are dropped and logged
    (``on_invalid="drop"``) or refused (``"raise"``); ``return_invalid`` also returns the
    :class:`~likely.data.invalid.InvalidRows` account.
    """
    with open_hdf5(path, "HDF5 shower file") as handle:
        for name in ("incident_energies", "showers"):
            if name not in handle:
                raise ValueError(f"{path} is not a CaloChallenge-style file: no dataset {name!r}; has {list(handle)}")
        energies = _float32(handle["showers"])
        incident = _float32(handle["incident_energies"]).reshape(-1)
        label = _read_label(handle, len(incident))
    if energies.ndim != 2:
        raise ValueError(f"{path}: showers must have shape (N, n_voxels); got {energies.shape}")
    if len(incident) != len(energies):
        raise ValueError(f"{path}: incident_energies has {len(incident)} rows, showers has {len(energies)}")
    keep, account = _finite_showers(path, {"showers": energies, "incident_energies": incident}, on_invalid)
    showers = Showers(energies[keep], incident[keep], layer_sizes=layer_sizes,
                      label=None if label is None else label[keep])
    return (showers, account) if return_invalid else showers


def write_calochallenge(path: str | os.PathLike, showers: Showers, *, overwrite: bool = False) -> Path:
    """Write ``showers`` as a CaloChallenge-style HDF5 file (MeV), atomically."""
    import h5py

    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset("incident_energies", data=showers.incident_energies[:, None])
        handle.create_dataset("showers", data=showers.energies, compression="gzip", shuffle=True)
        if showers.label is not None:
            handle.create_dataset("label", data=showers.label)
    return path


@names_the_file
def read_showers(path: str | os.PathLike, layers: Sequence[int] | None = None, max_showers: int | None = None,
                 allow_empty: bool = False, *, on_invalid: str = "drop", return_invalid: bool = False) -> tuple:
    """Showers and incident energies in GeV from a CaloChallenge-style file (MeV on disk).

    Parameters
    ----------
    path : path
        HDF5 file with ``incident_energies`` (N, 1) and ``showers`` (N, n_voxels) in MeV.
    layers : sequence of int, optional
        Voxels per layer; checks the voxel count.
    max_showers : int, optional
        Read only the first ``max_showers`` showers.
    allow_empty : bool
        Accept showers without deposited energy (e.g. signal samples); by default they raise.
    on_invalid : {"drop", "raise"}
        Showers with NaN/inf values: drop and log them (default) or raise.
    return_invalid : bool
        Also return the :class:`~likely.data.invalid.InvalidRows` account.

    Returns
    -------
    showers : ndarray (N, n_voxels), float32
        Voxel energies in GeV.
    e_inc : ndarray (N,), float32
        Incident energies in GeV.
    invalid : InvalidRows
        Only with ``return_invalid``.
    """
    showers, account = read_calochallenge(path, layer_sizes=layers, on_invalid=on_invalid, return_invalid=True)
    showers = showers[slice(None, max_showers)]
    energies = check_showers(showers.energies / MEV_PER_GEV, f"{path}:showers", allow_empty=allow_empty)
    result = (energies, showers.incident_energies / MEV_PER_GEV)
    return (*result, account) if return_invalid else result


def write_showers(path: str | os.PathLike, showers, e_inc, *, overwrite: bool = False) -> Path:
    """Write showers and incident energies given in GeV as a CaloChallenge-style file (MeV), atomically.

    Parameters
    ----------
    path : path
        The HDF5 file to write; an existing one is replaced only with ``overwrite``.
    showers : array-like (N, n_voxels)
        Voxel energies in GeV, >= 0.
    e_inc : array-like (N,) or (N, 1)
        Incident energies in GeV, > 0.

    Returns
    -------
    The path written; :func:`read_showers` reads it back. :class:`Showers` checks the values.
    """
    energies, incident = (np.asarray(values) * MEV_PER_GEV for values in (showers, e_inc))
    return write_calochallenge(path, Showers(energies, incident), overwrite=overwrite)
