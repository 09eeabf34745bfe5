"""Jet images: exact sums, invariance under the symmetries the preprocessing removes."""

import h5py
import numpy as np
import pytest

from likely.data import Particles
from likely.data.images import JetImages, append_jet_images, jet_images, read_jet_images, write_jet_images

FEATURES = ("pt", "eta", "phi")


def elongated_jets(n=20, particles=30, seed=0, eta0=0.5, phi0=3.0):
    """Jets of constituents within ~0.3 of (eta0, phi0), stretched along a random direction."""
    rng = np.random.default_rng(seed)
    spread = rng.normal(size=(n, particles, 2)) * [0.12, 0.03]
    angle = rng.uniform(0, np.pi, (n, 1))
    deta = np.cos(angle) * spread[..., 0] - np.sin(angle) * spread[..., 1]
    dphi = np.sin(angle) * spread[..., 0] + np.cos(angle) * spread[..., 1]
    pt = rng.exponential(20.0, (n, particles))
    return pt, eta0 + deta, phi0 + dphi


def as_particles(pt, eta, phi):
    phi = (phi + np.pi) % (2 * np.pi) - np.pi
    return Particles(np.stack([pt, eta, phi], axis=-1), np.ones(pt.shape, bool), FEATURES)


def test_pixels_sum_to_the_constituents_pt_or_to_one():
    pt, eta, phi = elongated_jets()
    raw = jet_images(as_particles(pt, eta, phi), normalize=False)
    assert raw.shape == (20, 40, 40)
    np.testing.assert_allclose(raw.sum(axis=(1, 2)), pt.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(jet_images(as_particles(pt, eta, phi)).sum(axis=(1, 2)), 1.0, rtol=1e-5)


def test_translations_and_rotations_of_a_jet_give_the_same_image():
    pt, eta, phi = elongated_jets()
    turn = np.random.default_rng(1).uniform(0, 2 * np.pi, (20, 1))
    moved_eta = -1.1 + np.cos(turn) * (eta - 0.5) - np.sin(turn) * (phi - 3.0)
    moved_phi = np.pi - 0.01 + np.sin(turn) * (eta - 0.5) + np.cos(turn) * (phi - 3.0)  # across phi = ±pi
    np.testing.assert_allclose(jet_images(as_particles(pt, moved_eta, moved_phi)),
                               jet_images(as_particles(pt, eta, phi)), atol=1e-6)


def test_the_principal_axis_is_vertical_and_the_hard_half_lower_left():
    images = jet_images(as_particles(*elongated_jets()))
    centre = np.arange(40) - 19.5
    eta_profile, phi_profile = images.sum(axis=2), images.sum(axis=1)
    mean_eta, mean_phi = eta_profile @ centre, phi_profile @ centre
    assert np.all(phi_profile @ centre**2 - mean_phi**2 > eta_profile @ centre**2 - mean_eta**2)
    assert np.all(images[:, :20].sum(axis=(1, 2)) >= 0.5 - 1e-6)   # eta below the centroid
    assert np.all(images[:, :, :20].sum(axis=(1, 2)) >= 0.5 - 1e-6)  # phi below the centroid


def test_four_momenta_give_the_images_of_pt_eta_phi():
    pt, eta, phi = elongated_jets(n=5)
    momenta = np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=-1)
    np.testing.assert_allclose(
        jet_images(Particles(momenta, np.ones(pt.shape, bool), ("E", "px", "py", "pz"))),
        jet_images(as_particles(pt, eta, phi)), atol=1e-5)


def test_padding_is_ignored_and_smoothing_keeps_a_central_image_sum():
    flat = np.array([[100.0, 0.0, 0.0], [50.0, 0.05, 0.05], [10.0, -0.02, 0.01]])
    jets = Particles.from_counts(flat, [2, 1], FEATURES, max_particles=5)
    raw = jet_images(jets, normalize=False)
    np.testing.assert_allclose(raw.sum(axis=(1, 2)), [150.0, 10.0], rtol=1e-6)
    smooth = jet_images(jets, sigma=1.0, power=0.5)
    assert np.count_nonzero(smooth[0] > 1e-3) > 2
    np.testing.assert_allclose((jet_images(jets, sigma=1.0)).sum(axis=(1, 2)), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(pixels=0), "pixels"), (dict(pixel_size=(0.1, -1)), "pixel_size"),
    (dict(sigma=0), "sigma"), (dict(power=-1), "power"),
])
def test_bad_settings_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jet_images(as_particles(*elongated_jets(n=2)), **kwargs)


def test_particles_without_momenta_are_refused():
    with pytest.raises(ValueError, match="pt, eta, phi"):
        jet_images(Particles(np.zeros((1, 2, 1)), np.ones((1, 2), bool), ("charge",)))


def test_written_images_read_back_with_labels_and_options(tmp_path):
    options = {"pixels": 10, "pixel_size": (0.1, 0.1), "normalize": True, "sigma": 1.0, "power": None}
    images = JetImages(jet_images(as_particles(*elongated_jets(n=5)), **options),
                       np.array([0, 1, 1, 0, 1]), options)
    path = write_jet_images(tmp_path / "images.h5", images)
    back = read_jet_images(path, 1, 4)
    np.testing.assert_array_equal(back.images, images.images[1:4])
    assert back.label.tolist() == [1, 1, 0] and back.options == options
    with pytest.raises(FileExistsError):
        write_jet_images(path, images)
    with h5py.File(tmp_path / "batches.h5", "w") as file:
        append_jet_images(file, images)
        append_jet_images(file, JetImages(images.images[:2], images.label[:2], options))
        with pytest.raises(ValueError, match="cannot be added"):
            append_jet_images(file, JetImages(images.images, None, options))
        with pytest.raises(ValueError, match="cannot be added"):
            append_jet_images(file, JetImages(images.images, images.label, {**options, "sigma": 2.0}))
    assert read_jet_images(tmp_path / "batches.h5").label.tolist() == [0, 1, 1, 0, 1, 0, 1]
    with h5py.File(tmp_path / "other.h5", "w") as file:
        file["images"] = np.zeros((1, 2, 2))
    with pytest.raises(ValueError, match="other.h5 is not a likely jet-images file"):
        read_jet_images(tmp_path / "other.h5")
