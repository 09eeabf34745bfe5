"""likely.search.discover on unlabelled data where CWoLa hunting's assumption holds.

The sample: mjj drawn from the dijet function, four features independent of mjj in the
background; the signal, a narrow resonance whose events have two shifted features. The
tests check that the search finds the injected window with a large significance, that a
signal-free sample gives no discovery, and that bad settings are refused.
"""

import numpy as np
import pytest

from likely.classify import TreeClassifier
from likely.data import EventSet
from likely.search import CWoLa, Window
from likely.search.discover import Discovery, check_windows, discover, hunt
from likely.stats import dijet_density

EDGES = np.round(np.arange(2.8, 4.80001, 0.1), 3)
WINDOWS = [Window(low, round(low + 0.4, 3)) for low in (3.2, 3.4, 3.6)]
pytestmark = pytest.mark.xdist_group("discover")  # the module's fixtures are made once
FAST = CWoLa(features=("f0", "f1", "f2", "f3"), classifier=TreeClassifier(max_iter=40), n_folds=3)


def bump_sample(n_background: int, n_signal: int, mass: float = 3.6, seed: int = 0) -> EventSet:
    rng = np.random.default_rng(seed)
    grid = np.linspace(EDGES[0], EDGES[-1], 20_001)
    cdf = np.cumsum(dijet_density(grid, np.array([np.log(1e3), 12.0, 4.0])))
    mjj = np.interp(rng.uniform(cdf[0], cdf[-1], n_background), cdf, grid)
    features = rng.normal(size=(n_background + n_signal, 4))
    features[n_background:, :2] += 1.5
    mjj = np.concatenate([mjj, rng.normal(mass, 0.05, n_signal)])
    columns = {"mjj": mjj.astype(np.float32), **{f"f{i}": features[:, i].astype(np.float32) for i in range(4)}}
    return EventSet(columns).shuffle(seed)


@pytest.fixture(scope="module")
def with_signal():
    return discover(bump_sample(25_000, 300, seed=1), WINDOWS, EDGES, method=FAST, efficiencies=(0.2, 0.02),
                    n_pseudo=30, progress=False)


@pytest.fixture(scope="module")
def without_signal():
    return discover(bump_sample(25_000, 0, seed=2), WINDOWS, EDGES, method=FAST, efficiencies=(0.2, 0.02),
                    n_pseudo=30, progress=False)


@pytest.mark.slow
def test_finds_the_injected_resonance(with_signal):
    best = with_signal.best
    assert best.window.low <= 3.6 < best.window.high
    assert best.z_local > 5 and best.observed > best.background + 5 * best.background_error
    assert with_signal.p_global == pytest.approx(1 / 31)  # beyond what 30 pseudo-experiments resolve
    assert with_signal.p_global_gv < 1e-4
    assert with_signal.p_global >= best.p_local


@pytest.mark.slow
def test_signal_free_data_gives_no_discovery(without_signal):
    assert without_signal.best.z_local < 3.5
    assert without_signal.p_global > 0.01
    fits = [t for row in without_signal.tests for t in row]
    assert all(t.tested and t.chi2 < 3 * t.ndof for t in fits)


@pytest.mark.slow
def test_summary_is_json_ready(with_signal):
    import json

    summary = json.loads(json.dumps(with_signal.summary()))
    assert len(summary["tests"]) == len(WINDOWS) * 2 and summary["pseudo_experiments"] == 30
    assert summary["z_global_gross_vitells"] > 3.5


def test_too_sparse_a_cut_is_reported_not_faked():
    events = bump_sample(3_000, 0, seed=3)
    scores = np.random.default_rng(0).random(len(events))
    tests = hunt(events.column("mjj").astype(float), scores, WINDOWS[0], EDGES, efficiencies=(0.5, 0.001))
    assert tests[0].tested and not tests[1].tested and np.isnan(tests[1].p_local) and tests[1].failure


@pytest.mark.parametrize("kwargs, match", [
    (dict(efficiencies=(0.01, 0.1)), "decreasing"),
    (dict(efficiencies=(1.5,)), "efficiencies"),
    (dict(n_pseudo=0), "n_pseudo"),
    (dict(windows=[Window(3.25, 3.65)]), "bin edges"),
    (dict(windows=[Window(5.0, 5.4)]), "no bin"),
    (dict(windows=[Window(3.2, 3.6, sideband_width=0.4)]), "sideband_width"),
    (dict(method=CWoLa(features=("f0",), n_folds=None)), "n_folds"),
    (dict(decorrelate_on="signal region"), "decorrelate_on"),
])
def test_bad_settings_are_refused(kwargs, match):
    arguments = dict(windows=WINDOWS[:1], method=FAST, n_pseudo=2, progress=False) | kwargs
    with pytest.raises(ValueError, match=match):
        discover(bump_sample(2_000, 0), edges=EDGES, **arguments)


def test_gross_vitells_counts_upcrossings_along_each_width_apart():
    events = bump_sample(3_000, 0, seed=4)
    mjj, scores = events.column("mjj").astype(float), np.random.default_rng(0).random(len(events))
    windows = [Window(3.2, 3.6), Window(3.2, 4.0), Window(3.4, 3.8)]  # widths interleaved
    tests = [hunt(mjj, scores, window, EDGES, efficiencies=(0.5,)) for window in windows]
    null_z = np.array([[[1.0, 1.0, 0.0]], [[0.0, 2.0, 1.0]]])  # (pseudo-experiments, cuts, windows)
    discovery = Discovery(EDGES, (0.5,), tests, null_z)
    assert discovery.scans == [[0, 2], [1]]
    # 0.4 TeV scan (windows 0, 2): one upcrossing in each experiment; 0.8 TeV (window 1): one in each
    assert discovery.gv_upcrossings == pytest.approx(2.0)


def test_the_same_window_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        check_windows([Window(3.2, 3.6), Window(3.2, 3.6)], EDGES)


@pytest.mark.slow
def test_discover_command_writes_results_report_and_figures(tmp_path):
    import json

    from likely.cli import main

    out = tmp_path / "run"
    assert main(["-q", "search", "discover", "--toy", "20000", "--inject", "300", "--windows", "3.2", "3.8", "0.4",
                 "0.2", "--windows", "3.2", "3.8", "0.6", "0.2", "--range", "2.8", "4.8", "--efficiencies", "0.2",
                 "0.02", "--folds", "3", "--pseudo", "5", "--no-decorrelate", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["tests"]) == 3 * 2 and results["pseudo_experiments"] == 5
    assert sorted({tuple(t["sr"]) for t in results["tests"]}) == [(3.2, 3.6), (3.2, 3.8), (3.4, 3.8)]
    assert results["truth"]["signal_events"] == 300 and results["input"]["n_read"] is None
    report = (out / "report.md").read_text()
    assert "local significance" in report and "global significance" in report and "## Truth" in report
    for figure in ("significance_scan", "spectra_best_window", "features_best_window", "null_pvalues"):
        assert (out / f"{figure}.png").is_file() and f"({figure}.png)" in report
    with np.load(out / "scores.npz") as scores:
        assert scores["scores"].shape == (3, len(scores["mjj"]))


@pytest.mark.parametrize("args, match", [
    (["--windows", "3.2", "3.8", "0.4", "0.2", "--range", "2.8", "4.85"], "whole number"),
    (["--windows", "4.6", "5.6", "0.4", "0.2"], "inside the fit range"),
    (["--windows", "3.2", "3.0", "0.4", "0.2"], "FIRST"),
    (["--inject", "-3"], "--inject"),
])
def test_discover_command_refuses_bad_settings_before_any_work(tmp_path, capsys, args, match):
    from likely.cli import main

    with pytest.raises(SystemExit):
        main(["-q", "search", "discover", "--toy", "1000", *args, "--out", str(tmp_path / "run")])
    assert match in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def _mjj_dependent(events: EventSet) -> EventSet:
    """The sample with two features that follow mjj, as jet masses do."""
    mjj = events.column("mjj")
    return events.with_columns(f0=(events.column("f0") + 0.6 * mjj).astype(np.float32),
                               f1=(events.column("f1") - 0.6 * mjj).astype(np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("n_signal", [0, 300])
@pytest.mark.parametrize("decorrelate_on", ["fit range", "sidebands"])
def test_decorrelated_search_keeps_the_signal_and_finds_none_without(n_signal, decorrelate_on):
    """Features that follow mjj, decorrelated out of fold: a clean null, the signal found.

    Flows fitted on the whole fit range learn part of the signal (where it is a large part of
    the local density) and keep less of it than flows fitted on the sidebands only.
    """
    from likely.density import Flow
    from likely.nn import Trainer
    from likely.search import Decorrelator

    events = _mjj_dependent(bump_sample(25_000, n_signal, seed=4))
    decorrelator = Decorrelator(flow=Flow(transforms=3, hidden=(32, 32),
                                          trainer=Trainer(epochs=30, patience=5, progress=False)))
    best = discover(events, WINDOWS[1:2], EDGES, method=FAST, efficiencies=(0.2, 0.02), n_pseudo=1,
                    decorrelator=decorrelator, decorrelate_on=decorrelate_on, progress=False).best
    if n_signal:
        assert best.z_local > (5 if decorrelate_on == "sidebands" else 3)
    else:
        assert abs(best.z_local) < 3
