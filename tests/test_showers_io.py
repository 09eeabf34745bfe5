"""Showers container and the CaloGAN / CaloChallenge HDF5 readers and writers."""

import h5py
import numpy as np
import pytest

from likely.data.showers import (
    MEV_PER_GEV,
    Showers,
    read_calochallenge,
    read_calogan,
    read_showers,
    write_calochallenge,
    write_calogan,
    write_showers,
)


@pytest.fixture
def showers():
    rng = np.random.default_rng(0)
    energies = rng.exponential(5.0, (6, 2 * 3 + 4)).astype(np.float32)
    return Showers(energies, rng.uniform(1e3, 1e5, 6), layer_shapes=[(2, 3), (1, 4)],
                   label=[0, 1, 0, 1, 1, 0])


def test_layers(showers):
    assert showers.layer_sizes == (6, 4) and showers.n_voxels == 10
    np.testing.assert_array_equal(showers.layer(1), showers.energies[:, 6:])
    np.testing.assert_allclose(showers.layer_energies().sum(1), showers.total_energy(), rtol=1e-6)
    sub = showers[showers.label == 1]
    assert len(sub) == 3 and sub.layer_shapes == showers.layer_shapes
    both = Showers.concatenate([showers, sub])
    assert len(both) == 9 and both.label.tolist()[-3:] == [1, 1, 1]


def test_empty_layer_sums_to_zero():
    s = Showers([[1.0, 2.0]], [5.0], layer_sizes=[1, 0, 1])
    assert s.layer_energies().tolist() == [[1.0, 0.0, 2.0]]


def test_calogan_round_trip(tmp_path, showers):
    path = write_calogan(tmp_path / "s.h5", showers)
    with h5py.File(path) as f:
        assert f["layer_0"].shape == (6, 2, 3) and f["layer_1"].shape == (6, 1, 4)
        np.testing.assert_allclose(f["energy"][:, 0], showers.incident_energies / 1000, rtol=1e-6)
    back = read_calogan(path)
    np.testing.assert_array_equal(back.energies, showers.energies)
    np.testing.assert_allclose(back.incident_energies, showers.incident_energies, rtol=1e-6)
    assert back.layer_shapes == showers.layer_shapes and back.label.tolist() == showers.label.tolist()
    with pytest.raises(FileExistsError):
        write_calogan(path, showers)
    write_calogan(path, showers[:2], overwrite=True)
    assert len(read_calogan(path)) == 2


def test_calochallenge_round_trip(tmp_path, showers):
    path = write_calochallenge(tmp_path / "s.h5", showers)
    with h5py.File(path) as f:
        assert f["showers"].shape == (6, 10) and f["incident_energies"].shape == (6, 1)
    back = read_calochallenge(path, layer_sizes=[6, 4])
    np.testing.assert_array_equal(back.energies, showers.energies)
    np.testing.assert_allclose(back.incident_energies, showers.incident_energies, rtol=1e-6)
    with pytest.raises(ValueError, match="sum to 11"):
        read_calochallenge(path, layer_sizes=[6, 5])


def test_bad_input():
    with pytest.raises(ValueError, match="negative"):
        Showers([[1.0, -2.0]], [5.0])
    with pytest.raises(ValueError, match="voxels per shower"):
        Showers([[1.0, 2.0]], [5.0], layer_sizes=[3])
    with pytest.raises(ValueError, match="incident_energies must be > 0"):
        Showers([[1.0, 2.0]], [0.0])
    with pytest.raises(ValueError, match="rows"):
        Showers([[1.0, 2.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="deposit no energy"):
        Showers([[1.0, 2.0], [0.0, 0.0]], [5.0, 5.0]).check_nonzero()
    with pytest.raises(ValueError, match="layer_shapes"):
        write_calogan("unused.h5", Showers([[1.0]], [1.0]))


def test_reader_errors(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["showers"] = np.ones((2, 3))
    with pytest.raises(ValueError, match="incident_energies"):
        read_calochallenge(path)
    with pytest.raises(ValueError, match="CaloGAN"):
        read_calogan(path)
    with pytest.raises(FileNotFoundError):
        read_calogan(tmp_path / "missing.h5")


def test_bundled_showers():
    from likely.data.samples import SHOWER_SIGNALS, load_bundled_showers

    photons = load_bundled_showers()
    assert photons.layer_sizes == (288, 144, 72) and set(photons.label.tolist()) == {0}
    e = photons.incident_energies
    assert e.min() >= 1e3 and e.max() <= 1e5
    for signal in SHOWER_SIGNALS:
        s = load_bundled_showers(signal)
        assert len(s) == 500 and set(s.label.tolist()) == {1}
        np.testing.assert_array_equal(s.incident_energies, 50_000.0)
    with pytest.raises(ValueError, match="signal must be one of"):
        load_bundled_showers((1.0, 1.0))


def test_gev_view_round_trip_writes_mev(tmp_path):
    rng = np.random.default_rng(3)
    showers, e_inc = rng.exponential(0.5, (10, 7)).astype(np.float32), rng.uniform(1.0, 100.0, 10)
    path = write_showers(tmp_path / "x.h5", showers, e_inc)
    with h5py.File(path) as file:  # MeV on disk
        assert file["incident_energies"].shape == (10, 1)
        np.testing.assert_allclose(file["incident_energies"][:, 0], e_inc * 1000, rtol=1e-6)
        np.testing.assert_allclose(file["showers"][:], showers * 1000, rtol=1e-6)
    back, e_back = read_showers(path)  # GeV in memory
    assert back.dtype == np.float32 and back.shape == (10, 7) and e_back.shape == (10,)
    np.testing.assert_allclose(back, showers, rtol=1e-6)
    np.testing.assert_allclose(e_back, e_inc, rtol=1e-6)
    assert MEV_PER_GEV == 1000.0
    np.testing.assert_allclose(read_calochallenge(path).incident_energies / MEV_PER_GEV, e_inc, rtol=1e-6)
    first, _ = read_showers(path, layers=[3, 4], max_showers=4)
    np.testing.assert_array_equal(first, back[:4])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_showers(path, showers, e_inc)
    write_showers(path, 2 * showers, e_inc, overwrite=True)
    np.testing.assert_allclose(read_showers(path)[0], 2 * showers, rtol=1e-6)


def test_gev_view_errors(tmp_path):
    showers = np.ones((3, 4), np.float32)
    with h5py.File(tmp_path / "bad.h5", "w") as file:
        file["showers"] = showers
    with pytest.raises(ValueError, match="incident_energies"):
        read_showers(tmp_path / "bad.h5")
    showers[1] = 0.0
    write_showers(tmp_path / "empty.h5", showers, np.full(3, 10.0))
    with pytest.raises(ValueError, match="zero-energy shower"):
        read_showers(tmp_path / "empty.h5")
    assert read_showers(tmp_path / "empty.h5", allow_empty=True)[0][1].sum() == 0
    with pytest.raises(ValueError, match="layer_sizes"):
        read_showers(tmp_path / "empty.h5", layers=[2, 3])
    with pytest.raises(ValueError, match="incident_energies must be > 0"):
        write_showers(tmp_path / "neg.h5", showers, np.full(3, -1.0))


def _poison(path, dataset, row, value):
    with h5py.File(path, "r+") as handle:
        data = handle[dataset][:]
        data.reshape(len(data), -1)[row, 0] = value
        handle[dataset][...] = data


@pytest.mark.parametrize("fmt", ["calogan", "calochallenge"])
def test_nonfinite_showers_follow_the_policy(tmp_path, showers, fmt):
    path = tmp_path / "s.h5"
    write, read = {"calogan": (write_calogan, read_calogan), "calochallenge": (write_calochallenge, read_calochallenge)}[fmt]
    write(path, showers)
    voxels, incident = ("layer_1", "energy") if fmt == "calogan" else ("showers", "incident_energies")
    _poison(path, voxels, 2, np.nan)
    _poison(path, incident, 4, np.inf)
    read_back, account = read(path, return_invalid=True)
    assert len(read_back) == 4 and account.n_dropped == 2
    assert account.columns == {voxels: 1, incident: 1}
    np.testing.assert_array_equal(read_back.label, np.delete(showers.label, [2, 4]))
    np.testing.assert_array_equal(read_back.energies, np.delete(showers.energies, [2, 4], axis=0))
    with pytest.raises(ValueError, match=r"2 of 6 event"):
        read(path, on_invalid="raise")
    with pytest.raises(ValueError, match="on_invalid"):
        read(path, on_invalid="keep")


@pytest.mark.parametrize("content", [b"", b"incident_energies,showers\n1,2\n", b"\x89HDF\r\n\x1a\n" + b"\0" * 40])
def test_unreadable_shower_files_give_one_line(tmp_path, content):
    path = tmp_path / "bad.h5"
    path.write_bytes(content)
    for read in (read_calogan, read_calochallenge, read_showers):
        with pytest.raises(ValueError, match="bad.h5 is not a readable HDF5 shower file") as error:
            read(path)
        assert "\n" not in str(error.value)


def test_truncated_shower_file_gives_one_line(tmp_path, showers):
    path = tmp_path / "s.h5"
    write_calochallenge(path, Showers(np.tile(showers.energies, (200, 1)), np.tile(showers.incident_energies, 200)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="s.h5 is not a readable HDF5 shower file") as error:
        read_calochallenge(path)
    assert "\n" not in str(error.value)
