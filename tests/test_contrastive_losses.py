"""The contrastive losses against the seed's formulas written out by hand, element by element."""

import math

import numpy as np
import pytest
import torch

from likely.represent import anomclr_loss, anomclr_plus_loss, cosine_similarity, darkclr_loss, simclr_loss

Z = torch.tensor([[1.0, 0.0], [0.6, 0.8], [-1.0, 1.0]])
Z_POS = torch.tensor([[0.9, 0.1], [0.5, 1.0], [-2.0, 1.5]])
Z_ANOM = torch.tensor([[0.0, 1.0], [1.0, -0.2], [1.0, 1.0]])


def s(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_cosine_similarity_matrix():
    expected = [[s(a, b) for b in Z_POS] for a in Z]
    np.testing.assert_allclose(cosine_similarity(Z, Z_POS).numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_simclr_is_nt_xent_by_hand(tau):
    views = list(Z) + list(Z_POS)
    n, total = len(Z), 0.0
    for v in range(2 * n):
        partner = (v + n) % (2 * n)
        denominator = sum(math.exp(s(views[v], views[u]) / tau) for u in range(2 * n) if u != v)
        total += -math.log(math.exp(s(views[v], views[partner]) / tau) / denominator)
    assert simclr_loss(Z, Z_POS, tau).item() == pytest.approx(total / (2 * n), rel=1e-5)


@pytest.mark.parametrize("tau", [0.1, 1.0])
def test_anomclr_is_equation_5_9_by_hand(tau):
    total = 0.0
    for i in range(3):
        numerator = math.exp((s(Z[i], Z_POS[i]) - s(Z[i], Z_ANOM[i])) / tau)
        denominator = sum(math.exp(s(Z[i], Z[j]) / tau) + math.exp(s(Z[i], Z_POS[j]) / tau) for j in range(3) if j != i)
        total += -math.log(numerator / denominator)
    assert anomclr_loss(Z, Z_POS, Z_ANOM, tau).item() == pytest.approx(total / 3, rel=1e-5)


def test_anomclr_plus_and_darkclr_by_hand():
    plus = np.mean([s(Z[i], Z_ANOM[i]) - s(Z[i], Z_POS[i]) for i in range(3)])
    assert anomclr_plus_loss(Z, Z_POS, Z_ANOM).item() == pytest.approx(plus, rel=1e-6)
    assert anomclr_plus_loss(Z, Z_POS, Z_ANOM, tau=0.5).item() == pytest.approx(2 * plus, rel=1e-6)
    norms = np.mean([float(v @ v) for v in list(Z) + list(Z_POS)])
    assert darkclr_loss(Z, Z_POS, Z_ANOM, norm_weight=0.3).item() == pytest.approx(plus + 0.3 * norms, rel=1e-6)


def test_the_losses_reward_what_they_should():
    """Views equal to their objects and anomalies opposite: the lowest L⁺ (−2) and a lower L_AnomCLR."""
    assert anomclr_plus_loss(Z, Z, -Z).item() == pytest.approx(-2.0)
    assert anomclr_loss(Z, Z, -Z).item() < anomclr_loss(Z, Z_POS, Z_ANOM).item()
    assert simclr_loss(Z, Z).item() < simclr_loss(Z, Z_ANOM).item()


def test_linear_classifier_test_sees_linear_separation_only():
    from likely.represent import linear_classifier_test

    rng = np.random.default_rng(0)
    background = rng.normal(0, 1, (400, 4))
    shifted = rng.normal(0, 1, (400, 4)) + [1.5, 0, 0, 0]
    ring = rng.normal(0, 1, (400, 4))
    ring *= 3 / np.linalg.norm(ring, axis=1, keepdims=True)  # same mean, other radius: not linearly separable
    assert linear_classifier_test(background, shifted) > 0.8
    assert abs(linear_classifier_test(background, ring) - 0.5) < 0.1
    assert linear_classifier_test(background, shifted, random_state=1) == pytest.approx(
        linear_classifier_test(background, shifted, random_state=1))
    with pytest.raises(ValueError, match="folds must be"):
        linear_classifier_test(background, shifted[:3])
