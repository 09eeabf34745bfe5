"""Scans: methods x injections x seeds x windows as independent, resumable jobs on Dask.

Each job draws its injected sample from (injection, seed) alone, with
:func:`~likely.search.make_search_sample` (the window only selects the test set), so any
worker can rebuild it and every method and window of one seed sees the same data, as in
:func:`~likely.search.study.run_study`. Finished jobs are written to ``DIR/jobs/<id>/``
(``result.json`` + ``arrays.npz``, and with ``save_models`` the fitted method in ``model/``);
a rerun of the same scan runs only the missing ones.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from likely._io import atomic_write, remove_temporaries, write_json
from likely.data import EventSet
from likely.density import DensityEstimator
from likely.nn import progress_bar, set_progress_bars
from likely.search.methods import ResonantMethod
from likely.search.sample import make_search_sample
from likely.search.scan_config import ScanConfig
from likely.search.study import METHODS, make_method, run_method, split_arrays
from likely.search.windows import Window

__all__ = ["Job", "ScanError", "fit_shared_density", "injected_counts", "make_jobs", "run_job", "run_scan",
           "shares_density"]

log = logging.getLogger(__name__)

COMMAND = "search scan"


class ScanError(RuntimeError):
    """Some jobs of a scan failed; the finished ones are kept and a rerun retries the rest."""


@dataclass(frozen=True)
class Job:
    """One fit: ``method`` on the sample of (``n_signal``, ``seed``), scored in ``window``."""

    method: str
    injection: str  # label of the injection: "n300" (signal events), "sb0.005" (target S/B), "z1.5" (S/sqrt(B))
    n_signal: int
    seed: int
    window: Window

    @property
    def id(self) -> str:
        """A readable, unique folder name."""
        return f"{self.method}_{self.injection}_seed{self.seed}_sr{self.window.low:g}-{self.window.high:g}"

    def to_dict(self) -> dict:
        return {"method": self.method, "injection": self.injection, "n_signal": self.n_signal,
                "seed": self.seed, "window": [self.window.low, self.window.high],
                "sideband_width": self.window.sideband_width}


def injected_counts(config: ScanConfig, background: EventSet, signal: EventSet,
                    extra_fraction: float = 0.3, test_fraction: float = 0.2) -> dict[str, int]:
    """Injection label -> signal events to inject.

    A target S/B (S/sqrt(B)) becomes the count whose expected share in
    ``config.reference_window`` gives that S/B (S/sqrt(B)) against the expected data
    background there (the splits of
    :func:`~likely.search.make_search_sample`, whose fractions are passed here).
    """
    if config.injection == "signal":
        return {f"n{int(n)}": int(n) for n in config.amounts}
    window = Window(*config.reference_window)
    n_data = len(background) - int(extra_fraction * len(background)) - int(test_fraction * len(background))
    expected_background = n_data * window.in_sr(background).mean()
    signal_share = window.in_sr(signal).mean()
    if signal_share == 0 or expected_background == 0:
        raise ValueError(f"'injection.{config.injection}' needs signal and background "
                         f"in the reference window {window}")
    if config.injection == "s_over_b":
        return {f"sb{x:g}": int(round(x * expected_background / signal_share)) for x in config.amounts}
    return {f"z{x:g}": int(round(x * np.sqrt(expected_background) / signal_share)) for x in config.amounts}


def make_jobs(config: ScanConfig, counts: dict[str, int]) -> list[Job]:
    """All (method, injection, seed, window) jobs, the slowest-varying first: window, injection, seed."""
    windows = [Window(low, high, sideband_width=config.sideband_width) for low, high in config.windows]
    return [Job(method, label, n, seed, window)
            for window in windows for label, n in counts.items()
            for seed in config.seeds for method in config.methods]


def run_job(background: EventSet, signal: EventSet, job: Job,
            factory: Callable[[str, int | None], ResonantMethod] = make_method,
            shared: tuple[DensityEstimator, float] | None = None, keep_model: bool = False) -> dict:
    """Rebuild the job's injected sample, fit and score its method (see :func:`run_method`).

    ``shared``: ``(density, seconds)`` from :func:`fit_shared_density` for the job's
    injection and seed; the method then runs with it (``with_prefit(density)``) and the
    record gets ``density_fit_seconds``. ``keep_model``: the record keeps the fitted method
    (``model``).
    """
    start = time.perf_counter()
    sample = make_search_sample(background, signal, job.n_signal, window=job.window, random_state=job.seed)
    if shared is not None:
        factory = functools.partial(_prefit, factory, shared[0])
    record = run_method(job.method, job.seed, sample, job.window, factory, keep_model=keep_model)
    record.update(sample.summary(job.window), id=job.id, job=job.to_dict(),
                  seconds=round(time.perf_counter() - start, 2))
    if shared is not None:
        record["density_fit_seconds"] = shared[1]
    return record


def shares_density(method: ResonantMethod) -> bool:
    """Whether a scan fits ``method``'s density once per (injection, seed) for every window.

    True for methods that declare ``window_independent_density`` (SIGMA, CURTAINs with
    ``train_once``): the model is fitted by their ``fit_density`` and handed to each
    window's method with ``with_prefit(model)`` (for SIGMA ``density=..., prefit=True``).
    """
    return method.window_independent_density


def fit_shared_density(background: EventSet, signal: EventSet, job: Job,
                       factory: Callable[[str, int | None], ResonantMethod] = make_method
                       ) -> tuple[DensityEstimator, float]:
    """The window-independent density of ``job``'s method on its injected sample, and the fit time (s)."""
    start = time.perf_counter()
    sample = make_search_sample(background, signal, job.n_signal, window=job.window, random_state=job.seed)
    density = factory(job.method, job.seed).fit_density(sample.data, job.window)
    return density, round(time.perf_counter() - start, 2)


def _shares_density(factory, job: Job) -> bool:
    try:
        return shares_density(factory(job.method, job.seed))
    except Exception:  # noqa: BLE001  (the job itself fails with this error on its worker and is reported)
        return False


def _prefit(factory, density, name, seed):
    return factory(name, seed).with_prefit(density)


def _quiet_workers(client_pid: int) -> None:
    if os.getpid() != client_pid:  # a worker process: its bars would garble the scan's own
        set_progress_bars(False)


def _worker_job(background, signal, job, factory, client_pid, shared, keep_model):
    _quiet_workers(client_pid)
    return run_job(background, signal, job, factory, shared, keep_model)


def _worker_density(background, signal, job, factory, client_pid):
    _quiet_workers(client_pid)
    return fit_shared_density(background, signal, job, factory)


def run_scan(
    config: ScanConfig,
    background: EventSet,
    signal: EventSet,
    out: str | os.PathLike,
    *,
    client=None,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    factory: Callable[[str, int | None], ResonantMethod] | None = None,
    save_models: bool = False,
    inputs: dict | None = None,
) -> dict:
    """Run the scan's missing jobs on Dask; write ``out/config.json`` and ``out/results.json``.

    Parameters
    ----------
    config : ScanConfig
    background, signal : EventSet
        Pure samples, sent once to every worker.
    out : path
        Scan directory. If it holds this scan already, finished jobs are kept (resume); a
        scan with another config is refused unless ``force`` (then jobs whose settings and
        data did not change are kept, the others rerun). Any other non-empty folder is
        refused unless ``force``.
    client : dask.distributed.Client, optional
        Where the jobs run; default: a ``LocalCluster`` of ``workers`` processes with one
        thread each, closed at the end.
    factory : callable or None
        ``factory(name, seed)`` makes a method. Default: :func:`make_method` with the
        methods registered (:func:`~likely.search.register_method`) when the scan starts,
        handed to the workers as they are, so that a method registered in this process
        also runs on workers that never imported its module. It must be picklable for
        process workers, and it is not part of the stored config.
    save_models : bool
        Also keep each job's fitted method: it travels back from the worker and is saved
        to ``out/jobs/<id>/model/`` (see :meth:`ResonantMethod.save`), named in the job's
        record. Jobs finished earlier keep what they have (a rerun does not add models).
    inputs : dict, optional
        What reading the data found (e.g. :meth:`likely.data.invalid.InvalidRows.to_dict`:
        events dropped for NaN/inf), stored as ``input`` in ``results.json``.

    Returns the content of ``results.json``: ``config``, ``input`` (if given), ``jobs`` (one
    record of numbers per job, in job order) and ``failed`` (ids). Raises :class:`ScanError` if a job failed.
    """
    out = Path(out)
    if factory is None:
        factory = functools.partial(make_method, methods={n: METHODS[n] for n in config.methods if n in METHODS})
    counts = injected_counts(config, background, signal)
    resolved = {"command": COMMAND, **config.to_dict(), "n_signal": counts}
    jobs = make_jobs(config, counts)
    _check_inputs(jobs, background, signal)
    _prepare(out, resolved, force)
    records = {job.id: record for job in jobs if (record := _finished(out, job, config.data))}
    todo = [job for job in jobs if job.id not in records]
    log.info("%s: %d jobs, %d finished earlier, %d to run", out, len(jobs), len(records), len(todo))
    failed = {}
    if todo:
        with _client(client, workers) as dask_client:
            for job, outcome in _submit(dask_client, todo, background, signal, factory, len(records), progress,
                                        save_models):
                if isinstance(outcome, Exception):
                    log.error("job %s failed: %s: %s", job.id, type(outcome).__name__, outcome)
                    failed[job.id] = outcome
                    continue
                records[job.id] = _save_job(out, outcome, config.data)
                log.info("job %s: AUC %.3f, max SIC %.2f (%.0f s)", job.id, outcome["auc"],
                         outcome["max_sic"], outcome["seconds"])
    results = {"config": resolved, **({"input": inputs} if inputs is not None else {}),
               "jobs": [records[j.id] for j in jobs if j.id in records], "failed": sorted(failed)}
    write_json(out / "results.json", results)
    if failed:
        first, error = next(iter(failed.items()))
        raise ScanError(f"{len(failed)} of {len(jobs)} jobs failed (first: {first}: {error}); the "
                        f"finished ones are kept in {out / 'jobs'}: rerun the scan to retry the others")
    return results


def _check_inputs(jobs: Sequence[Job], background: EventSet, signal: EventSet) -> None:
    """Errors that every worker would hit, found before anything runs."""
    most = max(job.n_signal for job in jobs)
    if most >= len(signal):
        raise ValueError(f"'injection': {most} signal events to inject, but the data has {len(signal)} "
                         "(some must be left for testing)")
    for window in dict.fromkeys(job.window for job in jobs):
        window.signal_region(background, "background events")
        window.sidebands(background, "background events")


def _prepare(out: Path, resolved: dict, force: bool) -> None:
    """Create ``out`` or check that it holds this scan; write config.json."""
    resolved = json.loads(json.dumps(resolved))  # as it reads back from the file
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} exists and is not a directory")
    stored_path = out / "config.json"
    if out.is_dir() and any(out.iterdir()) and not force:
        if not stored_path.is_file():
            raise FileExistsError(f"{out} is not empty and holds no scan; pass --force to use it anyway")
        stored = json.loads(stored_path.read_text())
        if stored != resolved:
            changed = sorted(k for k in set(stored) | set(resolved) if stored.get(k) != resolved.get(k))
            raise FileExistsError(f"{out} holds a scan with another config (changed: {', '.join(changed)}); "
                                  "pass --force to run this one there (unchanged jobs are kept)")
    out.mkdir(parents=True, exist_ok=True)
    write_json(stored_path, resolved)


def _job_dir(out: Path, job_id: str) -> Path:
    return out / "jobs" / job_id


def _finished(out: Path, job: Job, data: dict) -> dict | None:
    """The stored record of ``job`` if it finished with the same settings and data."""
    path = _job_dir(out, job.id) / "result.json"
    if not (path.is_file() and (path.parent / "arrays.npz").is_file()):
        return None
    record = json.loads(path.read_text())
    same = record.get("job") == json.loads(json.dumps(job.to_dict())) and record.get("data") == data
    return record if same else None


def _save_job(out: Path, record: dict, data: dict) -> dict:
    """arrays.npz and the model if kept, then result.json (its presence marks the job finished); all atomic."""
    numbers, arrays = split_arrays(record)
    numbers["data"] = data
    folder = _job_dir(out, numbers["id"])
    remove_temporaries(folder)  # left by a run of this job that was killed while saving
    if "model" in record:
        record["model"].save(folder / "model")
        numbers["model"] = (folder / "model").relative_to(out).as_posix()
    with atomic_write(folder / "arrays.npz") as stream:
        np.savez_compressed(stream, **arrays)
    write_json(folder / "result.json", numbers)
    return json.loads(json.dumps(numbers))


@contextlib.contextmanager
def _client(client, workers: int):
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster

    # the nanny sets OMP_NUM_THREADS=1 (and MKL/OpenBLAS) in each worker process
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as local:
        yield local


def _submit(client, jobs, background, signal, factory, initial, progress, keep_models):
    """Yield ``(job, record or exception)`` as jobs finish, with a progress bar over all jobs."""
    from dask.distributed import as_completed
    from tqdm.contrib.logging import logging_redirect_tqdm

    # hash=False: fresh keys per scan, so a client reused across scans never hands a job the
    # keys of an earlier scan's data that the scheduler is releasing ("lost dependencies")
    data = client.scatter([background, signal], broadcast=True, hash=False)
    densities = {}  # (method, injection, seed) -> future of the shared density
    for job in jobs:
        group = (job.method, job.injection, job.seed)
        if group not in densities and _shares_density(factory, job):
            densities[group] = client.submit(_worker_density, *data, job, factory, os.getpid(), pure=False)
    futures = {client.submit(_worker_job, *data, job, factory, os.getpid(),
                             densities.get((job.method, job.injection, job.seed)), keep_models, pure=False): job
               for job in jobs}
    bar = progress_bar(total=initial + len(jobs), initial=initial, unit="job", desc="scan", enabled=progress,
                       leave=True)
    try:
        with logging_redirect_tqdm(), bar:
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as error:  # a failed job must not stop the others
                    yield futures[future], error
                bar.update()
    finally:
        client.cancel([future for future in [*futures, *densities.values()] if not future.done()])
