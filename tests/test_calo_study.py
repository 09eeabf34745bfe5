"""Seed 000's anomaly study: the library on the toy calorimeter, ``likely calo study`` end to end."""

import json

import numpy as np
import pytest
from calo_toy import SIZES, tiny_caloflow, toy_showers

from likely.calo import run_anomaly_study, supervised_features, train_supervised
from likely.classify import NNClassifier
from likely.cli import main
from likely.data.showers import MEV_PER_GEV, write_showers
from likely.data.generate.showers import lifetime_weights
from likely.density import Flow
from likely.detect import LikelihoodScorer
from likely.metrics import max_sic, sic_vs_rejection
from likely.nn import Trainer

MASSES, ZS = (0.05, 5.0), (0.33, 1.0, 1.4)


def _anomalous(n, seed):
    """Toy showers whose energy sits in the last layer's edge voxel: nothing like the background."""
    showers, e_inc = toy_showers(n, seed=seed)
    moved = np.zeros_like(showers)
    moved[:, -1] = showers.sum(axis=1)
    return moved, e_inc


@pytest.fixture(scope="module")
def toy_study():
    showers, e_inc = toy_showers(1000, seed=1)
    scorer = LikelihoodScorer(model=tiny_caloflow(epochs=10)).fit(showers, e_inc)
    like = {(m, z): toy_showers(60, seed=10 + k)[0] for k, (m, z) in enumerate((m, z) for m in MASSES for z in ZS)}
    signals = like | {(5.0, 1.4): _anomalous(60, 3)[0]}
    classifier = train_supervised(showers[:500], _anomalous(300, 4)[0], scorer.lambda_,
                                  NNClassifier(hidden=(16,), trainer=Trainer(epochs=30, lr=1e-2, progress=False),
                                               random_state=0))
    background = toy_showers(1000, seed=2)[0]
    return run_anomaly_study(scorer, background, signals, {"sup": classifier}, progress=False), scorer, background


def test_heatmap_is_max_sic_of_each_point(toy_study):
    study, scorer, background = toy_study
    assert study.masses == MASSES and study.displacements == ZS
    assert study.methods == ("likelihood", "likelihood eq. 1", "sup")
    np.testing.assert_allclose(study.background["likelihood"], scorer.scores(background)["voxels"], rtol=1e-6)
    terms = scorer.model_.log_prob_terms(background, scorer.reconstruct_energy(background))
    np.testing.assert_allclose(study.background["likelihood eq. 1"], -(terms["flow_i"] + terms["flow_ii"]),
                               rtol=1e-6)
    table = study.max_sic("likelihood")
    signal = study.signal["likelihood"][0.05, 1.0]
    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    direct = max_sic(y, np.r_[study.background["likelihood"], signal], min_background=25)
    assert table[0, 1] == pytest.approx(direct, rel=1e-12)
    # the clear anomaly is found: every signal shower beyond every background one, SIC at the floor's cap
    assert table[1, 2] == pytest.approx(np.sqrt(1000 / 25), rel=1e-6)
    assert study.max_sic("sup")[1, 2] > 5
    # background-like "signal" is not: max SIC stays near 1 (60 signal showers: loose bound)
    assert table[0, 0] < 2.5 and table[1, 0] < 2.5


def test_lifetime_mixture_uses_seed000_weights(toy_study):
    study, _, _ = toy_study
    y, score, weight = study.lifetime_sample("likelihood", 5.0, 0.1)
    w = lifetime_weights(5.0, 50.0, 0.1, ZS)
    assert weight[y == 0].sum() == len(study.background["likelihood"])
    assert weight[y == 1].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weight[y == 1][-60:], w[-1] / 60)  # the last point's showers share w_3
    rejection, sic = study.lifetime_curve("likelihood", 5.0, 0.1)
    np.testing.assert_allclose(sic, sic_vs_rejection(y, score, sample_weight=weight)[1])
    # all weight on one point: the mixture is that point
    only = study.labelled("likelihood", [(5.0, 1.4), (5.0, 0.33)], [1.0, 0.0])
    assert max_sic(*only[:2], sample_weight=only[2]) == pytest.approx(study.max_sic("likelihood")[1, 2])
    summary = json.loads(json.dumps(study.summary()))
    assert summary["lifetime_max_sic"]["likelihood"]["5.0"]["0.1"] == pytest.approx(sic.max())
    assert summary["max_sic"]["sup"][1][2] == pytest.approx(study.max_sic("sup")[1, 2])


def test_supervised_features_and_bad_input(toy_study):
    study, scorer, background = toy_study
    showers = toy_showers(5, seed=9)[0]
    features = supervised_features(showers, np.full(5, 2.0))
    assert features.shape == (5, sum(SIZES) + 1)
    np.testing.assert_allclose(features[:, :-1], showers / 2) and np.testing.assert_allclose(features[:, -1], 2)
    with pytest.raises(ValueError, match="signals is empty"):
        run_anomaly_study(scorer, background, {}, progress=False)
    with pytest.raises(ValueError, match="no shower with deposited energy"):
        run_anomaly_study(scorer, background, {(1.0, 1.0): np.zeros((4, sum(SIZES)))}, progress=False)
    with pytest.raises(ValueError, match="background"):  # geometry mismatch: 504 voxels for a 13-voxel model
        run_anomaly_study(scorer, np.ones((10, 504)), {(1.0, 1.0): np.ones((4, 504))}, progress=False)
    with pytest.raises(ValueError, match="needs every z"):
        study_without = run_anomaly_study(scorer, background, {(1.0, 1.0): showers, (2.0, 0.5): showers},
                                          progress=False)
        study_without.lifetime_curve("likelihood", 1.0, 0.1)


# ------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def photon_run(tmp_path_factory):
    """A 'likely calo train'-style run of a tiny CaloFlow on the bundled seed-000 photons, and a held-out file."""
    from likely.calo import CaloFlow
    from likely.data.samples import load_bundled_showers

    root = tmp_path_factory.mktemp("study")
    photons = load_bundled_showers()
    showers, e_inc = photons.energies / MEV_PER_GEV, photons.incident_energies / MEV_PER_GEV
    write_showers(root / "train.h5", showers[:1000], e_inc[:1000])
    write_showers(root / "test.h5", showers[1000:], e_inc[1000:])
    flow = Flow(kind="coupling", transforms=1, hidden=(16,), bins=4, tail_bound=5.0, preprocessing="standardize",
                trainer=Trainer(epochs=2, batch_size=200, lr=3e-3, progress=False))
    scorer = LikelihoodScorer(model=CaloFlow(flow_i=flow, flow_ii=flow, device="cpu", random_state=0))
    scorer.fit(showers[:1000], e_inc[:1000])
    (root / "run").mkdir()
    scorer.model_.save(root / "run" / "model")
    (root / "run" / "results.json").write_text(json.dumps({"lambda": scorer.lambda_}))
    (root / "run" / "config.json").write_text(json.dumps({"data": str(root / "train.h5")}))
    return root


def _study(root, *extra, run=None):
    return ["-q", "calo", "study", "--run", str(run or root / "run"), "--background", str(root / "test.h5"),
            "--masses", "0.005", "5", "--displacements", "0.33", "1.4", *extra]


def test_cli_study_end_to_end(photon_run):
    root = photon_run
    assert main(_study(root, "--generate", "40", "--supervised-masses", "5", "--supervised-n", "150",
                       "--supervised-epochs", "3", "--lifetimes", "0.1", "1", "--out", str(root / "s"))) == 0
    out = root / "s"
    results = json.loads((out / "results.json").read_text())
    assert set(results["max_sic"]) == {"likelihood", "likelihood eq. 1", "supervised m=5"}
    assert results["displacements"] == [0.33, 1.4] and results["min_background"] == 25
    scores = np.load(out / "scores.npz")
    signal, background = scores["likelihood/m5_z0.33"], scores["likelihood/background"]
    assert background.shape == (1000,)
    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    assert results["max_sic"]["likelihood"][1][0] == pytest.approx(max_sic(y, np.r_[background, signal]))
    # two photons 45 cm in front of the calorimeter from a 5 GeV chi: two blobs, unlike one photon
    assert results["max_sic"]["likelihood"][1][0] > 2
    for name in ("report.md", "config.json", "max_sic_likelihood.png", "max_sic_likelihood_eq_1.png",
                 "max_sic_supervised_m5.png",
                 "sic_lifetimes_m5.png", "log_likelihood_m0.005.png", "signals/chi_m5_z1.4.h5"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "## Max SIC, supervised m=5" in report and "![" in report
    # the written signal files are read back by --signal-dir (an escaped, empty shower included)
    # and give the same likelihood heatmap
    from likely.data.showers import read_calochallenge, write_calochallenge

    path = out / "signals" / "chi_m5_z1.4.h5"  # the last point: dropping a row there moves no other noise
    written = read_calochallenge(path)
    written.energies[0] = 0.0
    write_calochallenge(path, written, overwrite=True)
    assert main(_study(root, "--signal-dir", str(out / "signals"), "--supervised-masses", "--out",
                       str(root / "again"))) == 0
    again = json.loads((root / "again" / "results.json").read_text())
    assert again["n_signal"]["5.0_1.4"] == results["n_signal"]["5.0_1.4"] - 1
    np.testing.assert_allclose(again["max_sic"]["likelihood"][0], results["max_sic"]["likelihood"][0], rtol=1e-3)


def test_cli_study_refuses_bad_input(photon_run, tmp_path, capsys):
    root = photon_run
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("precious")
    new = str(tmp_path / "new")
    for argv, message in [
        (_study(root, "--generate", "5", "--out", new, run=tmp_path / "nowhere"), "not a 'likely calo train' run"),
        (_study(root, "--signal-dir", str(tmp_path), "--out", new), "lacks 4 of 4 signal files"),
        (_study(root, "--generate", "5", "--out", str(tmp_path / "taken")), "--force"),
    ]:
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "taken" / "keep.txt").read_text() == "precious"
    # geometry mismatch: 13-voxel toy showers for the 504-voxel model
    write_showers(tmp_path / "toy.h5", *toy_showers(20, seed=5))
    with pytest.raises(SystemExit):
        main(["-q", "calo", "study", "--run", str(root / "run"), "--background", str(tmp_path / "toy.h5"),
              "--generate", "5", "--out", str(tmp_path / "mismatch")])
    assert "504" in capsys.readouterr().err and not (tmp_path / "mismatch").exists()
