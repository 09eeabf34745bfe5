"""High-level shower features and separation power, on showers whose answers are known."""

import numpy as np
import pytest

from likely.calo import compare_high_level, high_level_features
from likely.metrics.histograms import separation_power

# two layers: 2 voxels at eta = -1, 1, then 3 voxels at eta = 0, 1, 2 (phi = 10 * eta)
LAYERS = (2, 3)
ETA = np.array([-1.0, 1.0, 0.0, 1.0, 2.0])
PHI = 10 * ETA


def test_separation_power_on_known_histograms():
    assert separation_power([0.2, 0.7], [0.2, 0.7], bins=2) == 0.0
    assert separation_power([0.2], [0.8], bins=np.array([0.0, 0.5, 1.0])) == 1.0
    # p = (1/2, 1/2), q = (1, 0): 0.5 * ((1/2)^2 / (3/2) + (1/2)^2 / (1/2)) = 1/3
    assert separation_power([0.2, 0.7], [0.2, 0.3], bins=np.array([0.0, 0.5, 1.0])) == pytest.approx(1 / 3)
    assert separation_power([0.2, np.nan, 0.7], [0.2, 0.7], bins=2) == 0.0  # NaN = undefined: left out


def test_features_of_a_hand_made_shower():
    showers = np.array([[1.0, 3.0, 2.0, 0.0, 2.0],   # layer energies 4 and 4
                        [0.0, 0.0, 0.0, 5.0, 0.0]])  # empty first layer
    features = high_level_features(showers, e_inc=[10.0, 5.0], layer_sizes=LAYERS, eta=ETA, phi=PHI)
    assert features["e_layer_0"].tolist() == [4.0, 0.0] and features["e_layer_1"].tolist() == [4.0, 5.0]
    # layer 0 of shower 0: weights 1/4, 3/4 at -1, 1 -> centre 0.5, width sqrt(1 - 0.25)
    assert features["eta_center_0"][0] == pytest.approx(0.5)
    assert features["eta_width_0"][0] == pytest.approx(np.sqrt(0.75))
    assert features["phi_center_0"][0] == pytest.approx(5.0)
    assert features["eta_center_1"][0] == pytest.approx(1.0) and features["eta_width_1"][0] == pytest.approx(1.0)
    assert np.isnan(features["eta_center_0"][1]) and np.isnan(features["brightest_0"][1])
    assert features["sparsity_1"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert features["brightest_0"][0] == pytest.approx(0.75)
    assert features["e_ratio"].tolist() == pytest.approx([0.8, 1.0])
    # depth: layer indices 0, 1 with equal energy -> 0.5, width 0.5; all in layer 1 -> 1, 0
    assert features["shower_depth"].tolist() == pytest.approx([0.5, 1.0])
    assert features["shower_depth_width"].tolist() == pytest.approx([0.5, 0.0])


def _showers(n, spread, rng):
    """Showers with a Gaussian-ish lateral profile of the given spread in each layer."""
    centers = rng.normal(0.5, spread, size=(n, 1))
    weights = np.exp(-((ETA[None, :] - centers) ** 2))
    return weights * rng.uniform(1, 2, size=(n, 1)), rng.uniform(2, 4, size=n)


def test_separation_power_tells_same_from_shifted():
    rng = np.random.default_rng(0)
    reference = high_level_features(*_showers(20_000, 0.5, rng), LAYERS, ETA, PHI)
    same = high_level_features(*_showers(20_000, 0.5, rng), LAYERS, ETA, PHI)
    shifted = high_level_features(*_showers(20_000, 0.8, rng), LAYERS, ETA, PHI)
    same_power, shifted_power = compare_high_level(reference, same), compare_high_level(reference, shifted)
    assert max(same_power.values()) < 0.01
    assert shifted_power["eta_center_0"] > 0.05 > same_power["eta_center_0"]


def test_bad_inputs_are_named():
    good = np.ones((2, 5))
    with pytest.raises(ValueError, match="showers has 4 features, but 5"):
        high_level_features(good[:, :4], [1.0, 1.0], LAYERS, ETA, PHI)
    with pytest.raises(ValueError, match="negative voxel energies"):
        high_level_features(-good, [1.0, 1.0], LAYERS, ETA, PHI)
    with pytest.raises(ValueError, match="e_inc must be positive; found 1 value"):
        high_level_features(good, [1.0, 0.0], LAYERS, ETA, PHI)
    with pytest.raises(ValueError, match="phi must give the centre of each of the 5 voxels"):
        high_level_features(good, [1.0, 1.0], LAYERS, ETA, PHI[:4])
    with pytest.raises(ValueError, match="layer_sizes"):
        high_level_features(good, [1.0, 1.0], (5, 0), ETA, PHI)
    with pytest.raises(ValueError, match="no finite values"):
        separation_power([np.nan], [1.0])


def test_features_of_the_bundled_photon_showers():
    from likely.calo import seed000_geometry, shower_features
    from likely.data.samples import load_bundled_showers

    showers = load_bundled_showers()
    features = shower_features(showers, seed000_geometry())
    # visible energy: about the sampling fraction (0.21) of the incident energy
    assert 0.15 < np.median(features["e_ratio"]) < 0.25
    # photons at normal incidence on the axis: centred within a voxel of the axis in every layer
    for layer in range(3):
        assert abs(np.nanmedian(features[f"eta_center_{layer}"])) < 20
    assert 0 < np.median(features["shower_depth"]) < 2
    halves = compare_high_level(features[: len(features) // 2], features[len(features) // 2:], bins=20)
    assert max(halves.values()) < 0.1  # two halves of one sample agree


def test_readout_threshold_hides_sub_threshold_deposits_in_both_samples():
    from likely.calo import evaluate_showers, seed000_geometry
    from likely.data.samples import load_bundled_showers
    from likely.data.showers import Showers

    photons = load_bundled_showers()
    half = len(photons) // 2
    reference, generated = photons[:half], photons[half:2 * half]
    # a generator that leaks 0.5 keV into a third of the empty voxels, as a flow does near its noise edge
    rng = np.random.default_rng(0)
    leak = (generated.energies == 0) & (rng.random(generated.energies.shape) < 1 / 3)
    leaky = Showers(np.where(leak, 5e-4, generated.energies), generated.incident_energies, generated.layer_sizes)
    geometry = seed000_geometry()
    raw = evaluate_showers(reference, leaky, geometry, random_state=0)
    read_out = evaluate_showers(reference, leaky, geometry, threshold=1e-3, random_state=0)
    assert raw["high_level"]["auc"] > 0.9 and raw["separation_power"]["sparsity_0"] > 0.5
    assert abs(read_out["high_level"]["auc"] - 0.5) < 0.1 and abs(read_out["low_level"]["auc"] - 0.5) < 0.1
    with pytest.raises(ValueError, match="threshold"):
        evaluate_showers(reference, leaky, geometry, threshold=-1.0)
