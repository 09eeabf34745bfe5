"""Detector images of whole events (tracker, ECAL, HCAL in η–φ), as in the dark-shower trigger study.

"Triggering Dark Showers with Conditional Dual Auto-Encoders" (seed 004, digest §A1–A3):
every event is three η–φ images of 286 × 360 pixels of the CMS ECAL granularity (0.0174),
one per channel — tracks (pile-up removed), ECAL, HCAL (each 0.087 cell spread over 5 × 5
pixels) — and its number of tracks. The files are HDF5 with the datasets::

    ImageTrk_PUcorr   (N, 286, 360)   track pT per pixel (GeV), pile-up tracks removed
    ImageECAL         (N, 286, 360)   ECAL energy per pixel (GeV)
    ImageHCAL         (N, 286, 360)   HCAL energy per pixel (GeV)
    NTrk_PUcorr       (N,)            reconstructed tracks

Arrays here are channels first, ``(N, 3, n_eta, n_phi)`` float32 in the order ``CHANNELS``.
:func:`sum_pool` sums k × k patches (k = 5: 286 × 360 → 58 × 72 in (η, φ), the paper's
72 × 58 in (φ, η)); :func:`tracker_mask` is the final models' input (1 where the pooled
tracker image has a track); :func:`augment` draws the seed's η-flip / φ-roll augmentations;
:func:`baseline_scores` gives the seed's baselines (number of tracks, energy per channel).
:func:`write_event_images` writes the same layout (gzip), with a ``label`` dataset when the
images have labels, which :func:`read_event_images` then reads back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, open_hdf5

__all__ = ["CHANNELS", "EventImages", "append_event_images", "augment", "baseline_scores", "read_event_images",
           "sum_pool", "tracker_mask", "write_event_images"]

CHANNELS = ("trk", "ecal", "hcal")
DATASETS = ("ImageTrk_PUcorr", "ImageECAL", "ImageHCAL")
N_TRACKS = "NTrk_PUcorr"


@dataclass(frozen=True)
class EventImages:
    """Event images ``images`` (N, 3, n_eta, n_phi) float32 (``CHANNELS``), ``n_tracks`` (N,), optional ``label``."""

    images: np.ndarray
    n_tracks: np.ndarray
    label: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[1] != len(CHANNELS):
            raise ValueError(f"images must have shape (N, {len(CHANNELS)}, n_eta, n_phi); got {self.images.shape}")
        for name in ("n_tracks", "label"):
            values = getattr(self, name)
            if values is not None and values.shape != (len(self.images),):
                raise ValueError(f"{name} must have shape ({len(self.images)},); got {values.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, rows) -> EventImages:
        return EventImages(self.images[rows], self.n_tracks[rows], None if self.label is None else self.label[rows])


@names_the_file
def read_event_images(path: str | os.PathLike, start: int | None = None, stop: int | None = None, *,
                      label: int | None = None) -> EventImages:
    """The events ``start:stop`` of a seed-004 image file.

    ``label`` (e.g. 1 for SUEP) labels them all; without it, a ``label`` dataset of the file
    (as :func:`write_event_images` writes) gives the labels, else there are none.
    """
    rows = slice(start, stop)
    with open_hdf5(path, "event-image file (HDF5)") as file:
        missing = [name for name in (*DATASETS, N_TRACKS) if name not in file]
        if missing:
            raise ValueError(f"{path} is not an event-image file: it has no {missing} (it has {sorted(file)})")
        shapes = {file[name].shape for name in DATASETS}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3:
            raise ValueError(f"{path}: the image datasets {DATASETS} must share one (N, n_eta, n_phi) shape; "
                             f"got {sorted(shapes)}")
        images = np.stack([file[name][rows] for name in DATASETS], axis=1).astype(np.float32)
        n_tracks = file[N_TRACKS][rows]
        stored = file["label"][rows] if label is None and "label" in file else None
    if n_tracks.shape != (len(images),):
        raise ValueError(f"{path}: {N_TRACKS} must have one entry per image; got shape {n_tracks.shape}")
    labels = stored if label is None else np.full(len(images), label)
    return EventImages(images, n_tracks.astype(np.int64), labels)


def write_event_images(path: str | os.PathLike, images: EventImages, *, overwrite: bool = False) -> Path:
    """Write ``images`` in the seed-004 layout (gzip) atomically; returns ``path``.

    An existing file raises ``FileExistsError`` unless ``overwrite``; a failed write leaves it intact.
    """
    import h5py

    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        append_event_images(file, images)
    return path


def append_event_images(file, images: EventImages) -> None:
    """Add ``images`` to the open HDF5 ``file`` (h5py, writable), creating the datasets on the first call.

    For writers that make the events batch by batch; every batch must have the same image
    shape and all or none must have labels.
    """
    if not isinstance(images, EventImages):
        raise TypeError(f"images must be EventImages; got {type(images).__name__}")
    n, shape = len(images), images.images.shape[2:]
    arrays = {name: images.images[:, c] for c, name in enumerate(DATASETS)}
    arrays[N_TRACKS] = images.n_tracks
    if images.label is not None:
        arrays["label"] = images.label
    if N_TRACKS not in file:
        for name, array in arrays.items():
            chunks = (1, *shape) if array.ndim == 3 else None
            file.create_dataset(name, shape=(0, *array.shape[1:]), maxshape=(None, *array.shape[1:]),
                                dtype=array.dtype, chunks=chunks, compression="gzip")
    if set(arrays) != set(file) or file[DATASETS[0]].shape[1:] != shape:
        raise ValueError(f"images of shape {shape} {'with' if 'label' in arrays else 'without'} labels cannot be "
                         f"added to a file of shape {file[DATASETS[0]].shape[1:]} with datasets {sorted(file)}")
    for name, array in arrays.items():
        dataset = file[name]
        dataset.resize(len(dataset) + n, axis=0)
        dataset[len(dataset) - n:] = array


def sum_pool(images: np.ndarray, k: int = 5) -> np.ndarray:
    """Sums of non-overlapping k × k patches over the last two axes: ``(..., H, W)`` → ``(..., ⌈H/k⌉, ⌈W/k⌉)``.

    Edges that do not divide by ``k`` are zero padded as TensorFlow's ``padding='SAME'``
    pads (half before, the rest after), so the total is preserved exactly.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"images must have at least two axes (..., H, W); got shape {images.shape}")
    *lead, height, width = images.shape
    pads = [(-n % k // 2, -n % k - -n % k // 2) for n in (height, width)]
    padded = np.pad(images, [(0, 0)] * len(lead) + pads)
    h, w = padded.shape[-2] // k, padded.shape[-1] // k
    return padded.reshape(*lead, h, k, w, k).sum(axis=(-3, -1))


def tracker_mask(images: np.ndarray) -> np.ndarray:
    """1 where the tracker channel (channel 0 of ``images`` (N, 3, H, W)) is > 0, else 0: (N, 1, H, W) float32."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != len(CHANNELS):
        raise ValueError(f"images must have shape (N, {len(CHANNELS)}, H, W); got {images.shape}")
    return (images[:, :1] > 0).astype(np.float32)


def baseline_scores(images: EventImages) -> dict[str, np.ndarray]:
    """Seed 004's baselines (Tables 4–5) of each event, (N,) float64 each, used as they are (higher = anomalous).

    ``"tracks"``: the number of tracks (an offline quantity); ``"trk"``, ``"ecal"``,
    ``"hcal"``: the channel's total energy (GeV, Eq. 5); ``"sum"``: the three together.
    SUEP deposits less energy than QCD, so its energy AUCs come out below 0.5 (as in the seed).
    """
    if not isinstance(images, EventImages):
        raise TypeError(f"images must be EventImages; got {type(images).__name__}")
    totals = images.images.sum(axis=(2, 3), dtype=np.float64)
    return {"tracks": images.n_tracks.astype(np.float64), **{name: totals[:, c] for c, name in enumerate(CHANNELS)},
            "sum": totals.sum(axis=1)}


def augment(images: np.ndarray, rng: np.random.Generator, *, step: int = 8, max_steps: int = 7) -> np.ndarray:
    """Each image of ``images`` (N, C, n_eta, n_phi) given one of the seed-004 augmentations at random.

    One of six choices per image, uniformly: identity, φ roll up, φ roll down, η flip, flip
    and roll up, flip and roll down. A roll is cyclic along φ by ``step × m`` pixels,
    m ~ U{1, …, ``max_steps``} (the seed: 8 × 1…7 rows of its 72-row pooled images).
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, n_eta, n_phi); got {images.shape}")
    n, n_phi = len(images), images.shape[-1]
    choice = rng.integers(0, 6, n)
    flip = choice >= 3
    direction = np.select([choice % 3 == 1, choice % 3 == 2], [1, -1], 0)
    shift = direction * step * rng.integers(1, max_steps + 1, n)
    out = np.where(flip[:, None, None, None], images[:, :, ::-1], images)
    phi = (np.arange(n_phi)[None, :] - shift[:, None]) % n_phi  # out[..., j] = in[..., j - shift]
    return np.take_along_axis(out, phi[:, None, None, :], axis=-1)
