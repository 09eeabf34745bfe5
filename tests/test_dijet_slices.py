"""pTHat slices mixed by σ ε (likely.data.generate.mix_slices) reproduce the unsliced sample."""

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp

from likely.cli import main
from likely.data.generate import DijetSettings, generate_dijet, mix_slices, slice_shares
from likely.data.lhco import read_lhco

#: a low trigger (leading jet pT > 300 GeV from pTHat > 200 GeV) keeps the test fast
CUTS = dict(leading_pt_min=300.0)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slices")
    runs = {"whole": (200.0, None, 1), "low": (200.0, 300.0, 101), "high": (300.0, None, 201)}
    return {name: generate_dijet(folder / f"{name}.h5", DijetSettings("qcd", pthat_min=low, pthat_max=high, **CUTS),
                                 400, chunk_size=400, seed=seed, progress=False)
            for name, (low, high, seed) in runs.items()}


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
