"""The SUEP decay: Maxwell-Juttner momenta and exact four-momentum conservation."""

import numpy as np
import pytest

from likely.data.generate.suep import maxwell_juttner_mean_energy, sample_maxwell_juttner, suep_decay


@pytest.mark.parametrize("mass, temperature", [(2.0, 2.0), (0.5, 2.0), (4.0, 1.0)])
def test_the_thermal_sampler_has_the_maxwell_juttner_mean_energy(mass, temperature):
    p = sample_maxwell_juttner(200_000, mass, temperature, np.random.default_rng(0))
    energy = np.sqrt(p**2 + mass**2)
    error = energy.std() / np.sqrt(len(energy))
    assert abs(energy.mean() - maxwell_juttner_mean_energy(mass, temperature)) < 4 * error


def test_the_mean_energy_has_its_limits():
    assert maxwell_juttner_mean_energy(1e-4, 1.0) == pytest.approx(3.0, rel=1e-3)  # ultra-relativistic: 3T
    assert maxwell_juttner_mean_energy(100.0, 1.0) == pytest.approx(101.5, rel=1e-3)  # m + 3T/2


@pytest.mark.parametrize("mediator_mass", [125.0, 1000.0])
def test_every_decay_conserves_four_momentum(mediator_mass):
    mesons = suep_decay(200, mediator_mass, rng=np.random.default_rng(1))
    assert mesons.features == ("E", "px", "py", "pz")
    totals = mesons.values.astype(np.float64).sum(axis=1)  # float32 per meson: conserved to its precision
    np.testing.assert_allclose(totals[:, 0], mediator_mass, rtol=1e-5)
    np.testing.assert_allclose(totals[:, 1:], 0.0, atol=1e-5 * mediator_mass)
    mass2 = mesons.feature("E") ** 2 - (mesons.values[..., 1:] ** 2).sum(-1)
    np.testing.assert_allclose(np.sqrt(mass2[mesons.mask]), 2.0, rtol=1e-3)
    # multiplicity near M / <E>, as the thermal picture says
    expected = mediator_mass / maxwell_juttner_mean_energy(2.0, 2.0)
    assert 0.8 * expected < mesons.counts.mean() < 1.2 * expected


def test_the_spectrum_stays_thermal():
    mesons = suep_decay(300, 1000.0, rng=np.random.default_rng(2))
    energy = mesons.feature("E")[mesons.mask]
    assert abs(energy.mean() / maxwell_juttner_mean_energy(2.0, 2.0) - 1) < 0.05


def test_impossible_settings_are_refused():
    with pytest.raises(ValueError, match="mediator_mass"):
        suep_decay(10, 3.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        sample_maxwell_juttner(10, 2.0, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_events"):
        suep_decay(0, 125.0, rng=np.random.default_rng(0))
