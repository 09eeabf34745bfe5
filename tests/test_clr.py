"""CLR: contrastive training of the set transformer on point clouds, its settings and errors."""

import json

import numpy as np
import pytest

from likely.represent import CLR, RawSets
from likely.detect import RepresentationDetector, anomclr_autoencoder
from likely.data.clouds import point_clouds
from likely.data.samples import load_bundled_jets
from likely.nn import Trainer


@pytest.fixture(scope="module")
def clouds():
    """Point clouds (pt, deta, dphi) of 16 constituents: 120 QCD and 60 Aachen dark jets, zero padded."""
    def values(name, n):
        cloud = point_clouds(load_bundled_jets(name)[:n], n=16)
        return np.where(cloud.mask[..., None], cloud.values, 0.0).astype("f4")
    return values("qcd-150-300", 120), values("aachen", 60)


def tiny(**changes):
    settings = dict(dim=16, out_features=8, layers=1, heads=2, feedforward=16, head_hidden=(16,),
                    trainer=Trainer(epochs=2, batch_size=32, lr=1e-3, val_fraction=0.0, patience=None,
                                    progress=False), device="cpu", random_state=0)
    return CLR(**{**settings, **changes})


@pytest.mark.parametrize("loss, anomaly", [("anomclr+", "drop"), ("anomclr", "drop"), ("darkclr", "drop"),
                                           ("simclr", None)])
def test_every_loss_trains_and_gives_finite_representations(clouds, loss, anomaly):
    qcd, dark = clouds
    model = tiny(loss=loss, anomaly=anomaly).fit(qcd)
    z = model.transform(dark)
    assert z.shape == (60, 8) and z.dtype == np.float32 and np.isfinite(z).all()
    assert len(model.history_.train_loss) == 2 and np.isfinite(model.history_.train_loss).all()
    assert model.pt_scale_ == pytest.approx(qcd[..., 0][qcd[..., 0] > 0].mean(), rel=1e-5)


def test_representations_ignore_the_order_of_constituents_and_repeat_with_a_seed(clouds):
    qcd, dark = clouds
    model = tiny().fit(qcd)
    shuffled = dark[:, np.random.default_rng(0).permutation(dark.shape[1])]
    np.testing.assert_allclose(model.transform(shuffled), model.transform(dark), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(tiny().fit(qcd).transform(dark), model.transform(dark))


def test_mean_aggregation_ignores_duplicated_constituents_and_sum_does_not(clouds):
    qcd, dark = clouds
    doubled = np.concatenate([dark, dark], axis=1)
    by_mean, by_sum = tiny(aggregate="mean", dropout=0.0).fit(qcd), tiny(dropout=0.0).fit(qcd)
    assert by_mean.model_.aggregate == "mean"
    np.testing.assert_allclose(by_mean.transform(doubled), by_mean.transform(dark), rtol=1e-4, atol=1e-5)
    assert not np.allclose(by_sum.transform(doubled), by_sum.transform(dark), atol=1e-3)


def test_training_lowers_the_positive_only_loss(clouds):
    """L⁺ starts near 0 (views alike by chance) and must fall towards −2 (anomaly views opposite)."""
    qcd, _ = clouds
    trainer = Trainer(epochs=15, batch_size=40, lr=3e-3, val_fraction=0.0, patience=None, progress=False)
    history = tiny(trainer=trainer, dropout=0.0).fit(qcd).history_
    assert history.train_loss[-1] < history.train_loss[0] - 0.3


def test_save_and_load_give_identical_representations(clouds, tmp_path):
    qcd, dark = clouds
    model = tiny().fit(qcd)
    loaded = CLR.load(model.save(tmp_path / "clr"), device="cpu")
    np.testing.assert_array_equal(loaded.transform(dark), model.transform(dark))


def test_events_with_an_id_feature_embed_the_type():
    rng = np.random.default_rng(1)
    events = np.zeros((50, 6, 4), "f4")
    events[:, :4, 0] = rng.uniform(10, 100, (50, 4))
    events[:, :4, 1:3] = rng.normal(size=(50, 4, 2))
    events[:, :4, 3] = rng.integers(1, 5, (50, 4))
    model = tiny(features=("pt", "eta", "phi", "id"), physical=(), anomaly=None, loss="simclr").fit(events)
    assert model.n_ids_ == 5 and model.model_.id_embedding.num_embeddings == 5
    changed = events.copy()
    changed[:, 0, 3] = np.where(events[:, 0, 3] == 4, 1, events[:, 0, 3] + 1)
    assert not np.allclose(model.transform(changed), model.transform(events), atol=1e-5)


def test_adc_events_train_with_the_seeds_event_augmentations():
    from likely.data.adc import adc_layout
    from likely.data.samples import load_bundled_adc

    events = adc_layout(load_bundled_adc("wjets"))[:96]
    model = tiny(features=("pt", "eta", "phi", "id")).fit(events)
    assert model._augmentations() == (("rotate-events", "smear-events"), "event-anomaly")
    z = model.transform(adc_layout(load_bundled_adc("ato4l"))[:20])
    assert z.shape == (20, 8) and np.isfinite(z).all() and np.isfinite(model.history_.train_loss).all()


def test_bad_settings_and_inputs_are_named(clouds):
    qcd, _ = clouds
    with pytest.raises(ValueError, match="unknown augmentation"):
        tiny(physical=("mirror",)).fit(qcd)
    with pytest.raises(ValueError, match="anomaly=None goes with loss='simclr'"):
        tiny(anomaly=None).fit(qcd)
    with pytest.raises(ValueError, match="anomaly=None goes with loss='simclr'"):
        tiny(loss="simclr").fit(qcd)
    with pytest.raises(ValueError, match=r"X must be sets \(N, P, 3\)"):
        tiny().fit(qcd[..., :2])
    empty = qcd.copy()
    empty[3] = 0.0
    with pytest.raises(ValueError, match="1 set"):
        tiny().fit(empty)
    with pytest.raises(ValueError, match="loss"):
        tiny(loss="triplet").fit(qcd)
    with pytest.raises(ValueError, match="no default augmentations"):
        tiny(features=("pt", "x", "y")).fit(qcd)


def test_representation_detector_scores_by_norm_or_by_a_detector_of_the_representations(clouds, tmp_path):
    qcd, dark = clouds
    by_norm = RepresentationDetector(representation=tiny()).fit(qcd)
    np.testing.assert_allclose(by_norm.score(dark), np.linalg.norm(by_norm.representation_.transform(dark), axis=1),
                               rtol=1e-6)
    scorer = anomclr_autoencoder(epochs=2, device="cpu", random_state=0)
    by_ae = RepresentationDetector(representation=by_norm.representation_, prefit=True, scorer=scorer).fit(qcd)
    z = by_ae.representation_.transform(dark)
    np.testing.assert_array_equal(by_ae.score(dark), by_ae.scorer_.score(z))
    assert by_ae.scorer_.autoencoder_.latent == 5 and by_ae.representation_ is by_norm.representation_
    loaded = RepresentationDetector.load(by_ae.save(tmp_path / "det"), device="cpu")
    np.testing.assert_array_equal(loaded.score(dark), by_ae.score(dark))
    with pytest.raises(ValueError, match="scorer must be 'norm'"):
        RepresentationDetector(representation=tiny(), scorer="mse").fit(qcd)
    with pytest.raises(ValueError, match="prefit=True needs"):
        RepresentationDetector(prefit=True).fit(qcd)
    with pytest.raises(ValueError, match="objects of shape"):
        by_norm.score(dark[:, :5])


def test_clr_command_trains_scores_and_reports_on_jet_files(tmp_path):
    from likely.cli import main
    from likely.data import write_particles

    files = [str(write_particles(tmp_path / f"{name}.h5", load_bundled_jets(name)[:80]))
             for name in ("qcd-150-300", "aachen")]
    run = tmp_path / "run"
    tiny_options = ["--constituents", "12", "--dim", "8", "--out-features", "4", "--layers", "1", "--heads", "2",
                    "--feedforward", "8", "--head-hidden", "8", "--epochs", "1", "--batch-size", "32", "--lr", "1e-3"]
    assert main(["-q", "detect", "clr", "train", "--data", files[0], "--out", str(run), *tiny_options,
                 "--seed", "0", "--device", "cpu"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["detector"] == "RepresentationDetector" and config["inputs"] == {"constituents": 12}
    assert main(["-q", "detect", "clr", "score", str(run), "--data", *files]) == 0
    scores = np.load(run / "scores.npz")
    assert set(scores.files) == {"score", "label", "score_norm"} and scores["score"].shape == (160,)
    np.testing.assert_array_equal(scores["label"], np.r_[np.zeros(80), np.ones(80)])
    assert main(["-q", "detect", "clr", "report", str(run), "--data", *files, "--resamples", "5"]) == 0
    report = (run / "report.md").read_text()
    assert "**norm** (the run's)" in report and (run / "roc.png").stat().st_size > 0
    detector = RepresentationDetector.load(run / "model", device="cpu")
    assert detector.representation_.features == ("pt", "deta", "dphi") and detector.representation_.dim == 8
    ae_run = tmp_path / "ae_run"
    assert main(["-q", "detect", "clr", "train", "--data", files[0], "--out", str(ae_run), *tiny_options,
                 "--scorer", "ae", "--loss", "simclr", "--anomaly", "none", "--device", "cpu"]) == 0
    assert RepresentationDetector.load(ae_run / "model", device="cpu").scorer_.autoencoder_.latent == 5
    nae_run = tmp_path / "nae_run"
    assert main(["-q", "detect", "clr", "train", "--data", files[0], "--out", str(nae_run), *tiny_options,
                 "--scorer", "nae", "--scorer-epochs", "2", "--nae-steps", "3", "--loss", "darkclr",
                 "--device", "cpu"]) == 0
    assert main(["-q", "detect", "clr", "score", str(nae_run), "--data", files[1]]) == 0
    assert set(np.load(nae_run / "scores.npz").files) == {"score", "label", "score_nae"}
    nae = RepresentationDetector.load(nae_run / "model", device="cpu").scorer_.autoencoder_
    assert (nae.sampler, nae.steps, nae.trainer.epochs, nae.latent) == ("data", 3, 2, 3)



def test_clr_command_reports_on_adc_files_with_signal_files(tmp_path, capsys):
    from likely.cli import main
    from likely.data.samples import BUNDLED_ADC, bundled_path

    background, signal = (str(bundled_path(name, BUNDLED_ADC)) for name in ("wjets", "ato4l"))
    run = tmp_path / "run"
    assert main(["-q", "detect", "clr", "train", "--data", background, "--out", str(run), "--dim", "8",
                 "--out-features", "4", "--layers", "1", "--heads", "2", "--feedforward", "8", "--head-hidden", "8",
                 "--epochs", "1", "--batch-size", "64", "--device", "cpu"]) == 0
    with pytest.raises(SystemExit):
        main(["-q", "detect", "clr", "report", str(run), "--data", background])
    assert "give the signal files with --signal" in capsys.readouterr().err
    assert main(["-q", "detect", "clr", "report", str(run), "--data", background, "--signal", signal,
                 "--resamples", "5"]) == 0
    assert "Test: 364 background and 86 signal objects" in (run / "report.md").read_text()

def test_read_sets_of_jets_and_of_adc_events(tmp_path):
    from likely.data import write_particles
    from likely.data.adc import write_adc
    from likely.data.samples import load_bundled_adc
    from likely.data.set_inputs import read_sets

    jets = str(write_particles(tmp_path / "jets.h5", load_bundled_jets("aachen")[:30]))
    X, labels, features = read_sets([jets], constituents=60)
    assert X.shape == (30, 60, 3) and features == ("pt", "deta", "dphi") and (labels == 1).all()
    assert ((X[..., 0] > 0).sum(1) <= 60).all() and np.isfinite(X).all()
    events = load_bundled_adc("wjets")[:25]
    adc = str(write_adc(tmp_path / "adc.h5", events))
    X, labels, features = read_sets([adc, adc])
    assert X.shape == (50, 19, 4) and features == ("pt", "eta", "phi", "id") and (labels == -1).all()
    with pytest.raises(ValueError, match="files mix layouts"):
        read_sets([jets, adc])
    with pytest.raises(ValueError, match="non-empty sequence"):
        read_sets(jets)


def test_raw_sets_flatten_the_preprocessed_objects_with_one_hot_types(tmp_path):
    events = np.zeros((3, 4, 4), "f4")
    events[:, 0] = [40.0, 0.0, np.pi / 2, 1]  # MET
    events[:, 1] = [20.0, 2.0, -np.pi, 4]     # a jet; slots 2-3 padding
    raw = RawSets(features=("pt", "eta", "phi", "id")).fit(events)
    assert raw.pt_scale_ == 30.0 and raw.n_ids_ == 5
    flat = raw.transform(events)
    assert flat.shape == (3, 4 * (3 + 5)) and not flat[:, 16:].any()
    np.testing.assert_allclose(flat[0, :16], [4 / 3, 0, 0.5, 0, 1, 0, 0, 0, 2 / 3, 0.5, -1, 0, 0, 0, 0, 1])
    scorer = anomclr_autoencoder(epochs=2, device="cpu", random_state=0)
    detector = RepresentationDetector(representation=raw, scorer=scorer).fit(np.repeat(events, 4, 0))
    assert detector.score(events).shape == (3,)
    with pytest.raises(ValueError, match="fitted on 4"):
        raw.transform(events[:, :3])


def test_report_table_gives_the_bound_where_no_background_passes():
    from likely.cli.detector_runs import _table

    y = np.r_[np.zeros(4, int), np.ones(4, int)]
    lines = _table(y, {"clean": np.r_[np.zeros(4), np.ones(4)]}, "clean", resamples=3)
    assert lines[-1].endswith("| > 4 (no background passes) | > 4 (no background passes) |")
