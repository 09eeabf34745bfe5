"""``likely data``: every layout named, conversions and representations exact, bad input refused.

The files are small and schema-exact, written with the helpers of the readers' own tests
and with the library's writers.
"""

import subprocess
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import uproot
from test_adc import slots_file
from test_cli_hostile import assert_one_line_error
from test_event_images import image_file
from test_jetclass import jetclass_file
from test_jetnet import jetnet_file
from test_toptagging import landscape_file

from likely.cli import main
from likely.data import (
    EventSet, Particles, Showers, jet_images, read_event_images, read_particles, read_top_tagging, write_calochallenge,
    write_calogan, write_event_images, write_lhco, write_lhco_events, write_particles, write_table,
)
from likely.data.clouds import point_clouds
from likely.data.event_images import EventImages, sum_pool
from likely.data.formats import FORMATS, PARTICLE_READERS, detect_format
from likely.data.images import JetImages, read_jet_images, write_jet_images
from likely.data.lhco import JET_COLUMNS
from likely.data.samples import load_bundled_jets


@pytest.fixture
def likely(tmp_path, monkeypatch, capsys):
    """``likely -q ARGS`` in this process, in ``tmp_path``; returns the exit code, stdout and stderr."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        try:
            code = main(["-q", *map(str, args)])
        except SystemExit as exit:
            code = exit.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)
    return run


def lhco_events(path, n=3, seed=0):
    """A raw LHC Olympics event file of ``n`` events with 5-40 hadrons scattered over the 700 slots."""
    rng = np.random.default_rng(seed)
    hadrons = np.zeros((n, 700, 3))
    for row in range(n):
        slots = rng.choice(700, rng.integers(5, 40), replace=False)
        hadrons[row, slots] = np.column_stack([rng.exponential(20, len(slots)), rng.normal(0, 1, len(slots)),
                                               rng.uniform(-np.pi, np.pi, len(slots))])
    write_lhco_events(path, hadrons, label=np.arange(n) % 2)


#: a writer of a small file of every known layout
LAYOUTS = {
    "particles": lambda path: write_particles(path, load_bundled_jets("top")[:4]),
    "jet-images": lambda path: write_jet_images(path, JetImages(np.ones((3, 4, 4), np.float32), None, {"pixels": 4})),
    "top-tagging": lambda path: landscape_file(path, n=4, n_constituents=5),
    "jetnet": jetnet_file,
    "jetclass": jetclass_file,
    "adc": slots_file,
    "event-images": lambda path: image_file(path, shape=(12, 15)),
    "lhco-features": lambda path: write_lhco(path, {name: np.ones(3) for name in JET_COLUMNS}),
    "lhco-events": lhco_events,
    "calogan": lambda path: write_calogan(path, Showers(np.ones((2, 6)), [10.0, 20.0], layer_shapes=[(2, 3)])),
    "calochallenge": lambda path: write_calochallenge(path, Showers(np.ones((2, 6)), [10.0, 20.0])),
    "table": lambda path: write_table(path, EventSet({"x": np.arange(4.0)})),
}
EVENTS = {"particles": 4, "jet-images": 3, "top-tagging": 4, "jetnet": 5, "jetclass": 5, "adc": 4, "event-images": 3,
          "lhco-features": 3, "lhco-events": 3, "calogan": 2, "calochallenge": 2, "table": 4}


def test_info_names_every_layout_with_its_events(tmp_path, likely):
    assert set(LAYOUTS) == set(FORMATS)
    paths = {}
    for name, write in LAYOUTS.items():
        paths[name] = tmp_path / f"{name}.{'root' if name == 'jetclass' else 'h5'}"
        write(paths[name])
        assert detect_format(paths[name]) == name
    result = likely("data", "info", *(path.name for path in paths.values()))
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert headers == [f"{path.name}: {FORMATS[name]} ({name}), {EVENTS[name]} events" for name, path in paths.items()]
    assert "  particles  (4, 200, 4) float32" in result.stdout and "  features   E, px, py, pz" in result.stdout


def test_files_of_no_known_layout_are_refused_by_name(tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as file:
        file["x"] = np.zeros(3)
    pd.DataFrame({"x": [1.0]}).to_hdf(tmp_path / "frame.h5", key="events", mode="w")
    with uproot.recreate(tmp_path / "other.root") as file:
        file["events"] = {"x": np.zeros(2)}
    jetclass_file(tmp_path / "jets.root", drop=("part_px",))
    for name in ("other.h5", "frame.h5", "other.root", "jets.root"):
        with pytest.raises(ValueError, match=rf"{name} is not a file of a known layout .*; known layouts: particles"):
            detect_format(tmp_path / name)
    LAYOUTS["jetnet"](tmp_path / "whole.h5")
    (tmp_path / "cut.h5").write_bytes((tmp_path / "whole.h5").read_bytes()[:1000])
    with pytest.raises(ValueError, match="cut.h5"):
        detect_format(tmp_path / "cut.h5")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        detect_format(tmp_path / "missing.h5")


@pytest.mark.parametrize("layout", ["top-tagging", "jetnet", "jetclass", "adc", "lhco-events"])
def test_convert_writes_what_the_reader_reads(tmp_path, likely, layout):
    path = tmp_path / f"in.{'root' if layout == 'jetclass' else 'h5'}"
    LAYOUTS[layout](path)
    assert likely("data", "convert", path, "--out", "out.h5", "--batch", "2").returncode == 0
    expected, written = PARTICLE_READERS[layout](path), read_particles(tmp_path / "out.h5")
    assert written.features == expected.features
    for what in ("values", "mask", "label", "weight"):
        np.testing.assert_array_equal(getattr(written, what), getattr(expected, what))
    assert written.columns.keys() == expected.columns.keys()
    for name, column in expected.columns.items():
        np.testing.assert_array_equal(written.columns[name], column)


def test_convert_concatenates_relabels_and_keeps_the_hardest(tmp_path, likely):
    for seed in (0, 1):
        landscape_file(tmp_path / f"t{seed}.h5", n=5, n_constituents=8, seed=seed)
    args = ("data", "convert", "t0.h5", "t1.h5", "--out", "out.h5", "--batch", "2", "--label", "7")
    assert likely(*args, "--max-particles", "3").returncode == 0
    both = Particles.concat([read_top_tagging(tmp_path / f"t{seed}.h5") for seed in (0, 1)])
    written = read_particles(tmp_path / "out.h5")
    np.testing.assert_array_equal(written.values, both.sorted_by("E").truncated(3).values)
    assert written.label.tolist() == [7] * 10
    jetclass_file(tmp_path / "jets.root", n=7)  # jagged: every batch has its own width
    assert likely("data", "convert", "jets.root", "--out", "jets.h5", "--batch", "3").returncode == 0
    np.testing.assert_array_equal(read_particles(tmp_path / "jets.h5").values,
                                  PARTICLE_READERS["jetclass"](tmp_path / "jets.root").values)


def test_represent_gives_the_librarys_images_and_clouds(tmp_path, likely):
    jets = load_bundled_jets("top")[:25]
    write_particles(tmp_path / "jets.h5", jets)
    args = ("data", "represent", "jets.h5", "--batch", "7")
    assert likely(*args, "--as", "jet-images", "--pixels", "20", "--smear", "1", "--power", "0.5",
                  "--out", "images.h5").returncode == 0
    images = read_jet_images(tmp_path / "images.h5")
    np.testing.assert_array_equal(images.images, jet_images(jets, pixels=20, sigma=1.0, power=0.5))
    np.testing.assert_array_equal(images.label, jets.label)
    assert images.options == {"pixels": 20, "pixel_size": (0.029, 0.035), "normalize": True, "sigma": 1.0,
                              "power": 0.5}
    assert likely(*args, "--as", "point-clouds", "--constituents", "10", "--out", "clouds.h5").returncode == 0
    clouds, expected = read_particles(tmp_path / "clouds.h5"), point_clouds(jets, 10)
    np.testing.assert_array_equal(clouds.values, expected.values)
    np.testing.assert_array_equal(clouds.mask, expected.mask)
    np.testing.assert_array_equal(clouds.columns["pt"], expected.columns["pt"])


def test_pool_keeps_every_total_and_equals_sum_pool(tmp_path, likely):
    rng = np.random.default_rng(3)
    energies = rng.integers(0, 64, (5, 3, 23, 31)) * (rng.random((5, 3, 23, 31)) < 0.2) / 8  # sums exact in float32
    write_event_images(tmp_path / "events.h5", EventImages(energies.astype(np.float32), np.arange(5), np.ones(5)))
    assert likely("data", "pool", "events.h5", "--k", "5", "--batch", "2", "--out", "pooled.h5").returncode == 0
    pooled, events = read_event_images(tmp_path / "pooled.h5"), read_event_images(tmp_path / "events.h5")
    assert pooled.images.shape == (5, 3, 5, 7)
    np.testing.assert_array_equal(pooled.images, sum_pool(events.images, 5))
    np.testing.assert_array_equal(pooled.images.sum(axis=(2, 3)), energies.sum(axis=(2, 3)))
    assert pooled.n_tracks.tolist() == list(range(5)) and pooled.label.tolist() == [1] * 5


@pytest.mark.parametrize("args, culprits", [
    (["info", "jets.h5", "notes.txt"], ["notes.txt", "known layouts", "top-tagging", "jetclass"]),
    (["convert", "jets.h5", "--format", "jetnet", "--out", "new.h5"], ["jets.h5", "jetnet"]),
    (["convert", "jets.h5", "jetnet.h5", "--out", "new.h5"], ["jetnet.h5", "jets.h5", "features"]),
    (["convert", "jets.h5", "--out", "jets.h5"], ["jets.h5", "--force"]),
    (["convert", "jets.h5", "--label", "200", "--out", "new.h5"], ["--label"]),
    (["represent", "jets.h5", "--as", "jet-images", "--pixels", "0", "--out", "new.h5"], ["--pixels"]),
    (["represent", "jets.h5", "--as", "jet-images", "--constituents", "5", "--out", "new.h5"], ["--constituents"]),
    (["represent", "jetnet.h5", "--as", "jet-images", "--out", "new.h5"], ["jetnet.h5", "ptrel"]),
    (["pool", "jets.h5", "--k", "-1", "--out", "new.h5"], ["--k"]),
    (["pool", "jets.h5", "--out", "new.h5"], ["jets.h5", "event-image"]),
    (["samples", "--path", "jets/dark"], ["--path", "jets/aachen"]),
])
def test_bad_input_exits_2_naming_it_and_writes_nothing(tmp_path, likely, args, culprits):
    landscape_file(tmp_path / "jets.h5", n=3, n_constituents=4)
    jetnet_file(tmp_path / "jetnet.h5")
    (tmp_path / "notes.txt").write_text("not data")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert_one_line_error(likely("data", *args), 2, *culprits)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_samples_lists_every_bundled_file_and_prints_one_path(likely):
    from likely.data.samples import BUNDLED_ADC, bundled_files, bundled_path

    listing = likely("data", "samples")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(bundled_files())
    assert any(line.split()[1:4] == ["adc", "364", "events"] for line in lines if line.startswith("adc/wjets "))
    one = likely("data", "samples", "--path", "adc/wjets")
    assert one.stdout == f"{bundled_path('wjets', BUNDLED_ADC)}\n" and Path(one.stdout.strip()).is_file()
