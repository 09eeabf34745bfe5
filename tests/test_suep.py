"""SUEP: the Maxwell-Juttner decay, and whole events with the mediator handed to Pythia and back.

The Pythia tests make a handful of events (init about 1 s, an event 10 ms at M = 125 GeV).
"""

import json

import awkward as ak
import numpy as np
import pytest

from likely.data.generate.pythia import COMMON, ParticleTable, final_state, start_pythia
from likely.data.generate.suep import (
    DARK_MESON, DARK_PHOTON, MEDIATOR, SUEP_DEFAULTS, maxwell_juttner_mean_energy, sample_maxwell_juttner, suep_hooks,
    suep_decay, suep_pythia_lines,
)

pytestmark = pytest.mark.xdist_group("generate_events")


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


# ------------------------------------------------------------------------ whole events through Pythia
def _suep_events(n_events: int, seed: int, rng_seed: int | None = None, **params):
    lines = [*COMMON, f"Random:seed = {seed}", *suep_pythia_lines(params), "PartonLevel:MPI = on"]
    pythia = start_pythia(lines, suep_hooks(params, np.random.default_rng(seed if rng_seed is None else rng_seed)))
    return pythia, pythia.nextBatch(n_events, "none")


@pytest.fixture(scope="module")
def events125():
    pythia, events = _suep_events(6, seed=11)
    assert not ak.any(ak.is_none(events, axis=0))
    return pythia, events


def _momenta(prt):
    return np.stack([ak.to_numpy(prt["p", name]) for name in ("e", "px", "py", "pz")], axis=-1)


def test_the_mesons_add_up_to_the_mediator(events125):
    _, events = events125
    for prt in events.prt:
        pid, d1, d2 = (ak.to_numpy(prt[name]) for name in ("id", "daughter1", "daughter2"))
        p = _momenta(prt)
        parents = np.flatnonzero((pid == MEDIATOR) & (pid[d1] == DARK_MESON))
        assert len(parents) == 1, "one mediator copy decays, to dark mesons"
        h = parents[0]
        mesons = np.arange(d1[h], d2[h] + 1)
        assert np.all(pid[mesons] == DARK_MESON) and np.count_nonzero(pid == DARK_MESON) == len(mesons)
        np.testing.assert_allclose(p[mesons].sum(axis=0), p[h], rtol=0, atol=1e-9 * p[h, 0])
        mass = np.sqrt(p[mesons, 0] ** 2 - (p[mesons, 1:] ** 2).sum(axis=1))
        np.testing.assert_allclose(mass, SUEP_DEFAULTS["m_dark_meson"], rtol=1e-6)
        assert abs(np.sqrt(p[h, 0] ** 2 - p[h, 1:] @ p[h, 1:]) - 125.0) <= 10 * 0.125  # the narrow line shape


def test_dark_meson_multiplicity_is_thermal(events125):
    _, events = events125
    n = ak.to_numpy(ak.sum(events.prt.id == DARK_MESON, axis=1))
    assert np.all((n >= 2) & (n <= 125.0 / 2.0))  # energy bound: every meson costs at least its mass
    expected = 125.0 / maxwell_juttner_mean_energy(2.0, 2.0)  # 18.5
    assert abs(n.mean() / expected - 1) < 0.25


def test_no_dark_particle_reaches_the_final_state(events125):
    pythia, events = events125
    prt = events.prt
    dark = (prt.id == DARK_MESON) | (prt.id == DARK_PHOTON)
    assert ak.all(prt.status[dark] < 0)
    state = final_state(events)
    assert not np.isin(np.abs(state.pid), (DARK_MESON, DARK_PHOTON)).any()
    # every A' decays to one of its SM pairs, in about the configured proportions
    pairs = []
    for event in prt:
        pid, d1, d2 = (ak.to_numpy(event[name]) for name in ("id", "daughter1", "daughter2"))
        for a in np.flatnonzero(pid == DARK_PHOTON):
            pairs.append(tuple(sorted(pid[d1[a]:d2[a] + 1])))
    assert set(pairs) <= {(-11, 11), (-13, 13), (-211, 211)}
    pions = np.mean([pair == (-211, 211) for pair in pairs])
    assert abs(pions - 0.70) < 4 * np.sqrt(0.7 * 0.3 / len(pairs))
    charge = ParticleTable(pythia).charge(state.pid)
    assert abs(np.bincount(state.event, weights=charge).sum() - 2 * len(state.counts)) < 1e-9  # pp: +2 per event


def test_the_same_seeds_give_the_same_events(events125):
    _, events = events125
    _, again = _suep_events(3, seed=11)
    for name in ("id", "status", "daughter1"):
        np.testing.assert_array_equal(ak.to_numpy(ak.flatten(again.prt[name])),
                                      ak.to_numpy(ak.flatten(events.prt[:3][name])))
    np.testing.assert_array_equal(_momenta(ak.flatten(again.prt)), _momenta(ak.flatten(events.prt[:3])))
    # the mesons' momenta come from the NumPy generator, the rest from Pythia's seed
    _, other = _suep_events(1, seed=11, rng_seed=12)
    mesons = other.prt[0][other.prt[0].id == DARK_MESON]
    assert not np.array_equal(_momenta(mesons), _momenta(events.prt[0][events.prt[0].id == DARK_MESON])[:len(mesons)])


def test_heavier_mediators_make_more_charged_particles(events125):
    pythia, events = events125
    table = ParticleTable(pythia)

    def charged(batch):
        state = final_state(batch)
        return np.bincount(state.event, weights=table.charge(state.pid) != 0, minlength=len(state.counts))

    light = charged(events)
    _, heavy_events = _suep_events(6, seed=13, mediator_mass=400.0)
    heavy = charged(heavy_events)
    # each meson gives two A', each A' a charged pair: about 4 x (59 - 18.5) = 160 more charged particles
    # on top of the underlying event's (which varies by about 100 from event to event)
    assert heavy.mean() > light.mean() + 50


def test_lines_follow_the_parameters():
    lines = suep_pythia_lines({"mediator_mass": 400.0, "br_ee": 0.5, "br_mumu": 0.5, "br_pipi": 0.0})
    assert "25:m0 = 400." in lines and "25:mayDecay = off" in lines
    channels = [line for line in lines if line.startswith(f"{DARK_PHOTON}:") and "Channel" in line]
    assert channels == [f"{DARK_PHOTON}:oneChannel = 1 0.5 0 11 -11", f"{DARK_PHOTON}:addChannel = 1 0.5 0 13 -13"]


@pytest.mark.parametrize("params, message", [
    ({"m_dark_photon": 1.0}, "m_dark_photon"),
    ({"m_dark_photon": 1.2}, "m_dark_photon"),
    ({"temperature": -1.0}, "temperature"),
    ({"mediator_mass": 1.5}, "mediator_mass"),
    ({"m_dark_meson": 0.0}, "m_dark_meson"),
    ({"br_pipi": 0.5}, "br_ee \\+ br_mumu \\+ br_pipi"),
    ({"br_ee": -0.1, "br_pipi": 0.95}, "br_ee"),
    ({"m_dark_photon": 0.25}, "br_pipi"),
    ({"charm": 1.0}, "charm"),
])
def test_bad_parameters_name_the_parameter(params, message):
    with pytest.raises(ValueError, match=message):
        suep_pythia_lines(params)


def test_the_hook_refuses_a_pythia_that_decays_the_mediator():
    lines = [line for line in suep_pythia_lines({}) if line != f"{MEDIATOR}:mayDecay = off"]
    pythia = start_pythia([*COMMON, "Random:seed = 3", *lines], suep_hooks({}, np.random.default_rng(0)))
    with pytest.raises(RuntimeError, match="undecayed mediator"):
        pythia.nextBatch(1, "none")
    with pytest.raises(TypeError, match="rng"):
        suep_hooks({}, 0)


def test_cli_writes_suep_events(tmp_path):
    from likely.cli import main
    from likely.data import read_particles

    out = tmp_path / "suep.h5"
    assert main(["--quiet", "generate", "events", "--process", "suep", "--param", "mediator_mass=400",
                 "--events", "5", "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["process"] == "suep" and record["params"]["mediator_mass"] == 400.0
    assert "25:m0 = 400." in record["chunks"][0]["settings"]
    events = read_particles(out)
    assert len(events) == 5 and np.all(events.label == 1)
    assert not np.isin(np.abs(events.feature("pid")[events.mask]), (DARK_MESON, DARK_PHOTON)).any()
    charged = (events.feature("charge") != 0) & events.mask
    assert charged.sum(axis=1).min() > 150  # ~59 mesons, 4 charged particles each, mostly inside |eta| < 5


def test_batches_do_not_change_the_events(events125):
    """Two batches of 2 and 2 are the first 4 events of one batch (so a smaller chunk is a prefix of a larger one)."""
    _, events = events125
    params = {}
    pythia = start_pythia([*COMMON, "Random:seed = 11", *suep_pythia_lines(params), "PartonLevel:MPI = on"],
                          suep_hooks(params, np.random.default_rng(11)))
    parts = ak.concatenate([pythia.nextBatch(2, "none"), pythia.nextBatch(2, "none")])
    np.testing.assert_array_equal(_momenta(ak.flatten(parts.prt)), _momenta(ak.flatten(events.prt[:4])))
