"""Top, dark and QCD jets with constituents: selection, truth matching, constituents, determinism, resuming.

Each chunk here is a handful of jets (a top jet costs about 40 ms, a dark jet 25 ms), so the
module runs in about half a minute on one core.
"""

import json

import numpy as np
import pytest

from likely.data import read_particles
from likely.data.generate.driver import load_chunk, work_dir
from likely.data.generate.jet_samples import (
    DARK_PRESETS, JET_COLUMNS, JET_FEATURES, JetSettings, generate_jet_chunk, generate_jets, jet_pythia_settings,
)

pytestmark = pytest.mark.xdist_group("generate_jets")


@pytest.fixture(scope="module")
def tops():
    return generate_jet_chunk(JetSettings("top"), 12, seed=5)


@pytest.fixture(scope="module")
def dark():
    return generate_jet_chunk(JetSettings.preset("aachen"), 12, seed=6)


def _sum(jets, what):
    i = JET_FEATURES.index(what)
    return jets.values[:, :, i].astype(np.float64).sum(axis=1)


@pytest.mark.parametrize("which", ["tops", "dark"])
def test_jets_pass_the_window_the_eta_cut_and_the_truth_match(which, request):
    jets, record = request.getfixturevalue(which)
    settings = JetSettings("top") if which == "tops" else JetSettings.preset("aachen")
    c = jets.columns
    assert np.all((c["pt"] > settings.pt_min) & (c["pt"] < settings.pt_max))
    assert np.all(np.abs(c["eta"]) < settings.eta_max)
    assert np.all(c["truth_dr"] < settings.match_dr) and np.all(c["truth_pt"] > 0)
    assert record["selected"] == 12 and record["tried"] >= 12 and record["sigma_mb"] > 0
    assert set(JET_COLUMNS) <= set(c) and np.all(jets.label == 1)


def test_constituents_are_the_jet_sorted_by_pt(tops):
    jets, _ = tops
    pt = np.hypot(jets.feature("px"), jets.feature("py"))
    pt[~jets.mask] = -1
    assert np.all(np.diff(pt, axis=1)[jets.mask[:, 1:]] <= 0)
    np.testing.assert_array_equal(jets.counts, np.minimum(jets.columns["n_constituents"], 200))
    whole = jets.columns["n_constituents"] <= 200  # all constituents kept: they add up to the jet
    sum_pt = np.hypot(_sum(jets, "px"), _sum(jets, "py"))
    np.testing.assert_allclose(sum_pt[whole], jets.columns["pt"][whole], rtol=1e-4)
    e, pz = _sum(jets, "E"), _sum(jets, "pz")
    mass = np.sqrt(np.maximum(e**2 - sum_pt**2 - pz**2, 0))
    np.testing.assert_allclose(mass[whole], jets.columns["mass"][whole], rtol=1e-3, atol=0.05)


def test_top_jets_are_heavier_and_three_pronged_compared_with_qcd(tops):
    qcd, _ = generate_jet_chunk(JetSettings("qcd"), 12, seed=5)
    assert np.all(qcd.columns["truth_dr"] == 0) and np.all(qcd.label == 0)
    top_mass, qcd_mass = np.median(tops[0].columns["mass"]), np.median(qcd.columns["mass"])
    assert 130 < top_mass < 220 and qcd_mass < top_mass
    tau32 = lambda c: np.median(c["tau3"] / c["tau2"])  # noqa: E731
    assert tau32(tops[0].columns) < tau32(qcd.columns)


def test_same_seed_same_jets_and_a_smaller_chunk_is_a_prefix(tops):
    jets, record = tops
    again, _ = generate_jet_chunk(JetSettings("top"), 5, seed=5)
    np.testing.assert_array_equal(again.values, jets.values[:5])
    np.testing.assert_array_equal(again.columns["pt"], jets.columns["pt"][:5])
    other, _ = generate_jet_chunk(JetSettings("top"), 5, seed=7)
    assert not np.array_equal(other.columns["pt"], jets.columns["pt"][:5])


def test_invisible_fraction_sets_the_dark_meson_decays():
    lines = jet_pythia_settings(JetSettings.preset("aachen"), 1)
    assert "4900111:addChannel = 1 0.75 0 51 -51" in lines
    assert "4900113:oneChannel = 1 0.75 0 53 -53" in lines
    assert any(line.startswith("4900111:oneChannel = 1 0.25 91 -3 3") for line in lines)
    heavy = jet_pythia_settings(JetSettings.preset("aachen-m20"), 1)
    assert "4900111:oneChannel = 1 0.25 91 -5 5" in heavy  # a 20 GeV dark pion decays to b bbar
    assert set(DARK_PRESETS) >= {"aachen", "aachen-rinv0.5", "aachen-rinv0.2", "aachen-m10", "aachen-m20",
                                 "svj-2.1", "svj-3.1", "svj-4.1"}


def test_generate_jets_writes_a_particles_file_and_resumes(tmp_path):
    out = tmp_path / "qcd.h5"
    settings = JetSettings("qcd", pt_min=150.0, pt_max=300.0)
    generate_jets(out, settings, 7, chunk_size=4, seed=3, progress=False)
    jets = read_particles(out)
    assert len(jets) == 7 and jets.features == JET_FEATURES and jets.values.shape[1:] == (200, 4)
    assert np.all(jets.label == 0) and "attempt" not in jets.columns
    record = json.loads(out.with_suffix(".json").read_text())
    assert [c["seed"] for c in record["chunks"]] == [3, 4] and record["pt_min"] == 150.0
    chunk = work_dir(out) / "chunk00000_seed3.npz"
    columns, _ = load_chunk(chunk)
    np.testing.assert_array_equal(columns["constituents"], jets.values[:4])
    stamp = chunk.stat().st_mtime_ns
    out.unlink()
    generate_jets(out, settings, 7, chunk_size=4, seed=3, progress=False)  # resumes: reuses both chunks
    assert chunk.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(read_particles(out).values, jets.values)
    out.unlink()
    with pytest.raises(ValueError, match="other settings"):  # chunks of other cuts are not mixed in
        generate_jets(out, JetSettings("qcd", pt_min=160.0, pt_max=300.0), 7, chunk_size=4, seed=3, progress=False)


@pytest.mark.parametrize("changes, message", [
    ({"process": "higgs"}, "process"),
    ({"pt_max": 500.0}, "pt_max"),
    ({"r_inv": 1.5}, "r_inv"),
    ({"pthat_min": 600.0}, "pthat_min"),
    ({"max_constituents": 0}, "max_constituents"),
    ({"process": "dark", "m_dark_pion": 0.6}, "m_dark_pion"),
])
def test_bad_settings_name_the_argument(changes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        JetSettings(**changes)


def test_unknown_preset_and_wrong_settings_type_are_refused(tmp_path):
    with pytest.raises(ValueError, match="preset"):
        JetSettings.preset("berlin")
    with pytest.raises(TypeError, match="JetSettings"):
        generate_jets(tmp_path / "x.h5", {"process": "qcd"}, 3)


def test_cli_writes_dark_jets_of_a_preset_with_an_override(tmp_path):
    from likely.cli import main

    out = tmp_path / "dark.h5"
    assert main(["--quiet", "generate", "jets", "--process", "dark", "--preset", "aachen", "--r-inv", "0.5",
                 "--jets", "3", "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["r_inv"] == 0.5 and record["m_dark_pion"] == 4.0 and record["pt_max"] == 300.0
    assert len(read_particles(out)) == 3


def test_cli_refuses_dark_options_for_other_processes(tmp_path, capsys):
    from likely.cli import main

    with pytest.raises(SystemExit) as exit:
        main(["generate", "jets", "--process", "top", "--r-inv", "0.3", "--jets", "3", "--out", str(tmp_path / "t.h5")])
    assert exit.value.code == 2 and "--r-inv applies only to --process dark" in capsys.readouterr().err
    assert not (tmp_path / "t.h5").exists()
