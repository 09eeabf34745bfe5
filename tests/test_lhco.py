"""LHC Olympics features files: round trip, derived features, NaN policy, errors."""

import numpy as np
import pandas as pd
import pytest

from likely.data.lhco import RAW_COLUMNS, derive_features, read_lhco, write_lhco


def _raw(n=50, seed=0):
    rng = np.random.default_rng(seed)
    raw = {name: rng.uniform(0.1, 1.0, n) for name in RAW_COLUMNS}
    for j in (1, 2):
        raw[f"pxj{j}"] = rng.normal(0, 1500, n)
        raw[f"pyj{j}"] = rng.normal(0, 1500, n)
        raw[f"pzj{j}"] = rng.normal(0, 2000, n)
        raw[f"mj{j}"] = rng.uniform(20, 600, n)
    raw["label"] = (rng.random(n) < 0.3).astype(float)
    return raw


def _back_to_back(m1=100.0, m2=500.0, p=1500.0):
    """Two jets along +-x with momentum p and masses m1, m2 (GeV)."""
    raw = {name: np.zeros(1) for name in RAW_COLUMNS}
    raw.update(pxj1=np.array([p]), mj1=np.array([m1]), pxj2=np.array([-p]), mj2=np.array([m2]))
    raw.update(tau1j1=np.array([0.4]), tau2j1=np.array([0.1]), tau3j1=np.array([0.05]))
    raw.update(tau1j2=np.array([0.5]), tau2j2=np.array([0.4]), tau3j2=np.array([0.2]))
    return raw


def test_round_trip(tmp_path):
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)
    table = pd.read_hdf(tmp_path / "f.h5")
    assert list(table.columns) == [*RAW_COLUMNS, "label"]
    for name, values in raw.items():
        np.testing.assert_array_equal(table[name].to_numpy(), values.astype(np.float32))
    events = read_lhco(tmp_path / "f.h5")
    assert events.names == ["mjj", "mj1", "delta_mj", "tau21_j1", "tau21_j2"]
    np.testing.assert_array_equal(events.label, raw["label"])


def test_features_of_back_to_back_jets():
    raw = _back_to_back(m1=100.0, m2=500.0, p=1500.0)
    f = derive_features(raw)
    e1, e2 = np.hypot(1500.0, 100.0), np.hypot(1500.0, 500.0)
    assert f["mjj"][0] == pytest.approx(np.sqrt((e1 + e2) ** 2) / 1000, rel=1e-6)
    assert f["mj1"][0] == pytest.approx(0.1) and f["delta_mj"][0] == pytest.approx(0.4)
    assert f["tau21_j1"][0] == pytest.approx(0.25) and f["tau21_j2"][0] == pytest.approx(0.8)
    assert f["delta_r"][0] == pytest.approx(np.pi) and f["pt_j1"][0] == pytest.approx(1.5)


def test_jets_are_ordered_by_mass():
    raw = _back_to_back(m1=500.0, m2=100.0)  # the first jet is now the heavier one
    f = derive_features(raw)
    assert f["mj1"][0] == pytest.approx(0.1)
    assert f["tau21_j1"][0] == pytest.approx(0.8)  # the lighter jet's tau21 follows it


def test_mjj_is_invariant_under_transverse_rotation():
    raw = _raw()
    angle = 0.7
    rotated = dict(raw)
    for j in (1, 2):
        px, py = raw[f"pxj{j}"], raw[f"pyj{j}"]
        rotated[f"pxj{j}"] = np.cos(angle) * px - np.sin(angle) * py
        rotated[f"pyj{j}"] = np.sin(angle) * px + np.cos(angle) * py
    np.testing.assert_allclose(derive_features(rotated)["mjj"], derive_features(raw)["mjj"], rtol=1e-5)


@pytest.mark.parametrize("policy, expected", [("drop", 49), ("keep", 50)])
def test_nan_tau21(tmp_path, policy, expected):
    raw = _raw()
    raw["tau1j1"][3] = raw["tau1j2"][3] = 0.0
    write_lhco(tmp_path / "f.h5", raw)
    events = read_lhco(tmp_path / "f.h5", nan=policy)
    assert len(events) == expected


def test_nan_raise(tmp_path):
    raw = _raw()
    raw["tau1j1"][3] = raw["tau1j2"][3] = 0.0
    write_lhco(tmp_path / "f.h5", raw)
    with pytest.raises(ValueError, match="1 event"):
        read_lhco(tmp_path / "f.h5", nan="raise")


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        read_lhco(tmp_path / "nope.h5")
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)
    with pytest.raises(ValueError, match="unknown feature"):
        read_lhco(tmp_path / "f.h5", features=("mjj", "tau42"))
    with pytest.raises(FileExistsError, match="overwrite"):
        write_lhco(tmp_path / "f.h5", raw)
    pd.DataFrame({"pxj1": [1.0]}).to_hdf(tmp_path / "other.h5", key="df")
    with pytest.raises(ValueError, match="missing"):
        read_lhco(tmp_path / "other.h5")
    del raw["mj2"]
    with pytest.raises(ValueError, match="mj2"):
        write_lhco(tmp_path / "g.h5", raw)


def test_failed_overwrite_keeps_the_old_file(tmp_path):
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)
    broken = dict(raw, pxj1=np.full(50, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        write_lhco(tmp_path / "f.h5", broken, overwrite=True)
    np.testing.assert_array_equal(pd.read_hdf(tmp_path / "f.h5")["pxj1"].to_numpy(), raw["pxj1"].astype(np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"]
