"""GFLASH shower generator: parametrization moments, spots, chi kinematics, lifetime weights, driver, CLI."""

import json

import numpy as np
import pytest

from likely.calo import seed000_geometry
from likely.cli import main
from likely.data.generate.showers import (
    SEED000_DISPLACEMENTS,
    SamplingMedium,
    Source,
    average_profile,
    chi_decay,
    decay_displacements,
    draw_longitudinal,
    generate_showers,
    lifetime_weights,
    longitudinal_parameters,
    radial_parameters,
    shower_spots,
    simulate_showers,
)
from likely.data.showers import read_calochallenge, read_calogan

MEDIUM = SamplingMedium()


def test_medium_matches_worked_example():
    # notes/gflash.md section 9 (1.5 mm Pb + 4 mm LAr)
    assert MEDIUM.X0 == pytest.approx(18.59, abs=0.01)
    assert MEDIUM.moliere_radius == pytest.approx(41.7, abs=0.1)
    assert MEDIUM.critical_energy == pytest.approx(9.46, abs=0.01)
    assert MEDIUM.sampling_fraction == pytest.approx(0.212, abs=0.001)
    T, alpha = average_profile(np.array([10.0, 100.0]), MEDIUM)
    np.testing.assert_allclose(T, [5.77, 8.07], atol=0.01)
    np.testing.assert_allclose(alpha, [3.76, 4.97], atol=0.01)


def test_radial_parameters_match_reference_table():
    tau = np.array([0.25, 1.0, 3.0])
    rc, rt, p = radial_parameters(tau, 10.0, MEDIUM)
    np.testing.assert_allclose(rc, [0.0581, 0.1215, 0.2997], atol=2e-4)
    np.testing.assert_allclose(rt, [1.4864, 0.6182, 1.2787], atol=2e-3)
    np.testing.assert_allclose(p, [0.9910, 0.9267, 0.3747], atol=2e-3)


def test_longitudinal_draws_reproduce_mean_sigma_rho():
    rng = np.random.default_rng(0)
    T, alpha, beta = draw_longitudinal(np.full(100_000, 10.0), MEDIUM, rng)
    par = longitudinal_parameters(10.0, MEDIUM)
    lt, la = np.log(T), np.log(alpha)
    assert lt.mean() == pytest.approx(par["mean_ln_T"], abs=0.002)
    assert la.mean() == pytest.approx(par["mean_ln_alpha"], abs=0.003)
    assert lt.std() == pytest.approx(par["sigma_ln_T"], rel=0.01)
    assert la.std() == pytest.approx(par["sigma_ln_alpha"], rel=0.01)
    assert np.corrcoef(lt, la)[0, 1] == pytest.approx(par["rho"], abs=0.01)
    np.testing.assert_allclose(beta, (alpha - 1) / T)


def _electrons(n, energy, seed=0, converts=False):
    rng = np.random.default_rng(seed)
    start = np.zeros((n, 3))
    direction = np.tile([0.0, 0.0, 1.0], (n, 1))
    return shower_spots(np.full(n, energy), start, direction, np.full(n, converts), MEDIUM, rng)


def _weighted_moments(values, weights, group, n):
    w = np.bincount(group, weights, n)
    mean = np.bincount(group, weights * values, n) / w
    var = np.bincount(group, weights * (values - mean[group]) ** 2, n) / w
    return w, mean, var


def test_spot_profile_moments_follow_each_showers_gamma():
    n, energy = 300, 10.0
    s = _electrons(n, energy)
    w, mean_t, var_t = _weighted_moments(s["t"], s["energy"], s["shower"], n)
    # each shower's energy-weighted depth follows its Gamma(alpha, beta): mean alpha/beta, var alpha/beta^2
    assert np.mean(mean_t / (s["alpha"] / s["beta"])) == pytest.approx(1.0, abs=0.005)
    assert np.mean(var_t / (s["alpha"] / s["beta"] ** 2)) == pytest.approx(1.0, abs=0.03)
    # sampling fluctuation: sigma/E = c / sqrt(E) (Gamma, exact up to the 60 X0 cut)
    assert w.mean() == pytest.approx(energy, rel=0.005)
    assert w.std() / energy == pytest.approx(MEDIUM.resolution / np.sqrt(energy), rel=0.15)
    # the ensemble agrees with the average-profile fit (alpha/beta of the mean profile) to 2 %
    T_avg, a_avg = average_profile(energy, MEDIUM)
    assert np.average(s["t"], weights=s["energy"]) == pytest.approx(T_avg * a_avg / (a_avg - 1), rel=0.02)
    # spot count: (10.3 / c) E^0.959 plus at most one extra spot per step
    counts = np.bincount(s["shower"], minlength=n)
    assert np.all(counts >= 0.95 * 10.3 / 0.1 * energy**0.959)


def test_photons_start_after_conversion_depth():
    n = 400
    e = _electrons(n, 20.0, seed=1)
    g = _electrons(n, 20.0, seed=1, converts=True)
    assert g["t0"].mean() == pytest.approx(9 / 7, rel=0.1)
    shift = np.average(g["depth"], weights=g["energy"]) - np.average(e["depth"], weights=e["energy"])
    assert shift / MEDIUM.X0 == pytest.approx(g["t0"].mean(), abs=0.15)


def test_radial_containment_matches_parametrization():
    n, energy = 200, 10.0
    s = _electrons(n, energy, seed=2)
    # recompute each spot's (R_C, R_T, p) at its step's scaled depth
    alpha_med = np.exp(longitudinal_parameters(energy, MEDIUM)["mean_ln_alpha"])
    scale = (alpha_med / (alpha_med - 1)) / (s["alpha"] / s["beta"])
    tau = (np.floor(s["t"] / 0.1) + 0.5) * 0.1 * scale[s["shower"]]
    rc, rt, p = radial_parameters(tau, energy, MEDIUM)
    for radius, reference in ((1.0, 0.90), (3.5, 0.986)):
        expected = p * radius**2 / (radius**2 + rc**2) + (1 - p) * radius**2 / (radius**2 + rt**2)
        inside = np.average(s["r"] < radius, weights=s["energy"])
        assert inside == pytest.approx(np.average(expected, weights=s["energy"]), abs=0.005)
        assert inside == pytest.approx(reference, abs=0.015)  # notes/gflash.md section 9


def test_simulate_is_reproducible_and_conserves_energy():
    a = simulate_showers(20, source=Source(energy=(5.0, 50.0)), random_state=3)
    b = simulate_showers(20, source=Source(energy=(5.0, 50.0)), random_state=3)
    c = simulate_showers(20, source=Source(energy=(5.0, 50.0)), random_state=4)
    np.testing.assert_array_equal(a.energies, b.energies)
    assert not np.array_equal(a.energies, c.energies)
    assert a.energies.shape == (20, 504) and np.all(a.energies >= 0)
    ratio = a.total_energy() / a.incident_energies / MEDIUM.sampling_fraction
    assert np.all(ratio < 1.2) and np.median(ratio) == pytest.approx(1.0, abs=0.06)
    assert np.all((a.incident_energies >= 5e3) & (a.incident_energies <= 5e4))


@pytest.mark.parametrize("mass", [0.005, 0.5, 5.0])
def test_chi_decay_kinematics(mass):
    rng = np.random.default_rng(5)
    energy = rng.uniform(mass + 1.0, 100.0, 2000)
    e_ph, d = chi_decay(energy, mass, rng)
    np.testing.assert_allclose(e_ph.sum(axis=1), energy, rtol=1e-12)
    # opening angle psi: sin(psi / 2) = m / (2 sqrt(E1 E2)), from 1 - cos psi = m^2 / (2 E1 E2)
    psi = np.arctan2(np.linalg.norm(np.cross(d[:, 0], d[:, 1]), axis=1), np.sum(d[:, 0] * d[:, 1], axis=1))
    np.testing.assert_allclose(np.sin(psi / 2), mass / (2 * np.sqrt(e_ph[:, 0] * e_ph[:, 1])), rtol=1e-6)
    p = (e_ph[..., None] * d).sum(axis=1)
    np.testing.assert_allclose(p[:, 2], np.sqrt(energy**2 - mass**2), rtol=1e-9)
    assert np.all(np.abs(p[:, :2]) <= 1e-9 * energy[:, None])
    # minimum opening angle: sin(psi_min / 2) = m / E
    assert np.all(np.sin(psi / 2) >= mass / energy * (1 - 1e-6))


def test_lifetime_weights():
    for mass in (0.005, 0.05, 0.5, 5.0):
        for tau in (0.01, 0.1, 1.0):
            w = lifetime_weights(mass, 50.0, tau)
            assert w.shape == (10,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)
    # direct formula for one case
    z = np.array(SEED000_DISPLACEMENTS)
    bg = np.sqrt(50.0**2 - 5.0**2) / 5.0
    pd = 1 - np.exp(-z / (0.299792458 * 0.1 * bg))
    np.testing.assert_allclose(lifetime_weights(5.0, 50.0, 0.1), np.diff(pd, prepend=0) / pd[-1], rtol=1e-12)
    # highly boosted: the lifetime cancels, w_i -> (z_i - z_{i-1}) / z_10
    np.testing.assert_allclose(lifetime_weights(0.005, 50.0, 1.0), np.diff(z, prepend=0) / z[-1], atol=1e-3)
    with pytest.raises(ValueError, match="exceed the mass"):
        lifetime_weights(5.0, 4.0, 1.0)


def test_chi_signal_starts_inside_the_calorimeter():
    # decay at 1.24 m: 240 mm behind the front face, so layer 0 (0-90 mm) stays empty
    s = simulate_showers(10, source=Source(particle="chi", energy=50.0, mass=0.05, displacement=1.24),
                         random_state=6)
    assert s.layer(0).sum() == 0 and s.layer(1).sum() > 0
    np.testing.assert_array_equal(s.incident_energies, 50_000.0)
    assert s.label.tolist() == [1] * 10


def test_source_validation():
    with pytest.raises(ValueError, match="mass"):
        Source(particle="chi", displacement=1.0)
    with pytest.raises(ValueError, match="exactly one"):
        Source(particle="chi", mass=0.5, displacement=1.0, lifetime=0.1)
    with pytest.raises(ValueError, match="apply only"):
        Source(particle="photon", mass=0.5)
    with pytest.raises(ValueError, match="range"):
        Source(energy=(10.0, 1.0))
    with pytest.raises(ValueError, match="particle"):
        Source(particle="pion")
    with pytest.raises(ValueError, match="position applies only"):
        Source(particle="chi", mass=0.5, displacement=1.0, position=(10.0, 0.0))


def test_offset_position_moves_the_shower():
    s = simulate_showers(30, source=Source(energy=20.0, position=(100.0, -60.0)), random_state=7)
    centres = seed000_geometry().voxel_centres(1)
    layer = s.layer(1).astype(np.float64)
    x, y = (layer @ centres).T / layer.sum(axis=1)
    assert np.median(x) == pytest.approx(100.0, abs=8.0) and np.median(y) == pytest.approx(-60.0, abs=8.0)


def test_generate_resumes_and_records(tmp_path):
    out = tmp_path / "g.h5"
    generate_showers(out, 7, chunk_size=3, seed=9, progress=False, source=Source(energy=(1.0, 10.0)))
    first = read_calogan(out)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["showers"] == 7 and [c["seed"] for c in record["chunks"]] == [[9, 0], [9, 1], [9, 2]]
    assert record["medium_derived"]["sampling_fraction"] == pytest.approx(0.212, abs=0.001)
    with pytest.raises(FileExistsError):
        generate_showers(out, 7, chunk_size=3, seed=9, progress=False)
    out.unlink()
    (tmp_path / "g.h5.chunks" / "chunk00001.npz").unlink()
    generate_showers(out, 7, chunk_size=3, seed=9, progress=False, source=Source(energy=(1.0, 10.0)))
    np.testing.assert_array_equal(read_calogan(out).energies, first.energies)
    out.unlink()
    with pytest.raises(ValueError, match="other settings"):
        generate_showers(out, 7, chunk_size=3, seed=9, progress=False, source=Source(energy=(1.0, 20.0)))


def test_cli_showers_with_xml(tmp_path):
    xml = tmp_path / "b.xml"
    xml.write_text('<Bins><Bin pid="22" name="photon"><Layer id="0" r_edges="0,20,50,100" n_bin_alpha="4"/>'
                   '<Layer id="1" r_edges="0,50,200" n_bin_alpha="1"/></Bin></Bins>')
    out = tmp_path / "c.h5"
    main(["-q", "generate", "showers", "--particle", "electron", "--energy", "20", "--xml", str(xml),
          "--events", "4", "--out", str(out), "--seed", "2"])
    s = read_calochallenge(out, layer_sizes=[12, 2])
    np.testing.assert_array_equal(s.incident_energies, 20_000.0)
    assert np.all(s.total_energy() > 0)
    with pytest.raises(SystemExit):
        main(["-q", "generate", "showers", "--mass", "1", "--events", "2", "--out", str(tmp_path / "d.h5")])


def test_lifetime_mixture_draws_displacements_with_the_weights():
    rng = np.random.default_rng(8)
    n = 40_000
    z = decay_displacements(5.0, np.full(n, 50.0), 0.1, rng)
    w = lifetime_weights(5.0, 50.0, 0.1)
    freq = np.array([(z == zi).mean() for zi in SEED000_DISPLACEMENTS])
    assert freq.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.abs(freq - w) <= 4 * np.sqrt(w * (1 - w) / n))


def test_chi_kinetic_energy_range_and_lifetime():
    s = simulate_showers(6, source=Source(particle="chi", energy=(1.0, 100.0), mass=5.0, lifetime=1.0),
                         random_state=9)
    e = s.incident_energies / 1000.0
    assert np.all((e >= 6.0 - 1e-4) & (e <= 105.0 + 1e-4)) and len(np.unique(e)) == 6


def test_output_does_not_depend_on_workers(tmp_path):
    kwargs = dict(chunk_size=3, seed=4, progress=False, source=Source(energy=(1.0, 5.0)))
    serial = read_calogan(generate_showers(tmp_path / "a.h5", 6, workers=1, **kwargs))
    parallel = read_calogan(generate_showers(tmp_path / "b.h5", 6, workers=2, **kwargs))
    np.testing.assert_array_equal(serial.energies, parallel.energies)


@pytest.mark.parametrize(("fmt", "read"), [("calogan", read_calogan), ("calochallenge", read_calochallenge)])
def test_record_names_one_energy_unit_for_both_formats(tmp_path, fmt, read):
    from likely.data.showers import MEV_PER_GEV

    out = generate_showers(tmp_path / f"{fmt}.h5", 5, fmt=fmt, chunk_size=3, seed=2, progress=False,
                           source=Source(energy=(2.0, 30.0)))
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["energy_unit"] == "GeV" and record["source"]["energy"] == [2.0, 30.0]
    incident = read(out).incident_energies / MEV_PER_GEV  # the readers give MeV whatever the file holds
    assert record["incident_energy_range"] == pytest.approx([incident.min(), incident.max()], rel=1e-6)
    assert 2.0 <= record["incident_energy_range"][0] < record["incident_energy_range"][1] <= 30.0
    assert record["file_units"] == {"voxels": "MeV (visible)", "incident": "GeV" if fmt == "calogan" else "MeV"}
