"""One unweighted dijet sample from slices of the hard scale, mixed by their cross-sections.

QCD generated in slices of ``PhaseSpace:pTHat`` (``DijetSettings(pthat_min=a, pthat_max=b)``,
``likely generate dijet --pthat-min A --pthat-max B``) is one sample again when each slice
contributes in proportion to the cross-section that passes the selection, σ_i ε_i, which
every slice's JSON record holds (``sigma_selected_mb``: Pythia's σ of the slice times the
fraction of its events that passed). :func:`mix_slices` takes the first N σ_i ε_i / Σ σ_j ε_j
events of each slice file (largest-remainder rounding), shuffles them and writes an LHCO
features file with a JSON record of the shares; the mixture has the distributions of an
unsliced sample within statistics (``tests/test_dijet_slices.py``).

Slicing does not make an unweighted sample cheaper: slice i costs N_i / ε_i generated
events, and Σ N σ_i ε_i / (Σ σ ε) / ε_i = N Σ σ_i / Σ σ_i ε_i, the cost of the unsliced
run. It splits a long run into independent, resumable pieces and shows what each slice
costs and contributes (docs/generate.md), e.g. whether a low slice is worth its time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from likely._checks import check_positive
from likely._io import write_json
from likely.data.lhco import read_lhco_raw, write_lhco

__all__ = ["mix_slices", "slice_shares"]


def _record(path: Path) -> dict[str, Any]:
    record_path = path.with_suffix(".json")
    if not record_path.is_file():
        raise ValueError(f"{path} has no record {record_path.name} beside it: mix_slices needs the files "
                         "'likely generate dijet' writes")
    record = json.loads(record_path.read_text())
    for key in ("sigma_selected_mb", "pthat_min", "process", "selection", "events"):
        if key not in record:
            raise ValueError(f"{record_path} lacks {key!r}: not a record of 'likely generate dijet'")
    return record


def _slice_records(paths: Sequence[str | os.PathLike]) -> dict[str, dict[str, Any]]:
    """The records beside two or more slice files, checked: one process, one selection, disjoint pTHat ranges."""
    if isinstance(paths, (str, os.PathLike)) or len(paths) < 2:
        raise ValueError(f"paths must be two or more slice files; got {paths!r}")
    records = {str(path): _record(Path(path)) for path in paths}
    for field in ("process", "selection"):
        if len({json.dumps(r[field], sort_keys=True) for r in records.values()}) > 1:
            raise ValueError(f"the slices differ in {field}: " + ", ".join(f"{p}: {r[field]}" for p, r in records.items()))
    ranges = sorted((r["pthat_min"], r.get("pthat_max") or np.inf, p) for p, r in records.items())
    for (_, high, first), (low, _, second) in zip(ranges, ranges[1:]):
        if low < high:
            raise ValueError(f"the pTHat ranges of {first} and {second} overlap: a mixture would count events twice")
    return records


def _shares(records: dict[str, dict[str, Any]]) -> dict[str, float]:
    total = sum(r["sigma_selected_mb"] for r in records.values())
    return {path: r["sigma_selected_mb"] / total for path, r in records.items()}


def slice_shares(paths: Sequence[str | os.PathLike]) -> dict[str, float]:
    """Each slice file's share σ_i ε_i / Σ σ_j ε_j of the mixture, from the records beside the files.

    The slices must be one process with one selection and disjoint pTHat ranges.
    """
    return _shares(_slice_records(paths))


def _counts(shares: np.ndarray, available: np.ndarray, n_events: int | None) -> np.ndarray:
    """Events per slice: ``n_events`` (default: as many as the files allow) split by largest remainders."""
    largest = int(np.floor(np.min(available / shares)))
    n = largest if n_events is None else n_events
    exact = n * shares
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact)[: n - counts.sum()]] += 1
    short = counts > available
    if short.any():
        raise ValueError(f"n_events = {n} needs {counts.tolist()} events of the slices, which hold "
                         f"{available.tolist()}; at most {largest} can be mixed")
    return counts


def mix_slices(paths: Sequence[str | os.PathLike], out: str | os.PathLike, *, n_events: int | None = None,
               seed: int = 0, overwrite: bool = False) -> Path:
    """Write the unweighted mixture of pTHat-slice files ``paths`` to ``out`` (module docstring).

    ``n_events``: events of the mixture (default: the most the slices allow). The events of
    each slice are its first ones (generation order), the mixture is shuffled with ``seed``.
    ``<out>.json`` records each slice's file, pTHat range, σ ε, share and events used.
    """
    records = _slice_records(paths)
    shares = _shares(records)
    if n_events is not None:
        check_positive(n_events, "n_events", integer=True)
    frames = [read_lhco_raw(path, progress=False) for path in shares]
    counts = _counts(np.array(list(shares.values())), np.array([len(f) for f in frames]), n_events)
    mixed = np.concatenate([frame.to_numpy()[:count] for frame, count in zip(frames, counts)])
    mixed = mixed[np.random.default_rng(seed).permutation(len(mixed))]
    target = write_lhco(out, dict(zip(frames[0].columns, mixed.T)), overwrite=overwrite)
    write_json(target.with_suffix(".json"), {
        "mixture_of": [{"file": path, "pthat_min": records[path]["pthat_min"],
                        "pthat_max": records[path].get("pthat_max"),
                        "sigma_selected_mb": records[path]["sigma_selected_mb"], "share": share, "events": int(count)}
                       for (path, share), count in zip(shares.items(), counts)],
        "events": int(counts.sum()), "seed": seed, "process": next(iter(records.values()))["process"],
        "selection": next(iter(records.values()))["selection"],
        "sigma_selected_mb": sum(r["sigma_selected_mb"] for r in records.values()),
    })
    return target
