"""LHC Olympics features files: round trip, derived features, NaN policy, errors."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from likely.data.lhco import (
    DEFAULT_FEATURES, FEATURES, JET_COLUMNS, RAW_COLUMNS, derive_features, read_fm_features, read_lhco,
    read_lhco_raw, write_lhco,
)


def _raw(n=50, seed=0):
    rng = np.random.default_rng(seed)
    raw = {name: rng.uniform(0.1, 1.0, n) for name in JET_COLUMNS}
    for j in (1, 2):
        raw[f"pxj{j}"] = rng.normal(0, 1500, n)
        raw[f"pyj{j}"] = rng.normal(0, 1500, n)
        raw[f"pzj{j}"] = rng.normal(0, 2000, n)
        raw[f"mj{j}"] = rng.uniform(20, 600, n)
    raw["label"] = (rng.random(n) < 0.3).astype(float)
    return raw


def _two_jets(p1, p2, m1, m2, taus1=(0.4, 0.1, 0.05), taus2=(0.5, 0.4, 0.2)):
    """One event: jets with 3-momenta p1, p2 (GeV), masses m1, m2 and (tau1, tau2, tau3)."""
    raw = {}
    for j, (p, m, taus) in enumerate([(p1, m1, taus1), (p2, m2, taus2)], start=1):
        raw.update({f"pxj{j}": [p[0]], f"pyj{j}": [p[1]], f"pzj{j}": [p[2]], f"mj{j}": [m]})
        raw.update({f"tau{n}j{j}": [tau] for n, tau in enumerate(taus, start=1)})
    return {name: np.asarray(values, dtype=float) for name, values in raw.items()}


def test_columns():
    assert RAW_COLUMNS == (
        "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
        "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2", "label",
    )
    assert DEFAULT_FEATURES[0] == "mjj" and set(DEFAULT_FEATURES) <= set(FEATURES)


def test_round_trip(tmp_path):
    raw = _raw()
    assert write_lhco(tmp_path / "f.h5", raw) == tmp_path / "f.h5"
    for table in (pd.read_hdf(tmp_path / "f.h5"), read_lhco_raw(tmp_path / "f.h5")):
        assert list(table.columns) == list(RAW_COLUMNS)
        for name, values in raw.items():
            np.testing.assert_array_equal(table[name].to_numpy(), values.astype(np.float32))
    events = read_lhco(tmp_path / "f.h5")
    assert events.names == list(DEFAULT_FEATURES)
    np.testing.assert_array_equal(events.label, raw["label"])
    expected = derive_features({k: v.astype(np.float32) for k, v in raw.items()})
    np.testing.assert_array_equal(events["tau21_j2"], expected["tau21_j2"])


def test_written_file_has_the_published_layout(tmp_path):
    """Key 'df', pandas fixed format, float32: like events_anomalydetection_v2.features.h5."""
    write_lhco(tmp_path / "f.h5", _raw())
    with pd.HDFStore(tmp_path / "f.h5", mode="r") as store:
        assert store.keys() == ["/df"]
        assert not store.get_storer("df").is_table
        assert set(store["df"].dtypes) == {np.dtype(np.float32)}


def test_dataframe_in_and_no_label(tmp_path):
    raw = pd.DataFrame(_raw()).drop(columns="label")
    write_lhco(tmp_path / "f.h5", raw)
    assert list(read_lhco_raw(tmp_path / "f.h5").columns) == list(JET_COLUMNS)
    events = read_lhco(tmp_path / "f.h5", features=("pt_j2", "mjj"))
    assert events.label is None and events.names == ["pt_j2", "mjj"]
    np.testing.assert_allclose(events["mjj"], derive_features(raw)["mjj"], rtol=1e-6)


def test_features_of_back_to_back_jets():
    f = derive_features(_two_jets((1500.0, 0, 0), (-1500.0, 0, 0), 100.0, 500.0))
    e1, e2 = np.hypot(1500.0, 100.0), np.hypot(1500.0, 500.0)
    assert f["mjj"][0] == pytest.approx((e1 + e2) / 1000, rel=1e-6)
    assert f["mj1"][0] == pytest.approx(0.1) and f["mj2"][0] == pytest.approx(0.5)
    assert f["delta_mj"][0] == pytest.approx(0.4)
    assert f["tau21_j1"][0] == pytest.approx(0.25) and f["tau21_j2"][0] == pytest.approx(0.8)
    assert f["tau32_j1"][0] == pytest.approx(0.5) and f["tau32_j2"][0] == pytest.approx(0.5)
    assert f["delta_r"][0] == pytest.approx(np.pi)
    assert f["pt_j1"][0] == pytest.approx(1.5) and f["pt_j2"][0] == pytest.approx(1.5)
    assert all(values.dtype == np.float32 and values.shape == (1,) for values in f.values())
    assert set(f) == set(FEATURES)


def test_features_with_longitudinal_momenta():
    # jet 1: pT 1000 along +y, eta = asinh(0.75); jet 2: pT 1200 along +x, eta = asinh(-0.5)
    p1, p2, m1, m2 = (0.0, 1000.0, 750.0), (1200.0, 0.0, -600.0), 80.0, 300.0
    f = derive_features(_two_jets(p1, p2, m1, m2))
    e1 = np.sqrt(1000.0**2 + 750.0**2 + m1**2)
    e2 = np.sqrt(1200.0**2 + 600.0**2 + m2**2)
    mjj = np.sqrt((e1 + e2) ** 2 - 1200.0**2 - 1000.0**2 - 150.0**2)
    assert f["mjj"][0] == pytest.approx(mjj / 1000, rel=1e-6)
    assert f["delta_r"][0] == pytest.approx(np.hypot(np.arcsinh(0.75) - np.arcsinh(-0.5), np.pi / 2), rel=1e-6)
    assert f["pt_j1"][0] == pytest.approx(1.0) and f["pt_j2"][0] == pytest.approx(1.2)


def test_jets_are_ordered_by_mass():
    # the first (leading-pT) jet is the heavier one: j1/j2 of the features swap
    f = derive_features(_two_jets((2000.0, 0, 0), (-1500.0, 0, 0), 500.0, 100.0))
    assert f["mj1"][0] == pytest.approx(0.1) and f["mj2"][0] == pytest.approx(0.5)
    assert f["delta_mj"][0] == pytest.approx(0.4)
    assert f["tau21_j1"][0] == pytest.approx(0.8)  # the lighter jet's tau21 follows it
    assert f["tau21_j2"][0] == pytest.approx(0.25)
    assert f["pt_j1"][0] == pytest.approx(1.5) and f["pt_j2"][0] == pytest.approx(2.0)


def test_delta_phi_wraps_around():
    # phi = +170 deg and -170 deg: 20 deg apart, not 340
    a = np.deg2rad(170.0)
    f = derive_features(_two_jets((1000 * np.cos(a), 1000 * np.sin(a), 0), (1000 * np.cos(a), -1000 * np.sin(a), 0),
                                  50.0, 60.0))
    assert f["delta_r"][0] == pytest.approx(np.deg2rad(20.0), rel=1e-5)


def test_mjj_is_invariant_under_transverse_rotation():
    raw = _raw()
    angle = 0.7
    rotated = dict(raw)
    for j in (1, 2):
        px, py = raw[f"pxj{j}"], raw[f"pyj{j}"]
        rotated[f"pxj{j}"] = np.cos(angle) * px - np.sin(angle) * py
        rotated[f"pyj{j}"] = np.sin(angle) * px + np.cos(angle) * py
    before, after = derive_features(raw), derive_features(rotated)
    assert not np.allclose(rotated["pxj1"], raw["pxj1"])
    for name in ("mjj", "delta_r", "pt_j1", "pt_j2"):
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, err_msg=name)


def test_derive_features_keeps_nan_for_zero_tau():
    raw = _raw(n=4)
    raw["tau1j1"][1] = raw["tau1j2"][1] = 0.0
    raw["tau2j1"][2] = raw["tau2j2"][2] = 0.0
    f = derive_features(raw)
    np.testing.assert_array_equal(np.isnan(f["tau21_j1"]), [False, True, False, False])
    np.testing.assert_array_equal(np.isnan(f["tau21_j2"]), [False, True, False, False])
    np.testing.assert_array_equal(np.isnan(f["tau32_j1"]), [False, False, True, False])
    assert np.isfinite(f["mjj"]).all()


def _file_with_a_one_particle_jet(tmp_path):
    raw = _raw()
    raw["tau1j1"][3] = 0.0  # tau21 NaN for whichever jet this is after mass ordering
    raw["tau1j2"][3] = 0.0
    write_lhco(tmp_path / "f.h5", raw)
    return tmp_path / "f.h5", raw


def _file_with_nonfinite_kinematics(tmp_path):
    """The issue-12 reproduction: one mj1 = NaN and one pxj1 = inf, written past write_lhco's checks."""
    raw = _raw()
    raw["mj1"][5], raw["pxj1"][7] = np.nan, np.inf
    path = tmp_path / "bad.h5"
    pd.DataFrame({name: np.asarray(raw[name], np.float32) for name in RAW_COLUMNS}).to_hdf(path, key="df")
    return path, raw


def test_invalid_drop_logs_count_and_columns(tmp_path, caplog):
    path, raw = _file_with_a_one_particle_jet(tmp_path)
    with caplog.at_level(logging.WARNING, logger="likely.data.invalid"):
        events, account = read_lhco(path, return_invalid=True)
    assert len(events) == 49 and np.isfinite(events.array()).all()
    np.testing.assert_array_equal(events.label, np.delete(raw["label"], 3))
    assert "1 of 50 event(s)" in caplog.text and "tau21_j1" in caplog.text
    assert (account.n_read, account.n_dropped) == (50, 1)
    # features that do not involve tau1 keep every event
    assert len(read_lhco(path, features=("mjj", "mj1"))) == 50


def test_invalid_kinematics_dropped_without_numpy_warnings(tmp_path):
    path, raw = _file_with_nonfinite_kinematics(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events, account = read_lhco(path, return_invalid=True)
    assert len(events) == 48 and np.isfinite(events.array()).all()
    np.testing.assert_array_equal(events.label, np.delete(raw["label"], [5, 7]))
    assert account.columns["mj1"] == 1 and account.columns["pxj1"] == 1 and account.n_dropped == 2
    # a feature that does not use pxj1 keeps event 7
    assert len(read_lhco(path, features=("mj1",))) == 49


def test_invalid_keep(tmp_path):
    path, _ = _file_with_a_one_particle_jet(tmp_path)
    events = read_lhco(path, on_invalid="keep")
    assert len(events) == 50
    assert np.isnan(events["tau21_j1"][3]) and np.isnan(events["tau21_j2"][3])
    assert np.isfinite(np.delete(events.array(), 3, axis=0)).all()


def test_invalid_raise(tmp_path):
    path, _ = _file_with_nonfinite_kinematics(tmp_path)
    with pytest.raises(ValueError, match=r"bad.h5: 2 of 50 event\(s\) have NaN/inf in .*mj1 \(1\)"):
        read_lhco(path, on_invalid="raise")
    with pytest.raises(ValueError, match="on_invalid"):
        read_lhco(path, on_invalid="ignore")


def test_fm_features_follow_the_policy(tmp_path):
    path, _ = _file_with_nonfinite_kinematics(tmp_path)
    X, pt, labels, account = read_fm_features([path], return_invalid=True)
    assert len(X) == len(pt) == len(labels) == 48 and np.isfinite(X).all()
    assert account.n_dropped == 2
    with pytest.raises(ValueError, match="2 of 50"):
        read_fm_features([path], on_invalid="raise")
    with pytest.raises(TypeError, match="paths"):
        read_fm_features(path)


def test_unreadable_file_gives_one_line(tmp_path):
    for name, content in {"empty.h5": b"", "csv.h5": b"a,b\n1,2\n"}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name) as error:
            read_lhco(tmp_path / name)
        assert "\n" not in str(error.value) and "back trace" not in str(error.value)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        read_lhco(tmp_path / "nope.h5")
    write_lhco(tmp_path / "f.h5", _raw())
    with pytest.raises(ValueError, match=r"unknown feature.*tau42.*available features.*tau32_j1"):
        read_lhco(tmp_path / "f.h5", features=("mjj", "tau42"))
    with pytest.raises(TypeError, match="sequence"):
        read_lhco(tmp_path / "f.h5", features="mjj")
    pd.DataFrame({"pxj1": [1.0], "mj1": [2.0]}).to_hdf(tmp_path / "other.h5", key="df")
    with pytest.raises(ValueError, match=r"missing.*'pyj1'.*'tau3j2'"):
        read_lhco(tmp_path / "other.h5")
    (tmp_path / "text.h5").write_text("not an HDF file")
    with pytest.raises(ValueError, match="not a readable pandas HDF file"):
        read_lhco(tmp_path / "text.h5")
    bad_label = pd.DataFrame(_raw()).assign(label=2.0)
    bad_label.to_hdf(tmp_path / "label.h5", key="df")
    with pytest.raises(ValueError, match="label"):
        read_lhco(tmp_path / "label.h5")


def test_other_key_and_several_keys(tmp_path):
    table = pd.DataFrame(_raw()).astype(np.float32)
    table.to_hdf(tmp_path / "one.h5", key="events")
    assert len(read_lhco(tmp_path / "one.h5")) == 50
    table.to_hdf(tmp_path / "two.h5", key="a")
    table.to_hdf(tmp_path / "two.h5", key="b")
    with pytest.raises(ValueError, match="none under the key 'df'"):
        read_lhco(tmp_path / "two.h5")


def test_write_errors(tmp_path):
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)
    with pytest.raises(FileExistsError, match=r"f\.h5.*overwrite=True"):
        write_lhco(tmp_path / "f.h5", raw)
    with pytest.raises(ValueError, match="mj2"):
        write_lhco(tmp_path / "g.h5", {k: v for k, v in raw.items() if k != "mj2"})
    with pytest.raises(ValueError, match="different lengths"):
        write_lhco(tmp_path / "g.h5", dict(raw, pzj2=raw["pzj2"][:-1]))
    with pytest.raises(ValueError, match=r"raw\['label'\].*0 and 1"):
        write_lhco(tmp_path / "g.h5", dict(raw, label=np.full(50, 0.5)))
    with pytest.raises(ValueError, match=r"raw\['label'\].*shape"):
        write_lhco(tmp_path / "g.h5", dict(raw, label=np.zeros(49)))
    with pytest.raises(ValueError, match=r"raw\['mj1'\].*inf"):
        write_lhco(tmp_path / "g.h5", dict(raw, mj1=np.full(50, 1e300)))  # overflows float32
    assert not (tmp_path / "g.h5").exists()
    write_lhco(tmp_path / "f.h5", _raw(seed=1), overwrite=True)
    np.testing.assert_array_equal(read_lhco_raw(tmp_path / "f.h5")["pxj1"],
                                  _raw(seed=1)["pxj1"].astype(np.float32))


def test_failed_overwrite_keeps_the_old_file(tmp_path):
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)
    broken = dict(raw, pxj1=np.full(50, np.nan))
    with pytest.raises(ValueError, match=r"pxj1.*NaN"):
        write_lhco(tmp_path / "f.h5", broken, overwrite=True)
    np.testing.assert_array_equal(pd.read_hdf(tmp_path / "f.h5")["pxj1"].to_numpy(), raw["pxj1"].astype(np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"]


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    raw = _raw()
    write_lhco(tmp_path / "f.h5", raw)

    def crash(self, path, *args, **kwargs):  # leaves a half-written file behind, then fails
        with open(path, "wb") as stream:
            stream.write(b"\x89HDF half-written")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_hdf", crash)
    with pytest.raises(OSError, match="disk full"):
        write_lhco(tmp_path / "f.h5", _raw(seed=1), overwrite=True)
    monkeypatch.undo()
    np.testing.assert_array_equal(read_lhco_raw(tmp_path / "f.h5")["pxj1"], raw["pxj1"].astype(np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"]
