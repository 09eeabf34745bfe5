"""scikit-learn's estimator checks, run on every array-in estimator of likely.

Every check in :func:`sklearn.utils.estimator_checks.parametrize_with_checks` runs on
the estimators below. The checks an estimator fails on purpose (where ``likely``
deliberately deviates from scikit-learn, DESIGN.md) are declared on the estimator's
class, with the reason, in ``_expected_failed_checks`` (and, for the input validation
every estimator shares, in ``likely._checks.VALIDATION_DEVIATIONS``); they are marked
``xfail`` with ``xfail_strict=True``, so a check that starts passing must be removed from
the declaration. Where a deviation hides what a check tests, a test at the end of this
file covers it with inputs we accept.

The conditional autoencoder is here too (``fit(X, cond=None)``, like the densities).
Not here: resonant methods (``fit(events: EventSet, window)``), CaloFlow and the
detectors take structured physics inputs, not an array ``X``; the autoencoder family
(``Autoencoder``, ``VariationalAutoencoder``, ``DirichletVAE``) refuses the ``y`` the checks
pass as the second argument of ``fit``, where it takes a condition it has none of; their
parameter handling (``get_params`` / ``clone`` / declared constraints) is tested in their
own test files.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from likely._checks import expected_failed_checks
from likely.autoencoders import ConditionalAutoencoder
from likely.classify import BinaryClassifier, Ensemble, NNClassifier, NNRegressor, TreeClassifier
from likely.density import DensityEstimator, Flow, FlowMatching
from likely.nn import Trainer

ESTIMATORS = [
    TreeClassifier(random_state=0),
    NNClassifier(hidden=(8,), trainer=Trainer(epochs=2, progress=False), random_state=0),
    Ensemble(TreeClassifier(max_iter=10), n_members=2, random_state=0),
    NNRegressor(hidden=(32,), trainer=Trainer(epochs=30, lr=1e-2, progress=False), random_state=0, device="cpu"),
    Flow(transforms=1, hidden=(8,), bins=4, trainer=Trainer(epochs=1, progress=False), random_state=0, device="cpu"),
    FlowMatching(hidden=(8,), trainer=Trainer(epochs=1, progress=False), random_state=0, device="cpu"),
    ConditionalAutoencoder(encoder=(8,), latent=2, trainer=Trainer(epochs=1, progress=False), random_state=0,
                           device="cpu"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_every_expected_failure_has_a_reason(estimator):
    for name, reason in expected_failed_checks(estimator).items():
        assert name.startswith("check_") and len(reason) > 20, (name, reason)


# ------------------------------------------- what the xfailed checks would test
CLASSIFIERS = [estimator for estimator in ESTIMATORS if isinstance(estimator, BinaryClassifier)]


def _binary_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 3)) + 1.5 * y[:, None]
    return X, y


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_classifier_accepts_array_likes(estimator):
    """check_estimators_dtypes / check_classifier_data_not_an_array with labels {0, 1}."""
    X, y = _binary_data()
    reference = estimator.fit(X.astype("f4"), y).predict_proba(X)
    inputs = [
        (X, y),  # float64
        ((3 * X).astype("i8"), y),  # integer features
        (X.tolist(), y.tolist()),
        (pd.DataFrame(X, columns=list("abc")), pd.Series(y)),
    ]
    for X_in, y_in in inputs:
        proba = estimator.fit(X_in, y_in).predict_proba(X_in)
        assert proba.shape == (len(y),) and proba.dtype == np.float32
    np.testing.assert_array_equal(estimator.fit(X.tolist(), y.tolist()).predict_proba(X), reference)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_classifier_sample_weight_handling(estimator):
    """check_sample_weights_{pandas_series,not_an_array,shape,not_overwritten} with labels {0, 1}."""
    X, y = _binary_data()
    weights = np.linspace(0.5, 2.0, len(y))
    original = weights.copy()
    reference = estimator.fit(X, y, sample_weight=weights).predict_proba(X)
    np.testing.assert_array_equal(weights, original)  # not overwritten
    for as_given in (pd.Series(weights), weights.tolist()):
        np.testing.assert_array_equal(estimator.fit(X, y, sample_weight=as_given).predict_proba(X), reference)
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        estimator.fit(X, y, sample_weight=weights[:, None])
    with pytest.raises(ValueError, match="sample_weight has 59 entries"):
        estimator.fit(X, y, sample_weight=weights[1:])


@pytest.mark.parametrize(
    "estimator", [e for e in ESTIMATORS if isinstance(e, DensityEstimator)], ids=lambda e: type(e).__name__
)
def test_density_is_order_and_subset_invariant(estimator):
    """check_methods_{sample_order,subset}_invariance for an unconditional model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype("f4")
    estimator.fit(X)
    logp = estimator.score_samples(X)
    order = rng.permutation(len(X))
    # FlowMatching's adaptive ODE solver controls the error of the whole batch, so its
    # values depend on the batch at the level of its tolerances (atol = rtol = 1e-5)
    tolerance = {"atol": 1e-3} if isinstance(estimator, FlowMatching) else {"atol": 1e-5}
    np.testing.assert_allclose(estimator.score_samples(X[order]), logp[order], **tolerance)
    np.testing.assert_allclose(estimator.score_samples(X[:7]), logp[:7], **tolerance)
    assert estimator.score(X) == pytest.approx(float(np.mean(logp)))
