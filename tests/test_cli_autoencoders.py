"""``likely detect ae|vae|dvae train | score | report`` on the bundled jets and event images, and the
reader that turns those files into model images (likely.data.read_images)."""

import json

import numpy as np
import pytest

from likely.cli import main
from likely.data import read_images, write_event_images, write_particles
from likely.data.event_images import tracker_mask
from likely.data.samples import load_bundled_event_images, load_bundled_jets
from likely.detect import ReconstructionDetector

TINY = ["--epochs", "1", "--batch-size", "64", "--seed", "0"]


@pytest.fixture(scope="module")
def jets(tmp_path_factory):
    """200 QCD jets (label 0) and 200 top jets (label 1) of the bundled samples, one file each."""
    folder = tmp_path_factory.mktemp("jets")
    return [str(write_particles(folder / f"{name}.h5", load_bundled_jets(name)[:200])) for name in ("qcd", "top")]


@pytest.fixture(scope="module")
def event_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("events")
    return [str(write_event_images(folder / f"{name}.h5", load_bundled_event_images(name)[:100]))
            for name in ("qcd", "suep400")]


# ---------------------------------------------------------------- the reader
def test_read_images_of_jets_and_of_event_images(jets, event_images):
    images, labels = read_images(jets, pixels=16)
    assert images.shape == (400, 1, 16, 16) and images.dtype == np.float32
    np.testing.assert_allclose(images.sum((1, 2, 3)), 1, rtol=1e-5)  # jet images sum to one
    np.testing.assert_array_equal(labels, [0] * 200 + [1] * 200)
    raw = load_bundled_event_images("qcd").images[:100]
    for channels, expected in (("trk", raw[:, :1]), ("mask", tracker_mask(raw)), ("all", raw)):
        images, labels = read_images(event_images[:1], channels=channels)
        np.testing.assert_array_equal(images, expected)
        assert (labels == 0).all()
    with pytest.raises(ValueError, match="files mix layouts"):
        read_images([jets[0], event_images[0]])
    with pytest.raises(ValueError, match="channels must be one of"):
        read_images(jets, channels="ecal")


def test_read_images_refuses_other_files(tmp_path):
    import h5py

    from likely.data.samples import BUNDLED_ADC, bundled_path

    with h5py.File(tmp_path / "f.h5", "w") as file:
        file.create_dataset("images", data=np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match="f.h5 is not a file of a known layout"):
        read_images([tmp_path / "f.h5"])
    with pytest.raises(ValueError, match=r"ADC2021 multi-object file \(adc\); expected likely particles file "
                                         r"\(particles\) or seed-004 event-image file"):
        read_images([bundled_path("wjets", BUNDLED_ADC)])


# ------------------------------------------------------------- the commands
def test_ae_train_score_report_on_jets(jets, tmp_path):
    run = tmp_path / "run"
    assert main(["-q", "detect", "ae", "train", "--data", jets[0], "--out", str(run), "--pixels", "16",
                 "--power", "0.5", "--conv-channels", "4", "--hidden", "8", "--latent", "2", *TINY]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["objects"] == 200 and config["inputs"] == {"pixels": 16, "sigma": None, "channels": "mask"}
    assert main(["-q", "detect", "ae", "score", str(run), "--data", *jets]) == 0
    scores = np.load(run / "scores.npz")
    assert set(scores.files) == {"score", "label", "score_mse", "score_bce", "score_latent_norm"}
    detector = ReconstructionDetector.load(run / "model", device="cpu")
    images, _ = read_images(jets, pixels=16)
    np.testing.assert_array_equal(scores["score"], detector.score(images))  # the run's score: mse
    np.testing.assert_array_equal(scores["label"], [0] * 200 + [1] * 200)
    assert detector.autoencoder_.power == 0.5
    assert main(["-q", "detect", "ae", "report", str(run), "--data", *jets, "--resamples", "5"]) == 0
    report = (run / "report.md").read_text()
    assert "200 background and 200 signal objects" in report and "| **mse** (the run's) | 0." in report
    for figure in ("roc", "sic", "rejection", "scores", "training"):
        assert f"![{figure}]({figure}.png)" in report and (run / f"{figure}.png").stat().st_size > 0


def test_vae_on_event_image_masks_and_dvae_on_jets(jets, event_images, tmp_path):
    vae = tmp_path / "vae"
    assert main(["-q", "detect", "vae", "train", "--data", event_images[0], "--out", str(vae), "--channels", "mask",
                 "--conv-channels", "4", "--hidden", "8", "--latent", "2", "--loss", "bce", "--score", "kl",
                 *TINY]) == 0
    assert main(["-q", "detect", "vae", "score", str(vae), "--data", *event_images, "--out", str(tmp_path / "s.npz")]) == 0
    scores = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(scores["score"], scores["score_kl"])
    assert scores["score"].shape == (200,) and {"score_bce", "score_elbo"} <= set(scores.files)
    dvae = tmp_path / "dvae"
    assert main(["-q", "detect", "dvae", "train", "--data", *jets, "--out", str(dvae), "--pixels", "16",
                 "--hidden", "16", "--background-label", "1", *TINY]) == 0  # the inverse task: trained on top
    assert json.loads((dvae / "config.json").read_text())["objects"] == 200
    assert main(["-q", "detect", "dvae", "score", str(dvae), "--data", jets[1]]) == 0
    assert set(np.load(dvae / "scores.npz").files) == {"score", "label", "score_reconstruction", "score_kl",
                                                       "score_elbo"}


def test_codae_and_codvae_on_event_image_masks(event_images, tmp_path):
    small = ["--filters", "4", "8", "--mask-filters", "4", "8", "--latent-channels", "4", "--groups", "2",
             "--mask-groups", "2", *TINY]
    for method in ("codae", "codvae"):
        run = tmp_path / method
        assert main(["-q", "detect", method, "train", "--data", event_images[0], "--out", str(run), *small]) == 0
        detector = ReconstructionDetector.load(run / "model", device="cpu")
        model = detector.autoencoder_
        assert (model.filters, model.augment, model.trainer.batch_size, model.trainer.patience) == ((4, 8), True, 64, None)
        assert (model.trainer.weight_decay, model.trainer.max_grad_norm, model.trainer.schedule) == (1e-4, 1.0, "constant")
        assert main(["-q", "detect", method, "score", str(run), "--data", *event_images]) == 0
        scores = np.load(run / "scores.npz")
        assert {f"score_{name}" for name in type(model).score_names} <= set(scores.files)
        np.testing.assert_array_equal(scores["score"], scores[f"score_{type(model).default_score}"])
    assert main(["-q", "detect", "codvae", "report", str(run), "--data", *event_images, "--resamples", "5"]) == 0
    assert "| **sse** (the run's) |" in (run / "report.md").read_text()


def test_the_dual_autoencoders_default_to_the_seeds_training():
    from likely.cli import build_parser

    args = build_parser().parse_args(["detect", "codvae", "train", "--data", "x.h5", "--out", "run"])
    assert (args.epochs, args.batch_size, args.patience, args.filters) == (100, 128, None, (64, 128, 128, 256))


def test_command_errors(jets, event_images, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["-q", "detect", "dvae", "train", "--data", jets[0], "--out", str(run), "--pixels", "8",
                 "--hidden", "4", *TINY]) == 0
    cases = [
        (["detect", "ae", "score", str(run), "--data", jets[0]], "was trained by 'likely detect dvae', not 'ae'"),
        (["detect", "dvae", "report", str(run), "--data", jets[0]], "must hold both background"),
        (["detect", "dvae", "train", "--data", jets[1], "--out", str(tmp_path / "x")], "no objects of --background-label 0"),
        (["detect", "ae", "train", "--data", jets[0], "--out", str(tmp_path / "y"), "--score", "kl", *TINY],
         "score_name must be one of the scores"),
        (["detect", "dvae", "score", str(run), "--data", event_images[0]], "images of shape (C, H, W)"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(["-q", *argv])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err or pytest.fail(f"{argv}: no {message!r}")
