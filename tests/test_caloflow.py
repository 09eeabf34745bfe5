"""CaloFlow: exact voxel-space likelihood, sampling, persistence, input validation."""

import numpy as np
import pytest
from calo_toy import SIZES, tiny_caloflow, toy_showers

from likely.calo import CaloFlow


@pytest.fixture(scope="module")
def fitted():
    showers, e_inc = toy_showers(3000, seed=1)
    return tiny_caloflow().fit(showers, e_inc)


def test_log_prob_is_flow_terms_plus_jacobians(fitted):
    showers, e_inc = toy_showers(50, seed=2)
    logp = fitted.log_prob(showers, e_inc, random_state=7)
    # independent recomputation: same noise, layer energies and log-ratios by hand
    noisy = showers.astype(np.float64) + np.random.default_rng(7).uniform(0, fitted.noise, showers.shape)
    layers = np.split(noisy, np.cumsum(SIZES)[:-1], axis=1)
    energies = np.stack([layer.sum(1) for layer in layers], axis=1)
    refs = fitted.split_.reference.tolist()
    ratios = np.concatenate(
        [np.log(np.delete(layer, ref, axis=1) / layer[:, ref : ref + 1]) for layer, ref in zip(layers, refs)], axis=1
    )
    jacobian = sum(np.log(layer.sum(1)) - np.log(layer).sum(1) for layer in layers)
    flow_i = fitted.flow_i_.log_prob(energies.astype(np.float32), cond=np.log10(e_inc / 10.0))
    cond_ii = np.concatenate([np.log10(energies + 1e-6) - 2, np.log10(e_inc / 10.0)[:, None]], axis=1)
    flow_ii = fitted.flow_ii_.log_prob(ratios.astype(np.float32), cond=cond_ii)
    np.testing.assert_allclose(logp, flow_i + flow_ii + jacobian, rtol=1e-4, atol=2e-3)
    terms = fitted.log_prob_terms(showers, e_inc, random_state=7)
    np.testing.assert_allclose(terms["jacobian"], jacobian, rtol=1e-10)
    assert np.isfinite(logp).all()


def test_density_integrates_to_one_in_voxel_space():
    # one layer of two voxels: integrate p(x1, x2 | E_inc) on a log grid, in voxel units
    showers, e_inc = toy_showers(2000, sizes=(2,), e_range=(5.0, 5.0), seed=3)
    model = tiny_caloflow(sizes=(2,), epochs=10).fit(showers, e_inc)
    grid = np.linspace(np.log(1e-3), np.log(20.0), 300)
    step = grid[1] - grid[0]
    u1, u2 = np.meshgrid(grid, grid, indexing="ij")
    points = np.exp(np.stack([u1.ravel(), u2.ravel()], axis=1)).astype(np.float32)
    logp = model.log_prob(points, np.full(len(points), 5.0), random_state=0)
    total = np.sum(np.exp(logp.astype(np.float64) + np.log(points).sum(1))) * step**2
    assert total == pytest.approx(1.0, abs=0.03)


def test_samples_are_valid_showers_and_resemble_training(fitted):
    e_inc = np.full(2000, 30.0, dtype=np.float32)
    samples = fitted.sample(e_inc, random_state=4)
    assert samples.shape == (2000, sum(SIZES)) and samples.dtype == np.float32
    assert (samples >= 0).all() and np.isfinite(samples).all()
    truth, _ = toy_showers(2000, e_inc=e_inc, seed=5)
    ratio = samples.sum(1).mean() / truth.sum(1).mean()
    assert ratio == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(samples, fitted.sample(e_inc, random_state=4))


def test_likelihood_prefers_the_true_incident_energy(fitted):
    showers, e_inc = toy_showers(500, seed=6)
    right = fitted.log_prob(showers, e_inc, random_state=0)
    wrong = fitted.log_prob(showers, e_inc * 2.0, random_state=0)
    assert np.mean(right > wrong) > 0.9


def test_save_load_round_trip(fitted, tmp_path):
    showers, e_inc = toy_showers(20, seed=8)
    fitted.save(tmp_path / "caloflow")
    loaded = CaloFlow.load(tmp_path / "caloflow", device="cpu")
    np.testing.assert_allclose(loaded.log_prob(showers, e_inc, random_state=1),
                               fitted.log_prob(showers, e_inc, random_state=1), rtol=1e-6)
    np.testing.assert_array_equal(loaded.sample(e_inc, random_state=2), fitted.sample(e_inc, random_state=2))


def test_bad_input(fitted):
    showers, e_inc = toy_showers(10, seed=9)
    with pytest.raises(ValueError, match="showers has 12 features"):
        fitted.log_prob(showers[:, :-1], e_inc)
    negative = showers.copy()
    negative[0, 0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        fitted.log_prob(negative, e_inc)
    empty = showers.copy()
    empty[3] = 0.0
    with pytest.raises(ValueError, match="zero-energy"):
        fitted.log_prob(empty, e_inc)
    with pytest.raises(ValueError, match="e_inc must be positive"):
        fitted.log_prob(showers, -e_inc)
    with pytest.raises(ValueError, match="e_inc has 9 entries"):
        fitted.log_prob(showers, e_inc[:-1])
    with pytest.raises(ValueError, match="layer_sizes"):
        CaloFlow(layer_sizes=(3, 0)).fit(showers, e_inc)
    with pytest.raises(ValueError, match="one voxel per layer"):
        CaloFlow(layer_sizes=(1, 1)).fit(showers[:, :2], e_inc)
    with pytest.raises(TypeError, match="flow_i must be a Flow"):
        CaloFlow(layer_sizes=SIZES, flow_i="maf").fit(showers, e_inc)
    with pytest.raises(ValueError, match="not fitted"):
        CaloFlow(layer_sizes=SIZES).sample(e_inc)


def test_a_shower_with_almost_no_energy_gets_a_finite_likelihood(fitted):
    """A chi decaying at the back can leave ~1e-45 GeV: E_inc / 10 GeV underflows float32, not the score."""
    showers, e_inc = toy_showers(2, seed=3)
    faint = np.zeros_like(showers)
    faint[:, 0] = 1e-45
    assert np.float32(3e-45) / np.float32(10.0) == 0.0  # what used to give log10(0) = -inf
    logp = fitted.log_prob(np.concatenate([showers, faint]), np.concatenate([e_inc, [3e-45, 3e-45]]))
    assert np.isfinite(logp).all()
