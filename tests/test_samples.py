"""The dijet sample shipped with the package."""

import json

import numpy as np

from likely.data.samples import bundled_dijet_paths, load_bundled_dijets
from likely.search import Window


def test_bundled_files_are_small_and_documented():
    for path in bundled_dijet_paths():
        assert path.is_file(), path
        assert path.stat().st_size < 10 * 2**20
        record = json.loads(path.with_suffix(".json").read_text())
        assert record["chunks"] and all("seed" in chunk for chunk in record["chunks"])


def test_bundled_events_look_like_dijets():
    background, signal = load_bundled_dijets()
    assert len(background) > 20_000 and len(signal) > 2_000
    assert (background.label == 0).all() and (signal.label == 1).all()
    in_sr = Window().in_sr
    assert 0.10 < in_sr(background).mean() < 0.15  # LHCO R&D: 12.1 %
    assert in_sr(signal).mean() > 0.5
    # mX - mY = 0.4 TeV and mY = 0.1 TeV, as reconstructed from R = 1.0 jets
    assert 0.33 < np.median(signal["delta_mj"]) < 0.45
    assert 0.08 < np.median(signal["mj1"]) < 0.13


def test_bundled_jets_are_documented_and_look_like_their_physics():
    from likely.data.samples import BUNDLED_JETS, bundled_path, load_bundled_jets

    total = 0
    for name in BUNDLED_JETS:
        path = bundled_path(name, BUNDLED_JETS)
        total += path.stat().st_size
        record = json.loads(path.with_suffix(".json").read_text())
        assert record["chunks"] and all("seed" in chunk for chunk in record["chunks"])
    assert total < 6 * 2**20
    top, qcd, dark, light = (load_bundled_jets(name) for name in ("top", "qcd", "aachen", "qcd-150-300"))
    assert (top.label == 1).all() and (qcd.label == 0).all() and (dark.label == 1).all()
    assert 150 < np.median(top.columns["mass"]) < 190 and np.median(qcd.columns["mass"]) < 120
    tau32 = lambda jets: np.median(jets.columns["tau3"] / jets.columns["tau2"])  # noqa: E731
    assert tau32(top) < tau32(qcd)  # three prongs
    assert dark.counts.mean() < light.counts.mean()  # r_inv 0.75: most of the dark shower is invisible


def test_unknown_bundled_sample_is_refused():
    import pytest

    from likely.data.samples import BUNDLED_JETS, bundled_path

    with pytest.raises(ValueError, match="name must be one of"):
        bundled_path("stop", BUNDLED_JETS)


def test_bundled_event_images_and_adc_events_are_documented_and_physical():
    from likely.data.samples import (
        BUNDLED_ADC, BUNDLED_EVENT_IMAGES, bundled_path, load_bundled_adc, load_bundled_event_images,
    )

    for files in (BUNDLED_EVENT_IMAGES, BUNDLED_ADC):
        for name in files:
            path = bundled_path(name, files)
            for record in (path.with_suffix(".json"), path.with_suffix(".truth.json")):
                assert "seed" in json.loads(record.read_text()), record
    qcd, suep = load_bundled_event_images("qcd"), load_bundled_event_images("suep400")
    assert (qcd.label == 0).all() and (suep.label == 1).all() and qcd.images.shape[1:] == (3, 58, 72)
    assert np.median(suep.n_tracks) > 1.5 * np.median(qcd.n_tracks)  # soft bombs: many tracks
    wjets, ato4l = load_bundled_adc("wjets"), load_bundled_adc("ato4l")
    assert (wjets.label == 0).all() and (ato4l.label == 1).all()
    leptons = lambda events: np.isin(events.feature("id"), (2, 3)).sum(axis=1)  # noqa: E731
    assert leptons(wjets).min() >= 1 and leptons(ato4l).mean() > leptons(wjets).mean() + 1  # A -> 4 leptons
