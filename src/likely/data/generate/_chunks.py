"""Running a generator's seeded chunks serially, on worker processes or on any executor.

Shared by the dijet and shower generators: a chunk is a top-level function of plain
arguments that writes one file, so it can go to a ``ProcessPoolExecutor`` (``workers=N``),
a Dask client's executor, or be called in this process (``workers=1``).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["run_chunks", "work_dir"]


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
