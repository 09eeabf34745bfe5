"""The detector card: every number of the parametric detector, read from TOML and validated.

A card is a tree of frozen dataclasses, one per TOML table (``[tracker]``,
``[tracker.efficiency]``, ``[ecal]``, …). Every field is required; a missing or unknown
field, a value of the wrong type or out of range raises ``ValueError`` naming
``section.field`` (and the file, for :meth:`DetectorCard.from_toml`). The bundled cards
(:data:`BUNDLED_CARDS`: ``cms``, the default, and ``adc``, its ADC2021 object thresholds) are
:meth:`DetectorCard.bundled`; docs/detector.md explains every field.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import asdict, dataclass, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BUNDLED_CARDS", "Calorimeter", "Deposits", "DetectorCard", "Efficiency", "EnergyResolution", "Invisible", "Isolation", "Jets",
    "Met", "MomentumResolution", "MuonCuts", "ObjectCuts", "Pileup", "Tracker",
]

#: the cards shipped in ``likely/data/detector/cards``: the CMS-like default, and it with the ADC2021 thresholds
BUNDLED_CARDS = ("cms", "adc")
#: objects the missing pT can be made of
MET_OBJECTS = ("electrons", "muons", "photons", "jets")
#: largest |η| a card may ask for (the isolation search keys events by η in a window of this half-width)
ETA_LIMIT = 10.0


def _check(condition: bool, field: str, message: str, value: Any) -> None:
    if not condition:
        raise ValueError(f"{field} {message}; got {value!r}")


def _increasing(values: tuple[float, ...], field: str, low: float, high: float) -> None:
    """Strictly increasing and inside (low, high)."""
    inside = all(low < v < high for v in values) and all(a < b for a, b in zip(values, values[1:]))
    _check(inside, field, f"must increase strictly inside ({low:g}, {high:g})", list(values))


def _regions(bounds: tuple[float, ...]) -> int:
    return len(bounds) + 1


def _region(bounds: tuple[float, ...], abs_eta: np.ndarray) -> np.ndarray:
    """Index of the |η| region of each entry (0 below the first bound)."""
    return np.searchsorted(np.asarray(bounds, dtype=np.float64), abs_eta, side="right")


@dataclass(frozen=True)
class Efficiency:
    """A piecewise-constant efficiency: ``values[i][j]`` for |η| region i and pT region j.

    ``eta`` and ``pt`` (GeV) are the interior bounds between the regions.
    """

    eta: tuple[float, ...]
    pt: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        shape = (_regions(self.eta), _regions(self.pt))
        rows_fit = len(self.values) == shape[0] and all(len(row) == shape[1] for row in self.values)
        _check(rows_fit, "values", f"must be {shape[0]} rows of {shape[1]} (one per |eta| region, one per pT region)",
               self.values)
        _check(all(0.0 <= v <= 1.0 for row in self.values for v in row), "values", "must lie in [0, 1]", self.values)

    def __call__(self, abs_eta: np.ndarray, pt: np.ndarray) -> np.ndarray:
        table = np.asarray(self.values, dtype=np.float64)
        return table[_region(self.eta, abs_eta), np.searchsorted(np.asarray(self.pt, dtype=np.float64), pt, "right")]

    def check_inside(self, eta_max: float, pt_min: float) -> None:
        _increasing(self.eta, "eta", 0.0, eta_max)
        _increasing(self.pt, "pt", pt_min, np.inf)


@dataclass(frozen=True)
class MomentumResolution:
    """σ(pT)/pT = a ⊕ b·pT (b in 1/GeV) in each |η| region (``eta``: interior bounds)."""

    eta: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            values = getattr(self, name)
            _check(len(values) == _regions(self.eta), name, f"must have {_regions(self.eta)} entries, one per "
                   "|eta| region", list(values))
            _check(all(v >= 0 for v in values), name, "must be >= 0", list(values))

    def relative(self, abs_eta: np.ndarray, pt: np.ndarray) -> np.ndarray:
        """σ(pT)/pT of each entry."""
        region = _region(self.eta, abs_eta)
        return np.hypot(np.asarray(self.a)[region], np.asarray(self.b)[region] * pt)


@dataclass(frozen=True)
class EnergyResolution:
    """σ(E)/E = stochastic/√E ⊕ noise/E ⊕ constant (E in GeV) in each |η| region."""

    eta: tuple[float, ...]
    stochastic: tuple[float, ...]
    noise: tuple[float, ...]
    constant: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("stochastic", "noise", "constant"):
            values = getattr(self, name)
            _check(len(values) == _regions(self.eta), name, f"must have {_regions(self.eta)} entries, one per "
                   "|eta| region", list(values))
            _check(all(v >= 0 for v in values), name, "must be >= 0", list(values))

    def sigma(self, abs_eta: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """σ(E) in GeV: √(stochastic² E + noise² + constant² E²)."""
        region = _region(self.eta, abs_eta)
        s, n, c = (np.asarray(getattr(self, name))[region] for name in ("stochastic", "noise", "constant"))
        return np.sqrt(s * s * energy + n * n + (c * energy) ** 2)


@dataclass(frozen=True)
class Invisible:
    """Particles never detected: ``|pid|`` in ``pids`` or ``|pid| >= pid_min``."""

    pids: tuple[int, ...]
    pid_min: int

    def __post_init__(self) -> None:
        _check(all(p > 0 for p in self.pids), "pids", "must be positive PDG ids", list(self.pids))
        _check(self.pid_min > 0, "pid_min", "must be > 0", self.pid_min)

    def __call__(self, pid: np.ndarray) -> np.ndarray:
        """True for the invisible particles among ``pid``."""
        pid = np.abs(pid)
        return np.isin(pid, self.pids) | (pid >= self.pid_min)


@dataclass(frozen=True)
class Deposits:
    """Where a visible particle leaves its energy: ECAL, nothing, split, or (any other) HCAL."""

    ecal_only: tuple[int, ...]
    nothing: tuple[int, ...]
    split: tuple[int, ...]
    split_ecal_fraction: float

    def __post_init__(self) -> None:
        lists = ("ecal_only", "nothing", "split")
        for name in lists:
            _check(all(p > 0 for p in getattr(self, name)), name, "must be positive PDG ids", getattr(self, name))
        every = [p for name in lists for p in getattr(self, name)]
        _check(len(every) == len(set(every)), "ecal_only, nothing and split", "must not share an id", every)
        _check(0.0 <= self.split_ecal_fraction <= 1.0, "split_ecal_fraction", "must lie in [0, 1]",
               self.split_ecal_fraction)

    def fractions(self, pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fractions of each particle's energy in the ECAL and in the HCAL."""
        pid = np.abs(pid)
        split = np.isin(pid, self.split)
        ecal = np.where(np.isin(pid, self.ecal_only), 1.0, np.where(split, self.split_ecal_fraction, 0.0))
        hcal = np.where(np.isin(pid, self.ecal_only + self.nothing), 0.0, 1.0 - ecal)
        return ecal, hcal


@dataclass(frozen=True)
class Tracker:
    """Charged particles with |η| < ``eta_max`` and pT > ``pt_min`` (GeV) may become tracks."""

    eta_max: float
    pt_min: float
    efficiency: Efficiency
    resolution: MomentumResolution

    def __post_init__(self) -> None:
        _check(0 < self.eta_max <= ETA_LIMIT, "eta_max", f"must lie in (0, {ETA_LIMIT:g}]", self.eta_max)
        _check(self.pt_min >= 0, "pt_min", "must be >= 0", self.pt_min)
        _nested("efficiency", self.efficiency.check_inside, self.eta_max, self.pt_min)
        _nested("resolution", _increasing, self.resolution.eta, "eta", 0.0, self.eta_max)

    def accepts(self, abs_eta: np.ndarray, pt: np.ndarray) -> np.ndarray:
        return (abs_eta < self.eta_max) & (pt > self.pt_min)


@dataclass(frozen=True)
class Calorimeter:
    """Cells of ``eta_cell`` × 2π/``phi_cells`` for |η| < ``eta_max``; thresholds in GeV and in σ(E)."""

    eta_max: float
    eta_cell: float
    phi_cells: int
    energy_min: float
    significance_min: float
    resolution: EnergyResolution

    def __post_init__(self) -> None:
        _check(0 < self.eta_max <= ETA_LIMIT, "eta_max", f"must lie in (0, {ETA_LIMIT:g}]", self.eta_max)
        _check(0 < self.eta_cell <= self.eta_max, "eta_cell", "must lie in (0, eta_max]", self.eta_cell)
        _check(self.phi_cells >= 1, "phi_cells", "must be >= 1", self.phi_cells)
        for name in ("energy_min", "significance_min"):
            _check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))
        _nested("resolution", _increasing, self.resolution.eta, "eta", 0.0, self.eta_max)

    @property
    def phi_cell(self) -> float:
        return 2 * np.pi / self.phi_cells


@dataclass(frozen=True)
class Isolation:
    """Isolated: Σ pT of the other particles above ``pt_min`` within ΔR < ``cone`` ≤ ``max_ratio`` × pT."""

    cone: float
    pt_min: float
    max_ratio: float

    def __post_init__(self) -> None:
        _check(0 < self.cone <= 2.0, "cone", "must lie in (0, 2]", self.cone)
        _check(self.pt_min >= 0, "pt_min", "must be >= 0", self.pt_min)
        _check(self.max_ratio >= 0, "max_ratio", "must be >= 0", self.max_ratio)


@dataclass(frozen=True)
class ObjectCuts:
    """Electrons or photons: acceptance, identification efficiency (of the measured pT) and isolation."""

    eta_max: float
    pt_min: float
    efficiency: Efficiency
    isolation: Isolation

    def __post_init__(self) -> None:
        _check(0 < self.eta_max <= ETA_LIMIT, "eta_max", f"must lie in (0, {ETA_LIMIT:g}]", self.eta_max)
        _check(self.pt_min >= 0, "pt_min", "must be >= 0", self.pt_min)
        _nested("efficiency", self.efficiency.check_inside, self.eta_max, self.pt_min)

    def probability(self, abs_eta: np.ndarray, pt: np.ndarray) -> np.ndarray:
        """The efficiency, 0 outside |η| < eta_max, pT > pt_min."""
        inside = (abs_eta < self.eta_max) & (pt > self.pt_min)
        return np.where(inside, self.efficiency(abs_eta, pt), 0.0)


@dataclass(frozen=True)
class MuonCuts(ObjectCuts):
    """Muons: as :class:`ObjectCuts`, with their own momentum resolution."""

    resolution: MomentumResolution

    def __post_init__(self) -> None:
        super().__post_init__()
        _nested("resolution", _increasing, self.resolution.eta, "eta", 0.0, self.eta_max)


@dataclass(frozen=True)
class Jets:
    """Anti-kT jets of ``radius``, kept above ``pt_min`` within |η| < ``eta_max``; σ(pT) = √(a pT² + b pT)."""

    radius: float
    pt_min: float
    eta_max: float
    resolution_a: float
    resolution_b: float

    def __post_init__(self) -> None:
        _check(0 < self.radius <= 2.0, "radius", "must lie in (0, 2]", self.radius)
        _check(0 < self.eta_max <= ETA_LIMIT, "eta_max", f"must lie in (0, {ETA_LIMIT:g}]", self.eta_max)
        for name in ("pt_min", "resolution_a", "resolution_b"):
            _check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))

    def relative(self, pt: np.ndarray) -> np.ndarray:
        """σ(pT)/pT of jets of ``pt`` (GeV)."""
        with np.errstate(divide="ignore"):
            return np.sqrt(self.resolution_a + self.resolution_b / pt)


@dataclass(frozen=True)
class Met:
    """The missing pT is minus the vector sum of ``objects`` (of ``MET_OBJECTS``)."""

    objects: tuple[str, ...]

    def __post_init__(self) -> None:
        known = set(MET_OBJECTS)
        _check(set(self.objects) <= known and len(set(self.objects)) == len(self.objects), "objects",
               f"must name each of {list(MET_OBJECTS)} at most once", list(self.objects))


@dataclass(frozen=True)
class Pileup:
    """``mean`` minimum-bias events overlaid per event, Poisson distributed."""

    mean: float

    def __post_init__(self) -> None:
        _check(self.mean >= 0 and np.isfinite(self.mean), "mean", "must be a finite number >= 0", self.mean)


@dataclass(frozen=True)
class DetectorCard:
    """Every number of the parametric detector (docs/detector.md); ``DetectorCard.cms()`` is the default.

    Examples
    --------
    >>> card = DetectorCard.cms()
    >>> card.ecal.eta_cell, card.hcal.eta_cell, card.jets.radius
    (0.0174, 0.087, 0.4)
    """

    name: str
    invisible: Invisible
    deposits: Deposits
    tracker: Tracker
    ecal: Calorimeter
    hcal: Calorimeter
    electrons: ObjectCuts
    photons: ObjectCuts
    muons: MuonCuts
    jets: Jets
    met: Met
    pileup: Pileup

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> DetectorCard:
        """The card in the TOML file ``path``; a bad card raises ``ValueError`` naming the file and the field."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no detector card {path}")
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: not a TOML file: {error}") from error
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "card") -> DetectorCard:
        """The card of nested dicts ``data`` (as TOML gives them); ``source`` names it in errors."""
        try:
            return _build(cls, data, "")
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    @classmethod
    def bundled(cls, name: str) -> DetectorCard:
        """The bundled card ``name`` (:data:`BUNDLED_CARDS`; ``likely/data/detector/cards/<name>.toml``)."""
        if name not in BUNDLED_CARDS:
            raise ValueError(f"card must be one of the bundled cards {BUNDLED_CARDS} or a TOML file; got {name!r}")
        with resources.as_file(resources.files(__package__) / "cards" / f"{name}.toml") as path:
            return cls.from_toml(path)

    @classmethod
    def cms(cls) -> DetectorCard:
        """The bundled CMS-like card, the default."""
        return cls.bundled("cms")

    def to_dict(self) -> dict[str, Any]:
        """The card as nested dicts of plain values (JSON-ready; :meth:`from_dict` reads it back)."""
        return _plain(asdict(self))


def _nested(field: str, check, *args) -> None:
    """Run ``check(*args)``; its error names ``field.<its field>``."""
    try:
        check(*args)
    except ValueError as error:
        raise ValueError(f"{field}.{error}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    """An instance of the card dataclass ``cls`` from the table ``data`` found at ``where``."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a table; got {data!r}")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    missing = [name for name in names if name not in data]
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(prefix + n for n in unknown)}; "
                         f"{where or 'the card'} has {', '.join(names)}")
    if missing:
        raise ValueError(f"missing field(s) {', '.join(prefix + n for n in missing)}")
    hints = typing.get_type_hints(cls)
    values = {name: _convert(data[name], hints[name], prefix + name) for name in names}
    try:
        return cls(**values)
    except ValueError as error:
        raise ValueError(f"{prefix}{error}") from None


def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` as the type ``hint`` (float, int, str, tuples of them, a card dataclass)."""
    if is_dataclass(hint):
        return _build(hint, value, where)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            raise ValueError(f"{where} must be an array; got {value!r}")
        item = typing.get_args(hint)[0]
        return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise ValueError(f"{where} must be finite; got {value!r}")
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    raise ValueError(f"{where} must be {'a number' if hint is float else 'an integer' if hint is int else 'a string'}"
                     f"; got {value!r}")
