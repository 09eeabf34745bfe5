"""The autoencoder family (likely.autoencoders): input validation, the KL terms against their closed
forms, the pixel preprocessing at fit and score, learning a trivial set, every model through the
shared detector suite."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from likely._checks import check_images, check_inputs, parameter_constraints
from likely.autoencoders import (
    Autoencoder,
    CoDAE,
    CoDVAE,
    DirichletVAE,
    Langevin,
    NormalizedAutoencoder,
    VariationalAutoencoder,
    dirichlet_laplace_prior,
    gaussian_kl,
    remap_pixels,
)
from likely.detect import ReconstructionDetector, check_detector
from likely.nn import Trainer


def trainer(epochs=2, **settings):
    return Trainer(epochs=epochs, batch_size=32, lr=1e-2, progress=False, **settings)


def blobs(n=300, size=8, seed=0):
    """Images (n, 1, size, size) in [0, 1]: a Gaussian blob near the centre of each."""
    rng = np.random.default_rng(seed)
    grid = np.arange(size) - (size - 1) / 2
    centre = rng.normal(0, 1, (n, 2, 1, 1))
    return np.exp(-((grid[:, None] - centre[:, :1]) ** 2 + (grid - centre[:, 1:]) ** 2) / 4).astype("f4")


SMALL = {"latent": 2, "channels": (4,), "hidden": (8,)}
DUAL = {"filters": (4, 8), "mask_filters": (4, 8), "latent_channels": 4, "groups": 2, "mask_groups": 2}
#: every model of the family, small: name -> (unfitted model, its data kind)
MODELS = {
    "Autoencoder-dense": (Autoencoder(**SMALL, output="none", trainer=trainer(4), device="cpu", random_state=0), "vectors"),
    "Autoencoder-conv": (Autoencoder(**SMALL, trainer=trainer(4), device="cpu", random_state=0), "images"),
    "VAE-dense": (VariationalAutoencoder(**SMALL, output="none", beta=0.1, trainer=trainer(4), device="cpu",
                                         random_state=0), "vectors"),
    "VAE-conv": (VariationalAutoencoder(**SMALL, loss="bce", trainer=trainer(4), device="cpu", random_state=0),
                 "images"),
    "DirichletVAE": (DirichletVAE(hidden=(16,), trainer=trainer(4), device="cpu", random_state=0), "images"),
    "NAE-conv": (NormalizedAutoencoder(**SMALL, trainer=trainer(4), steps=3, batch_size=32, progress=False,
                                       latent_chain=Langevin(step=100.0, noise=1e-2, steps=2),
                                       input_chain=Langevin(step=50.0, noise=1e-4, steps=2, anneal=True),
                                       device="cpu", random_state=0), "images"),
    "CoDAE": (CoDAE(**DUAL, trainer=trainer(4), device="cpu", random_state=0), "images"),
    "CoDVAE": (CoDVAE(**DUAL, trainer=trainer(4), device="cpu", random_state=0), "images"),
}


def data(kind, n=300, seed=0):
    if kind == "images":
        return blobs(n, seed=seed)
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, 1))
    return np.hstack([t, 2 * t, -t, t + 0.05 * rng.normal(size=(n, 1))]).astype("f4")


# ------------------------------------------------------------------ validation
def test_check_images_shapes_and_errors():
    one_channel = check_images(np.zeros((2, 3, 4), "f8"))
    assert one_channel.shape == (2, 1, 3, 4) and one_channel.dtype == np.float32
    assert check_images(np.zeros((2, 3, 4, 5)), shape=(3, 4, 5)).shape == (2, 3, 4, 5)
    bad = [(np.zeros((2, 3)), "X must be images"), (np.zeros((2, 1, 1, 1, 1)), "X must be images"),
           (np.zeros((0, 4, 4)), "X is empty"), (np.zeros((2, 0, 4)), "X has empty images"),
           (np.full((2, 4, 4), np.nan), "X contains 32 non-finite"),
           (np.zeros((2, 4, 5)), r"images of shape \(C, H, W\) = \(1, 4, 5\), but \(1, 4, 4\)")]
    for images, match in bad:
        with pytest.raises(ValueError, match=match):
            check_images(images, shape=(1, 4, 4) if images.ndim == 3 and images.shape[0] else None)
    with pytest.raises(TypeError, match="images must hold numbers"):
        check_images(np.array([["a"]]), "images")


def test_check_inputs_keeps_vectors_and_images_apart():
    assert check_inputs(np.zeros((3, 5))).shape == (3, 5)
    assert check_inputs(np.zeros((3, 4, 4))).shape == (3, 1, 4, 4)
    with pytest.raises(ValueError, match=r"must be images \(N, C, H, W\) of shape \(1, 4, 4\) like the training"):
        check_inputs(np.zeros((3, 16)), shape=(1, 4, 4))
    with pytest.raises(ValueError, match=r"must be vectors \(N, 16\) like the training data"):
        check_inputs(np.zeros((3, 4, 4)), shape=(16,))
    with pytest.raises(ValueError, match="X has 4 features, but 5 were expected"):
        check_inputs(np.zeros((3, 4)), shape=(5,))
    with pytest.raises(ValueError, match=r"must be vectors \(N, D\) or images"):
        check_inputs(np.zeros(3))


# ------------------------------------------------------------ exact formulas
def test_gaussian_kl_matches_the_closed_form():
    mean, std = np.array([[1.0, -2.0, 0.0]]), np.array([[0.5, 2.0, 1.0]])
    closed = 0.5 * np.sum(mean**2 + std**2 - 1 - np.log(std**2))
    kl = gaussian_kl(torch.tensor(mean), torch.tensor(np.log(std**2)))
    assert kl.shape == (1,) and kl.item() == pytest.approx(closed, rel=1e-12)
    prior_mean, prior_var = torch.tensor([0.5, 0.0, -1.0]), torch.tensor([2.0, 0.5, 3.0])
    general = gaussian_kl(torch.tensor(mean), torch.tensor(np.log(std**2)), prior_mean, prior_var)
    q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(std))
    p = torch.distributions.Normal(prior_mean.double(), prior_var.double().sqrt())
    assert general.item() == pytest.approx(torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-12)


def test_dirichlet_laplace_prior_hand_cases():
    mean, var = dirichlet_laplace_prior((1.0, 1.0, 1.0))
    np.testing.assert_allclose(mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(var, 2 / 3)  # (1 - 2/3) / 1 + 3 / 9
    mean, var = dirichlet_laplace_prior((1.0, 0.25, 0.1))  # 1/alpha = (1, 4, 10), sum 15
    np.testing.assert_allclose(var, [1 / 3 + 15 / 9, 4 / 3 + 15 / 9, 10 / 3 + 15 / 9])  # (2, 3, 5)
    np.testing.assert_allclose(mean, np.log([1.0, 0.25, 0.1]) - np.log([1.0, 0.25, 0.1]).mean())
    # N(0, 1) per dimension against the prior of alpha = (1, 1, 1): 3/2 (3/2 - 1 + log 2/3)
    kl = gaussian_kl(torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(3), torch.full((3,), 2 / 3))
    assert kl.item() == pytest.approx(1.5 * (0.5 + np.log(2 / 3)), rel=1e-6)


@pytest.fixture(scope="module")
def fitted():
    """Every model of MODELS fitted on its data."""
    return {name: (clone(model).fit(data(kind)), data(kind, n=40, seed=1)) for name, (model, kind) in MODELS.items()}


def _posterior(model, X):
    with torch.no_grad():
        mean, logvar = model.model_.posterior(torch.as_tensor(model.preprocess(X)).flatten(1)
                                              if isinstance(model, DirichletVAE) else torch.as_tensor(model.preprocess(X)))
    return mean.double().numpy(), logvar.double().numpy()


def test_vae_kl_score_is_the_closed_form_at_the_encoders_output(fitted):
    vae, X = fitted["VAE-dense"]
    mean, logvar = _posterior(vae, X)
    scores = vae.scores(X)
    np.testing.assert_allclose(scores["kl"], 0.5 * (mean**2 + np.exp(logvar) - 1 - logvar).sum(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores["elbo"], X.shape[1] * scores["mse"] + scores["kl"], rtol=1e-5)


def test_dirichlet_vae_kl_score_uses_the_laplace_prior(fitted):
    dvae, X = fitted["DirichletVAE"]
    mean, logvar = _posterior(dvae, X)
    prior_mean, prior_var = dirichlet_laplace_prior(dvae.alpha)
    closed = 0.5 * (np.exp(logvar) / prior_var + (mean - prior_mean) ** 2 / prior_var - 1 + np.log(prior_var)
                    - logvar).sum(1)
    scores = dvae.scores(X)
    np.testing.assert_allclose(scores["kl"], closed, rtol=1e-5, atol=1e-6)
    x = dvae.preprocess(X).reshape(len(X), -1)
    p = dvae.reconstruct(X).reshape(len(X), -1)
    np.testing.assert_allclose(scores["reconstruction"], -(x * np.log(p)).sum(1), rtol=1e-4)
    np.testing.assert_allclose(scores["elbo"], scores["reconstruction"] + scores["kl"], rtol=1e-6)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(dvae.encode(X).sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(dvae.topics().reshape(3, -1).sum(1), 1, rtol=1e-5)


# -------------------------------------------------------------- the contract
@pytest.mark.parametrize("name", sorted(MODELS))
def test_scores_are_finite_float32_per_object(name, fitted):
    model, X = fitted[name]
    scores = model.scores(X)
    assert tuple(scores) == model.available_scores and set(scores) <= set(type(model).score_names)
    for value in scores.values():
        assert value.shape == (len(X),) and value.dtype == np.float32 and np.isfinite(value).all()
    np.testing.assert_array_equal(model.reconstruction_error(X), scores[type(model).default_score])
    assert model.reconstruct(X).shape == (len(X), *model.input_shape_)
    assert model.encode(X).shape[0] == len(X)
    assert model.history_.epochs == 4


def test_variational_models_monitor_their_terms(fitted):
    for name in ("VAE-dense", "DirichletVAE"):
        monitors = fitted[name][0].history_.monitors
        assert set(monitors) == {"reconstruction", "kl"}
        assert all(len(values) == 4 and np.isfinite(values).all() for values in monitors.values())


@pytest.mark.parametrize("kind", ["vectors", "images"])
def test_a_constant_set_is_learned_and_a_different_set_scores_higher(kind):
    """The trivially learnable set: every object the same. Its reconstruction error goes to ~0."""
    shape = (64, 8, 8) if kind == "images" else (64, 10)
    constant = np.full(shape, 0.3, "f4")
    ae = Autoencoder(**SMALL, trainer=Trainer(epochs=30, batch_size=8, lr=1e-2, val_fraction=0.0, progress=False),
                     device="cpu", random_state=0).fit(constant)
    other = np.random.default_rng(0).uniform(size=shape).astype("f4")
    assert ae.reconstruction_error(constant).max() < 1e-4
    assert ae.reconstruction_error(other).min() > 10 * ae.reconstruction_error(constant).max()


def test_the_pixel_remapping_is_the_same_at_fit_and_at_score(tmp_path):
    X = np.random.default_rng(0).gamma(0.5, size=(120, 6, 6)).astype("f4")
    by_hand = X ** 0.2 / (X ** 0.2).sum((1, 2), keepdims=True)
    settings = {**SMALL, "trainer": trainer(2), "device": "cpu", "random_state": 0}
    inside = Autoencoder(**settings, power=0.2, normalize=True).fit(X)
    np.testing.assert_allclose(inside.preprocess(X)[:, 0], by_hand, rtol=1e-5)
    outside = Autoencoder(**settings).fit(by_hand)  # the same network trained on the remapped images
    np.testing.assert_allclose(inside.scores(X)["mse"], outside.scores(by_hand)["mse"], rtol=1e-4)
    loaded = Autoencoder.load(inside.save(tmp_path / "ae"), device="cpu")
    assert loaded.power == 0.2 and loaded.normalize
    np.testing.assert_array_equal(loaded.scores(X)["mse"], inside.scores(X)["mse"])
    np.testing.assert_allclose(remap_pixels(torch.as_tensor(X), 0.2, True).numpy(), by_hand, rtol=1e-5)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("name", sorted(MODELS))
def test_declared_constraints_are_checked_at_fit(name):
    """Every declared hyperparameter is checked before any work, with an error naming it (the
    sklearn estimator checks cannot run here: they pass y where these models take a condition)."""
    model, kind = MODELS[name]
    assert repr(clone(model)) == repr(model)
    for parameter in parameter_constraints(type(model)):
        with pytest.raises((TypeError, ValueError), match=f"^{parameter} must"):
            clone(model).set_params(**{parameter: object()}).fit(data(kind, n=20))


def test_errors_name_the_argument(fitted):
    ae, X = fitted["Autoencoder-conv"]
    with pytest.raises(ValueError, match="cond was given, but Autoencoder takes no condition"):
        ae.scores(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match=r"X must be images \(N, C, H, W\) of shape \(1, 8, 8\)"):
        ae.scores(X.reshape(len(X), -1))
    with pytest.raises(ValueError, match="loss='bce' needs output='sigmoid'"):
        Autoencoder(loss="bce", output="none", trainer=trainer(1)).fit(X)
    with pytest.raises(ValueError, match=r"X spans \[.*, 1.99.*\] after preprocessing; loss='bce' needs values in \[0, 1\]"):
        Autoencoder(loss="bce", trainer=trainer(1)).fit(2 * X)
    with pytest.raises(ValueError, match="X has 1 negative value"):
        Autoencoder(power=0.5, trainer=trainer(1)).fit(np.where(np.arange(X.size).reshape(X.shape) == 3, -1, X))
    with pytest.raises(ValueError, match="latent must be > 0"):
        Autoencoder(latent=0).fit(X)
    with pytest.raises(TypeError, match="alpha must be a sequence of at least 2 concentrations"):
        DirichletVAE(alpha=(1.0,)).fit(X)
    with pytest.raises(ValueError, match=r"score_name must be one of the scores \('mse', 'latent_norm'\) of Autoencoder"):
        ReconstructionDetector(autoencoder=Autoencoder(output="none"), score_name="bce").fit(X)


# ------------------------------------------------------------ as detectors
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_passes_the_detector_suite(name):
    model, kind = MODELS[name]
    X = data(kind)
    outliers = np.random.default_rng(1).uniform(size=X.shape).astype("f4") if kind == "images" else None
    fitted = check_detector(ReconstructionDetector(autoencoder=model), X, outliers=outliers)
    assert fitted.input_shape_ == X.shape[1:]


def test_the_detector_reads_out_the_chosen_score(fitted):
    vae, X = fitted["VAE-conv"]
    detector = ReconstructionDetector(autoencoder=vae, score_name="kl", prefit=True).fit(X)
    np.testing.assert_array_equal(detector.score(X), vae.scores(X)["kl"])
    np.testing.assert_array_equal(detector.reference_scores_, vae.scores(X)["kl"])
