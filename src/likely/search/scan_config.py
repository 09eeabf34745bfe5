"""Scan configurations: TOML data (never executed), validated with errors that name the key."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from likely.search.study import METHODS

__all__ = ["ScanConfig", "read_scan_config"]

_TOP = ("data", "methods", "seeds", "injection", "windows")
#: most seeds of one scan (every seed is a job per method, injection and window)
MAX_SEEDS = 10_000
#: largest seed value (torch seeds are 64-bit signed)
MAX_SEED = 2**63 - 1
#: most events of a toy data set (tens of GB in memory)
MAX_TOY = 10**9


@dataclass(frozen=True)
class ScanConfig:
    """What a scan runs: methods x injections x seeds x windows, on one data source.

    Attributes
    ----------
    data : dict
        Exactly one of ``{"files": [paths]}`` (LHC Olympics features files with labels),
        ``{"bundled": True}`` or ``{"toy": N}`` (N background events of the toy).
    methods : tuple of str
        Names in :data:`likely.search.study.METHODS`.
    seeds : tuple of int
        One injected sample and one training per seed.
    injection : str
        ``"signal"`` (``amounts`` are injected signal events), ``"s_over_b"`` or
        ``"significance"`` (``amounts`` are target S/B or S/sqrt(B) in ``reference_window``,
        turned into signal counts on the data).
    amounts : tuple of float
    reference_window : (float, float)
        Where a target S/B or S/sqrt(B) is measured (default: CATHODE's 3.3-3.7 TeV). The injected count
        is the same in every window: a sliding scan looks at one data set.
    windows : tuple of (float, float)
        Signal regions ``[low, high)`` in ``mjj`` (TeV).
    sliding : dict or None
        ``{"start", "stop", "width", "step"}`` if ``windows`` came from a sliding spec.
    sideband_width : float or None
        Width of each sideband; None: every event outside the signal region.
    """

    data: dict
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    injection: str
    amounts: tuple[float, ...]
    windows: tuple[tuple[float, float], ...]
    reference_window: tuple[float, float] = (3.3, 3.7)
    sliding: dict | None = None
    sideband_width: float | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], base: str | os.PathLike = ".") -> ScanConfig:
        """Validate a parsed config (the TOML's tables); relative ``files`` are taken from ``base``."""
        _keys(raw, _TOP, "", required=("data", "methods", "injection", "windows"))
        injection, amounts, reference = _injection(raw["injection"])
        windows, sliding, sideband_width = _windows(raw["windows"])
        return cls(
            data=_data(raw["data"], Path(base)),
            methods=_methods(raw["methods"]),
            seeds=_seeds(raw.get("seeds", 1)),
            injection=injection,
            amounts=amounts,
            reference_window=reference,
            windows=windows,
            sliding=sliding,
            sideband_width=sideband_width,
        )

    def to_dict(self) -> dict:
        """The resolved config as JSON-able data (windows expanded, defaults filled in)."""
        return {
            "data": self.data,
            "methods": list(self.methods),
            "seeds": list(self.seeds),
            "injection": {self.injection: list(self.amounts), "reference_window": list(self.reference_window)},
            "windows": {"sr": [list(w) for w in self.windows], "sliding": self.sliding,
                        "sideband_width": self.sideband_width},
        }


def read_scan_config(path: str | os.PathLike) -> ScanConfig:
    """Read and validate a TOML scan config (see docs/search.md, "Scans")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"scan config {path} not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"scan config {path} is not valid TOML: {error}") from None
    try:
        return ScanConfig.from_mapping(raw, base=path.parent)
    except (TypeError, ValueError) as error:
        raise type(error)(f"scan config {path}: {error}") from None


def _keys(table: Any, allowed: tuple[str, ...], where: str, required: tuple[str, ...] = (),
          one_of: tuple[str, ...] = ()) -> None:
    """``table`` is a table with only ``allowed`` keys, all ``required`` ones and one of ``one_of``."""
    name = f"[{where}]" if where else "the config"
    if not isinstance(table, Mapping):
        raise TypeError(f"{where or 'the config'} must be a table; got {_show(table)}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"unknown key {_key(where, unknown[0])} in {name}; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in table:
            raise ValueError(f"missing key {_key(where, key)}")
    if one_of and sum(key in table for key in one_of) != 1:
        raise ValueError(f"{name} needs exactly one of {', '.join(_key(where, k) for k in one_of)}")


def _key(where: str, key: str) -> str:
    return f"'{where}.{key}'" if where else f"'{key}'"


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _number(value: Any, key: str, *, integer: bool = False, minimum: float | None = None,
            strict: bool = False, maximum: float | None = None) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise TypeError(f"'{key}' must be {'an integer' if integer else 'a finite number'}; got {_show(value)}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"'{key}' must be {'>' if strict else '>='} {minimum:g}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"'{key}' must be <= {maximum:g}; got {value}")
    return value


def _list(value: Any, key: str) -> list:
    if not isinstance(value, list) or not value:
        raise TypeError(f"'{key}' must be a non-empty list; got {_show(value)}")
    if any(value.count(item) > 1 for item in value):
        raise ValueError(f"'{key}' has duplicates: {value}")
    return value


def _data(table: Any, base: Path) -> dict:
    _keys(table, ("files", "bundled", "toy"), "data", one_of=("files", "bundled", "toy"))
    if "files" in table:
        files = _list(table["files"], "data.files")
        if not all(isinstance(f, str) for f in files):
            raise TypeError(f"'data.files' must list file names (strings); got {files}")
        return {"files": [str((base / f).resolve()) for f in files]}
    if "bundled" in table:
        if table["bundled"] is not True:
            raise ValueError(f"'data.bundled' must be true; got {_show(table['bundled'])}")
        return {"bundled": True}
    return {"toy": int(_number(table["toy"], "data.toy", integer=True, minimum=0, strict=True, maximum=MAX_TOY))}


def _methods(value: Any) -> tuple[str, ...]:
    for name in _list(value, "methods"):
        if name not in METHODS:
            raise ValueError(f"'methods': unknown method {name!r}; choose from {sorted(METHODS)}")
    return tuple(value)


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return tuple(range(int(_number(value, "seeds", integer=True, minimum=0, strict=True, maximum=MAX_SEEDS))))
    if not isinstance(value, list):
        raise TypeError(f"'seeds' must be a count (integer) or a list of seeds; got {_show(value)}")
    seeds = tuple(int(_number(s, "seeds", integer=True, minimum=0, maximum=MAX_SEED)) for s in _list(value, "seeds"))
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"'seeds' lists {len(seeds)} seeds; at most {MAX_SEEDS} per scan")
    return seeds


def _injection(table: Any) -> tuple[str, tuple[float, ...], tuple[float, float]]:
    kinds = ("signal", "s_over_b", "significance")
    _keys(table, (*kinds, "reference_window"), "injection", one_of=kinds)
    if "signal" in table:
        if "reference_window" in table:
            raise ValueError("'injection.reference_window' only applies to 'injection.s_over_b' "
                             "and 'injection.significance'")
        amounts = [_number(n, "injection.signal", integer=True, minimum=0) for n in _list(table["signal"], "injection.signal")]
        return "signal", tuple(amounts), (3.3, 3.7)
    kind = next(k for k in kinds[1:] if k in table)
    key = f"injection.{kind}"
    amounts = [_number(x, key, minimum=0) for x in _list(table[kind], key)]
    reference = _window(table.get("reference_window", [3.3, 3.7]), "injection.reference_window")
    return kind, tuple(float(x) for x in amounts), reference


def _window(value: Any, key: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise TypeError(f"'{key}' must be a [low, high] pair; got {_show(value)}")
    low, high = (float(_number(v, key)) for v in value)
    if low >= high:
        raise ValueError(f"'{key}' needs low < high; got {value}")
    return low, high


def _windows(table: Any) -> tuple[tuple[tuple[float, float], ...], dict | None, float | None]:
    _keys(table, ("sr", "sliding", "sideband_width"), "windows", one_of=("sr", "sliding"))
    width = table.get("sideband_width")
    if width is not None:
        width = float(_number(width, "windows.sideband_width", minimum=0, strict=True))
    if "sr" in table:
        return tuple(_window(w, "windows.sr") for w in _list(table["sr"], "windows.sr")), None, width
    spec = table["sliding"]
    _keys(spec, ("start", "stop", "width", "step"), "windows.sliding",
          required=("start", "stop", "width", "step"))
    start, stop = (float(_number(spec[k], f"windows.sliding.{k}")) for k in ("start", "stop"))
    size, step = (float(_number(spec[k], f"windows.sliding.{k}", minimum=0, strict=True)) for k in ("width", "step"))
    if start + size > stop:
        raise ValueError(f"'windows.sliding': start + width = {start + size:g} is above stop = {stop:g}")
    count = math.floor((stop - start - size) / step + 1e-9) + 1
    windows = tuple((round(start + k * step, 6), round(start + k * step + size, 6)) for k in range(count))
    return windows, {"start": start, "stop": stop, "width": size, "step": step}, width
