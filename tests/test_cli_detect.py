"""``likely detect fm train | score | report`` on a small dijet-like features file."""

import json

import numpy as np
import pytest

from likely.cli import main
from likely.data.lhco import FM_FEATURES, read_fm_features, write_lhco
from likely.detect import FluxMutability


def dijet_file(path, n=1200, signal=300, seed=0):
    """QCD-like jets (label 0) and top-like jets (label 1: mj1 ≈ 175 GeV, small τ3/τ2)."""
    rng = np.random.default_rng(seed)
    total = n + signal
    pt1 = rng.uniform(460, 790, total)
    pt2 = pt1 * rng.uniform(0.5, 0.95, total)
    phi = rng.uniform(-np.pi, np.pi, total)
    label = np.r_[np.zeros(n), np.ones(signal)]
    m1 = np.where(label == 1, rng.normal(175, 15, total), 0.1 * pt1 * rng.uniform(0.3, 1.5, total))
    tau1 = rng.uniform(0.1, 0.5, (2, total))
    tau2 = tau1 * rng.uniform(0.3, 0.9, (2, total))
    tau3 = tau2 * np.where(label == 1, rng.uniform(0.2, 0.5, total), rng.uniform(0.5, 0.9, total))
    raw = {
        "pxj1": pt1 * np.cos(phi), "pyj1": pt1 * np.sin(phi), "pzj1": rng.normal(0, 300, total), "mj1": m1,
        "tau1j1": tau1[0], "tau2j1": tau2[0], "tau3j1": tau3[0],
        "pxj2": -pt2 * np.cos(phi), "pyj2": -pt2 * np.sin(phi), "pzj2": rng.normal(0, 300, total),
        "mj2": 0.1 * pt2 * rng.uniform(0.3, 1.5, total),
        "tau1j2": tau1[1], "tau2j2": tau2[1], "tau3j2": tau3[1], "label": label,
    }
    return write_lhco(path, raw)


def test_read_fm_features_condition_and_features(tmp_path):
    X, pt, labels = read_fm_features([dijet_file(tmp_path / "d.h5", n=50, signal=10)])
    assert X.shape == (60, len(FM_FEATURES)) and labels.tolist() == [0] * 50 + [1] * 10
    assert 460 <= pt.min() and pt.max() <= 790


def test_read_fm_features_columns_and_non_finite_rows(tmp_path):
    from likely.data.lhco import read_lhco_raw

    path = dijet_file(tmp_path / "d.h5", n=20, signal=0)
    raw = read_lhco_raw(path)
    raw.loc[3, "tau2j2"] = np.nan
    write_lhco(tmp_path / "nan.h5", {name: raw[name].to_numpy() for name in raw.columns})
    X, pt, labels = read_fm_features([tmp_path / "nan.h5", path])
    assert len(X) == 39 and labels.tolist() == [0] * 39  # the NaN row of the first file is dropped
    keep = np.r_[np.arange(3), np.arange(4, 20)]
    np.testing.assert_allclose(pt[:19], np.hypot(raw["pxj1"], raw["pyj1"])[keep], rtol=1e-6)
    np.testing.assert_allclose(X[:19, FM_FEATURES.index("ptj2")], np.hypot(raw["pxj2"], raw["pyj2"])[keep], rtol=1e-6)
    np.testing.assert_array_equal(X[:19, FM_FEATURES.index("mj1")], raw["mj1"].to_numpy(np.float32)[keep])
    np.testing.assert_array_equal(X[19:], read_fm_features([path])[0])


def test_strict_refuses_non_finite_events(tmp_path, capsys):
    from likely.data.lhco import read_lhco_raw

    raw = read_lhco_raw(dijet_file(tmp_path / "d.h5", n=20, signal=0))
    raw.loc[3, "pzj1"] = np.inf
    raw.to_hdf(tmp_path / "inf.h5", key="df")
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "detect", "fm", "train", "--data", str(tmp_path / "inf.h5"), "--strict", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "inf.h5: 1 of 20 event(s) have NaN/inf in pzj1 (1)" in capsys.readouterr().err


@pytest.mark.slow
def test_train_score_report(tmp_path, capsys):
    data = str(dijet_file(tmp_path / "dijets.h5"))
    run = tmp_path / "run"
    train = ["-q", "detect", "fm", "train", "--data", data, "--out", str(run), "--epochs", "2", "--transforms", "2", "--bins", "2",
             "--reference-size", "200", "--calibration-size", "200", "--min-cluster-size", "120",
             "--min-samples", "10", "--residuals", "crossfit", "--folds", "2"]
    assert main(train) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["events"] == 1200 and config["residuals"] == "crossfit"
    assert config["input"] == {"source": data, "n_read": 1500, "n_dropped": 0, "columns": {}}
    model = FluxMutability.load(run / "model", device="cpu")
    assert len(model.fold_autoencoders_) == 2 and not hasattr(model, "autoencoder_")
    assert main(["-q", "detect", "fm", "score", "--run", str(run), "--data", data]) == 0
    scores, (X, pt, labels) = np.load(run / "scores.npz"), read_fm_features([data])
    trained = pt[labels == 0]
    assert len(scores["score"]) == len(X) == 1500  # events past the trained pT range are scored, and marked
    np.testing.assert_array_equal(scores["outside"], (pt < trained.min()) | (pt > trained.max()))
    assert main(["-q", "detect", "fm", "report", "--run", str(run)]) == 0
    report = (run / "report.md").read_text()
    assert "| 95 % |" in report and "AUC of the outlier score" in report
    assert "1500 events read, none with NaN/inf" in report
    assert (run / "score_vs_pt.png").stat().st_size > 0
    steps = json.loads((run / "thresholds.json").read_text())  # thresholds vs pT over the trained range
    assert np.all(np.diff(steps["edges"]) > 0) and len(steps["0.99"]) == len(steps["edges"]) - 1
    assert np.all(np.asarray(steps["0.99"]) >= np.asarray(steps["0.68"]))
    scores = np.load(run / "scores.npz")
    assert len(scores["score"]) == 1500 and set(np.unique(scores["label"])) == {0, 1}
    # nothing is overwritten without --force
    for argv in (train, ["-q", "detect", "fm", "score", "--run", str(run), "--data", data]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert "--force" in capsys.readouterr().err
