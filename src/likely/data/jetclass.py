"""JetClass ROOT files (Qu, Li & Qian, "Particle Transformer for Jet Tagging", arXiv:2202.03772).

100M jets of ten classes (``JETCLASS_LABELS``), one class per file (``HToBB_000.root``,
``ZJetsToNuNu_000.root``, …), each a TTree ``tree`` with one entry per jet: jagged
constituent branches ``part_*`` (``part_energy``, ``part_px``, ``part_py``, ``part_pz``,
``part_deta``, ``part_dphi``, ``part_charge``, ``part_isElectron``, …), jet branches
``jet_*`` (``jet_pt``, ``jet_eta``, ``jet_phi``, ``jet_energy``, ``jet_nparticles``,
``jet_sdmass``, ``jet_tau1`` … ``jet_tau4``) and one-hot booleans ``label_*``.
Read with uproot (Scikit-HEP).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from likely._io import names_the_file, unreadable
from likely.data.particles import Particles

__all__ = ["JETCLASS_LABELS", "read_jetclass"]

TREE = "tree"
#: the one-hot label branches, in the order of the class index ``read_jetclass`` gives as the label
JETCLASS_LABELS = ("label_QCD", "label_Hbb", "label_Hcc", "label_Hgg", "label_H4q", "label_Hqql", "label_Zqq",
                   "label_Wqq", "label_Tbqq", "label_Tbl")
MOMENTA = {"part_energy": "E", "part_px": "px", "part_py": "py", "part_pz": "pz"}


@names_the_file
def read_jetclass(path: str | os.PathLike, start: int | None = None, stop: int | None = None, *,
                  extra: Sequence[str] = (), max_particles: int | None = None) -> Particles:
    """The jets ``start:stop`` of a JetClass file as :class:`~likely.data.Particles`.

    Features: ``E, px, py, pz`` (GeV) and then the ``extra`` constituent branches named
    without their ``part_`` prefix (e.g. ``extra=("part_charge", "part_d0val")``); columns:
    every ``jet_*`` branch; label: the class index in ``JETCLASS_LABELS``.
    ``max_particles`` keeps the first constituents of each jet (default: all).
    """
    import awkward as ak

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no JetClass file {path}")
    wanted = [*MOMENTA, *extra]
    try:
        arrays = _read_tree(path, wanted, start, stop)
    except ValueError:
        raise
    except Exception as error:  # uproot raises its own types (and OSError) for a file that is not whole ROOT
        raise unreadable(path, "JetClass file (ROOT)", error) from error
    one_hot = np.stack([ak.to_numpy(arrays[name]) for name in JETCLASS_LABELS], axis=1).astype(np.int8)
    if not np.all(one_hot.sum(axis=1) == 1):
        raise ValueError(f"{path}: every jet must have exactly one label_* branch set")
    jet_branches = [name for name in arrays.fields if name.startswith("jet_")]
    counts = ak.to_numpy(ak.num(arrays["part_px"], axis=1))
    flat = np.stack([ak.to_numpy(ak.flatten(arrays[name])) for name in wanted], axis=1)
    features = [*MOMENTA.values(), *(name.removeprefix("part_") for name in extra)]
    return Particles.from_counts(flat, counts, features, max_particles=max_particles,
                                 columns={name: ak.to_numpy(arrays[name]) for name in jet_branches},
                                 label=one_hot.argmax(axis=1))


def _read_tree(path: Path, wanted: list[str], start: int | None, stop: int | None):
    """The ``wanted`` constituent branches, every ``jet_*`` branch and the labels of ``path``'s tree."""
    import uproot

    with uproot.open(path) as file:
        if TREE not in file:
            raise ValueError(f"{path} is not a JetClass file: it has no TTree {TREE!r} (it has {file.keys()})")
        tree = file[TREE]
        branches = set(tree.keys())
        missing = [name for name in [*wanted, *JETCLASS_LABELS] if name not in branches]
        if missing:
            raise ValueError(f"{path} is not a JetClass file: its tree lacks the branches {missing}")
        jet_branches = sorted(name for name in branches if name.startswith("jet_"))
        return tree.arrays([*wanted, *jet_branches, *JETCLASS_LABELS], entry_start=start, entry_stop=stop)
