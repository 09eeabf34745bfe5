"""The public top-tagging data set ("landscape" files: ``train.h5``, ``val.h5``, ``test.h5``).

Kasieczka, Plehn et al., "The Machine Learning Landscape of Top Taggers" (arXiv:1902.09914):
14 TeV hadronic tops and QCD dijets (Pythia 8, Delphes ATLAS card), anti-kT R = 0.8 jets
with pT 550–650 GeV and |η| < 2, 1.2M / 400k / 400k jets. Each file is a pandas HDF store
with one table under key ``table``, one row per jet::

    E_i, PX_i, PY_i, PZ_i, i = 0..199   the 200 hardest constituents' four-momenta (GeV),
                                        zero padded
    truthE, truthPX, truthPY, truthPZ   the matched top's four-momentum (zero for QCD)
    ttv                                 0 train, 1 test, 2 validation
    is_signal_new                       1 top, 0 QCD

:func:`read_top_tagging` gives the constituents as :class:`~likely.data.Particles`
``(E, px, py, pz)`` with ``is_signal_new`` as the label, rows ``start:stop``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from likely._io import names_the_file, unreadable
from likely.data.lhco_events import check_binary
from likely.data.particles import Particles

__all__ = ["read_top_tagging"]

KEY = "table"
COMPONENTS = ("E", "PX", "PY", "PZ")
FEATURES = ("E", "px", "py", "pz")


@names_the_file
def read_top_tagging(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> Particles:
    """The jets ``start:stop`` of a top-tagging landscape file: constituents ``(E, px, py, pz)``, GeV.

    A constituent with E = 0 is padding. The label is ``is_signal_new`` (1 top, 0 QCD);
    the jets' columns hold the truth top's ``truth_px`` … ``truth_E`` where the file has them.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no top-tagging file {path}")
    try:
        frame = pd.read_hdf(path, key=KEY, start=start, stop=stop)
    except Exception as error:  # PyTables / HDF5 raise their own exception types
        raise unreadable(path, f"top-tagging file (a pandas table under key {KEY!r})", error) from error
    n_constituents = 0
    while f"E_{n_constituents}" in frame.columns:
        n_constituents += 1
    wanted = [f"{c}_{i}" for i in range(n_constituents) for c in COMPONENTS]
    missing = [name for name in wanted + ["is_signal_new"] if name not in frame.columns]
    if not n_constituents or missing:
        raise ValueError(f"{path} is not a top-tagging file: it lacks the columns "
                         f"{(missing or ['E_0'])[:5]}{' …' if len(missing) > 5 else ''}")
    label = frame["is_signal_new"].to_numpy()
    check_binary(label, f"{path}: is_signal_new")
    values = frame[wanted].to_numpy(np.float32).reshape(len(frame), n_constituents, len(COMPONENTS))
    truth = {f"truth_{c.lower() if c != 'E' else 'E'}": frame[f"truth{c}"].to_numpy()
             for c in COMPONENTS if f"truth{c}" in frame.columns}
    return Particles.from_padded(values, values[:, :, 0] != 0, FEATURES, columns=truth, label=label)
