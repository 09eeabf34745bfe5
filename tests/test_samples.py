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
