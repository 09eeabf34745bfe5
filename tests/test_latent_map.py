"""The latent map of models (arXiv:2407.20315): the energy distance, and a map of Gaussian "models"
whose similarities are known: two identical models, one shifted, one with another width."""

import numpy as np
import pytest
from scipy import stats

from likely.data import EventSet
from likely.metrics import energy_distance
from likely.nn import Trainer
from likely.search import LatentMap
from likely.search.latent_map import _draw_sets


def _mean_abs_normal(mean, sd):
    """E|Z| for Z ~ N(mean, sd²)."""
    return sd * np.sqrt(2 / np.pi) * np.exp(-mean**2 / (2 * sd**2)) + mean * (1 - 2 * stats.norm.cdf(-mean / sd))


@pytest.mark.parametrize("shift", [0.0, 1.5])
def test_energy_distance_of_two_gaussians_matches_the_analytic_value(shift):
    n, rng = 3000, np.random.default_rng(0)
    x, y = rng.normal(0, 1, (n, 1)), rng.normal(shift, 1, (n, 1))
    exact = 2 * _mean_abs_normal(shift, np.sqrt(2)) - 2 * _mean_abs_normal(0, np.sqrt(2))
    # 4 standard errors: the estimate moves by dD/dshift = 2 (1 - 2 Φ(-shift/√2)) times the
    # difference of the sample means (standard error √(2/n)), plus a second-order floor
    slope = 2 * (1 - 2 * stats.norm.cdf(-shift / np.sqrt(2)))
    assert energy_distance(x, y) == pytest.approx(exact, abs=4 * slope * np.sqrt(2 / n) + 0.005)


def test_energy_distance_checks_its_inputs():
    with pytest.raises(ValueError, match="x needs at least 2 rows"):
        energy_distance([[1.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="y has 2 features, but 1 were expected"):
        energy_distance([[1.0], [2.0]], [[1.0, 2.0], [2.0, 3.0]])


def test_sets_never_repeat_an_event():
    rows = _draw_sets(23, 40, 5, np.random.default_rng(0))
    assert rows.shape == (40, 5)
    assert all(len(set(row)) == 5 for row in rows) and rows.max() < 23


def _zoo(n, rng):
    return {"sm": rng.normal(0, 1, (n, 3)), "sm_twin": rng.normal(0, 1, (n, 3)),
            "shifted": rng.normal([2.0, 0, 0], 1, (n, 3))}


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    latent_map = LatentMap(set_size=5, hidden=(32, 32), sets_per_model=400, random_state=0,
                           trainer=Trainer(epochs=15, patience=None, progress=False))
    return latent_map.fit(_zoo(1200, rng)), rng


@pytest.mark.slow
def test_identical_models_overlap_and_a_different_one_lands_apart(fitted):
    latent_map, _ = fitted
    d = latent_map.distances()
    sm, twin, shifted = (latent_map.models_.index(name) for name in ("sm", "sm_twin", "shifted"))
    assert abs(d[sm, twin]) < 0.05
    assert d[sm, shifted] > 0.5 and d[twin, shifted] > 0.5
    assert np.linalg.norm(latent_map.centroids_[sm] - latent_map.centroids_[shifted]) > 0.5
    assert latent_map.centroids_.shape == (3, 2) and latent_map.covariances_.shape == (3, 2, 2)


@pytest.mark.slow
def test_query_ranks_the_true_model_first(fitted):
    latent_map, rng = fitted
    shifted = latent_map.rank(rng.normal([2.0, 0, 0], 1, (300, 3)))
    assert shifted.best == "shifted" and abs(shifted.distances[0]) < 0.05 and shifted.distances[1] > 0.5
    standard = latent_map.rank(rng.normal(0, 1, (300, 3)))
    assert set(standard.names[:2]) == {"sm", "sm_twin"} and standard.names[2] == "shifted"
    assert standard.latent.shape == (60, 2)
    assert [row["model"] for row in standard.as_dict()["ranking"]] == standard.names


def test_eventsets_and_labelled_arrays_give_the_same_map():
    rng = np.random.default_rng(2)
    zoo = {name: X[:, :2] for name, X in _zoo(200, rng).items()}
    settings = dict(set_size=4, hidden=(8,), sets_per_model=20, random_state=3, device="cpu",
                    trainer=Trainer(epochs=1, progress=False))
    events = {name: EventSet({"a": X[:, 0], "b": X[:, 1], "unused": X[:, 0] * 0}) for name, X in zoo.items()}
    from_events = LatentMap(features=["a", "b"], **settings).fit(events)
    X = np.concatenate(list(zoo.values()))
    y = np.repeat(list(zoo), 200)
    from_arrays = LatentMap(**settings).fit(X, y)
    assert from_events.models_ == from_arrays.models_ == list(zoo)
    assert from_events.feature_names_ == ["a", "b"] and from_arrays.feature_names_ is None
    np.testing.assert_allclose(from_events.transform(events["sm"]), from_arrays.transform(zoo["sm"]), atol=1e-6)
    assert from_events.transform(zoo["sm"][:9]).shape == (2, 2)


def test_bad_input_names_the_problem():
    rng = np.random.default_rng(3)
    quick = dict(set_size=5, hidden=(8,), sets_per_model=10, trainer=Trainer(epochs=1, progress=False))
    with pytest.raises(ValueError, match="at least 2 models"):
        LatentMap(**quick).fit({"only": rng.normal(size=(100, 2))})
    with pytest.raises(ValueError, match="model 'tiny' has 30 events: too few"):
        LatentMap(**quick).fit({"big": rng.normal(size=(100, 2)), "tiny": rng.normal(size=(30, 2))})
    with pytest.raises(ValueError, match="y .* is required"):
        LatentMap(**quick).fit(rng.normal(size=(100, 2)))
    with pytest.raises(ValueError, match="same features"):
        LatentMap(**quick).fit({"a": rng.normal(size=(100, 2)), "b": rng.normal(size=(100, 3))})
    with pytest.raises(ValueError, match="set_size must be > 0"):
        LatentMap(set_size=0).fit({"a": rng.normal(size=(100, 2)), "b": rng.normal(size=(100, 2))})
    events = {name: EventSet({"x": rng.normal(size=100)}) for name in "ab"}
    latent_map = LatentMap(**quick).fit(events)
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['x'\]"):
        latent_map.rank(EventSet({"y": rng.normal(size=100)}))
    with pytest.raises(ValueError, match="at least 2 \\* set_size = 10"):
        latent_map.rank(rng.normal(size=(9, 1)))
    with pytest.raises(ValueError, match="fewer than one set"):
        latent_map.transform(rng.normal(size=(4, 1)))


def test_latent_map_command_writes_map_report_and_ranks_the_query(tmp_path):
    import json

    from likely.cli import main
    from likely.data.samples import bundled_dijet_paths

    background, signal = bundled_dijet_paths()
    out = tmp_path / "map"
    args = ["-q", "search", "latent-map", "--models", f"qcd={background}", str(signal), "--query", str(signal),
            "--set-size", "5", "--sets-per-model", "100", "--epochs", "2", "--out", str(out)]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert [model["name"] for model in results["models"]] == ["qcd", "dijet_signal"]
    assert np.allclose(np.diag(results["distances"]), 0) and results["query"]["ranking"][0]["model"] == "dijet_signal"
    assert "| 1 | dijet_signal |" in (out / "report.md").read_text()
    for name in ("latent_map.png", "model/manifest.json", "config.json"):
        assert (out / name).stat().st_size > 0, name
    loaded = LatentMap.load(out / "model", device="cpu")
    assert loaded.models_ == ["qcd", "dijet_signal"] and loaded.feature_names_[0] == "mjj"


def test_latent_map_command_refuses_one_model_and_twice_the_same_name(tmp_path, capsys):
    from likely.cli import main

    for models, message in ([["a.h5"]], "at least 2 model files"), ([["x/a.h5", "y/a.h5"]], "'a' twice"):
        with pytest.raises(SystemExit):
            main(["-q", "search", "latent-map", "--models", *models[0], "--out", str(tmp_path / "run")])
        assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_map_figure_draws_every_model_and_the_query(fitted, tmp_path):
    import warnings

    from likely.plot import plot_latent_map, save_figure

    latent_map, rng = fitted
    query = latent_map.rank(rng.normal([2.0, 0, 0], 1, (300, 3)))
    fig = plot_latent_map(latent_map, query, "a box with a long name")
    ax = fig.axes[0]
    assert len(ax.collections) == 4 and len(ax.patches) == 3  # dots of 3 models + the query; 3 ellipses
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), query.latent)
    assert "shifted" in ax.get_legend().get_texts()[0].get_text().splitlines()[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "constrained_layout not applied": the axes collapsed
        assert save_figure(fig, tmp_path / "map.png").stat().st_size > 0
