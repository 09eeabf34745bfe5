"""A signal-injection study: methods x seeds on one injected sample, scored on its test set."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from likely.data import EventSet
from likely.nn import progress_bar
from likely.metrics import auc, max_sic
from likely.search.curtains import CURTAINs
from likely.search.methods import ANODE, CATHODE, RANODE, SIGMA, CWoLa, IdealizedAD, ResonantMethod, Supervised
from likely.search.sample import SearchSample, make_search_sample
from likely.search.skycurtains import SkyCURTAINs
from likely.search.windows import Window

__all__ = ["ARRAYS", "METHODS", "make_method", "register_method", "run_method", "run_study", "split_arrays"]

log = logging.getLogger(__name__)

#: method name (command line, scan configs) -> factory: ``factory(random_state=seed)`` (or with
#: more keyword arguments) makes the method with its paper's defaults. Add to it with
#: :func:`register_method`.
METHODS: dict[str, Callable[..., ResonantMethod]] = {
    "supervised": Supervised,
    "iad": IdealizedAD,
    "cwola": CWoLa,
    "anode": ANODE,
    "cathode": CATHODE,
    "ranode": RANODE,
    "sigma": SIGMA,
    "curtains": CURTAINs,
    "curtains-once": functools.partial(CURTAINs, train_once=True),  # one transport for every window of a scan
    "skycurtains": SkyCURTAINs,
}

#: what a method's name may look like: it names run and job folders
_NAME = re.compile(r"[a-z][a-z0-9-]*")


def register_method(name: str, factory: Callable[..., ResonantMethod], *, replace: bool = False) -> None:
    """Make ``factory`` known as method ``name`` to :func:`make_method`, studies, scans and the command.

    ``factory(random_state=seed)`` must return a :class:`ResonantMethod`; a method class
    with keyword-only parameters is one. ``name``: lowercase letters, digits and ``-``,
    starting with a letter. A name already registered is refused unless ``replace``.
    Registrations live in this Python process: call this before
    :func:`likely.cli.main` or :func:`~likely.search.run_scan` (which hands its methods
    to the Dask workers).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name must be lowercase letters, digits and '-', starting with a letter; got {name!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable (e.g. a ResonantMethod subclass); got {type(factory).__name__}")
    if name in METHODS and not replace:
        raise ValueError(f"method {name!r} is registered already; pass replace=True to replace it")
    METHODS[name] = factory


def make_method(name: str, random_state: int | None = None,
                methods: Mapping[str, Callable[..., ResonantMethod]] | None = None) -> ResonantMethod:
    """A method with the defaults of its paper, by its name in ``methods`` (default: :data:`METHODS`)."""
    methods = METHODS if methods is None else methods
    if name not in methods:
        raise ValueError(f"unknown method {name!r}; choose from {sorted(methods)}")
    method = methods[name](random_state=random_state)
    if not isinstance(method, ResonantMethod):
        raise TypeError(f"the factory of method {name!r} returned a {type(method).__name__}, not a ResonantMethod")
    return method


def run_study(
    background: EventSet,
    signal: EventSet,
    methods: Sequence[str],
    n_signal: int,
    window: Window | None = None,
    seeds: Sequence[int] = (0,),
    progress: bool = True,
    keep_models: bool = False,
) -> dict:
    """Inject ``n_signal`` events, fit each method for each seed, score the test set.

    Each seed draws its own injected sample and trains its own models. Returns a dict
    with ``sample`` (S, B, S/B, significance in the signal region, per seed) and
    ``runs``: one entry per (method, seed) with AUC, max SIC, fit time, the test labels
    and scores (float32 arrays) for curves, and the scores of the independent background
    sample over the full ``mjj`` range with its ``mjj`` (for the sculpting check).
    With ``keep_models`` each run also holds its fitted method under ``model``.
    """
    window = window or Window()
    runs, samples = [], []
    with progress_bar(total=len(seeds) * len(methods), desc="methods x seeds", enabled=progress, leave=True) as bar:
        for seed in seeds:
            sample = make_search_sample(background, signal, n_signal, window=window, random_state=seed)
            samples.append({"seed": seed, **sample.summary(window)})
            for name in methods:
                runs.append(run_method(name, seed, sample, window, keep_model=keep_models))
                bar.update()
    return {"window": [window.low, window.high], "n_signal": n_signal, "sample": samples, "runs": runs}


#: per-run arrays of a record (see :func:`run_method`), stored in .npz files, not in JSON
ARRAYS = ("labels", "score", "background_mjj", "background_score")


def run_method(
    name: str, seed: int, sample: SearchSample, window: Window,
    factory: Callable[[str, int | None], ResonantMethod] = make_method, keep_model: bool = False,
) -> dict:
    """Fit one method on one injected sample; its metrics and the arrays for the plots.

    The unit of work shared by :func:`run_study` and scans; ``factory(name, seed)`` makes
    the method (default: :func:`make_method`, the paper's defaults). The record holds
    ``method``, ``seed``, ``fit_seconds``, ``auc``, ``max_sic`` and the :data:`ARRAYS`, and
    with ``keep_model`` the fitted method under ``model`` (see :func:`split_arrays`).
    """
    method = factory(name, seed)
    start = time.perf_counter()
    method.fit(sample.data, window, background=sample.extra_background, signal=sample.signal)
    seconds = time.perf_counter() - start
    labels, score = sample.test.label, method.score(sample.test)
    record = {
        "method": name,
        "seed": seed,
        "fit_seconds": round(seconds, 2),
        "auc": auc(labels, score),
        "max_sic": _safe_max_sic(labels, score),
        "labels": labels.astype(np.int8),
        "score": score,
        "background_mjj": sample.extra_background.column(window.variable),
        "background_score": method.score(sample.extra_background),
    }
    if keep_model:
        record["model"] = method
    log.info("%s seed %d: AUC %.3f, max SIC %.2f", name, seed, record["auc"], record["max_sic"])
    return record


def split_arrays(record: dict) -> tuple[dict, dict]:
    """A record's JSON-able numbers and its :data:`ARRAYS`, as two dicts (a kept ``model`` is in neither)."""
    numbers = {key: value for key, value in record.items() if key not in ARRAYS and key != "model"}
    return numbers, {key: record[key] for key in ARRAYS}


def _safe_max_sic(labels: np.ndarray, score: np.ndarray) -> float:
    try:
        return max_sic(labels, score)
    except ValueError:  # too little background for the floor: no trustworthy SIC
        return float("nan")
