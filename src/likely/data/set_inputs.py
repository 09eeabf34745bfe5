"""Sets of objects for set models (``likely detect clr``), read from jet or ADC2021 files.

:func:`read_sets` gives zero-padded arrays X (N, P, F) whose first feature is pT (GeV): an
object is real where pT > 0, the convention of :class:`likely.represent.CLR`.

- likely particles files of jets become point clouds of their ``constituents`` hardest
  constituents, features ``(pt, deta, dphi)`` (:func:`likely.data.clouds.point_clouds`);
- ADC2021 files give their 19 object slots, features ``(pt, eta, phi, id)``
  (:mod:`likely.data.adc`; no labels in the published layout).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from likely.data.formats import common_format

__all__ = ["read_sets"]


def read_sets(files: Sequence[str | os.PathLike], *, constituents: int = 50
              ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The sets of ``files`` (all jets or all ADC events), their labels and feature names.

    Returns X (N, P, F) float32 zero padded, labels (N,) int64 (−1 for objects of a file
    without labels) and the F feature names.
    """
    read = _clouds if common_format(files, ("particles", "adc")) == "particles" else _adc
    parts = [read(path, constituents) for path in files]
    return (np.concatenate([X for X, _, _ in parts]), np.concatenate([labels for _, labels, _ in parts]),
            parts[0][2])


def _clouds(path, constituents):
    from likely.data.clouds import CLOUD, point_clouds
    from likely.data.particles import read_particles

    cloud = point_clouds(read_particles(path), n=constituents)  # zero padded to ``constituents`` (truncated)
    labels = np.full(len(cloud), -1, np.int64) if cloud.label is None else cloud.label.astype(np.int64)
    return cloud.values, labels, CLOUD


def _adc(path, constituents):
    from likely.data.adc import FEATURES, adc_layout, read_adc

    events = read_adc(path)
    return adc_layout(events), np.full(len(events), -1, np.int64), FEATURES
