"""The shared detector suite (likely.detect.check_detector) over every registered detector, the
suite catching broken detectors, the fpr / quantile vocabulary and the out-of-range policy."""

import logging

import numpy as np
import pytest
from calo_toy import tiny_caloflow, toy_showers

from sklearn.base import clone

from likely._checks import parameter_constraints
from likely.autoencoders import Autoencoder, ConditionalAutoencoder
from likely.represent import CLR
from likely.density import Flow
from likely.detect import (
    DETECTORS,
    ConditionRange,
    Detector,
    FluxMutability,
    LikelihoodScorer,
    ReconstructionDetector,
    RepresentationDetector,
    check_detector,
    resolve_quantile,
)
from likely.nn import Trainer

QUIET = {"progress": False}


def conditional_data(n=500, seed=0):
    """Features (n, 3) whose location depends on a condition k ~ U(0, 1)."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(0, 1, n)
    X = np.stack([2 * k + 0.3 * rng.normal(size=n), np.sin(3 * k) + 0.2 * rng.normal(size=n),
                  0.5 * rng.normal(size=n)], 1)
    return X.astype("f4"), k.astype("f4")


def tiny_autoencoder():
    return ConditionalAutoencoder(encoder=(8,), latent=1, trainer=Trainer(epochs=3, **QUIET), random_state=0,
                                  device="cpu")


def tiny_flux_mutability():
    return FluxMutability(
        autoencoder=tiny_autoencoder(),
        flow=Flow(transforms=1, hidden=(8,), trainer=Trainer(epochs=2, **QUIET), random_state=0, device="cpu"),
        n_bins=2, reference_size=100, calibration_size=300, min_cluster_size=60, min_samples=10,
        random_state=0, device="cpu", **QUIET,
    )


def shower_case():
    """Shifting voxel energies keeps a shower's shape, which is what the flows judge: the obvious
    outliers are the toy showers with their voxels in reverse order (energy in the wrong layers)."""
    showers, e_inc = toy_showers(400, seed=3)
    return LikelihoodScorer(model=tiny_caloflow(epochs=2)), showers, e_inc, {"outliers": showers[:, ::-1]}


def blob_images(n=300, size=8, seed=0):
    """Images (n, 1, size, size) in [0, 1]: one Gaussian blob each, at a random place near the centre."""
    rng = np.random.default_rng(seed)
    grid = np.arange(size) - (size - 1) / 2
    centre = rng.normal(0, 1, (n, 2, 1, 1))
    images = np.exp(-((grid[:, None] - centre[:, :1]) ** 2 + (grid - centre[:, 1:]) ** 2) / 4)
    return images.astype("f4")


def image_case():
    """A convolutional autoencoder's latent norm on images; the obvious outliers are noise images."""
    X = blob_images()
    ae = Autoencoder(latent=2, channels=(4,), hidden=(8,), trainer=Trainer(epochs=4, batch_size=32, lr=1e-2, **QUIET),
                     random_state=0, device="cpu")
    noise = np.random.default_rng(1).uniform(size=X.shape).astype("f4")
    return ReconstructionDetector(autoencoder=ae), X, None, {"outliers": noise}


def set_case():
    """DarkCLR's norm score of a tiny contrastive representation of padded sets (pT, Δη, Δφ); the
    obvious outliers are full sets where the reference has 2 … 5 objects (the sum keeps the multiplicity)."""
    rng = np.random.default_rng(2)
    X = np.zeros((300, 12, 3), "f4")
    counts = rng.integers(2, 6, 300)
    real = np.arange(12) < counts[:, None]
    X[real] = np.c_[rng.uniform(5, 50, real.sum()), rng.normal(0, 0.2, (real.sum(), 2))]
    outliers = np.concatenate([rng.uniform(5, 50, (300, 12, 1)), rng.normal(0, 0.2, (300, 12, 2))], 2).astype("f4")
    clr = CLR(dim=8, out_features=4, layers=1, heads=2, feedforward=8, head_hidden=(8,), device="cpu",
              trainer=Trainer(epochs=1, batch_size=64, val_fraction=0.0, patience=None, **QUIET), random_state=0)
    return RepresentationDetector(representation=clr), X, None, {"outliers": outliers}


#: every registered detector with small, fast settings and data: (detector, X, cond, more check arguments);
#: a name "Detector[variant]" is one more case of the detector Detector
CASES = {
    "LikelihoodScorer": shower_case,
    "FluxMutability": lambda: (tiny_flux_mutability(), *conditional_data(), {}),
    "ReconstructionDetector": lambda: (ReconstructionDetector(autoencoder=tiny_autoencoder()), *conditional_data(), {}),
    "ReconstructionDetector[images]": image_case,
    "RepresentationDetector": set_case,
}


def test_every_registered_detector_is_checked():
    assert {name.split("[")[0] for name in CASES} == set(DETECTORS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_keeps_the_contract(name):
    detector, X, cond, more = CASES[name]()
    fitted = check_detector(detector, X, cond, **more)
    assert isinstance(fitted, DETECTORS[name.split("[")[0]]) and fitted is not detector


def test_unconditional_reconstruction_detector_keeps_the_contract():
    X, _ = conditional_data()
    fitted = check_detector(ReconstructionDetector(autoencoder=tiny_autoencoder()), X)
    assert fitted.cond_range_ is None and fitted.n_cond_ == 0


# ------------------------------------------------------ the suite can fail
class WrongSign(ReconstructionDetector, register=False):
    def score(self, X, cond=None):
        return -super().score(X, cond)


class WrongShape(ReconstructionDetector, register=False):
    def score(self, X, cond=None):
        return super().score(X, cond)[:, None]


class IgnoresFpr(ReconstructionDetector, register=False):
    def threshold(self, fpr=None, *, quantile=None, reference=None, cond=None):
        return super().threshold(0.5, reference=reference, cond=cond)


class PredictsWithTheWrongCut(ReconstructionDetector, register=False):
    def predict(self, X, cond=None, *, fpr=None, quantile=None, reference=None):
        return super().predict(X, cond, fpr=fpr / 2, reference=reference)


class ScoresNaN(ReconstructionDetector, register=False):
    def score(self, X, cond=None):
        X = np.nan_to_num(np.asarray(X, dtype=np.float32))  # hides the NaN the objects hold
        return super().score(X, cond)


@pytest.mark.parametrize("broken, check", [
    (WrongSign, "check_outliers_score_higher"),
    (ScoresNaN, "check_bad_input: score with NaN in X"),
    (WrongShape, "check_scores: score shape is"),
    (IgnoresFpr, "check_threshold"),
    (PredictsWithTheWrongCut, "check_predict"),
])
def test_the_suite_catches_a_broken_detector(broken, check):
    X, k = conditional_data()
    with pytest.raises(AssertionError, match=check):
        check_detector(broken(autoencoder=tiny_autoencoder()), X, k)


def test_broken_detectors_are_not_registered():
    assert "WrongSign" not in DETECTORS


def test_a_second_detector_of_a_registered_name_is_refused():
    with pytest.raises(ValueError, match="a detector named FluxMutability is already registered"):
        type("FluxMutability", (Detector,), {"__module__": "somewhere_else"})


# ------------------------------------------------------ fpr and quantile
def test_resolve_quantile():
    assert resolve_quantile(0.25, None) == 0.75 and resolve_quantile(None, 0.9) == 0.9
    for fpr, quantile, match in ((None, None, "got neither"), (0.1, 0.9, "got both"), (0.0, None, "fpr must be > 0"),
                                 (1.0, None, "fpr must be < 1"), (None, -0.1, "quantile must be > 0")):
        with pytest.raises(ValueError, match=match):
            resolve_quantile(fpr, quantile)


@pytest.fixture(scope="module")
def reconstruction():
    X, k = conditional_data()
    return ReconstructionDetector(autoencoder=tiny_autoencoder()).fit(X, k), X, k


def test_threshold_errors_name_the_argument(reconstruction):
    detector, X, k = reconstruction
    with pytest.raises(ValueError, match="reference: X has 2 features, but 3 were expected"):
        detector.threshold(0.1, reference=X[:, :2], cond=k)
    with pytest.raises(ValueError, match="reference: cond is required"):
        detector.threshold(0.1, reference=X)
    with pytest.raises(ValueError, match="cond is the condition of reference objects"):
        detector.threshold(0.1, cond=k)
    with pytest.raises(ValueError, match="keeps no reference scores"):
        LikelihoodScorer.from_model(tiny_caloflow(), 5.0).threshold(0.1)


def test_default_reference_is_the_training_scores(reconstruction):
    detector, X, k = reconstruction
    np.testing.assert_array_equal(detector.reference_scores_, detector.score(X, k))
    assert detector.threshold(0.1) == detector.threshold(0.1, reference=X, cond=k)


# ------------------------------------------------------ out-of-range conditions
def test_condition_range_policies(caplog):
    rng = ConditionRange.fit(np.array([[0.0, 10.0], [1.0, 20.0]], "f4"))
    edges = np.array([[0.0, 10.0], [1.0, 20.0]], "f4")
    beyond = np.array([[np.nextafter(np.float32(1), np.float32(2)), 15.0], [0.5, 9.0]], "f4")
    for policy in ("clip", "flag", "error"):
        np.testing.assert_array_equal(rng.apply(edges, policy), edges)  # the edges are inside
    assert not rng.outside(edges).any() and rng.outside(beyond).all()
    with caplog.at_level(logging.INFO, logger="likely.detect.base"):
        np.testing.assert_array_equal(rng.apply(beyond, "clip"), [[1.0, 15.0], [0.5, 10.0]])
    assert "cond has 2 row(s) outside the training range" in caplog.text and "clipped" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="likely.detect.base"):
        np.testing.assert_array_equal(rng.apply(beyond, "flag"), beyond)
    assert "scored where they lie" in caplog.text
    with pytest.raises(ValueError, match=r"cond has 2 row\(s\) outside the training range; column 0 spans \[0, 1\]"):
        rng.apply(beyond, "error")


def test_reconstruction_detector_out_of_range(reconstruction):
    detector, X, k = reconstruction
    low, high = k.min(), k.max()
    edge = np.array([low, high], "f4")
    past = np.array([np.nextafter(low, np.float32(-1)), high + 0.2], "f4")
    clipped = detector.score(X[:2], past)
    np.testing.assert_array_equal(clipped, detector.score(X[:2], edge))  # clip: scored at the edge
    np.testing.assert_array_equal(detector.outside_training_range(past), [True, True])
    np.testing.assert_array_equal(detector.outside_training_range(edge), [False, False])
    flagged = detector.set_params(out_of_range="flag").score(X[:2], past)
    assert flagged[1] != clipped[1]  # flag: scored where it lies
    with pytest.raises(ValueError, match="outside the training range"):
        detector.set_params(out_of_range="error").score(X[:2], past)
    np.testing.assert_array_equal(detector.score(X[:2], edge), clipped)  # the edges themselves are inside
    detector.set_params(out_of_range="clip")
    with pytest.raises(ValueError, match="out_of_range must be one of"):
        ReconstructionDetector(out_of_range="ignore").fit(X, k)


def test_reconstruction_detector_prefit(reconstruction):
    detector, X, k = reconstruction
    again = ReconstructionDetector(autoencoder=detector.autoencoder_, prefit=True).fit(X, k)
    assert again.autoencoder_ is detector.autoencoder_
    np.testing.assert_array_equal(again.score(X, k), detector.score(X, k))
    with pytest.raises(ValueError, match="prefit=True needs a trained autoencoder"):
        ReconstructionDetector(prefit=True).fit(X, k)
    with pytest.raises(TypeError, match="autoencoder must be an autoencoder"):
        ReconstructionDetector(autoencoder=Flow()).fit(X, k)


def test_constructors_are_keyword_only():
    for cls in DETECTORS.values():
        with pytest.raises(TypeError):
            cls(None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_declared_constraints_are_checked_at_fit(name):
    """Every declared hyperparameter is checked before any work, with an error naming it."""
    detector, X, cond, _ = CASES[name]()
    assert repr(clone(detector)) == repr(detector)
    for parameter in parameter_constraints(type(detector)):
        bad = clone(detector).set_params(**{parameter: object()})
        with pytest.raises((TypeError, ValueError), match=f"^{parameter} must"):
            bad.fit(X, cond)
