"""The ABCD tail search: regions and prediction, flow decorrelation, closure on signal-free data."""

import numpy as np
import pytest

from likely.classify import TreeClassifier
from likely.density import Flow
from likely.nn import Trainer
from likely.search.abcd import ABCD, Decorrelator, abcd, tail_search

pytestmark = pytest.mark.xdist_group("abcd")
T_CUT = 2.0


def tail_sample(n_background: int, n_signal: int, seed: int):
    """Tail feature t ~ Exp(1); features that depend on t; signal: far in the tail with other features."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([rng.exponential(1.0, n_background), T_CUT + rng.exponential(1.0, n_signal)])
    x = np.column_stack([t + rng.normal(size=len(t)), -0.5 * t + rng.normal(size=len(t)),
                         rng.normal(size=len(t)) * (1 + 0.3 * t)])
    x[n_background:, 2] = rng.normal(3.0, 0.5, n_signal)
    x[n_background:, 0] -= 1.5
    return x.astype(np.float32), t.astype(np.float32)


def fast_decorrelator():
    return Decorrelator(flow=Flow(transforms=3, hidden=(32, 32), trainer=Trainer(epochs=25, patience=5,
                                                                                   progress=False)))


def test_abcd_prediction_and_errors():
    regions = ABCD(a=30, b=100, c=50, d=400)
    assert regions.predicted == pytest.approx(12.5)
    assert regions.error == pytest.approx(12.5 * np.sqrt(1 / 100 + 1 / 50 + 1 / 400))
    assert regions.z > 2
    t = np.array([0.5, 0.5, 3.0, 3.0, 3.0])
    s = np.array([0.9, 0.1, 0.9, 0.1, 0.2])
    assert abcd(s, t, 0.5, 2.0) == ABCD(a=1, b=2, c=1, d=1)
    with pytest.raises(ValueError, match="B, C and D"):
        abcd(s[:2], t[:2], 0.5, 2.0)


def test_decorrelated_features_are_independent_of_t():
    x, t = tail_sample(10_000, 0, seed=0)
    z = fast_decorrelator().set_params(random_state=0).fit(x, t).transform(*tail_sample(5_000, 0, seed=1))
    _, t_new = tail_sample(5_000, 0, seed=1)
    raw = np.corrcoef(tail_sample(5_000, 0, seed=1)[0][:, 0], t_new)[0, 1]
    decorrelated = np.array([np.corrcoef(z[:, i], t_new)[0, 1] for i in range(3)])
    assert raw > 0.5 and np.all(np.abs(decorrelated) < 0.1)
    assert np.all(np.abs(z.std(0) - 1) < 0.15)


def test_cross_transform_maps_every_event_out_of_fold():
    """Out of fold: the same decorrelation as a fitted flow, every row from a clone that did not see it."""
    x, t = tail_sample(8_000, 0, seed=2)
    decorrelator = fast_decorrelator().set_params(random_state=3)
    z = decorrelator.cross_transform(x, t, n_folds=2)
    assert z.shape == x.shape and np.isfinite(z).all()
    assert np.all([abs(np.corrcoef(z[:, i], t)[0, 1]) < 0.1 for i in range(3)])
    assert np.all(np.abs(z.std(0) - 1) < 0.15)
    # a flow fitted on all rows maps them differently from the out-of-fold clones
    assert not np.allclose(z, decorrelator.fit(x, t).transform(x, t), atol=1e-3)
    # rows that are not trainable are only mapped: shifted rows keep their shift in z
    shifted = np.arange(len(x)) % 4 == 0
    z = decorrelator.cross_transform(np.where(shifted[:, None], x + 3.0, x), t, trainable=~shifted)
    assert np.all(z[shifted].mean(0) > 1.5) and np.all(np.abs(z[~shifted].mean(0)) < 0.15)
    with pytest.raises(ValueError, match="trainable"):
        decorrelator.cross_transform(x, t, trainable=np.zeros(len(x), bool))
    with pytest.raises(ValueError, match="n_folds"):
        decorrelator.cross_transform(x, t, n_folds=1)
    with pytest.raises(ValueError, match="t has"):
        decorrelator.cross_transform(x, t[:-1])


@pytest.fixture(scope="module")
def reference():
    return tail_sample(15_000, 0, seed=10)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20, 21])
def test_closure_on_signal_free_data(reference, seed):
    x, t = tail_sample(15_000, 0, seed=seed)
    regions, _ = tail_search(x, t, *reference, t_cut=T_CUT, efficiency=0.05, decorrelator=fast_decorrelator(),
                             classifier=TreeClassifier(max_iter=50), n_folds=3, random_state=seed)
    total = np.sqrt(regions.error**2 + regions.predicted)
    assert abs(regions.a - regions.predicted) < 3 * total, regions.summary()


@pytest.mark.slow
def test_a_tail_signal_is_found(reference):
    x, t = tail_sample(15_000, 400, seed=30)
    regions, score = tail_search(x, t, *reference, t_cut=T_CUT, efficiency=0.05, decorrelator=fast_decorrelator(),
                                 classifier=TreeClassifier(max_iter=50), n_folds=3, random_state=0)
    assert regions.z > 4, regions.summary()
    assert score.shape == (15_400,)


def test_bad_efficiency_is_refused(reference):
    with pytest.raises(ValueError, match="efficiency"):
        tail_search(*reference, *reference, t_cut=T_CUT, efficiency=1.0)


@pytest.fixture(scope="module")
def lhco_halves(tmp_path_factory):
    """Two files of 3000 bundled background events each, in the raw LHCO columns: (data, reference)."""
    from likely.data.lhco import read_lhco_raw, write_lhco
    from likely.data.samples import bundled_dijet_paths

    raw = read_lhco_raw(bundled_dijet_paths()[0])
    folder = tmp_path_factory.mktemp("tail")
    paths = folder / "data.h5", folder / "reference.h5"
    for k, path in enumerate(paths):
        write_lhco(path, raw.iloc[k * 3000:(k + 1) * 3000])
    return paths


def test_tail_command_writes_regions_report_and_figure(lhco_halves, tmp_path):
    import json

    from likely.cli import main

    data, reference = lhco_halves
    out = tmp_path / "run"
    assert main(["-q", "search", "tail", "--data", str(data), "--reference", str(reference), "--t-cut", "3.6",
                 "--efficiencies", "0.2", "0.05", "--folds", "2", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert [c["efficiency"] for c in results["cuts"]] == [0.2, 0.05]
    for cut in results["cuts"]:
        assert cut["A"] + cut["B"] + cut["C"] + cut["D"] == results["n_data"] == 3000
        assert cut["C"] / (cut["C"] + cut["D"]) == pytest.approx(cut["efficiency"], abs=0.01)
    assert "predicted A" in (out / "report.md").read_text() and (out / "efficiency_vs_t.png").is_file()


@pytest.mark.parametrize("args, match", [
    (["--features", "mjj", "mj1"], "tail feature"),
    (["--efficiencies", "1.5"], "--efficiencies"),
    (["--folds", "1"], "--folds"),
])
def test_tail_command_refuses_bad_settings_before_any_work(lhco_halves, tmp_path, capsys, args, match):
    from likely.cli import main

    data, reference = lhco_halves
    with pytest.raises(SystemExit):
        main(["-q", "search", "tail", "--data", str(data), "--reference", str(reference), "--t-cut", "3.6", *args,
              "--out", str(tmp_path / "run")])
    assert match in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
