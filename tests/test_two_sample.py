"""Classifier two-sample test and the SIC-vs-rejection curve."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from likely.classify import NNClassifier, TreeClassifier, classifier_two_sample_test
from likely.metrics import ClassifierTestResult, sic_curve, sic_vs_rejection
from likely.nn import Trainer


def _classifier():
    trainer = Trainer(epochs=15, batch_size=256, lr=3e-3, progress=False)
    return NNClassifier(hidden=(32, 32), class_weight="balanced", trainer=trainer, random_state=0)


def test_same_distribution_gives_auc_near_one_half(rng):
    a, b = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
    result = classifier_two_sample_test(a, b, _classifier(), random_state=1)
    # 1200 test events: the AUC's standard error under the null is ~0.017
    assert result.auc == pytest.approx(0.5, abs=0.05)
    assert result.weights.shape == result.proba.shape == result.is_reference.shape == (1200,)
    assert np.median(result.generated_weights) == pytest.approx(1.0, abs=0.15)


def test_shifted_distribution_is_detected_and_weights_follow_the_density_ratio(rng):
    shift = np.array([0.7, 0, 0, 0])
    generated, reference = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4)) + shift
    result = classifier_two_sample_test(generated, reference, _classifier(), random_state=1)
    # exact AUC of two unit Gaussians 0.7 apart: Phi(0.7 / sqrt 2) = 0.69
    assert result.auc > 0.63
    # the weights estimate p_ref / p_gen = exp(0.7 x0 - 0.245), increasing in x0
    x0 = np.where(result.is_reference, reference[result.index, 0], generated[result.index, 0])
    assert spearmanr(np.log(result.weights), x0).statistic > 0.8
    np.testing.assert_allclose(np.median(np.log(result.weights) - (0.7 * x0 - 0.245)), 0.0, atol=0.25)


def test_tree_classifier_gives_the_exact_auc(rng):
    generated, reference = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + [1.0, 0.0]
    result = classifier_two_sample_test(generated, reference, TreeClassifier(random_state=0), random_state=2)
    assert result.auc == pytest.approx(0.76, abs=0.04)  # Phi(1 / sqrt 2)
    assert result.weights.min() > 0 and np.isfinite(result.weights).all()


def test_bad_input(rng):
    with pytest.raises(ValueError, match="reference has 3 features"):
        classifier_two_sample_test(rng.normal(size=(10, 2)), rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="test_fraction"):
        classifier_two_sample_test(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), test_fraction=1.5)


def test_sic_vs_rejection_on_an_analytic_case():
    # background scores 0..999, signal scores all above 900: exact eps_B = k / 1000
    y = np.r_[np.zeros(1000), np.ones(100)]
    score = np.r_[np.arange(1000.0), np.full(100, 2000.0)]
    rejection, sic = sic_vs_rejection(y, score, min_background=25)
    tpr, sic_ref = sic_curve(y, score, min_background=25)
    np.testing.assert_allclose(sic, sic_ref)
    assert rejection.max() == pytest.approx(1000 / 25)
    np.testing.assert_allclose(sic, tpr * np.sqrt(rejection))
    assert sic.max() == pytest.approx(np.sqrt(40.0))


def test_result_from_proba_gives_the_exact_auc_and_weights():
    result = ClassifierTestResult.from_proba([0.5, 0.8, 0.0, 1.0], is_reference=[False, True, False, True],
                                             index=[0, 0, 1, 1])
    assert result.auc == 1.0
    np.testing.assert_allclose(result.weights[:2], [1.0, 4.0], rtol=1e-6)
    assert np.isfinite(result.weights).all() and result.weights[2] < 1e-6 < 1e6 < result.weights[3]
    np.testing.assert_array_equal(result.generated_weights, result.weights[[0, 2]])
