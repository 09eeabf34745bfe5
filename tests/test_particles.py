"""Padded particle sets: construction, selection, reshaping, awkward and HDF5 round trips."""

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from likely.data import Particles, read_particles, write_particles
from likely.data.particles import append_particles

FEATURES = ("E", "px", "py", "pz")


def jagged(counts, seed=0):
    counts = np.asarray(counts)
    flat = np.random.default_rng(seed).normal(size=(counts.sum(), 4)).astype(np.float32)
    return flat, counts


def sample(counts=(3, 0, 5, 1), seed=0, **extras):
    flat, counts = jagged(counts, seed)
    return Particles.from_counts(flat, counts, FEATURES, columns={"jet_pt": np.arange(len(counts)) * 10.0},
                                 label=np.arange(len(counts)) % 2, weight=np.ones(len(counts)), **extras)


@given(st.lists(st.integers(0, 12), min_size=1, max_size=20))
@settings(max_examples=40, deadline=None)
def test_padding_keeps_every_particle_in_order(counts):
    flat, counts = jagged(counts)
    particles = Particles.from_counts(flat, counts, FEATURES)
    assert particles.values.shape == (len(counts), counts.max(), 4)
    np.testing.assert_array_equal(particles.counts, counts)
    np.testing.assert_array_equal(particles.values[particles.mask], flat)
    assert not particles.values[~particles.mask].any()


def test_max_particles_keeps_the_first_of_each_set():
    flat, counts = jagged([3, 1, 4])
    particles = Particles.from_counts(flat, counts, FEATURES, max_particles=2)
    np.testing.assert_array_equal(particles.counts, [2, 1, 2])
    np.testing.assert_array_equal(particles.values[2, :2], flat[4:6])


def test_selection_carries_columns_labels_and_weights():
    particles = sample()
    chosen = particles[particles.columns["jet_pt"] >= 20]
    assert len(chosen) == 2
    np.testing.assert_array_equal(chosen.counts, [5, 1])
    np.testing.assert_array_equal(chosen.columns["jet_pt"], [20, 30])
    np.testing.assert_array_equal(chosen.label, [0, 1])
    assert chosen.table().names == ["jet_pt"]
    with pytest.raises(TypeError, match="feature"):
        particles["E"]


def test_sorting_orders_each_set_hardest_first_and_truncating_keeps_the_hardest():
    particles = sample().sorted_by("E")
    energies = particles.feature("E")
    for row, n in zip(energies, particles.counts):
        assert np.all(np.diff(row[:n]) <= 0)
    top2 = particles.truncated(2)
    np.testing.assert_array_equal(top2.feature("E"), energies[:, :2])
    assert particles.truncated(9).values.shape == (4, 9, 4)


def test_concatenation_pads_to_the_widest():
    wide, narrow = sample(), sample((1, 2), seed=1)
    both = Particles.concat([narrow, wide])
    assert both.values.shape == (6, 5, 4)
    np.testing.assert_array_equal(both.counts, [1, 2, 3, 0, 5, 1])
    np.testing.assert_array_equal(both.values[2:], wide.values)
    with pytest.raises(ValueError, match="features"):
        Particles.concat([wide, Particles(wide.values[..., :3], wide.mask, ("pt", "eta", "phi"))])


def test_awkward_round_trip_gives_vector_four_momenta():
    particles = sample()
    array = particles.to_awkward()
    assert array.type.length == 4
    jet = array[2]
    np.testing.assert_allclose(float(jet.px[0]), particles.values[2, 0, 1])
    # vector's behaviour: the pair mass from the summed four-momentum
    pair = jet[0] + jet[1]
    p = particles.values[2, 0] + particles.values[2, 1]
    np.testing.assert_allclose(pair.tau, np.sqrt(abs(p[0] ** 2 - (p[1:] ** 2).sum())), rtol=1e-5)
    again = Particles.from_awkward(array)
    np.testing.assert_array_equal(again.values, particles.values)
    np.testing.assert_array_equal(again.mask, particles.mask)


def test_hdf5_round_trip_and_row_ranges(tmp_path):
    particles = sample()
    path = write_particles(tmp_path / "jets.h5", particles)
    back = read_particles(path)
    np.testing.assert_array_equal(back.values, particles.values)
    np.testing.assert_array_equal(back.mask, particles.mask)
    assert back.features == FEATURES
    np.testing.assert_array_equal(back.columns["jet_pt"], particles.columns["jet_pt"])
    np.testing.assert_array_equal(back.label, particles.label)
    np.testing.assert_array_equal(read_particles(path, 1, 3).counts, [0, 5])


def test_batches_appended_read_back_as_their_concatenation(tmp_path):
    parts = [sample((2, 1), seed=1), sample((0, 0), seed=2), sample((6, 0, 3), seed=3), sample((1,), seed=4)]
    with h5py.File(tmp_path / "jets.h5", "w") as file:
        for part in parts:  # widths 2, 0, 6, 1: the file widens once and pads the rest
            append_particles(file, part)
        with pytest.raises(ValueError, match="cannot be added"):
            append_particles(file, Particles(parts[0].values, parts[0].mask, FEATURES, columns=parts[0].columns))
    back, expected = read_particles(tmp_path / "jets.h5"), Particles.concat(parts)
    for what in ("values", "mask", "label", "weight"):
        np.testing.assert_array_equal(getattr(back, what), getattr(expected, what))
    np.testing.assert_array_equal(back.columns["jet_pt"], expected.columns["jet_pt"])


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    path = write_particles(tmp_path / "jets.h5", sample())
    with pytest.raises(FileExistsError, match="overwrite"):
        write_particles(path, sample((1,)))
    assert len(read_particles(path)) == 4


@pytest.mark.parametrize("values, mask, features, match", [
    (np.zeros((2, 3)), np.ones((2, 3), bool), ("a",), "shape"),
    (np.zeros((2, 3, 1)), np.ones((2, 2), bool), ("a",), "mask"),
    (np.zeros((2, 3, 1)), np.ones((2, 3)), ("a",), "boolean"),
    (np.zeros((1, 3, 1)), np.array([[True, False, True]]), ("a",), "first"),
    (np.zeros((2, 3, 2)), np.ones((2, 3), bool), ("a",), "features"),
    (np.zeros((2, 3, 2)), np.ones((2, 3), bool), ("a", "a"), "features"),
])
def test_bad_arrays_are_refused_by_name(values, mask, features, match):
    with pytest.raises(ValueError, match=match):
        Particles(values, mask, features)


def test_bad_counts_and_columns_are_refused_by_name():
    flat, counts = jagged([2, 1])
    with pytest.raises(ValueError, match="add up"):
        Particles.from_counts(flat, [2, 2], FEATURES)
    with pytest.raises(ValueError, match="non-negative"):
        Particles.from_counts(flat, [4, -1], FEATURES)
    with pytest.raises(ValueError, match="jet_pt"):
        Particles.from_counts(flat, counts, FEATURES, columns={"jet_pt": [1.0]})


def test_a_file_of_another_kind_or_truncated_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as file:
        file["particles"] = np.zeros((2, 3, 1))
    with pytest.raises(ValueError, match="not a likely particles file"):
        read_particles(other)
    good = write_particles(tmp_path / "jets.h5", sample())
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(ValueError, match="cut.h5"):
        read_particles(cut)
