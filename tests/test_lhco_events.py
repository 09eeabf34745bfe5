"""Raw LHC Olympics event files: layout, chunked reading, clustering into the features, errors."""

import numpy as np
import pandas as pd
import pytest

from likely.data.lhco import JET_COLUMNS, derive_features, read_lhco, read_lhco_raw
from likely.data.lhco_events import (
    CLUSTERED_COLUMNS, HADRONS, EventsFile, cluster_lhco_events, cluster_lhco_file, inspect_lhco_events, pad_hadrons,
    read_lhco_events, write_lhco_events,
)


def dijet_hadrons(mjj_tev, seed: int = 0) -> np.ndarray:
    """Synthetic events (n, 700, 3): two back-to-back sprays of 10-40 massless hadrons at
    pseudorapidity ±0.3 with dijet masses ``mjj_tev`` (n,), plus soft hadrons all over; the
    hadrons are shuffled, so real ones and padding interleave as in the published files."""
    rng = np.random.default_rng(seed)
    events = np.zeros((len(mjj_tev), HADRONS, 3))
    for row, mjj in enumerate(np.asarray(mjj_tev) * 1000):
        phi = rng.uniform(-np.pi, np.pi)
        parts = []
        for axis_eta, axis_phi in ((0.3, phi), (-0.3, phi + np.pi)):
            n = rng.integers(10, 40)
            share = rng.dirichlet(np.ones(n)) * mjj / 2 / np.cosh(0.3)  # pT of the spray
            spread = rng.uniform(0.02, 0.3)
            parts.append(np.column_stack([share, axis_eta + rng.normal(0, spread, n),
                                          np.angle(np.exp(1j * (axis_phi + rng.normal(0, spread, n))))]))
        soft = rng.integers(0, 50)
        parts.append(np.column_stack([rng.exponential(1.0, soft), rng.uniform(-2.5, 2.5, soft),
                                      rng.uniform(-np.pi, np.pi, soft)]))
        hadrons = np.concatenate(parts)
        slots = rng.choice(HADRONS, len(hadrons), replace=False)  # padding in between, in any order
        events[row, slots] = hadrons
    return events


def reference_jets(hadrons: np.ndarray) -> np.ndarray:
    """(n, 2, 4): px, py, pz, mass of the two leading-pT anti-kT R = 1.0 jets, one event at a
    time through FastJet's classic interface (an independent path to the vectorized one)."""
    import fastjet

    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0)
    out = np.full((len(hadrons), 2, 4), np.nan)
    for row, event in enumerate(hadrons):
        particles = []
        for pt, eta, phi in event[event[:, 0] > 0]:
            particles.append(fastjet.PseudoJet(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)))
        sequence = fastjet.ClusterSequence(particles, definition)
        jets = fastjet.sorted_by_pt(sequence.inclusive_jets(20.0))
        for slot, jet in enumerate(jets[:2]):
            out[row, slot] = jet.px(), jet.py(), jet.pz(), jet.m()
    return out


@pytest.fixture(scope="module")
def hadrons():
    return dijet_hadrons(np.random.default_rng(1).uniform(3.0, 4.5, 12), seed=1)


def test_columns_are_the_features_files_jet_columns():
    assert CLUSTERED_COLUMNS == JET_COLUMNS


def test_written_file_has_the_published_layout(tmp_path, hadrons):
    labels = np.arange(12) % 2
    write_lhco_events(tmp_path / "rnd.h5", hadrons, label=labels)
    write_lhco_events(tmp_path / "box.h5", hadrons[:, :400])  # fewer hadrons: padded to 700
    with pd.HDFStore(tmp_path / "rnd.h5", "r") as store:
        assert store.keys() == ["/df"] and store.get_storer("df").format_type == "fixed"
        table = store["df"]
    assert table.shape == (12, 2101) and list(table.columns) == list(range(2101))
    assert (table.dtypes == np.float64).all()
    np.testing.assert_array_equal(table.to_numpy()[:, :2100], hadrons.reshape(12, 2100))
    np.testing.assert_array_equal(table[2100].to_numpy(), labels)
    assert inspect_lhco_events(tmp_path / "box.h5").has_label is False
    box = pd.read_hdf(tmp_path / "box.h5")
    assert box.shape == (12, 2100) and (box.to_numpy()[:, 1200:] == 0).all()


@pytest.mark.parametrize("layout", ["fixed", "table"])
def test_reads_a_slice_of_rows(tmp_path, hadrons, layout):
    labels = np.arange(12) % 2
    values = np.column_stack([hadrons.reshape(12, -1), labels])
    pd.DataFrame(values).to_hdf(tmp_path / "events.h5", key="df", format=layout)
    part, label = read_lhco_events(tmp_path / "events.h5", start=3, stop=7)
    np.testing.assert_array_equal(part, hadrons[3:7])
    np.testing.assert_array_equal(label, labels[3:7])
    assert label.dtype == np.int64
    assert read_lhco_events(tmp_path / "events.h5", start=10, stop=100)[0].shape == (2, HADRONS, 3)
    assert inspect_lhco_events(tmp_path / "events.h5").n_events == 12


def test_clustering_agrees_with_fastjet_event_by_event(hadrons):
    columns = cluster_lhco_events(hadrons)
    ours = np.stack([[columns[f"{q}j{k}"] for q in ("px", "py", "pz", "m")] for k in (1, 2)], axis=0)
    np.testing.assert_allclose(ours.transpose(2, 0, 1), reference_jets(hadrons), rtol=1e-9, atol=1e-6)
    mjj = derive_features(columns)["mjj"]
    assert ((mjj > 2.5) & (mjj < 5.0)).all()  # the sprays' dijet mass, 3 to 4.5 TeV, less what falls outside
    assert (columns["tau1j1"] > 0).all() and (columns["tau2j1"] < columns["tau1j1"]).any()


def test_padding_and_hadron_order_do_not_matter(hadrons):
    rng = np.random.default_rng(5)
    shuffled = np.stack([event[rng.permutation(HADRONS)] for event in hadrons])
    compact = np.stack([np.concatenate([e[e[:, 0] > 0], np.zeros((HADRONS - (e[:, 0] > 0).sum(), 3))])
                        for e in hadrons])[:, :200]
    for other in (shuffled, compact):
        for name, values in cluster_lhco_events(other).items():
            np.testing.assert_allclose(values, cluster_lhco_events(hadrons)[name], rtol=1e-12, err_msg=name)


def test_round_trip_through_a_file_gives_the_features_computed_directly(tmp_path, hadrons):
    labels = (np.arange(12) % 3 == 0).astype(int)
    write_lhco_events(tmp_path / "events.h5", hadrons, label=labels)
    direct = derive_features(cluster_lhco_events(hadrons))
    events = read_lhco(tmp_path / "events.h5", features=("mjj", "mj1", "mj2", "tau21_j1", "tau32_j2"))
    for name in events.names:
        np.testing.assert_allclose(events.column(name), direct[name], rtol=1e-6, err_msg=name)
    np.testing.assert_array_equal(events.label, labels)
    chunked = cluster_lhco_file(tmp_path / "events.h5", chunk_size=5, progress=False)  # 3 chunks
    for name in CLUSTERED_COLUMNS:
        np.testing.assert_array_equal(chunked[name], cluster_lhco_events(hadrons)[name])
    part = cluster_lhco_file(tmp_path / "events.h5", start=4, stop=9, chunk_size=2, progress=False)
    np.testing.assert_array_equal(part["pxj1"], chunked["pxj1"][4:9])
    np.testing.assert_array_equal(part["label"], labels[4:9])


def test_black_box_has_no_label(tmp_path, hadrons):
    write_lhco_events(tmp_path / "box.h5", hadrons)
    assert read_lhco(tmp_path / "box.h5").label is None
    assert "label" not in read_lhco_raw(tmp_path / "box.h5").columns


def test_events_without_two_jets_are_invalid(tmp_path, hadrons):
    few = hadrons[:4].copy()
    few[1] = 0  # no hadron at all
    few[2, :, 0] = np.where(few[2, :, 1] > 0, few[2, :, 0], 0)  # only the spray at eta +0.3 (one jet)
    few[3, 0] = (np.nan, 0.0, 0.0)
    columns = cluster_lhco_events(few)
    assert np.isfinite(columns["pxj1"][[0, 2]]).all() and np.isnan(columns["pxj1"][[1, 3]]).all()
    assert np.isnan(columns["pxj2"][1:]).all() and np.isfinite(columns["mj2"][0])
    pd.DataFrame(few.reshape(4, -1)).to_hdf(tmp_path / "few.h5", key="df")  # the writer refuses NaN
    events, invalid = read_lhco(tmp_path / "few.h5", return_invalid=True)
    assert len(events) == 1 and invalid.n_dropped == 3
    with pytest.raises(ValueError, match="few.h5"):
        read_lhco(tmp_path / "few.h5", on_invalid="raise")


def test_pad_hadrons_keeps_the_hardest_700_in_order():
    pt = np.concatenate([[3.0, 1.0, 2.0], np.arange(1, 702, dtype=float)])
    counts = [3, 701]
    hadrons, cut = pad_hadrons(pt, np.zeros_like(pt), np.arange(len(pt), dtype=float), counts)
    assert cut == 1 and hadrons.shape == (2, HADRONS, 3)
    np.testing.assert_array_equal(hadrons[0, :4, 0], [3.0, 1.0, 2.0, 0.0])
    np.testing.assert_array_equal(hadrons[1, :, 0], np.arange(2, 702))  # pT 1 dropped, order kept
    np.testing.assert_array_equal(hadrons[1, :, 2], np.arange(4, 704))


def test_bad_files_name_the_file(tmp_path):
    pd.DataFrame(np.zeros((3, 2099))).to_hdf(tmp_path / "short.h5", key="df")
    pd.Series(np.zeros(3)).to_hdf(tmp_path / "series.h5", key="df")
    for name, match in (("short.h5", "2099 columns.*2100"), ("series.h5", "Series")):
        with pytest.raises(ValueError, match=rf"{name}.*{match}"):
            read_lhco_events(tmp_path / name)
        with pytest.raises(ValueError, match=name):
            read_lhco(tmp_path / name)
    pd.DataFrame({"a": [1.0]}).to_hdf(tmp_path / "named.h5", key="df")
    with pytest.raises(ValueError, match=r"named\.h5.*not an LHC Olympics event file"):
        read_lhco_events(tmp_path / "named.h5")
    with pytest.raises(ValueError, match=r"named\.h5.*missing.*nor an event file"):
        read_lhco(tmp_path / "named.h5")
    labels = np.column_stack([np.zeros((2, 2100)), [0.0, 2.0]])
    pd.DataFrame(labels).to_hdf(tmp_path / "label.h5", key="df")
    with pytest.raises(ValueError, match=r"label\.h5.*label.*0 and 1"):
        read_lhco(tmp_path / "label.h5")
    (tmp_path / "text.h5").write_text("not HDF")
    with pytest.raises(ValueError, match=r"text\.h5.*not a readable pandas HDF file"):
        read_lhco_events(tmp_path / "text.h5")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        read_lhco_events(tmp_path / "nope.h5")


def test_bad_arguments(tmp_path, hadrons):
    write_lhco_events(tmp_path / "e.h5", hadrons)
    with pytest.raises(FileExistsError, match="overwrite"):
        write_lhco_events(tmp_path / "e.h5", hadrons)
    for kwargs, match in (({"start": -1}, "start"), ({"start": 5, "stop": 2}, "stop must be >= start")):
        with pytest.raises(ValueError, match=match):
            read_lhco_events(tmp_path / "e.h5", **kwargs)
    with pytest.raises(ValueError, match="chunk_size"):
        cluster_lhco_file(tmp_path / "e.h5", chunk_size=0)
    with pytest.raises(ValueError, match=r"shape \(N, hadrons, 3\)"):
        cluster_lhco_events(np.zeros((2, 2100)))
    with pytest.raises(ValueError, match="at most 700"):
        write_lhco_events(tmp_path / "x.h5", np.zeros((1, 701, 3)))
    with pytest.raises(ValueError, match="label must have shape"):
        write_lhco_events(tmp_path / "x.h5", hadrons, label=[0, 1])
    with pytest.raises(ValueError, match="0 and 1"):
        write_lhco_events(tmp_path / "x.h5", hadrons, label=np.full(12, 3))
    bad = hadrons.copy()
    bad[4, 0, 0] = -1.0
    with pytest.raises(ValueError, match="negative pT in 1 event.*event 4"):
        write_lhco_events(tmp_path / "x.h5", bad)
    assert not (tmp_path / "x.h5").exists()


def test_generator_writes_raw_events_that_recluster_to_its_jets(tmp_path):
    from likely.data.generate import DijetSettings, generate_dijet
    from likely.data.generate.driver import load_chunk, work_dir

    out = generate_dijet(tmp_path / "w.h5", DijetSettings("wprime"), 6, chunk_size=3, seed=3, progress=False,
                         format="lhco-events")
    assert inspect_lhco_events(out).n_events == 6 and inspect_lhco_events(out).has_label
    hadrons, label = read_lhco_events(out)
    assert (label == 1).all() and ((hadrons[..., 0] > 0).sum(axis=1) > 50).all()
    ours = read_lhco_raw(out)
    chunks = [load_chunk(path)[0] for path in sorted(work_dir(out).glob("chunk*.npz"))]
    truth = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in JET_COLUMNS}
    # the file's hadrons are massless: the same jets (pT to rounding when the constituents
    # match), a few GeV lighter; the generator's own features use the true particle masses
    for k in (1, 2):
        pt = np.hypot(ours[f"pxj{k}"], ours[f"pyj{k}"]) / np.hypot(truth[f"pxj{k}"], truth[f"pyj{k}"])
        assert np.mean(np.abs(pt - 1) < 1e-9) >= 0.5 and (np.abs(pt - 1) < 0.02).all()
        np.testing.assert_allclose(ours[f"mj{k}"], truth[f"mj{k}"], rtol=0.1)
        assert (ours[f"mj{k}"] <= truth[f"mj{k}"] + 1.0).mean() >= 0.8


def test_discover_command_runs_on_a_raw_event_file(tmp_path):
    import json

    from likely.cli import main

    n = 2000
    hadrons = dijet_hadrons(2.85 + np.random.default_rng(2).exponential(0.4, n), seed=2)  # a falling spectrum
    write_lhco_events(tmp_path / "events_anomalydetection_tiny.h5", hadrons, label=np.arange(n) % 20 == 0)
    out = tmp_path / "run"
    assert main(["-q", "search", "discover", "--data", str(tmp_path / "events_anomalydetection_tiny.h5"),
                 "--windows", "3.2", "3.8", "0.4", "0.2", "--range", "2.8", "4.8", "--efficiencies", "0.5",
                 "--folds", "2", "--pseudo", "2", "--no-decorrelate", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["input"]["n_read"] == n and results["truth"]["signal_events"] > 0
    assert len(results["tests"]) >= 1


def test_generate_command_writes_the_raw_format(tmp_path):
    from likely.cli import main

    out = tmp_path / "events_w.h5"
    assert main(["-q", "generate", "dijet", "--process", "wprime", "--events", "3", "--format", "lhco-events",
                 "--out", str(out)]) == 0
    assert inspect_lhco_events(out) == EventsFile("df", 3, True)
    assert len(read_lhco(out)) == 3
