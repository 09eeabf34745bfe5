"""JetClass ROOT files, read with uproot (the tests write schema-exact ones)."""

import awkward as ak
import numpy as np
import pytest
import uproot

from likely.data.jetclass import JETCLASS_LABELS, read_jetclass


def jetclass_file(path, n=5, kind="label_Tbqq", seed=0, drop=()):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 40, n)
    branches = {name: ak.unflatten(rng.normal(0, 20, counts.sum()), counts)
                for name in ("part_energy", "part_px", "part_py", "part_pz", "part_deta", "part_charge")}
    branches.update(jet_pt=rng.uniform(500, 1000, n), jet_sdmass=rng.uniform(0, 200, n),
                    jet_nparticles=counts.astype(np.float64))
    branches.update({name: np.full(n, name == kind) for name in JETCLASS_LABELS})
    with uproot.recreate(path) as file:
        file["tree"] = {name: values for name, values in branches.items() if name not in drop}
    return counts, branches


def test_constituents_jets_and_class_are_read(tmp_path):
    counts, branches = jetclass_file(tmp_path / "TTBar_000.root")
    jets = read_jetclass(tmp_path / "TTBar_000.root", extra=("part_charge",))
    assert jets.features == ("E", "px", "py", "pz", "charge")
    np.testing.assert_array_equal(jets.counts, counts)
    np.testing.assert_allclose(jets.feature("px")[jets.mask], ak.flatten(branches["part_px"]), rtol=1e-6)
    np.testing.assert_allclose(jets.columns["jet_sdmass"], branches["jet_sdmass"], rtol=1e-6)
    assert set(jets.label) == {JETCLASS_LABELS.index("label_Tbqq")}
    assert len(read_jetclass(tmp_path / "TTBar_000.root", 1, 3)) == 2
    assert read_jetclass(tmp_path / "TTBar_000.root", max_particles=3).values.shape[1] == 3


def test_files_without_the_schema_are_refused_by_name(tmp_path):
    jetclass_file(tmp_path / "partial.root", drop=("part_pz",))
    with pytest.raises(ValueError, match="part_pz"):
        read_jetclass(tmp_path / "partial.root")
    jetclass_file(tmp_path / "nolabel.root", kind="none")
    with pytest.raises(ValueError, match="exactly one label"):
        read_jetclass(tmp_path / "nolabel.root")
    jetclass_file(tmp_path / "ok.root")
    (tmp_path / "cut.root").write_bytes((tmp_path / "ok.root").read_bytes()[:3000])
    with pytest.raises(ValueError, match="cut.root"):
        read_jetclass(tmp_path / "cut.root")
    (tmp_path / "text.root").write_text("not ROOT")
    with pytest.raises(ValueError, match="text.root"):
        read_jetclass(tmp_path / "text.root")
    with uproot.recreate(tmp_path / "other.root") as file:
        file["events"] = {"x": np.zeros(2)}
    with pytest.raises(ValueError, match="no TTree 'tree'"):
        read_jetclass(tmp_path / "other.root")
