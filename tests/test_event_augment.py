"""AnomalyCLR's event augmentations of ADC2021 multi-object events."""

import numpy as np
import pytest

from likely.data import Particles
from likely.data.adc import ADC_SLOTS, adc_layout
from likely.data.event_augment import (anomaly, physical, rotate_events, scale_pt, shift_multiplicity,
                                       smear_events, split_objects)
from likely.data.samples import load_bundled_adc

FEATURES = ("pt", "eta", "phi", "id")
ACCEPTANCE = {2: 3.0, 3: 2.1, 4: 4.0}
THRESHOLD = {2: 3.0, 3: 3.0, 4: 15.0}
ANOMALIES = (shift_multiplicity, split_objects, scale_pt)


def events(n=100, seed=0, most_jets=10):
    """ADC-like events: one MET, up to 4 e, 4 μ and ``most_jets`` jets, a triggering lepton each."""
    rng = np.random.default_rng(seed)
    slots = np.zeros((n, 19, 4))
    for kind, (first, count) in ADC_SLOTS.items():
        block = slots[:, first:first + count]
        most = most_jets if kind == 4 else count
        real = np.arange(count) < rng.integers(int(kind == 1), most + 1, (n, 1))
        eta = rng.uniform(-1, 1, (n, count)) * ACCEPTANCE.get(kind, 0.0)
        pt = THRESHOLD.get(kind, 0.0) + rng.exponential(30.0, (n, count))
        block[:] = np.where(real[..., None], np.stack([pt, eta, rng.uniform(-3, 3, (n, count)),
                                                      np.full((n, count), kind)], -1), 0.0)
    trigger = np.where(rng.random(n) < 0.5, 1, 5)  # the first electron or muon slot
    slots[np.arange(n), trigger] = np.stack([rng.uniform(30, 120, n), rng.uniform(-2, 2, n), rng.uniform(-3, 3, n),
                                             np.where(trigger == 1, 2, 3)], -1)
    return laid_out(slots, columns={"ht": slots[..., 0].sum(1)}, label=np.arange(n) % 2,
                    weight=np.linspace(0.5, 1.5, n))


def laid_out(slots, **extras):
    """Events of the objects in ``slots`` (N, 19, 4) in the ADC order (each type by pT)."""
    slots = adc_layout(Particles.from_padded(slots, slots[..., 3] > 0, FEATURES))
    return Particles.from_padded(slots, slots[..., 3] > 0, FEATURES, **extras)


def of_kind(evts, kind):
    return evts.mask & (evts.feature("id") == kind)


def per_kind_sum(evts, what):
    return np.stack([np.where(of_kind(evts, kind), what, 0.0).sum(1) for kind in (2, 3, 4)], 1)


def vector_sum(evts):
    """(N,) complex: the pT vectors of all objects and the MET, summed."""
    return np.where(evts.mask, evts.feature("pt") * np.exp(1j * evts.feature("phi")), 0).sum(1)


def met(evts):
    """(N,) complex MET vectors."""
    return np.where(of_kind(evts, 1), evts.feature("pt") * np.exp(1j * evts.feature("phi")), 0).sum(1)


def triggered(evts):
    pt, eta, ids = evts.feature("pt"), np.abs(evts.feature("eta")), evts.feature("id")
    return (evts.mask & (pt > 23) & (((ids == 2) & (eta < 3.0)) | ((ids == 3) & (eta < 2.1)))).any(1)


def test_rotation_keeps_pt_and_eta_and_turns_each_event_by_one_angle():
    before = events()
    after = rotate_events(before, np.random.default_rng(1))
    for name in ("pt", "eta", "id"):
        np.testing.assert_array_equal(after.feature(name), before.feature(name))
    turn = after.feature("phi") - before.feature("phi")
    off = np.angle(np.exp(1j * (turn - turn[:, :1])))  # against the MET's turn, mod 2π
    assert np.abs(off[after.mask]).max() < 1e-5
    assert np.ptp(np.mod(turn[:, 0], 2 * np.pi)) > 3  # an angle per event, not one for all
    phi = after.feature("phi")[after.mask]
    assert phi.min() > -np.pi and phi.max() <= np.pi


def test_smearing_has_the_delphes_resolution():
    pt = np.array([80.0, 50.0, 100.0, 200.0])  # MET, e, μ, jet: one of each, so slots do not swap
    one = np.stack([pt, [0.0, 0.5, -0.5, 1.0], [0.1, 1.0, -1.0, 2.0], [1, 2, 3, 4]], -1)
    copies = Particles(np.tile(one, (6000, 1, 1)), np.ones((6000, 4), bool), FEATURES)
    smeared = smear_events(copies, np.random.default_rng(2), angle=5.0)
    real = smeared.mask[0]
    assert real.sum() == 4 and smeared.mask[:, 4:].sum() == 0 and not smeared.values[~smeared.mask].any()
    resolution = np.sqrt(0.052 * pt**2 + 1.502 * pt)
    np.testing.assert_allclose(np.std(smeared.feature("pt")[:, :4] - pt, axis=0), resolution, rtol=0.04)
    np.testing.assert_allclose(np.std(smeared.feature("eta")[:, 1:4], axis=0), 5.0 / pt[1:], rtol=0.04)
    np.testing.assert_allclose(np.std(smeared.feature("phi")[:, :4], axis=0), 5.0 / pt, rtol=0.04)
    np.testing.assert_array_equal(smeared.feature("eta")[:, 0], 0.0)  # MET's η
    soft = Particles(np.tile([[10.0, 0, 0, 1], [3.0, 0, 0, 2]], (2000, 1, 1)), np.ones((2000, 2), bool), FEATURES)
    pt = smear_events(soft, np.random.default_rng(3)).feature("pt")[:, 1]
    assert pt.min() == 0 and 0.05 < np.mean(pt == 0) < 0.15  # clipped at 0: P(N(3, 2.2) < 0) ≈ 9 %


def test_physical_is_a_rotation_then_a_smearing():
    before, seed = events(), 3
    both = physical(before, np.random.default_rng(seed), angle=0.5)
    rng = np.random.default_rng(seed)
    np.testing.assert_array_equal(both.values, smear_events(rotate_events(before, rng), rng, angle=0.5).values)


def test_splitting_keeps_every_pt_sum_and_the_met():
    before = events()
    after = split_objects(before, np.random.default_rng(4))
    grew = after.counts > before.counts
    assert grew.mean() > 0.8
    np.testing.assert_allclose(per_kind_sum(after, after.feature("pt")), per_kind_sum(before, before.feature("pt")),
                               rtol=1e-5)
    np.testing.assert_allclose(vector_sum(after), vector_sum(before), atol=1e-3)
    np.testing.assert_array_equal(met(after), met(before))
    for kind in (2, 3, 4):
        assert after.feature("pt")[of_kind(after, kind)].min() >= THRESHOLD[kind] - 1e-4


def test_multiplicity_shift_fills_free_slots_within_acceptance_and_balances_the_met():
    before = events()
    after = shift_multiplicity(before, np.random.default_rng(5))
    n_before, n_after = (np.stack([of_kind(e, kind).sum(1) for kind in (2, 3, 4)], 1) for e in (before, after))
    capacity = np.array([4, 4, 10])
    assert np.all(n_after >= n_before) and np.all(n_after <= capacity)
    free = (n_before < capacity).any(1)
    assert np.all((n_after.sum(1) > n_before.sum(1)) == free)
    np.testing.assert_array_equal(of_kind(after, 1).sum(1), 1)
    np.testing.assert_allclose(vector_sum(after), vector_sum(before), atol=1e-3)  # new MET = MET - added
    assert np.abs(met(after) - met(before)).min() > 0
    hardest = np.where(before.mask & (before.feature("id") > 1), before.feature("pt"), 0).max(1)
    for kind in (2, 3, 4):
        mask = of_kind(after, kind)
        assert np.abs(after.feature("eta")[mask]).max() < ACCEPTANCE[kind]
        assert after.feature("pt")[mask].min() >= THRESHOLD[kind] - 1e-4
        assert np.all(np.where(mask, after.feature("pt"), 0).max(1) <= hardest + 1e-3)


def test_pt_scaling_multiplies_met_objects_or_both_by_one_factor():
    before = events()
    after = scale_pt(before, np.random.default_rng(6))
    ratio = after.feature("pt") / np.where(before.mask, before.feature("pt"), 1.0)
    is_met = of_kind(before, 1)
    met_ratio = ratio[:, 0]
    objects = np.where(before.mask & ~is_met, ratio, np.nan)
    object_ratio = np.nanmax(objects, 1)
    np.testing.assert_allclose(np.nanmin(objects, 1), object_ratio, rtol=1e-5)  # one factor for all objects
    scaled = np.stack([met_ratio, object_ratio], 1) > 1 + 1e-5
    assert scaled.any(1).all() and np.all(np.stack([met_ratio, object_ratio], 1) <= 5 + 1e-4)
    kinds = scaled[:, 0] * 1 + scaled[:, 1] * 2  # 1 MET, 2 objects, 3 both
    both_equal = np.isclose(met_ratio, object_ratio, rtol=1e-5)
    assert np.all(both_equal[kinds == 3]) and {1, 2, 3} == set(kinds.tolist())
    assert triggered(after).all()


@pytest.mark.parametrize("sample", ["synthetic", "wjets"])
@pytest.mark.parametrize("augment", [*ANOMALIES, anomaly])
def test_anomalies_keep_the_trigger_and_the_adc_layout(sample, augment):
    before = events(300) if sample == "synthetic" else load_bundled_adc("wjets")
    assert triggered(before).all()
    after = augment(before, np.random.default_rng(7))
    assert triggered(after).all()
    slots = adc_layout(after)
    relaid = Particles.from_padded(slots, slots[..., 3] > 0, FEATURES)
    np.testing.assert_array_equal(relaid.values, after.values)  # in the ADC order, nothing beyond the slots
    np.testing.assert_array_equal(relaid.mask, after.mask)
    assert not after.values[~after.mask].any()
    np.testing.assert_array_equal(of_kind(after, 1).sum(1), 1)
    np.testing.assert_array_equal(after.feature("eta")[of_kind(after, 1)], 0.0)


def test_anomaly_picks_each_augmentation_about_equally():
    slots = adc_layout(events(3000, most_jets=5))
    slots[:, -1] = [60.0, 0.0, 0.0, 4.0]  # every event: a jet to split and a free jet slot
    before = laid_out(slots)
    after = anomaly(before, np.random.default_rng(8))
    grew = after.counts > before.counts
    same_met = np.isclose(met(after), met(before), rtol=1e-6, atol=1e-4)
    picked = np.select([~grew, same_met], [2, 1], 0)  # scale_pt, split_objects, else shift_multiplicity
    assert not np.allclose(after.values[picked == 2], before.values[picked == 2])
    np.testing.assert_allclose(np.bincount(picked, minlength=3) / len(picked), 1 / 3, atol=0.04)


@pytest.mark.parametrize("augment", [rotate_events, smear_events, physical, *ANOMALIES, anomaly])
def test_inputs_are_kept_outputs_carry_the_event_data_and_seeds_reproduce(augment):
    before = events()
    values, mask = before.values.copy(), before.mask.copy()
    first = augment(before, np.random.default_rng(9))
    np.testing.assert_array_equal(before.values, values)
    np.testing.assert_array_equal(before.mask, mask)
    np.testing.assert_array_equal(first.label, before.label)
    np.testing.assert_array_equal(first.weight, before.weight)
    np.testing.assert_array_equal(first.columns["ht"], before.columns["ht"])
    np.testing.assert_array_equal(augment(before, np.random.default_rng(9)).values, first.values)
    assert not np.array_equal(augment(before, np.random.default_rng(10)).values, first.values)


def test_bad_input_is_refused_by_name():
    rng, good = np.random.default_rng(0), events(5)
    clouds = Particles(good.values[..., :3], good.mask, ("pt", "deta", "dphi"))
    with pytest.raises(ValueError, match="events must be Particles with features"):
        rotate_events(clouds, rng)
    photons = good.values.copy()
    photons[0, 1, 3] = 5
    with pytest.raises(ValueError, match=r"events: object ids .* found \[5.0\]"):
        anomaly(Particles(photons, good.mask, FEATURES), rng)
    no_met = Particles(good.values[:, 1:], good.mask[:, 1:], FEATURES)
    with pytest.raises(ValueError, match="one MET .* event 0 has 0"):
        shift_multiplicity(no_met, rng)
    with pytest.raises(ValueError, match="angle must"):
        smear_events(good, rng, angle=-1.0)
    with pytest.raises(ValueError, match="spread must"):
        split_objects(good, rng, spread=-0.1)
    with pytest.raises(ValueError, match="window must"):
        scale_pt(good, rng, window=1.0)
