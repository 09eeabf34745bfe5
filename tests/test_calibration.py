"""Energy calibration: batched maximization, maximum-likelihood E_inc, regression baseline, plot."""

import numpy as np
import pytest
from calo_toy import SAMPLING, tiny_caloflow, toy_showers

from likely.calo import EnergyRegressor, bias_resolution, maximize_batched, maximum_likelihood_energy
from likely.nn import Trainer
from likely.plot import plot_calibration, save_figure


def test_maximize_batched_finds_each_rows_maximum(rng):
    n = 500
    peak = rng.uniform(-2, 3, size=n)
    peak[:3] = [-2.0, 3.0, 5.0]  # on both edges and beyond the upper one
    calls = []

    def fn(x):
        calls.append(x.shape)
        # a global maximum at `peak` and a lower local one at peak - 1.5
        return np.exp(-((x - peak) ** 2) / 0.1) + 0.5 * np.exp(-((x - peak + 1.5) ** 2) / 0.1)

    found = maximize_batched(fn, np.full(n, -2.0), np.full(n, 3.0), grid=40, iterations=40)
    np.testing.assert_allclose(found, np.clip(peak, -2, 3), atol=1e-6)
    assert len(calls) == 40 + 40 + 2 and set(calls) == {(n,)}


def test_maximize_batched_rejects_bad_bounds():
    with pytest.raises(ValueError, match="high must exceed low"):
        maximize_batched(np.negative, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="grid"):
        maximize_batched(np.negative, np.zeros(3), np.ones(3), grid=2)


@pytest.fixture(scope="module")
def trained():
    showers, e_inc = toy_showers(3000, seed=21)
    return tiny_caloflow(epochs=30).fit(showers, e_inc), showers, e_inc


def test_maximum_likelihood_recovers_the_incident_energy(trained):
    model, _, _ = trained
    showers, e_inc = toy_showers(600, seed=22)
    e_hat = maximum_likelihood_energy(model, showers, random_state=0)
    assert e_hat.shape == (600,) and e_hat.dtype == np.float32
    table = bias_resolution(e_inc, e_hat, bins=4)
    # the toy's best possible estimate is E_dep / 0.2 (resolution 10 % / sqrt(E))
    ideal = bias_resolution(e_inc, showers.sum(1) / SAMPLING, bins=4)
    assert np.all(np.abs(table["bias"]) < 0.02)
    assert np.all(table["resolution"] < 1.5 * ideal["resolution"] + 0.005)
    with pytest.raises(ValueError, match="bounds"):
        maximum_likelihood_energy(model, showers, bounds=(10.0, 1.0))


def test_regression_baseline_learns_the_energy(trained):
    _, showers, e_inc = trained
    trainer = Trainer(epochs=30, batch_size=256, lr=3e-3, progress=False)
    regressor = EnergyRegressor(hidden=(64, 64), trainer=trainer, device="cpu", random_state=0).fit(showers, e_inc)
    test, e_test = toy_showers(600, seed=23)
    table = bias_resolution(e_test, regressor.predict(test), bins=4)
    assert np.all(np.abs(table["bias"]) < 0.05) and np.all(table["resolution"] < 0.2)


def test_bias_resolution_on_a_known_response(rng):
    e_true = np.exp(rng.uniform(0, np.log(100), size=40000))
    e_pred = e_true * (1.02 + 0.05 * rng.normal(size=e_true.size))
    table = bias_resolution(e_true, e_pred, bins=[1, 10, 100])
    np.testing.assert_allclose(table["bias"], 0.02, atol=0.002)
    np.testing.assert_allclose(table["resolution"], 0.05 / 1.02, atol=0.002)
    np.testing.assert_allclose(table["center"], [np.sqrt(10), np.sqrt(1000)])
    assert table["count"].sum() == 40000
    with pytest.raises(ValueError, match="e_pred has 3 entries"):
        bias_resolution(e_true, e_pred[:3])


def test_plot_calibration(tmp_path, rng):
    e_true = np.exp(rng.uniform(0, 4, size=2000))
    tables = {name: bias_resolution(e_true, e_true * (1 + s * rng.normal(size=2000)), bins=5)
              for name, s in (("max. likelihood", 0.05), ("regression", 0.1))}
    path = save_figure(plot_calibration(tables), tmp_path / "calibration.png")
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="results is empty"):
        plot_calibration({})
