"""The one chunked, resumable driver of every generator (dijet events, showers, the next ones).

A run of ``n_events`` is split into chunks of ``chunk_size`` (the last one fewer); chunk k
is made by a top-level function of plain arguments that writes one ``.npz`` file into
``<out>.chunks/`` (:func:`save_chunk`) and returns the chunk's record, so it can go to a
``ProcessPoolExecutor`` (``workers=N``), a Dask client's executor, or be called in this
process (``workers=1``). A rerun reuses every chunk on disk that was made with the same
settings, so a killed run resumes; chunks made with other settings stop the run unless
``overwrite``. The finished chunks are concatenated, written as the output file and
recorded in ``<out>.json``.

A generator describes itself with a :class:`ChunkedGenerator` and calls
:func:`plan_run` (validation) and :func:`generate_in_chunks` (the rest)::

    plan = plan_run(out, n_events, chunk_size, workers, overwrite)
    generator = ChunkedGenerator(name="photon showers", count="showers", ...)
    generate_in_chunks(generator, plan, workers=workers, executor=executor, progress=progress)
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likely import __version__
from likely._checks import check_positive
from likely._io import atomic_write, check_can_create, remove_temporaries, write_json

__all__ = [
    "ChunkedGenerator",
    "RunPlan",
    "generate_in_chunks",
    "load_chunk",
    "plan_run",
    "run_chunks",
    "save_chunk",
    "work_dir",
]

log = logging.getLogger(__name__)

#: file name endings accepted for the output file
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class RunPlan:
    """A validated generation run: the output file, its chunks' sizes, the chunk size asked for
    and whether it may overwrite."""

    out: Path
    sizes: tuple[int, ...]
    chunk_size: int
    overwrite: bool

    @property
    def n_events(self) -> int:
        return sum(self.sizes)


def plan_run(out: str | os.PathLike, n_events: int, chunk_size: int, workers: int, overwrite: bool) -> RunPlan:
    """Check a run's sizes and output file (an HDF5 name, not there unless ``overwrite``).

    Raises ``ValueError`` / ``TypeError`` naming ``n_events``, ``chunk_size``, ``workers`` or
    ``out``, and ``FileExistsError`` for an existing output (or a folder in its place).
    """
    out = Path(out)
    for value, name in ((n_events, "n_events"), (chunk_size, "chunk_size"), (workers, "workers")):
        check_positive(value, name, integer=True)
    if out.suffix.lower() not in HDF5_SUFFIXES:
        raise ValueError(f"out must be an HDF5 file name ending in .h5; got {str(out)!r}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"output file {out} exists; pass overwrite=True (--force) to replace it")
    if out.is_dir():
        raise FileExistsError(f"output {out} is a directory")
    check_can_create(work_dir(out))  # now, not after the generator has started
    n_chunks = math.ceil(n_events / chunk_size)
    sizes = tuple(min(chunk_size, n_events - k * chunk_size) for k in range(n_chunks))
    return RunPlan(out, sizes, chunk_size, overwrite)


@dataclass(frozen=True)
class ChunkedGenerator:
    """A generator as the driver sees it.

    Attributes
    ----------
    name : str
        What is made, for log lines and the progress bar (e.g. ``"wprime events"``).
    count : str
        The key of a chunk record holding its number of events (e.g. ``"selected"``).
    chunk_name : callable ``(k) -> str``
        File name of chunk k inside ``<out>.chunks/``.
    run_chunk : callable ``(*args) -> dict``
        Top-level function that makes one chunk, saves it with :func:`save_chunk` and
        returns its record (which holds ``seed``, ``seconds`` and ``count``).
    chunk_args : callable ``(k, path, size) -> tuple``
        The arguments of ``run_chunk`` for chunk k of ``size`` events written to ``path``.
    matches : callable ``(k, record, size) -> bool``
        Whether a chunk on disk was made with this run's settings; a chunk with other
        settings stops the run unless it may overwrite.
    write : callable ``(out, columns) -> Path``
        Writes the concatenated chunk columns as the output file.
    summary : callable ``(columns, records) -> dict``
        The generator's entries of ``<out>.json``, from the concatenated columns and the
        chunks' records.
    chunk_keys : tuple of str
        The record entries of every chunk listed in ``<out>.json`` (those a chunk has).
    versions : mapping
        Versions of the packages that made the data (likely's is added).
    trim : callable ``(columns, record, size) -> (columns, record)``, optional
        The first ``size`` events of a longer chunk on disk; without it only a chunk of
        exactly ``size`` events is reused.
    """

    name: str
    count: str
    chunk_name: Callable[[int], str]
    run_chunk: Callable[..., dict]
    chunk_args: Callable[[int, Path, int], tuple]
    matches: Callable[[int, dict, int], bool]
    write: Callable[[Path, Columns], Any]
    summary: Callable[[Columns, list[dict]], dict]
    chunk_keys: tuple[str, ...]
    versions: Mapping[str, str]
    trim: Callable[[Columns, dict, int], tuple[Columns, dict]] | None = None


def save_chunk(path: str | os.PathLike, columns: Mapping[str, np.ndarray], record: Mapping[str, Any]) -> None:
    """Save a chunk's arrays and its JSON record atomically as ``.npz``."""
    with atomic_write(path, "wb") as stream:
        np.savez(stream, record=np.array(json.dumps(record)), **columns)


def load_chunk(path: str | os.PathLike) -> tuple[Columns, dict[str, Any]]:
    """Columns and record of a chunk file written by :func:`save_chunk`."""
    with np.load(path, allow_pickle=False) as archive:
        record = json.loads(str(archive["record"]))
        columns = {name: archive[name] for name in archive.files if name != "record"}
    return columns, record


def generate_in_chunks(generator: ChunkedGenerator, plan: RunPlan, *, workers: int = 1,
                       executor: concurrent.futures.Executor | None = None, progress: bool = True) -> Path:
    """Make the chunks of ``plan`` not on disk yet, write the output file and ``<out>.json``.

    Returns the output file's path. ``executor`` (not shut down here) overrides ``workers``.
    """
    folder = work_dir(plan.out)
    remove_temporaries(folder)
    remove_temporaries(plan.out.parent, plan.out.name)
    paths = [folder / generator.chunk_name(k) for k in range(len(plan.sizes))]
    done = _finished_chunks(generator, plan, paths)
    log.info("%s: %d %s in %d chunk(s) of %d, %d already done in %s", plan.out, plan.n_events, generator.name,
             len(plan.sizes), plan.chunk_size, len(done), folder)
    jobs = {k: (generator.chunk_args(k, path, plan.sizes[k]), {}) for k, path in enumerate(paths) if k not in done}
    for k, record in run_chunks(generator.run_chunk, jobs, workers=workers, executor=executor,
                                total=len(plan.sizes), desc=f"generate {generator.name}", progress=progress):
        done[k] = load_chunk(paths[k])
        count, seconds = record[generator.count], record["seconds"]
        log.info("chunk %d (seed %s): %d %s in %.1f s (%.1f/s)", k, record["seed"], count, generator.name, seconds,
                 count / max(seconds, 1e-9))
    parts = [done[k] for k in range(len(plan.sizes))]
    columns = {name: np.concatenate([p[0][name] for p in parts]) for name in parts[0][0]}
    records = [p[1] for p in parts]
    # the record first: an output file on disk always has its record beside it
    write_json(plan.out.with_suffix(".json"), {
        "chunks": [{key: r[key] for key in generator.chunk_keys if key in r} for r in records],
        **generator.summary(columns, records),
        "versions": {"likely": __version__, **generator.versions},
    })
    generator.write(plan.out, columns)
    log.info("wrote %d %s to %s", plan.n_events, generator.name, plan.out)
    return plan.out


def _finished_chunks(generator: ChunkedGenerator, plan: RunPlan, paths: Sequence[Path]) -> dict[int, tuple]:
    """The chunks on disk that this run reuses, by index; raise on one made with other settings."""
    done = {}
    for k, path in enumerate(paths):
        if not path.exists():
            continue
        columns, record = load_chunk(path)
        size = plan.sizes[k]
        if not generator.matches(k, record, size):
            if not plan.overwrite:
                raise ValueError(f"{path} was made with other settings than this run's; pass overwrite=True "
                                 "(--force) to regenerate it, or write to another output file")
        elif record[generator.count] == size:
            done[k] = columns, record
        elif record[generator.count] > size and generator.trim is not None:
            done[k] = generator.trim(columns, record, size)
    return done


def work_dir(out) -> Path:
    """The folder of chunk files beside ``out``: ``<out>.chunks``."""
    out = Path(out)
    return out.parent / f"{out.name}.chunks"


def run_chunks(
    fn: Callable[..., Any],
    jobs: Mapping[int, tuple[tuple, dict]],
    *,
    workers: int = 1,
    executor: concurrent.futures.Executor | None = None,
    total: int | None = None,
    desc: str = "generate",
    progress: bool = True,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(k, fn(*args, **kwargs))`` for each job ``k: (args, kwargs)`` as it finishes.

    A progress bar counts chunks out of ``total`` (default ``len(jobs)``; chunks already on
    disk count as done); log lines go through it so they do not break it. ``executor`` (not
    shut down here) overrides ``workers``.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    from likely.nn import progress_bar

    total = len(jobs) if total is None else total
    bar = progress_bar(total=total, initial=total - len(jobs), unit="chunk", desc=desc,
                       enabled=progress, leave=True)
    with logging_redirect_tqdm(), bar:
        for k, result in _results(fn, jobs, workers, executor):
            bar.update()
            yield k, result


def _results(fn, jobs, workers, executor):
    if not jobs:
        return
    if executor is None and workers == 1:
        for k, (args, kwargs) in jobs.items():
            yield k, fn(*args, **kwargs)
        return
    own = executor is None
    if own:
        # spawn, not fork: the parent may hold threads (torch, BLAS) that fork would copy locked
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")
        )
    futures = {executor.submit(fn, *args, **kwargs): k for k, (args, kwargs) in jobs.items()}
    try:
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    finally:
        for future in futures:
            future.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
