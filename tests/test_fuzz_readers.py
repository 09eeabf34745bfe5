"""Fuzzing every file reader with hostile files (hypothesis).

The property each reader must keep, whatever the file holds: it returns data whose used
values are all finite (events with NaN/inf dropped, as :mod:`likely.data.invalid`
documents), or it raises a ``ValueError`` / ``TypeError`` / ``FileNotFoundError`` whose
one-line message names the file. Files are written by the tests: tables with random
columns, dtypes, row counts and values (NaN, ±inf, 1e38, ...), and valid files that are
truncated, with bytes of their values overwritten, or replaced by foreign bytes.
"""

import contextlib
import itertools
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from likely.data import EventSet, Showers
from likely.data.formats import describe_file
from likely.data.lhco import JET_COLUMNS, RAW_COLUMNS, read_fm_features, read_lhco, read_lhco_raw
from likely.data.showers import read_calochallenge, read_calogan, read_showers
from likely.search.scan_config import ScanConfig, read_scan_config

pytestmark = pytest.mark.xdist_group("fuzz-readers")
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HOSTILE_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0.0, -0.0, 1e38, -1e38, 3.4e38, 1e-45, np.nan, np.inf, -np.inf]),
)

LHCO_READERS = {
    "read_lhco_raw": read_lhco_raw,
    "read_lhco": read_lhco,
    "read_lhco(all features)": lambda path: read_lhco(path, features=("mjj", "mj2", "tau32_j2", "delta_r", "pt_j1")),
    "read_fm_features": lambda path: read_fm_features([path]),
}
SHOWER_READERS = {"read_calogan": read_calogan, "read_calochallenge": read_calochallenge, "read_showers": read_showers}


# ----------------------------------------------------------------------------- the property
def finite_values(result) -> list[np.ndarray]:
    """Every float array a reader returned (what a model would consume)."""
    if isinstance(result, tuple):
        return [array for part in result for array in finite_values(part)]
    if isinstance(result, EventSet):
        return [result.array()]
    if isinstance(result, Showers):
        return [result.energies, result.incident_energies]
    if isinstance(result, pd.DataFrame):
        return [result[list(JET_COLUMNS)].to_numpy(np.float64)]
    if isinstance(result, np.ndarray) and np.issubdtype(result.dtype, np.floating):
        return [result]
    if isinstance(result, ScanConfig):
        return [np.asarray([w for window in result.windows for w in window], dtype=float)]
    return []


def check_reader(read, path: Path) -> None:
    """The fuzz property: finite data, or one clean error naming ``path``. NumPy warnings fail too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = read(path)
    except (ValueError, TypeError, FileNotFoundError) as error:
        message = str(error)
        assert path.name in message, f"the error does not name the file: {message!r}"
        assert "\n" not in message, f"the error is not one line: {message!r}"
        event(f"refused: {type(error).__name__}")
        return
    event("read")
    for values in finite_values(result):
        assert np.isfinite(values).all(), f"{read} let {int((~np.isfinite(values)).sum())} non-finite values through"


@contextlib.contextmanager
def scratch(name: str):
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / name


# ----------------------------------------------------------------------------- hostile LHCO tables
@st.composite
def lhco_tables(draw) -> pd.DataFrame:
    """Tables near the LHCO schema: dropped, extra or renamed columns, odd dtypes, hostile values."""
    n = draw(st.integers(0, 12))
    names = [name for name in RAW_COLUMNS if draw(st.floats(0, 1)) < 0.97]
    names += draw(st.lists(st.sampled_from(["extra", "label", "mjj", "pxj1"]), max_size=2))
    columns = {}
    for name in dict.fromkeys(names):
        kind = draw(st.sampled_from(["float32"] * 6 + ["float64", "int64", "bool", "str"]))
        if kind == "str":
            columns[name] = draw(st.lists(st.text(max_size=3), min_size=n, max_size=n))
        elif name == "label":
            columns[name] = draw(hnp.arrays(np.float32, n, elements=st.sampled_from([0.0, 1.0, 2.0, np.nan])))
        else:
            values = draw(hnp.arrays(np.float64, n, elements=HOSTILE_FLOATS))
            with np.errstate(all="ignore"):
                columns[name] = values.astype(kind)
    return pd.DataFrame(columns)


@FUZZ
@given(table=lhco_tables(), reader=st.sampled_from(sorted(LHCO_READERS)))
def test_fuzz_lhco_readers_on_hostile_tables(table, reader):
    with scratch("hostile.h5") as path:
        table.to_hdf(path, key="df")
        check_reader(LHCO_READERS[reader], path)


@st.composite
def lhco_event_tables(draw) -> pd.DataFrame:
    """Tables near the raw LHCO event layout: 2099-2101 columns, a few physical hadrons, hostile values anywhere."""
    n = draw(st.integers(0, 4))
    width = draw(st.sampled_from([2100, 2100, 2101, 2101, 2099]))
    values = np.zeros((n, width))
    if n:
        values[:, :60:3] = draw(hnp.arrays(np.float64, (n, 20), elements=st.floats(0, 2000)))  # pT
        values[:, 1:60:3] = draw(hnp.arrays(np.float64, (n, 20), elements=st.floats(-3, 3)))  # eta
        for _ in range(draw(st.integers(0, 6))):
            values[draw(st.integers(0, n - 1)), draw(st.integers(0, width - 1))] = draw(HOSTILE_FLOATS)
    return pd.DataFrame(values)


@FUZZ
@given(table=lhco_event_tables(), reader=st.sampled_from(sorted(LHCO_READERS)))
def test_fuzz_lhco_readers_on_hostile_event_files(table, reader):
    with scratch("hostile_events.h5") as path:
        table.to_hdf(path, key="df")
        check_reader(LHCO_READERS[reader], path)


def _valid_lhco(path: Path, n: int = 300) -> Path:
    rng = np.random.default_rng(0)
    raw = {name: rng.uniform(0.1, 1.0, n).astype(np.float32) for name in JET_COLUMNS}
    for name in ("pxj1", "pyj1", "pzj1", "pxj2", "pyj2", "pzj2"):
        raw[name] = rng.normal(0, 1500, n).astype(np.float32)
    raw["label"] = (rng.random(n) < 0.3).astype(np.float32)
    pd.DataFrame(raw).to_hdf(path, key="df")
    return path


def _valid_showers(path: Path, fmt: str, n: int = 200) -> Path:
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        if fmt == "calogan":
            handle["layer_0"] = rng.exponential(1.0, (n, 3, 4)).astype(np.float32)
            handle["layer_1"] = rng.exponential(1.0, (n, 2, 2)).astype(np.float32)
            handle["energy"] = rng.uniform(1, 100, (n, 1))
        else:
            handle["showers"] = rng.exponential(1.0, (n, 16)).astype(np.float32) + 0.1
            handle["incident_energies"] = rng.uniform(1e3, 1e5, (n, 1))
    return path


def _data_regions(path: Path) -> list[tuple[int, int]]:
    """(byte offset, size) of every contiguous dataset in an HDF5 file: the values, not the metadata."""
    regions = []
    with h5py.File(path, "r") as handle:
        def visit(_name, node):
            if isinstance(node, h5py.Dataset) and node.id.get_offset() is not None:
                regions.append((node.id.get_offset(), node.id.get_storage_size()))
        handle.visititems(visit)
    return [region for region in regions if region[1]]


def _corrupt(path: Path, damage: str, where: list[float], chunk: bytes) -> bytes:
    """The bytes of a valid file ``path`` damaged the ways files are damaged in practice.

    ``truncate`` cuts the file at the first fraction in ``where`` (an interrupted copy);
    ``values`` overwrites bytes inside the datasets' values at the fractions in ``where``
    (bit rot; any float can appear, NaN and inf included); ``foreign`` replaces the file by
    ``chunk`` (an empty file, text or bytes renamed to .h5). Overwriting the HDF5 metadata
    (superblock, B-trees, attribute headers) is not fuzzed: the HDF5 C library may crash or
    loop on such files, which no Python reader can catch (docs/security.md).
    """
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        return bytes(data[: int(len(data) * where[0])])
    if damage == "foreign":
        return chunk
    for fraction, (offset, size) in zip(where, itertools.cycle(_data_regions(path))):
        start = offset + int(fraction * size)
        data[start:min(start + len(chunk), offset + size)] = chunk[: offset + size - start]
    return bytes(data)


CORRUPTIONS = dict(
    damage=st.sampled_from(["truncate", "values", "values", "foreign"]),
    where=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=6),
    chunk=st.one_of(st.binary(min_size=1, max_size=64), st.sampled_from([b"", b"mjj,label\n3500,1\n", b"\xff" * 64,
                                                                      b"\x00" * 64, b"\x7f\xc0\x00\x00" * 8])),
)


@FUZZ
@given(reader=st.sampled_from(sorted(LHCO_READERS)), **CORRUPTIONS)
def test_fuzz_lhco_readers_on_corrupted_files(reader, damage, where, chunk):
    with scratch("good.h5") as good, scratch("corrupt.h5") as path:
        path.write_bytes(_corrupt(_valid_lhco(good), damage, where, chunk))
        check_reader(LHCO_READERS[reader], path)


# ----------------------------------------------------------------------------- hostile shower files
SHOWER_LAYOUTS = {
    "calogan": {"layer_0": (2, 3), "layer_1": (1, 2), "energy": (1,)},
    "calochallenge": {"showers": (8,), "incident_energies": (1,)},
}
MOSTLY_PHYSICAL = st.one_of(st.floats(0.1, 1e4), st.floats(0.1, 1e4), HOSTILE_FLOATS)


@st.composite
def shower_files(draw):
    """One of the two layouts, then damaged: wrong shapes, dtypes, lengths, missing or extra datasets, hostile values."""
    n = draw(st.integers(0, 6))
    layout = dict(SHOWER_LAYOUTS[draw(st.sampled_from(sorted(SHOWER_LAYOUTS)))])
    if draw(st.booleans()):
        layout["label"] = ()
    datasets = {}
    for name, shape in layout.items():
        damage = draw(st.sampled_from(["none"] * 6 + ["drop", "rows", "shape", "dtype", "rename"]))
        rows = n + (draw(st.sampled_from([1, -1])) if damage == "rows" and n else 0)
        shape = (rows, *shape) if damage != "shape" else draw(st.sampled_from([(rows,), (rows, 2, 2, 2), (0,)]))
        if damage == "drop":
            continue
        if damage == "dtype":
            datasets[name] = np.full(shape, b"abc")
            continue
        elements = st.sampled_from([0.0, 1.0]) if name == "label" else MOSTLY_PHYSICAL
        values = draw(hnp.arrays(np.float64, shape, elements=elements))
        with np.errstate(all="ignore"):
            datasets[name if damage != "rename" else f"{name}_x"] = values.astype(np.float32)
    return datasets


@FUZZ
@given(datasets=shower_files(), reader=st.sampled_from(sorted(SHOWER_READERS)))
def test_fuzz_shower_readers_on_hostile_files(datasets, reader):
    with scratch("hostile.h5") as path:
        with h5py.File(path, "w") as handle:
            for name, values in datasets.items():
                handle[name] = values
        check_reader(SHOWER_READERS[reader], path)


@FUZZ
@given(fmt=st.sampled_from(["calogan", "calochallenge"]), **CORRUPTIONS)
def test_fuzz_shower_readers_on_corrupted_files(fmt, damage, where, chunk):
    with scratch("good.h5") as good, scratch("corrupt.h5") as path:
        path.write_bytes(_corrupt(_valid_showers(good, fmt), damage, where, chunk))
        for read in ({"calogan": read_calogan}.get(fmt, read_calochallenge), read_showers):
            check_reader(read, path)


@FUZZ
@given(layout=st.sampled_from(["lhco", "calogan", "calochallenge"]), **CORRUPTIONS)
def test_fuzz_describe_file_on_corrupted_files(layout, damage, where, chunk):
    """Naming a file's layout reads only its headers, and fails on damage as the readers do."""
    with scratch("good.h5") as good, scratch("corrupt.h5") as path:
        valid = _valid_lhco(good) if layout == "lhco" else _valid_showers(good, layout)
        path.write_bytes(_corrupt(valid, damage, where, chunk))
        check_reader(describe_file, path)


# ----------------------------------------------------------------------------- scan configs
SCAN_EXAMPLE = (Path(__file__).parents[1] / "examples" / "scan.toml").read_text().splitlines()
HOSTILE_TOML = st.sampled_from(["-1", "0", "nan", "inf", "-inf", "1e400", "1.5", '"x"', '""', "[]", "[1, 1]",
                                "[[3.7, 3.3]]", "{}", "true", "99999999999999999999", "{ start = 1 }", '["iad"]'])


@FUZZ
@given(edits=st.dictionaries(st.integers(0, len(SCAN_EXAMPLE) - 1), st.one_of(HOSTILE_TOML, st.none()), max_size=4),
       tail=st.binary(max_size=8))
def test_fuzz_scan_config(edits, tail):
    """The example config with values replaced by hostile ones, lines deleted, bytes appended."""
    lines = []
    for number, line in enumerate(SCAN_EXAMPLE):
        if number not in edits:
            lines.append(line)
        elif edits[number] is not None and "=" in line:
            lines.append(f"{line.split('=')[0]}= {edits[number]}")
    with scratch("scan.toml") as path:
        path.write_bytes("\n".join(lines).encode() + tail)
        check_reader(read_scan_config, path)


# ----------------------------------------------------------------------------- the suite can fail
def test_the_fuzz_catches_a_reader_that_lets_nan_through():
    """A reader without the non-finite policy (plain pandas) fails the property."""

    @settings(FUZZ, max_examples=200, database=None, report_multiple_bugs=False)
    @given(table=lhco_tables())
    def lax(table):
        with scratch("hostile.h5") as path:
            table.to_hdf(path, key="df")
            check_reader(lambda p: pd.read_hdf(p).reindex(columns=list(JET_COLUMNS)).astype(float), path)

    with pytest.raises(AssertionError, match="non-finite values through|does not name the file"):
        lax()
