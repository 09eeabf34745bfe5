"""Files → the image arrays the autoencoders take: jets become jet images, event-image files a channel choice.

One reader for every image model and its command (``likely detect ae|vae|dvae|...``):
a likely particles file of jets (``likely generate jets``) becomes preprocessed jet images
(:func:`likely.data.jet_images`, normalized to unit sum), a seed-004 event-image file
(``likely generate detector --to event-images``) the chosen channels. The pTⁿ remapping is
not applied here: it belongs to the model (its ``power``), which applies it at training and
at scoring alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from likely.data.formats import common_format

__all__ = ["IMAGE_CHANNELS", "read_images"]

#: the event-image channels a model can take: the tracker's pT, its hit mask (seed 004's final models), all three
IMAGE_CHANNELS = ("trk", "mask", "all")


def read_images(files: Sequence[str | os.PathLike], *, pixels: int = 40, sigma: float | None = None,
                channels: str = "mask") -> tuple[np.ndarray, np.ndarray]:
    """The images of ``files`` (all jets or all event images) and their labels.

    Parameters
    ----------
    files : sequence of paths
        Particles files of jets, or seed-004 event-image files (one kind for all).
    pixels, sigma : int, float or None
        Jets: pixels per side and Gaussian smearing in pixels of :func:`likely.data.jet_images`
        (seed 003: 40 and 1).
    channels : {"trk", "mask", "all"}
        Event images: the tracker channel (pT per pixel, GeV), its mask (1 where it has a
        track, :func:`likely.data.event_images.tracker_mask`) or all three channels.

    Returns
    -------
    images : ndarray (N, C, H, W) float32
    labels : ndarray (N,) int64
        The files' labels; -1 for the objects of a file without labels.
    """
    if channels not in IMAGE_CHANNELS:
        raise ValueError(f"channels must be one of {IMAGE_CHANNELS}; got {channels!r}")
    read = _jets if common_format(files, ("particles", "event-images")) == "particles" else _event_images
    parts = [read(path, pixels=pixels, sigma=sigma, channels=channels) for path in files]
    shapes = {images.shape[1:] for images, _ in parts}
    if len(shapes) > 1:
        raise ValueError(f"files hold images of different shapes {sorted(shapes)}")
    return np.concatenate([images for images, _ in parts]), np.concatenate([labels for _, labels in parts])


def _labels(values: np.ndarray | None, n: int) -> np.ndarray:
    return np.full(n, -1, np.int64) if values is None else values.astype(np.int64)


def _jets(path, *, pixels, sigma, channels):
    from likely.data.images import jet_images
    from likely.data.particles import read_particles

    jets = read_particles(path)
    return jet_images(jets, pixels=pixels, sigma=sigma)[:, None], _labels(jets.label, len(jets))


def _event_images(path, *, pixels, sigma, channels):
    from likely.data.event_images import read_event_images, tracker_mask

    events = read_event_images(path)
    chosen = {"trk": lambda: events.images[:, :1], "mask": lambda: tracker_mask(events.images),
              "all": lambda: events.images}[channels]()
    return np.ascontiguousarray(chosen, dtype=np.float32), _labels(events.label, len(events))
