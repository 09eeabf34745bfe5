"""Cheaper QCD samples reproduce the plain one: pTHat slices mixed by σ ε (likely.data.generate.mix_slices)
and the parton-level H_T veto (DijetSettings(parton_veto=True))."""

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp

from likely.cli import main
from likely.data.generate import DijetSettings, generate_dijet, mix_slices, slice_shares
from likely.data.generate.pythia import PARTON_HT_MARGIN
from likely.data.lhco import read_lhco

#: a low trigger (leading jet pT > 300 GeV from pTHat > 200 GeV) keeps the test fast
CUTS = dict(leading_pt_min=300.0)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slices")
    runs = {"whole": (200.0, None, 1, False), "low": (200.0, 300.0, 101, False), "high": (300.0, None, 201, False),
            "vetoed": (200.0, None, 301, True)}
    return {name: generate_dijet(folder / f"{name}.h5",
                                 DijetSettings("qcd", pthat_min=low, pthat_max=high, parton_veto=veto, **CUTS),
                                 400, chunk_size=400, seed=seed, progress=False)
            for name, (low, high, seed, veto) in runs.items()}


def _leading_pt(path):
    """The leading jet's pT (TeV; the file orders its two jets by mass)."""
    jets = read_lhco(path, features=("pt_j1", "pt_j2"), progress=False)
    return np.maximum(jets.column("pt_j1"), jets.column("pt_j2"))


def test_the_mixture_matches_the_unsliced_sample_and_equal_shares_do_not(samples, tmp_path):
    slices = [samples["low"], samples["high"]]
    shares = slice_shares(slices)
    records = [json.loads(path.with_suffix(".json").read_text()) for path in slices]
    total = sum(r["sigma_selected_mb"] for r in records)
    assert list(shares.values()) == pytest.approx([r["sigma_selected_mb"] / total for r in records])
    mixed = mix_slices(slices, tmp_path / "mixed.h5", n_events=300)
    record = json.loads(mixed.with_suffix(".json").read_text())
    assert record["events"] == 300 and sum(part["events"] for part in record["mixture_of"]) == 300
    whole = _leading_pt(samples["whole"])
    assert ks_2samp(_leading_pt(mixed), whole).pvalue > 0.01
    assert 0.2 < shares[str(samples["low"])] < 0.8  # both slices matter
    assert ks_2samp(_leading_pt(samples["high"])[:300], whole).pvalue < 0.01  # the test tells a wrong mixture


def test_bad_slices_are_refused_and_nothing_is_written(samples, tmp_path):
    with pytest.raises(ValueError, match="overlap"):
        slice_shares([samples["whole"], samples["high"]])
    with pytest.raises(ValueError, match="two or more"):
        slice_shares([samples["low"]])
    with pytest.raises(ValueError, match="at most"):
        mix_slices([samples["low"], samples["high"]], tmp_path / "big.h5", n_events=10_000)
    assert not (tmp_path / "big.h5").exists()
    with pytest.raises(SystemExit):
        main(["-q", "generate", "mix-slices", str(samples["low"]), "--out", str(tmp_path / "x.h5")])
    assert not (tmp_path / "x.h5").exists()


def test_mix_slices_command(samples, tmp_path):
    out = tmp_path / "cli.h5"
    assert main(["-q", "generate", "mix-slices", str(samples["low"]), str(samples["high"]), "--out", str(out),
                 "--events", "100", "--seed", "3"]) == 0
    assert len(_leading_pt(out)) == 100


def test_a_slice_sets_pythias_upper_edge_and_bad_edges_are_named():
    from likely.data.generate import pythia_settings

    assert "PhaseSpace:pTHatMax = 900.0" in pythia_settings(DijetSettings("qcd", pthat_max=900), 1)
    assert not any("pTHatMax" in line for line in pythia_settings(DijetSettings("qcd"), 1))
    with pytest.raises(ValueError, match="pthat_max must exceed pthat_min"):
        DijetSettings("qcd", pthat_min=700, pthat_max=600)
    with pytest.raises(ValueError, match="qcd only"):
        DijetSettings("wprime", pthat_max=900)


def test_the_parton_veto_keeps_the_selected_sample_and_its_cross_section(samples):
    whole, vetoed = (json.loads(samples[name].with_suffix(".json").read_text()) for name in ("whole", "vetoed"))
    veto = vetoed["chunks"][0]["parton_veto"]
    assert veto["ht_min"] == 2 * CUTS["leading_pt_min"] - PARTON_HT_MARGIN and veto["vetoed"] > 0.1 * vetoed["tried"]
    assert "parton_veto" not in whole["chunks"][0] and vetoed["parton_veto"] and not whole["parton_veto"]
    # the vetoed events were never tried; the selected cross-section is the same within statistics
    assert vetoed["efficiency"] > whole["efficiency"]
    relative_error = np.hypot(*[np.sqrt((1 - r["efficiency"]) / r["events"]) for r in (whole, vetoed)])
    assert vetoed["sigma_selected_mb"] / whole["sigma_selected_mb"] == pytest.approx(1, abs=4 * relative_error)
    for feature in ("pt_j1", "mj1", "mjj"):
        a, b = (read_lhco(samples[name], features=(feature,), progress=False).column(feature) for name in ("whole", "vetoed"))
        assert ks_2samp(a, b).pvalue > 0.01, feature


def test_the_parton_veto_is_a_flag_of_the_command(tmp_path):
    with pytest.raises(TypeError, match="parton_veto"):
        DijetSettings("qcd", parton_veto="yes")
    out = tmp_path / "veto.h5"
    assert main(["-q", "generate", "dijet", "--process", "qcd", "--events", "5", "--out", str(out), "--pthat-min", "200",
                 "--leading-pt-min", "300", "--parton-veto"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["chunks"][0]["parton_veto"]["vetoed"] > 0
