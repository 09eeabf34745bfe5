"""JetNet files, read as published (the tests write schema-exact ones)."""

import h5py
import numpy as np
import pytest

from likely.data import read_jetnet


def jetnet_file(path, n=5, p=30, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, p + 1, n)
    mask = np.arange(p) < counts[:, None]
    features = np.concatenate([rng.normal(size=(n, p, 3)), mask[..., None]], axis=-1) * mask[..., None]
    jets = np.stack([rng.uniform(900, 1100, n), rng.normal(size=n), rng.uniform(10, 200, n), counts], axis=1)
    with h5py.File(path, "w") as file:
        file["particle_features"] = features.astype(np.float32)
        file["jet_features"] = jets.astype(np.float32)
    return features, jets


def test_particles_and_jet_features_are_read(tmp_path):
    features, jets = jetnet_file(tmp_path / "t.hdf5")
    read = read_jetnet(tmp_path / "t.hdf5", label=1)
    assert read.features == ("etarel", "phirel", "ptrel") and read.values.shape == (5, 30, 3)
    np.testing.assert_array_equal(read.counts, jets[:, 3])
    np.testing.assert_allclose(read.values, features[..., :3], rtol=1e-6)
    np.testing.assert_allclose(read.columns["jet_mass"], jets[:, 2], rtol=1e-6)
    assert set(read.label) == {1}
    assert len(read_jetnet(tmp_path / "t.hdf5", 1, 3)) == 2


def test_a_mask_with_holes_is_compacted(tmp_path):
    path = tmp_path / "g.hdf5"
    features = np.zeros((1, 4, 4), np.float32)
    features[0, [0, 2]] = [[0.1, 0.2, 0.5, 1], [0.3, 0.4, 0.2, 1]]
    with h5py.File(path, "w") as file:
        file["particle_features"] = features
        file["jet_features"] = np.array([[1000, 0, 50, 2]], np.float32)
    read = read_jetnet(path)
    np.testing.assert_allclose(read.values[0, :2, 2], [0.5, 0.2])
    np.testing.assert_array_equal(read.mask[0], [True, True, False, False])


def test_other_files_are_refused_by_name(tmp_path):
    other = tmp_path / "showers.h5"
    with h5py.File(other, "w") as file:
        file["showers"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match="not a JetNet file"):
        read_jetnet(other)
    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as file:
        file["particle_features"] = np.zeros((2, 30, 3))
        file["jet_features"] = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"\(N, P, 4\)"):
        read_jetnet(wrong)
    jetnet_file(tmp_path / "ok.h5")
    cut = tmp_path / "cut.h5"
    cut.write_bytes((tmp_path / "ok.h5").read_bytes()[:1500])
    with pytest.raises(ValueError, match="cut.h5"):
        read_jetnet(cut)
