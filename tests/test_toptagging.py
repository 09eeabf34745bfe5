"""The top-tagging landscape files, read as published (the tests write schema-exact ones)."""

import numpy as np
import pandas as pd
import pytest

from likely.data import read_top_tagging


def landscape_file(path, n=6, n_constituents=200, seed=0, **overrides):
    """A file laid out like train.h5: E_i, PX_i, PY_i, PZ_i, truth*, ttv, is_signal_new under key 'table'."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, n_constituents, n)
    p = rng.normal(0, 30, (n, n_constituents, 3))
    E = np.linalg.norm(p, axis=-1)
    real = np.arange(n_constituents) < counts[:, None]
    columns = {}
    for i in range(n_constituents):
        for name, values in zip(("E", "PX", "PY", "PZ"), (E[:, i], *p[:, i].T)):
            columns[f"{name}_{i}"] = np.where(real[:, i], values, 0.0)
    label = np.arange(n) % 2
    for name in ("truthE", "truthPX", "truthPY", "truthPZ"):
        columns[name] = np.where(label == 1, rng.normal(600, 10, n), 0.0)
    columns["ttv"] = np.zeros(n)
    columns["is_signal_new"] = label
    columns.update(overrides)
    pd.DataFrame(columns).to_hdf(path, key="table", mode="w", format="table")
    return counts, E, p, label


def test_constituents_labels_and_truth_are_read(tmp_path):
    path = tmp_path / "train.h5"
    counts, E, p, label = landscape_file(path)
    jets = read_top_tagging(path)
    assert jets.features == ("E", "px", "py", "pz") and jets.values.shape == (6, 200, 4)
    np.testing.assert_array_equal(jets.counts, counts)
    np.testing.assert_allclose(jets.feature("E")[jets.mask], E[jets.mask], rtol=1e-6)
    np.testing.assert_allclose(jets.feature("py")[jets.mask], p[..., 1][jets.mask], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(jets.label, label)
    assert set(jets.columns) == {"truth_E", "truth_px", "truth_py", "truth_pz"}
    np.testing.assert_array_equal(read_top_tagging(path, start=2, stop=4).counts, counts[2:4])


def test_another_file_or_a_bad_label_is_refused(tmp_path):
    other = tmp_path / "features.h5"
    pd.DataFrame({"mjj": [1.0, 2.0]}).to_hdf(other, key="table", mode="w", format="table")
    with pytest.raises(ValueError, match="not a top-tagging file"):
        read_top_tagging(other)
    wrong_key = tmp_path / "df.h5"
    pd.DataFrame({"E_0": [1.0]}).to_hdf(wrong_key, key="df", mode="w")
    with pytest.raises(ValueError, match="df.h5"):
        read_top_tagging(wrong_key)
    bad = tmp_path / "bad.h5"
    landscape_file(bad, n=2, n_constituents=3, is_signal_new=[0, 2])
    with pytest.raises(ValueError, match="is_signal_new"):
        read_top_tagging(bad)
    with pytest.raises(FileNotFoundError):
        read_top_tagging(tmp_path / "missing.h5")


def test_a_truncated_file_is_refused_by_name(tmp_path):
    good = tmp_path / "train.h5"
    landscape_file(good, n=3, n_constituents=5)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="cut.h5"):
        read_top_tagging(cut)
