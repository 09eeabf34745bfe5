"""``likely calo``: train, sample, score and calibrate on a small CaloChallenge-style file."""

import json

import numpy as np
import pytest
from calo_toy import SIZES, toy_showers

from likely.cli import main
from likely.data.showers import read_showers, write_showers


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("calo")
    showers, e_inc = toy_showers(600, seed=31)
    write_showers(root / "train.h5", showers, e_inc)
    write_showers(root / "test.h5", *toy_showers(100, seed=33))
    args = ["-q", "calo", "train", "--data", str(root / "train.h5"), "--layers", *map(str, SIZES),
            "--epochs", "2", "2", "--batch-size", "100", "--lr", "1e-3", "--device", "cpu", "--out", str(root / "run")]
    assert main(args) == 0
    return root


def test_train_writes_model_and_lambda(run):
    results = json.loads((run / "run" / "results.json").read_text())
    assert results["lambda"] == pytest.approx(5.0, rel=0.02)
    assert (run / "run" / "model" / "weights.pt").stat().st_size > 0


def test_sample_score_calibrate(run):
    assert main(["-q", "calo", "sample", "--run", str(run / "run"), "--log-uniform", "2", "50", "--n", "50",
                 "--out", str(run / "fake.h5")]) == 0
    fake, e_fake = read_showers(run / "fake.h5")
    assert fake.shape == (50, sum(SIZES)) and (e_fake >= 2).all() and (e_fake <= 50).all()
    assert main(["-q", "calo", "score", "--run", str(run / "run"), "--data", str(run / "test.h5"),
                 "--out", str(run / "scores.npz")]) == 0
    scores = np.load(run / "scores.npz")
    assert scores["score"].shape == (100,) and np.isfinite(scores["score"]).all() and scores["space"] == "flows"
    assert main(["-q", "calo", "score", "--run", str(run / "run"), "--data", str(run / "test.h5"),
                 "--space", "voxels", "--out", str(run / "voxels.npz")]) == 0
    voxels = np.load(run / "voxels.npz")["score"]
    assert voxels.shape == (100,) and not np.allclose(voxels, scores["score"])  # the Jacobian differs per shower
    assert main(["-q", "calo", "calibrate", "--run", str(run / "run"), "--data", str(run / "test.h5"),
                 "--bins", "3", "--out", str(run / "calib")]) == 0
    table = json.loads((run / "calib" / "results.json").read_text())
    assert len(table["bias"]) == 3 and (run / "calib" / "calibration.png").stat().st_size > 0


def test_existing_output_is_not_overwritten(run, capsys):
    (run / "keep.h5").write_text("precious")
    with pytest.raises(SystemExit):
        main(["-q", "calo", "sample", "--run", str(run / "run"), "--like", str(run / "train.h5"),
              "--out", str(run / "keep.h5")])
    assert "--force" in capsys.readouterr().err
    assert (run / "keep.h5").read_text() == "precious"


def test_coupling_flow_ii_is_recorded_and_used(run):
    args = ["-q", "calo", "train", "--data", str(run / "train.h5"), "--layers", *map(str, SIZES), "--epochs", "1", "1",
            "--flow-ii", "coupling", "--device", "cpu", "--out", str(run / "coupling")]
    assert main(args) == 0
    assert json.loads((run / "coupling" / "config.json").read_text())["flow_ii"] == "coupling"
    from likely.calo import CaloFlow

    assert CaloFlow.load(run / "coupling" / "model").flow_ii_.kind == "coupling"


def test_evaluate_two_halves_of_one_sample(tmp_path):
    from likely.data.samples import load_bundled_showers
    from likely.data.showers import write_calochallenge

    photons = load_bundled_showers()
    half = len(photons) // 2
    write_calochallenge(tmp_path / "a.h5", photons[:half])
    write_calochallenge(tmp_path / "b.h5", photons[half:])
    assert main(["-q", "calo", "evaluate", "--reference", str(tmp_path / "a.h5"), "--generated",
                 str(tmp_path / "b.h5"), "--threshold", "0.002", "--out", str(tmp_path / "ev")]) == 0
    results = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert json.loads((tmp_path / "ev" / "config.json").read_text())["threshold_mev"] == 0.002
    # one distribution: the classifiers cannot tell the halves apart, the histograms agree
    assert abs(results["low_level"]["auc"] - 0.5) < 0.1 and abs(results["high_level"]["auc"] - 0.5) < 0.1
    assert max(results["separation_power"].values()) < 0.15
    assert (tmp_path / "ev" / "features.png").stat().st_size > 0


def test_calo_generate_is_the_shower_generator(tmp_path):
    from likely.data.showers import read_calochallenge

    assert main(["-q", "calo", "generate", "--events", "20", "--format", "calochallenge",
                 "--out", str(tmp_path / "photons.h5")]) == 0
    photons = read_calochallenge(tmp_path / "photons.h5")
    assert photons.energies.shape == (20, 504) and (photons.total_energy() > 0).all()


def test_non_finite_showers_are_dropped_and_recorded_or_refused(run, tmp_path, capsys):
    import h5py

    poisoned = tmp_path / "poisoned.h5"
    poisoned.write_bytes((run / "test.h5").read_bytes())
    with h5py.File(poisoned, "r+") as handle:
        handle["showers"][7, 0] = np.nan
    out = tmp_path / "calibration"
    assert main(["-q", "calo", "calibrate", "--run", str(run / "run"), "--data", str(poisoned), "--bins", "2",
                 "--out", str(out)]) == 0
    record = json.loads((out / "results.json").read_text())["input"]
    assert (record["n_read"], record["n_dropped"], record["columns"]) == (100, 1, {"showers": 1})
    assert len(np.load(out / "energies.npz")["e_mle"]) == 99
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "calo", "calibrate", "--run", str(run / "run"), "--data", str(poisoned), "--strict",
              "--out", str(tmp_path / "strict")])
    assert exit_info.value.code == 2 and "poisoned.h5: 1 of 100" in capsys.readouterr().err
