"""Data files into other data files, a batch of events at a time (what ``likely data`` runs).

:func:`convert_particles` writes particle-level files of the public layouts as one likely
particles file; :func:`jet_images_file` and :func:`point_clouds_file` write the jet images
and point clouds of a particle-level file; :func:`sum_pool_file` sums k × k pixels of a
seed-004 event-image file. Each reads ``batch`` events at a time and appends them to the
output, so memory holds a batch, not the data set. The output appears only when it is
complete (written atomically), and an existing one is kept unless ``overwrite``.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_positive
from likely._io import atomic_path, check_can_create, check_overwrite
from likely.data.clouds import point_clouds
from likely.data.event_images import EventImages, append_event_images, read_event_images, sum_pool
from likely.data.formats import FORMATS, PARTICLE_READERS, FileInfo, describe_file, particle_file
from likely.data.images import OPTIONS, JetImages, append_jet_images, jet_images
from likely.data.particles import Particles, append_particles

__all__ = ["convert_particles", "jet_images_file", "point_clouds_file", "sum_pool_file"]

log = logging.getLogger(__name__)

#: features that order particles from the hardest, the first one a set has
HARDNESS = ("pt", "ptrel", "E")


def convert_particles(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, *, format: str = "auto",
                      label: int | None = None, max_particles: int | None = None, batch: int = 10_000,
                      overwrite: bool = False, progress: bool = True) -> Path:
    """Write the particle-level files ``inputs`` one after another as one likely particles file ``out``.

    Parameters
    ----------
    inputs : sequence of paths
        Files of the layouts of :data:`~likely.data.formats.PARTICLE_READERS` whose
        particles have the same features and columns.
    format : str
        "auto" (each file's detected layout) or the layout every input must have.
    label : int, optional
        Label every set with it (0–127; e.g. 1 for a signal sample); default: the files' own labels.
    max_particles : int, optional
        Keep the hardest ``max_particles`` of each set (by ``pt``, ``ptrel`` or ``E``), hardest first.
    batch, overwrite, progress
        Sets read at a time; replace an existing ``out``; show a progress bar per input.

    Returns ``out``.
    """
    if isinstance(inputs, (str, os.PathLike)) or not inputs:
        raise ValueError(f"inputs must be a non-empty sequence of paths; got {inputs!r}")
    if label is not None and (isinstance(label, bool) or not isinstance(label, (int, np.integer))
                              or not 0 <= label <= 127):
        raise ValueError(f"label must be an integer in 0..127 (labels are stored as int8); got {label!r}")
    if max_particles is not None:
        check_positive(max_particles, "max_particles", integer=True)
    check_positive(batch, "batch", integer=True)
    out = _fresh(out, overwrite)
    sources = [_events(particle_file(path, format)) for path in inputs]

    def sets(part: Particles) -> Particles:
        if label is not None:
            part = Particles(part.values, part.mask, part.features, columns=part.columns,
                             label=np.full(len(part), label), weight=part.weight)
        return part if max_particles is None else _hardest(part, max_particles)

    _check_alike([(info, sets(PARTICLE_READERS[info.format](info.path, 0, 1))) for info in sources])
    n = _write(out, (pair for info in sources for pair in _batches(info, batch, progress, sets)), append_particles)
    log.info("wrote %d sets of %d file(s) to %s", n, len(sources), out)
    return out


def _check_alike(heads: list[tuple[FileInfo, Particles]]) -> None:
    """Refuse inputs whose first sets differ in features, columns, or having labels or weights."""
    def kind(part: Particles) -> str:
        extras = [f"{'' if getattr(part, what) is not None else 'no '}{what}s" for what in ("label", "weight")]
        return f"features {list(part.features)}, columns {sorted(part.columns)}, {', '.join(extras)}"

    (first, head), *others = heads
    for info, other in others:
        if kind(other) != kind(head):
            raise ValueError(f"{info.path} and {first.path} cannot go into one file: {info.path.name} has "
                             f"{kind(other)}; {first.path.name} has {kind(head)}")


def _hardest(part: Particles, n: int) -> Particles:
    name = next((name for name in HARDNESS if name in part.features), None)
    if name is None:
        raise ValueError(f"max_particles needs one of the features {HARDNESS} to find the hardest particles; "
                         f"these have {list(part.features)}")
    return part.sorted_by(name).truncated(n)


def jet_images_file(source: str | os.PathLike, out: str | os.PathLike, *, format: str = "auto",
                    batch: int = 10_000, overwrite: bool = False, progress: bool = True, **options) -> Path:
    """Write the jet images of the particle-level file ``source`` to ``out`` (layout of ``write_jet_images``).

    ``options``: keywords of :func:`~likely.data.jet_images` (``pixels``, ``pixel_size``,
    ``normalize``, ``sigma``, ``power``), recorded in the file with the defaults of the
    others; ``format``, ``batch``, ``overwrite``, ``progress`` as in :func:`convert_particles`.
    Each image depends on its jet only, so the file equals ``jet_images`` of all jets.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"jet_images has no options {unknown}; it takes {OPTIONS}")
    defaults = {name: parameter.default for name, parameter in inspect.signature(jet_images).parameters.items()
                if name in OPTIONS}
    options = {**defaults, **options}
    check_positive(batch, "batch", integer=True)
    out = _fresh(out, overwrite)
    info = _events(particle_file(source, format))
    images = _batches(info, batch, progress, lambda part: JetImages(jet_images(part, **options), part.label, options))
    log.info("wrote %d jet images of %s to %s", _write(out, images, append_jet_images), source, out)
    return out


def point_clouds_file(source: str | os.PathLike, out: str | os.PathLike, *, n: int = 50, format: str = "auto",
                      batch: int = 10_000, overwrite: bool = False, progress: bool = True) -> Path:
    """Write the point clouds of ``source`` (:func:`~likely.data.clouds.point_clouds`, ``n`` each) to ``out``.

    ``out`` is a likely particles file of ``(pt, deta, dphi)``; ``format``, ``batch``,
    ``overwrite``, ``progress`` as in :func:`convert_particles`.
    """
    check_positive(n, "n", integer=True)
    check_positive(batch, "batch", integer=True)
    out = _fresh(out, overwrite)
    info = _events(particle_file(source, format))
    clouds = _batches(info, batch, progress, lambda part: point_clouds(part, n))
    log.info("wrote %d point clouds of %s to %s", _write(out, clouds, append_particles), source, out)
    return out


def sum_pool_file(source: str | os.PathLike, out: str | os.PathLike, k: int = 5, *, batch: int = 500,
                  overwrite: bool = False, progress: bool = True) -> Path:
    """Write the seed-004 event images of ``source`` with k × k pixels summed (``sum_pool``) to ``out``.

    ``out`` has the layout of ``source`` (:func:`~likely.data.event_images.write_event_images`),
    track counts and labels as they were; ``batch`` events at a time (unpooled images take
    1.2 MB each); ``overwrite``, ``progress`` as in :func:`convert_particles`.
    """
    from likely.nn import batch_slices

    check_positive(k, "k", integer=True)
    check_positive(batch, "batch", integer=True)
    out = _fresh(out, overwrite)
    info = _events(describe_file(source))
    if info.format != "event-images":
        raise ValueError(f"{source} is a {FORMATS[info.format]} ({info.format}), not a {FORMATS['event-images']}")

    def pooled() -> Iterator[tuple[FileInfo, EventImages]]:
        for start, stop in batch_slices(info.n_events, batch, desc=f"pool {info.path.name}", enabled=progress):
            events = read_event_images(source, start, stop)
            yield info, EventImages(sum_pool(events.images, k), events.n_tracks, events.label)

    log.info("wrote %d pooled event images of %s to %s", _write(out, pooled(), append_event_images), source, out)
    return out


def _fresh(out: str | os.PathLike, overwrite: bool) -> Path:
    """``out`` as a Path, refused if it exists (unless ``overwrite``) or cannot be made; nothing is created."""
    out = check_overwrite(out, overwrite)
    check_can_create(out)
    return out


def _events(info: FileInfo) -> FileInfo:
    """``info``, refused if its file holds no events."""
    if info.n_events == 0:
        raise ValueError(f"{info.path} holds no events; nothing was written")
    return info


def _batches(info: FileInfo, batch: int, progress: bool, make: Callable[[Particles], Any]) -> Iterator[tuple]:
    """``(info, make(sets))`` for the sets of the particle-level file ``info`` describes, ``batch`` at a time."""
    from likely.nn import batch_slices

    read = PARTICLE_READERS[info.format]
    for start, stop in batch_slices(info.n_events, batch, desc=info.path.name, enabled=progress):
        part = read(info.path, start, stop)
        with _about(info.path):
            made = make(part)
        yield info, made


@contextlib.contextmanager
def _about(path: Path) -> Iterator[None]:
    """Put ``path`` in front of the ValueErrors of the block that do not name it."""
    try:
        yield
    except ValueError as error:
        if str(path) in str(error):
            raise
        raise ValueError(f"{path}: {error}") from error


def _write(out: Path, parts: Iterable[tuple[FileInfo, Any]], append: Callable) -> int:
    """Append every part to a new HDF5 file that replaces ``out`` once all are in; returns the events written.

    A part that does not fit the file (other features, columns, shapes) raises naming its input.
    """
    import h5py

    n = 0
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as file:
        for info, part in parts:
            with _about(info.path):
                append(file, part)
            n += len(part)
    return n
