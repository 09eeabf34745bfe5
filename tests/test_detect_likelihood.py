"""Likelihood anomaly scorer on toy showers: lambda, scores, thresholds, SIC."""

import numpy as np
import pytest
from calo_toy import SAMPLING, SIZES, STOCHASTIC, tiny_caloflow, toy_showers

from likely.detect import LikelihoodScorer
from likely.metrics import auc, sic_vs_rejection


@pytest.fixture(scope="module")
def scorer():
    showers, e_inc = toy_showers(3000, seed=11)
    return LikelihoodScorer(model=tiny_caloflow(epochs=20)).fit(showers, e_inc)


def _signal(n, seed):
    """Toy showers whose first layer is shifted off-centre by two voxels."""
    showers, e_inc = toy_showers(n, seed=seed)
    showers[:, : SIZES[0]] = np.roll(showers[:, : SIZES[0]], 2, axis=1)
    return showers


def test_lambda_is_the_mean_inverse_sampling_fraction(scorer):
    # E_inc / E_dep = 1 / (0.2 (1 + s g)): mean ~ 5 (1 + <s^2>) with s = 0.1 / sqrt(E) <= 0.1
    assert scorer.lambda_ == pytest.approx(1 / SAMPLING, rel=STOCHASTIC**2 + 0.005)
    showers, e_inc = toy_showers(1000, seed=12)
    ratio = scorer.reconstruct_energy(showers) / e_inc
    assert np.median(ratio) == pytest.approx(1.0, abs=0.02)


def test_anomalous_showers_score_higher(scorer):
    background, _ = toy_showers(1000, seed=13)
    signal = _signal(1000, seed=14)
    scores = np.r_[scorer.score(background), scorer.score(signal)]
    labels = np.r_[np.zeros(1000), np.ones(1000)]
    assert auc(labels, scores) > 0.8
    rejection, sic = sic_vs_rejection(labels, scores)
    assert sic.max() > 2.0 and rejection.max() >= 10


def test_threshold_passes_the_requested_background_fraction(scorer):
    reference, _ = toy_showers(2000, seed=15)
    scores = scorer.score(reference)
    cut = scorer.threshold(0.1, reference=reference)
    assert cut == scorer.threshold(0.1, reference=scores)
    assert np.mean(scores > cut) == pytest.approx(0.1, abs=0.001)


def test_prefit_reuses_the_model(scorer):
    showers, e_inc = toy_showers(500, seed=16)
    again = LikelihoodScorer(model=scorer.model_, prefit=True).fit(showers, e_inc)
    assert again.model_ is scorer.model_
    part = showers[:50]
    assert again.space_ == "flows"  # a CaloFlow: seed 000's eq. (1) by default
    terms = scorer.model_.log_prob_terms(part, again.reconstruct_energy(part))
    np.testing.assert_allclose(again.score(part), -(terms["flow_i"] + terms["flow_ii"]), rtol=1e-6)


def test_voxel_space_is_minus_log_prob(scorer):
    part, _ = toy_showers(50, seed=18)
    voxels = LikelihoodScorer.from_model(scorer.model_, scorer.lambda_, space="voxels")
    np.testing.assert_array_equal(voxels.score(part), -scorer.model_.log_prob(part, voxels.reconstruct_energy(part)))
    assert set(scorer.scores(part)) == {"flows", "voxels"}


class _VoxelDensity:
    """A density model without CaloFlow's log_prob_terms: only voxel space is defined."""

    def __init__(self, model):
        self.model = model

    def log_prob(self, showers, e_inc):
        return self.model.log_prob(showers, e_inc)


def test_a_model_without_terms_is_scored_in_voxel_space(scorer):
    part, _ = toy_showers(20, seed=19)
    plain = LikelihoodScorer.from_model(_VoxelDensity(scorer.model_), scorer.lambda_)
    assert plain.space_ == "voxels" and set(plain.scores(part)) == {"voxels"}
    with pytest.raises(ValueError, match="space='flows' needs a model with log_prob_terms"):
        LikelihoodScorer.from_model(_VoxelDensity(scorer.model_), scorer.lambda_, space="flows")
    with pytest.raises(ValueError, match="space"):
        LikelihoodScorer.from_model(scorer.model_, scorer.lambda_, space="latent")


def test_bad_input(scorer):
    with pytest.raises(TypeError, match="model must be a density model"):
        LikelihoodScorer().fit(*toy_showers(10))
    with pytest.raises(ValueError, match="fpr"):
        scorer.threshold(0.0, reference=np.zeros(10))
    with pytest.raises(ValueError, match="zero-energy"):
        scorer.score(np.zeros((3, sum(SIZES))))


def test_from_model_gives_a_fitted_scorer(scorer):
    showers, _ = toy_showers(20, seed=17)
    again = LikelihoodScorer.from_model(scorer.model_, scorer.lambda_)
    np.testing.assert_array_equal(again.score(showers), scorer.score(showers))
    with pytest.raises(ValueError, match="lambda_"):
        LikelihoodScorer.from_model(scorer.model_, -1.0)
