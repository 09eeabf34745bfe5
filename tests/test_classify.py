"""Binary classifiers: Bayes-optimal AUC, weights, ensembles, reproducibility, bad input."""

import math

import numpy as np
import pytest
import scipy.sparse
from scipy.stats import norm
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from likely.classify import BinaryClassifier, Ensemble, NNClassifier, TreeClassifier, balanced_weights
from likely.nn import Trainer

SEPARATION = 1.5
#: AUC of the Bayes-optimal classifier for two unit Gaussians SEPARATION apart in one feature
OPTIMAL_AUC = norm.cdf(SEPARATION / math.sqrt(2))  # 0.8556


def gaussians(n, seed, d=SEPARATION, n_features=3):
    """Balanced classes: feature 0 ~ N(d * y, 1), the other features pure N(0, 1) noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, n_features))
    X[:, 0] += d * y
    return X.astype("f4"), y


def noise(n, seed, p=0.5, n_features=3):
    """Labels independent of the features: the true P(y=1 | x) is p everywhere."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_features)).astype("f4"), (rng.random(n) < p).astype(int)


def nn(epochs=5, **kwargs):
    trainer = Trainer(epochs=epochs, batch_size=512, lr=3e-3, progress=False)
    return NNClassifier(**{"hidden": (32, 32), "trainer": trainer, "device": "cpu", **kwargs})


MAKERS = {
    "nn": nn,
    "tree": TreeClassifier,
    "ensemble": lambda random_state=None: Ensemble(
        TreeClassifier(max_iter=50), n_members=3, mode="kfold", random_state=random_state
    ),
}


class Memorizer(BinaryClassifier):
    """Returns the label of rows it was trained on and 0.5 for rows it never saw."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        self.seen_ = {row.tobytes(): label for row, label in zip(X, y)}

    def _proba(self, X):
        return np.array([self.seen_.get(row.tobytes(), 0.5) for row in X], dtype=np.float32)


@pytest.fixture(scope="module")
def separated():
    return gaussians(20_000, seed=0), gaussians(20_000, seed=1)


@pytest.fixture(scope="module")
def fitted(separated):
    (X, y), _ = separated
    return {name: make(random_state=0).fit(X, y) for name, make in MAKERS.items()}


# ------------------------------------------------------------------ statistics
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_held_out_auc_reaches_bayes_optimum(name, fitted, separated):
    """Held-out AUC within 0.02 of Phi(d / sqrt 2) (its statistical error here is ~0.003)."""
    _, (X_test, y_test) = separated
    auc = roc_auc_score(y_test, fitted[name].predict_proba(X_test))
    assert abs(auc - OPTIMAL_AUC) < 0.02, f"AUC {auc:.4f} vs optimal {OPTIMAL_AUC:.4f}"


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_output_types(name, fitted, separated):
    _, (X_test, _) = separated
    model = fitted[name]
    proba = model.predict_proba(X_test[:500])
    assert proba.dtype == np.float32 and proba.shape == (500,)
    assert np.all((proba >= 0) & (proba <= 1))
    labels = model.predict(X_test[:500])
    assert np.issubdtype(labels.dtype, np.integer) and labels.shape == (500,)
    assert set(np.unique(labels)) == {0, 1}
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.n_features_in_ == 3


def test_probabilities_are_calibrated(fitted, separated):
    """Mean predicted probability in bins of the true posterior matches it within 0.05."""
    _, (X_test, _) = separated
    x0 = X_test[:, 0].astype(float)
    # log-likelihood ratio of N(d, 1) to N(0, 1), equal priors
    truth = 1 / (1 + np.exp(-(SEPARATION * x0 - SEPARATION**2 / 2)))
    for name in ("nn", "tree"):
        proba = fitted[name].predict_proba(X_test)
        for low in (0.1, 0.3, 0.5, 0.7):
            in_bin = (truth > low) & (truth < low + 0.2)
            assert abs(proba[in_bin].mean() - truth[in_bin].mean()) < 0.05, (name, low)


# --------------------------------------------------------------------- weights
@pytest.mark.parametrize("make", [nn, TreeClassifier], ids=["nn", "tree"])
def test_sample_weight_shifts_probability_where_it_is_applied(make):
    """Class-1 events with x > 0 weighted by 1/4: there P(y=1 | x) drops from 1/2 to 1/5."""
    X, y = noise(10_000, seed=2, n_features=1)
    weights = np.where((y == 1) & (X[:, 0] > 0), 0.25, 1.0)
    model = make(random_state=0).fit(X, y, sample_weight=weights)
    unweighted = make(random_state=0).fit(X, y)
    grid = np.linspace(-1.5, 1.5, 31, dtype="f4")[:, None]
    left, right = model.predict_proba(grid[grid[:, 0] < -0.2]), model.predict_proba(grid[grid[:, 0] > 0.2])
    assert abs(left.mean() - 0.5) < 0.06
    assert abs(right.mean() - 0.2) < 0.06
    assert abs(unweighted.predict_proba(grid).mean() - 0.5) < 0.06


@pytest.mark.parametrize("make", [nn, TreeClassifier], ids=["nn", "tree"])
def test_class_weight_balanced_on_imbalanced_uninformative_sample(make):
    """10% class 1, labels independent of X: mean P(y=1) is 0.1 unweighted, 0.5 balanced."""
    X, y = noise(10_000, seed=5, p=0.1)
    X_test, _ = noise(2000, seed=6)
    plain = make(random_state=0).fit(X, y).predict_proba(X_test)
    balanced = make(class_weight="balanced", random_state=0).fit(X, y).predict_proba(X_test)
    assert abs(plain.mean() - 0.1) < 0.03
    assert abs(balanced.mean() - 0.5) < 0.05


def test_balanced_weights_equalize_class_totals():
    y = np.array([0] * 90 + [1] * 10)
    w = balanced_weights(y, None)
    assert w.dtype == np.float32
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum()) == pytest.approx(50)
    given = np.random.default_rng(0).uniform(0.5, 2.0, 100)
    w = balanced_weights(y, given)
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum(), rel=1e-5)
    assert w.mean() == pytest.approx(1.0, rel=1e-5)
    # within a class the user's relative weights are kept
    np.testing.assert_allclose(w[y == 1] / given[y == 1], (w[y == 1] / given[y == 1])[0], rtol=1e-5)
    with pytest.raises(ValueError, match="zero total weight"):
        balanced_weights(y, np.where(y == 1, 0.0, 1.0))


# -------------------------------------------------------------------- ensembles
def test_kfold_out_of_fold_rows_were_never_seen_by_their_scorer():
    """A member that memorizes its training rows gives 0.5 to unseen rows: oof must be all 0.5."""
    X, y = gaussians(500, seed=7)
    ensemble = Ensemble(Memorizer(), n_members=5, mode="kfold", random_state=0).fit(X, y)
    assert ensemble.oof_proba_.shape == (500,) and ensemble.oof_proba_.dtype == np.float32
    np.testing.assert_array_equal(ensemble.oof_proba_, 0.5)
    # each row was seen by the 4 other members: in-sample averages are 0.1 or 0.9
    np.testing.assert_allclose(ensemble.predict_proba(X), np.where(y == 1, 0.9, 0.1), atol=1e-6)
    assert len(ensemble.members_) == 5
    # oof_fold_ names the member that left each row out: it, alone, has not memorized the row
    for k, member in enumerate(ensemble.members_):
        np.testing.assert_array_equal(member.predict_proba(X) == 0.5, ensemble.oof_fold_ == k)


def test_kfold_oof_auc_is_honest_on_noise_labels():
    """Overfitting trees: in-sample AUC far above 0.5, out-of-fold AUC 0.5 within 0.05 (~4 sigma)."""
    X, y = noise(2000, seed=8)
    deep = TreeClassifier(max_iter=100, learning_rate=0.3, max_leaf_nodes=63, n_iter_no_change=10**6)
    ensemble = Ensemble(deep, n_members=5, mode="kfold", random_state=0).fit(X, y)
    assert roc_auc_score(y, ensemble.predict_proba(X)) > 0.75
    assert abs(roc_auc_score(y, ensemble.oof_proba_) - 0.5) < 0.05


def test_seed_mode_members_differ():
    X, y = gaussians(2000, seed=9)
    template = TreeClassifier(max_iter=30)
    ensemble = Ensemble(template, n_members=3, mode="seed", random_state=0).fit(X, y)
    seeds = [member.random_state for member in ensemble.members_]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    assert template.random_state is None  # the template is cloned, never modified
    assert not hasattr(ensemble, "oof_proba_")
    probas = np.stack([member.predict_proba(X) for member in ensemble.members_])
    assert not np.array_equal(probas[0], probas[1])
    np.testing.assert_allclose(ensemble.predict_proba(X), probas.mean(axis=0), rtol=1e-6)
    median = Ensemble(template, n_members=3, mode="seed", aggregate="median", random_state=0).fit(X, y)
    np.testing.assert_allclose(median.predict_proba(X), np.median(probas, axis=0), rtol=1e-6)


@pytest.mark.parametrize("mode", ["seed", "kfold"])
def test_ensemble_is_reproducible(mode):
    X, y = gaussians(2000, seed=10)
    make = lambda seed: Ensemble(TreeClassifier(max_iter=30), n_members=3, mode=mode, random_state=seed)  # noqa: E731
    first, again, other = make(0).fit(X, y), make(0).fit(X, y), make(1).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))
    if mode == "kfold":
        np.testing.assert_array_equal(first.oof_proba_, again.oof_proba_)


def test_ensemble_bad_settings():
    X, y = gaussians(200, seed=11)
    with pytest.raises(ValueError, match="n_members"):
        Ensemble(TreeClassifier(), n_members=1, mode="kfold").fit(X, y)
    with pytest.raises(ValueError, match="n_members"):
        Ensemble(TreeClassifier(), n_members=0).fit(X, y)
    with pytest.raises(ValueError, match=f"n_members must .* at most the {min(np.bincount(y))} rows"):
        Ensemble(TreeClassifier(), n_members=200, mode="kfold").fit(X, y)
    with pytest.raises(ValueError, match="mode"):
        Ensemble(TreeClassifier(), mode="bagging").fit(X, y)
    with pytest.raises(ValueError, match="aggregate"):
        Ensemble(TreeClassifier(), aggregate="max").fit(X, y)


# ----------------------------------------------------------------- reproducible
@pytest.mark.parametrize("make", [nn, TreeClassifier], ids=["nn", "tree"])
def test_same_random_state_same_probabilities(make):
    X, y = gaussians(2000, seed=12)
    first, again = make(random_state=3).fit(X, y), make(random_state=3).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    other = make(random_state=4).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_tree_reports_iterations():
    X, y = gaussians(2000, seed=13)
    model = TreeClassifier(max_iter=500, random_state=0).fit(X, y)
    assert 0 < model.n_iter_ < 500  # early stopping ends long before on a 1-feature problem


# ------------------------------------------------------------------- bad input
X_OK, Y_OK = gaussians(100, seed=14)


def _with_nan():
    X = X_OK.copy()
    X[3, 1] = np.nan
    return X


BAD_FITS = {
    "nan-in-X": (lambda: (_with_nan(), Y_OK, None), ValueError, "X contains 1 non-finite"),
    "inf-in-X": (lambda: (np.where(X_OK > 2, np.inf, X_OK), Y_OK, None), ValueError, "X contains .* non-finite"),
    "labels-not-0-1": (lambda: (X_OK, Y_OK * 2, None), ValueError, "y must contain only 0 and 1"),
    "continuous-y": (lambda: (X_OK, Y_OK + 0.5, None), ValueError, "y must contain only 0 and 1"),
    "three-classes": (lambda: (X_OK, np.arange(100) % 3, None), ValueError, "Only binary classification"),
    "single-class": (lambda: (X_OK, np.ones(100), None), ValueError, "y contains only class 1"),
    "y-None": (lambda: (X_OK, None, None), ValueError, "requires y to be passed"),
    "y-too-short": (lambda: (X_OK, Y_OK[:-1], None), ValueError, "y has 99 entries, but X has 100"),
    "y-2d": (lambda: (X_OK, np.stack([Y_OK, Y_OK], 1), None), ValueError, "y must be 1-D"),
    "negative-weight": (lambda: (X_OK, Y_OK, np.where(Y_OK == 1, -1.0, 1.0)), ValueError, "sample_weight must be non-negative"),
    "weight-length": (lambda: (X_OK, Y_OK, np.ones(50)), ValueError, "sample_weight has 50 entries"),
    "zero-weights": (lambda: (X_OK, Y_OK, np.zeros(100)), ValueError, "sample_weight sums to zero"),
    "string-X": (lambda: (X_OK.astype(str), Y_OK, None), TypeError, "X must hold numbers"),
    "complex-X": (lambda: (X_OK + 1j, Y_OK, None), TypeError, "X must be real-valued"),
    "sparse-X": (lambda: (scipy.sparse.csr_matrix(X_OK), Y_OK, None), TypeError, "X is a sparse matrix"),
    "1d-X": (lambda: (X_OK[:, 0], Y_OK, None), ValueError, r"X must be 2-D.*reshape"),
    "empty-X": (lambda: (X_OK[:0], Y_OK[:0], None), ValueError, "X is empty"),
}
FACTORIES = {
    "nn": lambda: nn(epochs=1),
    "tree": TreeClassifier,
    "ensemble": lambda: Ensemble(TreeClassifier(max_iter=5), n_members=2),
}


@pytest.mark.parametrize("case", sorted(BAD_FITS))
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_bad_fit_input_is_rejected_with_a_message_naming_it(name, case):
    make_args, error, message = BAD_FITS[case]
    with pytest.raises(error, match=message):
        FACTORIES[name]().fit(*make_args())


@pytest.mark.parametrize("name", ["nn", "tree"])
def test_unknown_class_weight(name):
    model = FACTORIES[name]().set_params(class_weight="foo")
    with pytest.raises(ValueError, match="class_weight must be one of"):
        model.fit(X_OK, Y_OK)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_predict_before_fit_and_wrong_width(name):
    model = FACTORIES[name]()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict_proba(X_OK)
    with pytest.raises(NotFittedError):
        model.predict(X_OK)
    model.fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="X has 2 features, but 3 were expected"):
        model.predict_proba(X_OK[:, :2])
    with pytest.raises(ValueError, match="X contains"):
        model.predict_proba(_with_nan())
    with pytest.raises(TypeError, match="X must hold numbers"):
        model.predict(X_OK.astype(str))


def test_accepts_array_likes():
    """Lists, float64, int and boolean labels, (N, 1) labels and list weights all work."""
    model = TreeClassifier(max_iter=5, random_state=0)
    reference = model.fit(X_OK, Y_OK).predict_proba(X_OK)
    variants = [
        (X_OK.tolist(), Y_OK.tolist(), None),
        (X_OK.astype("f8"), Y_OK.astype(bool), None),
        (X_OK, Y_OK.astype("f4")[:, None], None),
        (X_OK, Y_OK, [1.0] * 100),
    ]
    for X, y, w in variants:
        np.testing.assert_array_equal(model.fit(X, y, sample_weight=w).predict_proba(X_OK), reference)


def test_tree_forest_arrays_predict_exactly_as_scikit_learn(tmp_path):
    """TreeClassifier saves its trees as arrays (no pickle); they give scikit-learn's probabilities bit for bit."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 4)).astype("f4")
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(size=4000) > 0.5).astype(int)
    tree = TreeClassifier(max_iter=60, max_leaf_nodes=63, n_iter_no_change=100, random_state=0).fit(X, y)
    X_new = rng.normal(scale=3, size=(3000, 4))
    X_new[::7, 1] = np.nan  # missing values follow the learned side, as in scikit-learn
    np.testing.assert_array_equal(tree.forest_.predict_proba(X_new), tree.estimator_.predict_proba(X_new)[:, 1])
    tree.save(tmp_path / "tree")
    assert not (tmp_path / "tree" / "sklearn.pkl").exists()
    loaded = TreeClassifier.load(tmp_path / "tree")
    assert not hasattr(loaded, "estimator_")
    np.testing.assert_array_equal(loaded.predict_proba(X[:3000]), tree.predict_proba(X[:3000]))
