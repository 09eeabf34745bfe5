"""Point clouds about the jet axis and the contrastive augmentations on them."""

import numpy as np
import pytest

from likely.data import Particles
from likely.data.clouds import drop_constituents, point_clouds, rotate, smear, translate


def jets(n=30, particles=40, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, particles, n)
    mask = np.arange(particles) < counts[:, None]
    pt = rng.exponential(10.0, (n, particles))
    eta = rng.uniform(-1.5, 1.5, (n, 1)) + 0.2 * rng.normal(size=(n, particles))
    phi = rng.uniform(-np.pi, np.pi, (n, 1)) + 0.2 * rng.normal(size=(n, particles))
    phi = (phi + np.pi) % (2 * np.pi) - np.pi
    return Particles(np.stack([pt, eta, phi], -1), mask, ("pt", "eta", "phi"),
                     columns={"jet_pt": np.where(mask, pt, 0).sum(1)}, label=np.arange(n) % 2)


def pair_distances(cloud):
    points = cloud.values[:, :, 1:].astype(np.float64)
    pairs = cloud.mask[:, :, None] & cloud.mask[:, None, :]
    return np.where(pairs, np.linalg.norm(points[:, :, None] - points[:, None, :], axis=-1), 0)


def test_clouds_hold_the_hardest_constituents_about_the_axis():
    cloud = point_clouds(jets(), n=20)
    assert cloud.values.shape == (30, 20, 3) and cloud.features == ("pt", "deta", "dphi")
    np.testing.assert_array_equal(cloud.counts, np.minimum(jets().counts, 20))
    assert np.all(np.diff(cloud.feature("pt"), axis=1)[cloud.mask[:, 1:]] <= 0)
    # about the axis: the pT-weighted transverse offset is small against the jet's spread
    full = point_clouds(jets(), n=40)
    np.testing.assert_allclose((full.feature("pt") * full.feature("dphi")).sum(1) / full.columns["jet_pt"], 0,
                               atol=0.02)
    np.testing.assert_array_equal(cloud.label, jets().label)


def test_rotations_and_translations_preserve_pairwise_distances():
    cloud = point_clouds(jets())
    rng = np.random.default_rng(1)
    for augment in (rotate, translate):
        moved = augment(cloud, rng)
        np.testing.assert_allclose(pair_distances(moved), pair_distances(cloud), atol=1e-5)
        assert not np.allclose(moved.values, cloud.values)
        np.testing.assert_array_equal(moved.feature("pt"), cloud.feature("pt"))


def test_dropping_keeps_the_jet_pt_and_the_mask_compact():
    cloud = point_clouds(jets())
    dropped = drop_constituents(cloud, np.random.default_rng(2))
    assert dropped.counts.sum() < 0.7 * cloud.counts.sum()
    assert np.all(dropped.counts >= 1)
    np.testing.assert_allclose(dropped.feature("pt").sum(1), cloud.feature("pt").sum(1), rtol=1e-5)
    assert not dropped.values[~dropped.mask].any()


def test_smearing_scales_with_the_resolution():
    cloud = point_clouds(jets(n=200))
    smeared = smear(cloud, np.random.default_rng(3), angle=0.0)
    np.testing.assert_array_equal(smeared.feature("deta"), cloud.feature("deta"))
    pt = cloud.feature("pt")[cloud.mask]
    pull = (smeared.feature("pt")[cloud.mask] - pt) / np.sqrt(0.052 * pt**2 + 1.502 * pt)
    assert abs(np.std(pull[pt > 10]) - 1) < 0.1
    assert not smeared.values[~smeared.mask].any()


def test_bad_input_is_refused_by_name():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="point_clouds"):
        rotate(jets(), rng)
    with pytest.raises(ValueError, match="p must"):
        drop_constituents(point_clouds(jets()), rng, p=1.0)
    with pytest.raises(ValueError, match="n must"):
        point_clouds(jets(), n=0)
