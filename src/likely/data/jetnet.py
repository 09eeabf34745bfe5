"""JetNet files (Kansal et al., arXiv:2106.11535; Zenodo 6975118 and the 150-particle version).

One HDF5 file per jet type (``g``, ``q``, ``t``, ``w``, ``z``; ~1 TeV jets), two datasets::

    particle_features   (N, P, 4)   η_rel, φ_rel, pT_rel, mask   (P = 30, or 150)
    jet_features        (N, 4)      pT (GeV), η, mass (GeV), number of particles

:func:`read_jetnet` gives :class:`~likely.data.Particles` with features ``(etarel, phirel,
ptrel)`` and the jet features as the columns ``jet_pt, jet_eta, jet_mass, jet_nparticles``.
"""

from __future__ import annotations

import os

import numpy as np

from likely._io import names_the_file, open_hdf5
from likely.data.particles import Particles

__all__ = ["read_jetnet"]

FEATURES = ("etarel", "phirel", "ptrel")
JET_COLUMNS = ("jet_pt", "jet_eta", "jet_mass", "jet_nparticles")


@names_the_file
def read_jetnet(path: str | os.PathLike, start: int | None = None, stop: int | None = None, *,
                label: int | None = None) -> Particles:
    """The jets ``start:stop`` of a JetNet file; ``label`` (e.g. 1 for the signal type) labels them all."""
    rows = slice(start, stop)
    with open_hdf5(path, "JetNet file (HDF5)") as file:
        missing = [name for name in ("particle_features", "jet_features") if name not in file]
        if missing:
            raise ValueError(f"{path} is not a JetNet file: it has no {missing} (it has {sorted(file)})")
        particles, jets = file["particle_features"][rows], file["jet_features"][rows]
    if particles.ndim != 3 or particles.shape[2] != 4 or jets.shape != (len(particles), 4):
        raise ValueError(f"{path} is not a JetNet file: particle_features must be (N, P, 4) and jet_features "
                         f"(N, 4); got {particles.shape} and {jets.shape}")
    columns = dict(zip(JET_COLUMNS, jets.T))
    labels = None if label is None else np.full(len(particles), label)
    return Particles.from_padded(particles[:, :, :3], particles[:, :, 3] > 0, FEATURES, columns=columns, label=labels)
