"""Multi-object events in the layout of the CMS anomaly-detection challenge (ADC2021).

Govorkova et al., "LHC physics dataset for unsupervised New Physics detection at 40 MHz"
(Sci. Data 9, 118 (2022)); AnomalyCLR's data (seed 003 §2.5). Each HDF5 file
(``background_for_training.h5``, ``Ato4l_lepFilter_13TeV.h5``, ``BlackBox_13TeV_PU20.h5``, …)
holds::

    Particles           (N, 19, 4) float   (pT [GeV], η, φ, class) per object slot, zero padded
    Particles_Names     [b"Pt", b"Eta", b"Phi", b"Class"]
    Particles_Classes   [b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"]

with fixed slots: 0 MET (class 1), 1–4 electrons (2), 5–8 muons (3), 9–18 jets (4), each
group ordered by pT. :func:`read_adc` gives the real objects as
:class:`~likely.data.Particles` with features ``(pt, eta, phi, id)`` (``id`` = the class);
:func:`adc_layout` puts any such objects back into the 19 slots (the hardest of each type
kept), and :func:`write_adc` writes a file of the published layout.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, open_hdf5
from likely.data.particles import Particles

__all__ = ["ADC_SLOTS", "adc_layout", "read_adc", "write_adc"]

FEATURES = ("pt", "eta", "phi", "id")
#: class id → (first slot, number of slots)
ADC_SLOTS = {1: (0, 1), 2: (1, 4), 3: (5, 4), 4: (9, 10)}
N_SLOTS = 19
NAMES = [b"Pt", b"Eta", b"Phi", b"Class"]
CLASSES = [b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"]


@names_the_file
def read_adc(path: str | os.PathLike, start: int | None = None, stop: int | None = None, *,
             label: int | None = None) -> Particles:
    """The events ``start:stop`` of an ADC file as objects ``(pt, eta, phi, id)``; ``label`` labels them all."""
    with open_hdf5(path, "ADC file (HDF5)") as file:
        if "Particles" not in file:
            raise ValueError(f"{path} is not an ADC file: it has no 'Particles' dataset (it has {sorted(file)})")
        slots = file["Particles"][start:stop]
    if slots.ndim != 3 or slots.shape[1:] != (N_SLOTS, 4):
        raise ValueError(f"{path}: Particles must have shape (N, {N_SLOTS}, 4); got {slots.shape}")
    ids = slots[:, :, 3]
    if not np.isin(ids, (0, *ADC_SLOTS)).all():
        raise ValueError(f"{path}: object classes must be 0 (empty) or {sorted(ADC_SLOTS)}; "
                         f"found {sorted(set(np.unique(ids)) - {0, *ADC_SLOTS})[:5]}")
    labels = None if label is None else np.full(len(slots), label)
    return Particles.from_padded(slots, ids > 0, FEATURES, label=labels)


def adc_layout(objects: Particles) -> np.ndarray:
    """The fixed (N, 19, 4) slots of ``objects`` (features ``pt, eta, phi, id``): per type its hardest, by pT."""
    if not isinstance(objects, Particles) or objects.features != FEATURES:
        raise ValueError(f"objects must be Particles with features {FEATURES}; got "
                         f"{getattr(objects, 'features', type(objects).__name__)}")
    ordered = objects.sorted_by("pt")
    ids = np.where(ordered.mask, ordered.feature("id"), 0)
    slots = np.zeros((len(objects), N_SLOTS, 4), dtype=np.float32)
    for kind, (first, count) in ADC_SLOTS.items():
        is_kind = ids == kind
        rank = np.cumsum(is_kind, axis=1) - 1
        event, position = np.nonzero(is_kind & (rank < count))
        slots[event, first + rank[event, position]] = ordered.values[event, position]
    return slots


def write_adc(path: str | os.PathLike, objects: Particles, *, overwrite: bool = False) -> Path:
    """Write ``objects`` (features ``pt, eta, phi, id``) as an ADC file (gzip), atomically; returns ``path``."""
    import h5py

    slots = adc_layout(objects)
    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        file.create_dataset("Particles", data=slots, compression="gzip")
        file.create_dataset("Particles_Names", data=NAMES)
        file.create_dataset("Particles_Classes", data=CLASSES)
    return path
