"""``likely generate detector``: truth particles file in, event images / ADC / objects out, with a record."""

import json
from importlib import resources

import numpy as np
import pytest

from likely.cli import main
from likely.data import Particles, read_adc, read_event_images, read_particles, write_particles
from likely.data.detector import DetectorCard, adc_objects, event_images, run_detector, simulate
from likely.data.generate.pythia import TRUTH_FEATURES


def truth_events(n=7, seed=0):
    """``n`` events: two hard neutral hadrons back to back (H_T ~ 2 x 150-450 GeV), an electron, soft pions."""
    rng = np.random.default_rng(seed)
    rows = []
    for pt, electron in zip(rng.uniform(150, 450, n), rng.uniform(10, 60, n)):
        event = [(pt, 0.3, 0.5, 130, 0), (pt, -0.4, 0.5 + np.pi, 2112, 0), (electron, 1.0, 2.0, 11, -1)]
        event += [(2.0, eta, phi, 211, 1) for eta, phi in zip(rng.uniform(-2, 2, 5), rng.uniform(-3, 3, 5))]
        rows += [[p * np.cosh(e), p * np.cos(f), p * np.sin(f), p * np.sinh(e), pid, q] for p, e, f, pid, q in event]
    return Particles.from_counts(np.array(rows), [8] * n, TRUTH_FEATURES, label=np.arange(n) % 2,
                                 columns={"weight_mb": np.ones(n)})


@pytest.fixture
def truth(tmp_path):
    return write_particles(tmp_path / "truth.h5", truth_events())


def test_event_images_with_the_ht_cut_pooling_and_a_record(truth, tmp_path):
    out = tmp_path / "images.h5"
    assert main(["-q", "generate", "detector", str(truth), "--out", str(out), "--to", "event-images", "--pool", "5",
                 "--seed", "3", "--batch", "3"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    images = read_event_images(out)
    assert images.images.shape[1:] == (3, 58, 72) and len(images) == record["events_out"]
    assert record["ht_min"] == 500.0 and record["events_in"] == 7 and 0 < record["events_out"] < 7
    assert record["efficiency"] == pytest.approx(record["events_out"] / 7)
    assert DetectorCard.from_dict(record["card"]) == DetectorCard.cms()
    assert images.label is not None and set(images.label) <= {0, 1}


def test_the_library_and_the_command_make_the_same_file(truth, tmp_path):
    main(["-q", "generate", "detector", str(truth), "--out", str(tmp_path / "a.h5"), "--to", "adc", "--seed", "5"])
    reco = simulate(truth_events(), random_state=np.random.default_rng(5))
    adc = read_adc(tmp_path / "a.h5")
    expected = adc_objects(reco)
    np.testing.assert_allclose(adc.values[adc.mask], expected.values[expected.mask], rtol=1e-6)
    images = run_detector(truth, tmp_path / "b.h5", to="event-images", ht_min=0, seed=5, progress=False)
    np.testing.assert_allclose(read_event_images(images).images, event_images(reco).images, rtol=1e-6)


def test_particles_keep_the_truth_label_and_columns_and_the_trigger_selects(truth, tmp_path):
    out = tmp_path / "objects.h5"
    assert main(["-q", "generate", "detector", str(truth), "--out", str(out), "--to", "particles",
                 "--lepton-trigger"]) == 0
    objects = read_particles(out)
    ids = objects.feature("id")
    assert objects.features == ("pt", "eta", "phi", "id") and set(objects.columns) == {"weight_mb", "ht", "n_tracks"}
    assert np.all(((ids == 2) & (objects.feature("pt") > 23)).any(axis=1) | ((ids == 3) & (objects.feature("pt") > 23))
                  .any(axis=1))
    assert 0 < len(objects) < 7 and objects.label is not None
    assert np.all(objects.columns["n_tracks"] >= 1)


def test_pileup_needs_mu_and_overwriting_needs_force(truth, tmp_path, capsys):
    minimum_bias = write_particles(tmp_path / "mb.h5", truth_events(3, seed=1))
    out = tmp_path / "pu.h5"
    args = ["generate", "detector", str(truth), "--out", str(out), "--to", "adc", "--pileup", str(minimum_bias)]
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2 and "--mu" in capsys.readouterr().err and not out.exists()
    assert main(["-q", *args, "--mu", "2"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["card"]["pileup"]["mean"] == 2.0
    with pytest.raises(SystemExit):
        main([*args, "--mu", "2"])
    assert "--force" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["generate", "detector", str(truth), "--out", str(tmp_path / "x.h5"), "--to", "adc", "--pool", "5"])
    assert "pool applies only to event images" in capsys.readouterr().err


def test_a_card_file_is_used_and_a_bad_one_named(truth, tmp_path, capsys):
    card = tmp_path / "card.toml"
    text = resources.files("likely.data.detector") / "cards" / "cms.toml"
    card.write_text(text.read_text().replace("pt_min = 20.0", "pt_min = 1000.0"))
    out = tmp_path / "objects.h5"
    assert main(["-q", "generate", "detector", str(truth), "--out", str(out), "--to", "particles", "--card",
                 str(card)]) == 0
    assert not np.any(read_particles(out).feature("id") == 4)  # no jet above 1 TeV
    card.write_text(text.read_text().replace("radius = 0.4", "radius = -1"))
    with pytest.raises(SystemExit):
        main(["generate", "detector", str(truth), "--out", str(tmp_path / "y.h5"), "--to", "adc", "--card", str(card)])
    assert "card.toml: jets.radius must lie in (0, 2]" in capsys.readouterr().err


def test_a_bundled_card_is_taken_by_name_and_an_unknown_name_refused(truth, tmp_path, capsys):
    out = tmp_path / "adc.h5"
    assert main(["-q", "generate", "detector", str(truth), "--out", str(out), "--to", "adc", "--card", "adc"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert DetectorCard.from_dict(record["card"]) == DetectorCard.bundled("adc")
    assert (read_adc(out).feature("id") == 2).sum() >= 5  # one electron of 10-60 GeV per event, efficiency 85-95 %
    with pytest.raises(SystemExit):
        main(["generate", "detector", str(truth), "--out", str(tmp_path / "z.h5"), "--to", "adc", "--card", "atlas"])
    assert "bundled cards ('cms', 'adc')" in capsys.readouterr().err
    assert not (tmp_path / "z.h5").exists()


@pytest.mark.parametrize("to", ["event-images", "adc"])
def test_a_selection_that_keeps_nothing_is_refused_and_writes_nothing(truth, tmp_path, capsys, to):
    out = tmp_path / "none.h5"
    with pytest.raises(SystemExit):
        main(["generate", "detector", str(truth), "--out", str(out), "--to", to, "--ht-min", "100000"])
    err = capsys.readouterr().err
    assert "no event of the 7" in err and "ht_min = 100000 GeV" in err
    assert not out.exists() and not out.with_suffix(".json").exists() and not list(tmp_path.glob(".none*"))
