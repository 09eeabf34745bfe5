"""Flux+Mutability and its conditional autoencoder on a synthetic conditional problem.

The reference class has 4 features whose location, width and correlations depend on a
condition k ~ U(0, 1); outliers are the same objects shifted by (0, 0.6, 0.4, 0.3).
"""

import copy

import hdbscan
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from likely.autoencoders import ConditionalAutoencoder
from likely.density import Flow
from likely.detect import FluxMutability
from likely.detect.flux_mutability import _rank, _ReferenceCluster
from likely.nn import Trainer

SHIFT = np.array([0.0, 0.6, 0.4, 0.3])


def make(n, rng, outlier=False):
    k = rng.uniform(0, 1, n)
    e = rng.normal(size=(n, 4))
    x1 = 2 * k + (0.5 + k) * e[:, 0]
    x2 = x1 * (1 - k) + 0.3 * e[:, 1]
    x3 = np.sin(3 * k) + 0.2 * e[:, 2] + 0.2 * e[:, 0]
    x4 = (0.2 + 0.3 * k) * e[:, 3]
    X = np.stack([x1, x2, x3, x4], 1) + (SHIFT if outlier else 0)
    # keep test objects inside the training range of k
    return X.astype("f4"), np.clip(k, 0.01, 0.99).astype("f4")


def small_fm(**params):
    trainer = Trainer(epochs=20, lr=3e-3, progress=False)
    settings = dict(
        autoencoder=ConditionalAutoencoder(encoder=(16, 8), latent=2, trainer=trainer, random_state=0),
        flow=Flow(transforms=3, hidden=(32, 32), trainer=trainer, random_state=0, device="cpu"),
        n_bins=5, reference_size=300, calibration_size=2000, min_cluster_size=200, min_samples=20,
        progress=False, random_state=0,
    )
    return FluxMutability(**{**settings, **params})


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {"train": make(4000, rng), "reference": make(3000, rng), "outlier": make(1000, rng, True)}


@pytest.fixture(scope="module")
def fitted(data):
    return small_fm().fit(*data["train"])


def binomial_tolerance(q, n):
    """3 standard deviations of a rate q measured on n objects."""
    return 3 * np.sqrt(q * (1 - q) / n)


# ------------------------------------------------------------ the autoencoder
def test_conditional_autoencoder_uses_the_condition():
    rng = np.random.default_rng(1)
    c = rng.uniform(0, 1, 3000).astype("f4")
    X = np.stack([np.sin(3 * c), c**2, np.cos(2 * c)], 1).astype("f4")
    X += 0.01 * rng.normal(size=X.shape).astype("f4")
    trainer = Trainer(epochs=40, lr=3e-3, progress=False)
    conditional = ConditionalAutoencoder(encoder=(16,), latent=1, trainer=trainer, random_state=0).fit(X, c)
    # a 1-D bottleneck without the condition cannot beat ignoring the inputs by much,
    # with the condition the features are a function of c and reconstruct closely
    rms = np.sqrt((conditional.residuals(X, c) ** 2).mean(0))
    assert (rms < 0.15 * X.std(0)).all(), rms
    np.testing.assert_array_equal(conditional.residuals(X, c), conditional.reconstruct(X, c) - X)
    assert conditional.model_.decoder[0].in_features == 1 + 1  # latent ⊕ condition


def test_conditional_autoencoder_paper_sizes():
    """Table 7's GlueX network with 14 features and 2 conditions has table 8's 10 172 parameters."""
    rng = np.random.default_rng(0)
    X, c = rng.normal(size=(64, 14)).astype("f4"), rng.normal(size=(64, 2)).astype("f4")
    ae = ConditionalAutoencoder(encoder=(56, 42, 28, 14, 8), trainer=Trainer(epochs=1, progress=False))
    n_params = sum(p.numel() for p in ae.fit(X, c).model_.parameters())
    assert n_params == 10172


def test_conditional_autoencoder_bad_inputs():
    ae = ConditionalAutoencoder(encoder=(4,), latent=1, trainer=Trainer(epochs=1, progress=False))
    X = np.ones((10, 2), "f4")
    with pytest.raises(NotFittedError):
        ae.residuals(X, np.ones(10))
    with pytest.raises(ValueError, match="cond has 9 rows"):
        ae.fit(X, np.ones(9))
    ae.fit(X, np.ones(10))
    with pytest.raises(ValueError, match="X has 3 features, but 2 were expected"):
        ae.reconstruct(np.ones((4, 3)), np.ones(4))
    with pytest.raises(ValueError, match="latent must be > 0"):
        ConditionalAutoencoder(latent=0).fit(X, np.ones(10))


def test_flow_base_space_round_trip(data):
    X, k = data["train"]
    flow = Flow(transforms=2, hidden=(16,), trainer=Trainer(epochs=3, progress=False), random_state=0).fit(X, k)
    z = flow.to_base(X[:500], k[:500])
    np.testing.assert_allclose(flow.from_base(z, k[:500]), X[:500], atol=1e-4)


# ------------------------------------------------------------ cross-fitted residuals
class RecordingAutoencoder(ConditionalAutoencoder):
    """Remembers the events it was trained on."""

    def fit(self, X, cond=None):
        self.seen_ = np.array(X)
        return super().fit(X, cond)


class RecordingFlow(Flow):
    """Remembers the points it was trained on."""

    def fit(self, X, cond=None):
        self.seen_ = np.array(X)
        return super().fit(X, cond)


def tiny_fm(recording=True, **params):
    """Cheap to fit: the per-object path builds no reference clusters at fit."""
    autoencoder, flow = (RecordingAutoencoder, RecordingFlow) if recording else (ConditionalAutoencoder, Flow)
    settings = dict(
        autoencoder=autoencoder(encoder=(8,), latent=1, trainer=Trainer(epochs=2, progress=False), random_state=0),
        flow=flow(transforms=1, hidden=(8,), trainer=Trainer(epochs=1, progress=False), random_state=0, device="cpu"),
        n_bins=1, reference_size=300, calibration_size=10, min_cluster_size=200, min_samples=20,
        method="per_object", progress=False, random_state=0,
    )
    return FluxMutability(**{**settings, **params})


def test_crossfit_residuals_come_from_the_autoencoder_that_did_not_see_the_event(data):
    X, k = data["train"][0][:600], data["train"][1][:600]
    fm = tiny_fm(residuals="crossfit", n_folds=3).fit(X, k)
    folds = fm.folds(X, k)
    assert len(fm.fold_autoencoders_) == 3 and not hasattr(fm, "autoencoder_")
    trained_on = fm.flow_.seen_  # the augmented space the flow learnt
    np.testing.assert_array_equal(trained_on[:, :4], X)
    for fold, autoencoder in enumerate(fm.fold_autoencoders_):
        unseen = folds == fold
        np.testing.assert_array_equal(autoencoder.seen_, X[~unseen])  # trained on the other folds only
        np.testing.assert_array_equal(trained_on[unseen, 4:], autoencoder.residuals(X[unseen], k[unseen]))
        other = fm.fold_autoencoders_[(fold + 1) % 3].residuals(X[unseen], k[unseen])
        assert not np.allclose(trained_on[unseen, 4:], other)
    # in-sample: one autoencoder, trained on all events, gives the residuals the flow learns
    paper = tiny_fm().fit(X, k)
    np.testing.assert_array_equal(paper.autoencoder_.seen_, X)
    np.testing.assert_array_equal(paper.flow_.seen_[:, 4:], paper.autoencoder_.residuals(X, k))


def test_folds_are_uniform_and_depend_only_on_the_object(data):
    X, k = data["reference"]
    fm = FluxMutability(n_folds=5, random_state=0)
    folds = fm.folds(X, k)
    counts = np.bincount(folds, minlength=5)
    assert (np.abs(counts / len(X) - 0.2) < binomial_tolerance(0.2, len(X)) * 4 / 3).all(), counts  # 4 sigma
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(fm.folds(X[order], k[order]), folds[order])  # not on batch or position
    np.testing.assert_array_equal(fm.folds(X[:7], k[:7]), folds[:7])
    assert (FluxMutability(n_folds=5, random_state=1).folds(X, k) != folds).mean() > 0.7  # the seed salts the hash


@pytest.mark.parametrize("residuals", ["crossfit", "in_sample"])
def test_save_and_load_keep_the_residuals(data, tmp_path, residuals):
    X, k = data["train"][0][:300], data["train"][1][:300]
    fm = tiny_fm(recording=False, residuals=residuals).fit(X, k)
    fm.save(tmp_path / "model")
    loaded = FluxMutability.load(tmp_path / "model", device="cpu")
    assert loaded.residuals == residuals
    np.testing.assert_array_equal(loaded._augment(X, k), fm._augment(X, k))


def test_crossfit_bad_settings(data):
    X, k = data["train"]
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        tiny_fm(residuals="crossfit", n_folds=1).fit(X, k)
    with pytest.raises(ValueError, match="residuals must be one of"):
        tiny_fm(residuals="out_of_fold").fit(X, k)
    with pytest.raises(ValueError, match="X has 60 events, too few for n_folds=5: a fold holds"):
        tiny_fm(residuals="crossfit", n_folds=5).fit(X[:60], k[:60])
    tiny_fm().fit(X[:60], k[:60])  # in-sample: no folds, no limit


# ------------------------------------------------------------ Flux+Mutability
@pytest.mark.slow
@pytest.mark.parametrize("quantile", [0.68, 0.95, 0.99])
def test_tpr_on_reference_objects_equals_the_quantile(fitted, data, quantile):
    X, k = data["reference"]
    tpr = np.mean(~fitted.predict(X, k, quantile=quantile))
    assert abs(tpr - quantile) < binomial_tolerance(quantile, len(X)) + 0.01, tpr


@pytest.mark.slow
def test_tpr_with_crossfitted_residuals_equals_the_quantile(data):
    fm = small_fm(residuals="crossfit", n_folds=3).fit(*data["train"])
    X, k = data["reference"]
    for quantile in (0.68, 0.95, 0.99):
        tpr = np.mean(~fm.predict(X, k, quantile=quantile))
        assert abs(tpr - quantile) < binomial_tolerance(quantile, len(X)) + 0.01, (quantile, tpr)


@pytest.mark.slow
def test_outliers_score_higher(fitted, data):
    reference, outlier = fitted.score(*data["reference"]), fitted.score(*data["outlier"])
    labels = np.r_[np.zeros(len(reference)), np.ones(len(outlier))]
    assert roc_auc_score(labels, np.r_[reference, outlier]) > 0.75
    assert fitted.predict(*data["outlier"], quantile=0.95).mean() > 0.2  # vs 0.05 of the reference


@pytest.mark.slow
def test_binned_path_agrees_with_per_object_path(fitted, data):
    """The fast paths' decisions match the paper's per-object procedure within statistical error."""
    n = 80
    X = np.vstack([data["reference"][0][:n], data["outlier"][0][:n]])
    k = np.concatenate([data["reference"][1][:n], data["outlier"][1][:n]])
    per_object = fitted.set_params(method="per_object").reference_rank(X, k)
    for transport in (False, True):
        binned = fitted.set_params(method="binned", transport=transport).reference_rank(X, k)
        for q in (0.68, 0.95):
            for part in (slice(0, n), slice(n, 2 * n)):
                a, b = (binned[part] > q).mean(), (per_object[part] > q).mean()
                p = (a + b) / 2
                assert abs(a - b) < 3 * np.sqrt(2 * p * (1 - p) / n) + 1 / n, (transport, q, a, b)
        # the two ranks of the same object are strongly correlated
        assert np.corrcoef(binned, per_object)[0, 1] > 0.6, transport
    fitted.set_params(transport=False)


def test_approximate_glosh_matches_a_refit():
    """Scoring a new point against a cached cluster ≈ clustering the cluster plus the point."""
    rng = np.random.default_rng(3)
    fm = FluxMutability(reference_size=400, min_cluster_size=250, min_samples=20)
    points = rng.normal(size=(400, 3))
    cluster = _ReferenceCluster.build(points, points[:10], fm)
    candidates = rng.normal(size=(30, 3)) * 1.5
    approximate = cluster.scores(candidates)
    refit = []
    for candidate in candidates:
        scaled = (np.vstack([points, candidate]) - cluster.shift) / cluster.scale
        glosh = hdbscan.HDBSCAN(min_cluster_size=250, min_samples=20, allow_single_cluster=True).fit(scaled)
        refit.append(glosh.outlier_scores_[-1])
    assert np.abs(approximate - np.array(refit)).mean() < 0.03
    # an exact copy of a point in the cluster's core scores 0
    core_point = points[np.argmax(cluster.lam.numpy())]
    assert cluster.scores(core_point[None])[0] == 0


def test_randomized_rank_is_uniform_with_ties():
    """A score exchangeable with the reference scores has a uniform rank, even with heavy ties."""
    rng = np.random.default_rng(0)
    n = 20_000
    draws = rng.integers(0, 3, (n, 21)).astype(float)  # 20 reference scores + 1 candidate each
    ranks = np.array([_rank(row[-1:], np.sort(row[:-1]), rng)[0] for row in draws])
    for q in (0.3, 0.68, 0.95, 0.99):
        assert abs((ranks <= q).mean() - q) < binomial_tolerance(q, n)
    # without the random split of ties the cut at 0.3 would keep a third or more
    assert ((np.searchsorted(np.sort(draws[0, :-1]), draws[:, -1]) / 21) <= 0.3).mean() > 0.33


def test_features_only_mode(data):
    fm = small_fm(augmented=False).fit(*data["train"])
    assert not hasattr(fm, "autoencoder_") and fm.flow_.n_features_in_ == 4
    X, k = data["reference"]
    tpr = np.mean(~fm.predict(X, k, quantile=0.95))
    assert abs(tpr - 0.95) < binomial_tolerance(0.95, len(X)) + 0.01


def test_scores_are_repeatable(fitted, data):
    X, k = data["outlier"]
    np.testing.assert_array_equal(fitted.score(X[:50], k[:50]), fitted.score(X[:50], k[:50]))
    np.testing.assert_array_equal(fitted.reference_rank(X[:50], k[:50]), fitted.reference_rank(X[:50], k[:50]))


def test_bad_inputs(fitted, data):
    X, k = data["reference"]
    with pytest.raises(NotFittedError):
        FluxMutability().predict(X, k, quantile=0.95)
    with pytest.raises(ValueError, match="X must be 2-D"):
        fitted.score(X[:, 0], k)
    with pytest.raises(ValueError, match="X has 3 features, but 4 were expected"):
        fitted.score(X[:, :3], k)
    with pytest.raises(ValueError, match="cond has 9 rows, but X has 10"):
        fitted.score(X[:10], k[:9])
    with pytest.raises(ValueError, match="cond is required"):
        fitted.score(X, None)
    bad = X[:10].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains 1 non-finite value"):
        fitted.score(bad, k[:10])
    for quantile in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="quantile must be"):
            fitted.predict(X[:10], k[:10], quantile=quantile)
    with pytest.raises(ValueError, match="pass exactly one of fpr"):
        fitted.predict(X[:10], k[:10])
    with pytest.raises(ValueError, match="cond is required: Flux"):
        fitted.threshold(0.05)
    with pytest.raises(ValueError, match="min_cluster_size must lie in"):
        FluxMutability(reference_size=300, min_cluster_size=100).fit(X, k)
    with pytest.raises(ValueError, match="method must be one of"):
        FluxMutability(method="fast").fit(X, k)


def test_save_and_load_give_the_same_scores(fitted, data, tmp_path):
    X, k = data["outlier"]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not a saved model"):
        fitted.save(tmp_path / "notes")
    fitted.save(tmp_path / "model")
    fitted.save(tmp_path / "model")  # a saved model may be replaced
    loaded = FluxMutability.load(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(loaded.score(X[:200], k[:200]), fitted.score(X[:200], k[:200]))
    np.testing.assert_array_equal(loaded.predict(X[:200], k[:200], quantile=0.95),
                                  fitted.predict(X[:200], k[:200], quantile=0.95))
    np.testing.assert_array_equal(loaded.autoencoder_.residuals(X[:50], k[:50]),
                                  fitted.autoencoder_.residuals(X[:50], k[:50]))


def test_bin_thresholds_match_the_cut(fitted, data):
    """Outside the 95 % threshold of its bin means a rank above 0.95 (ties aside)."""
    centers, thresholds = fitted.bin_thresholds(0.95)
    assert centers.shape == (5, 1) and thresholds.shape == (5,)
    X, k = data["outlier"]
    score, rank = fitted.score_and_rank(X, k)
    above = score > thresholds[fitted.bins_.assign(k[:, None])]
    assert (rank[above] > 0.95).all()


# ------------------------------------------------------------ out-of-range conditions
def test_held_out_reference_objects_score_without_error(fitted):
    """Objects of the training distribution, some a hair past the training range of k (the
    training sample's k is clipped to [0.01, 0.99], these are not), score with the default
    policy: clipped to the edge bin, as many as lie outside logged."""
    rng = np.random.default_rng(7)
    k = rng.uniform(0, 1, 400).astype("f4")
    X = make(400, np.random.default_rng(7))[0]
    outside = fitted.outside_training_range(k)
    assert 0 < outside.sum() < 40
    score, rank = fitted.score_and_rank(X, k)
    assert np.isfinite(score).all() and ((rank > 0) & (rank < 1)).all()
    clipped = np.clip(k, fitted.cond_range_.low[0], fitted.cond_range_.high[0])
    np.testing.assert_array_equal(score, fitted.score(X, clipped))


def test_out_of_range_policies_at_and_beyond_the_edges(fitted, data):
    X = data["reference"][0][:4]
    low, high = fitted.cond_range_.low[0], fitted.cond_range_.high[0]
    edges = np.array([low, high, low, high], "f4")
    beyond = np.array([np.nextafter(low, np.float32(-1)), np.nextafter(high, np.float32(2)), low - 0.5, high + 0.5],
                      "f4")
    np.testing.assert_array_equal(fitted.outside_training_range(edges), False)
    np.testing.assert_array_equal(fitted.outside_training_range(beyond), True)
    try:
        at_edges = {policy: fitted.set_params(out_of_range=policy).score(X, edges) for policy in ("clip", "flag", "error")}
        for policy in ("flag", "error"):  # the edges are inside the range under every policy
            np.testing.assert_array_equal(at_edges[policy], at_edges["clip"])
        np.testing.assert_array_equal(fitted.set_params(out_of_range="clip").score(X, beyond), at_edges["clip"])
        flagged = fitted.set_params(out_of_range="flag").score(X, beyond)  # scored at their own k, in the edge bin
        assert np.isfinite(flagged).all() and not np.array_equal(flagged[2:], at_edges["clip"][2:])
        with pytest.raises(ValueError, match=r"cond has 4 row\(s\) outside the training range; column 0 spans"):
            fitted.set_params(out_of_range="error").score(X, beyond)
        with pytest.raises(ValueError, match="outside the training range"):
            fitted.threshold(0.05, cond=beyond[:1])
    finally:
        fitted.set_params(out_of_range="clip")


def _conditions_near_the_range(fitted):
    """Conditions a held-out sample can have: inside, on the edges, a hair or far outside, NaN/inf."""
    low, high = (float(fitted.cond_range_.low[0]), float(fitted.cond_range_.high[0]))
    hair = [float(np.nextafter(np.float32(low), np.float32(-1))), float(np.nextafter(np.float32(high), np.float32(2)))]
    near = st.sampled_from([low, high, *hair, low - 0.5, high + 0.5, -1e30, 1e30, np.nan, np.inf, -np.inf])
    return st.lists(st.one_of(st.floats(low, high, width=32), near), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.data(), policy=st.sampled_from(["clip", "flag", "error"]))
def test_fuzz_held_out_conditions(fitted, cases, policy):
    """Any condition a held-out sample has scores under the policy, or is refused with one ValueError."""
    k = np.array(cases.draw(_conditions_near_the_range(fitted)), dtype="f4")
    X = make(len(k), np.random.default_rng(3))[0]
    model = clone_with_policy(fitted, policy)
    outside = np.isfinite(k).all() and model.outside_training_range(k).any()
    if not np.isfinite(k).all() or (policy == "error" and outside):
        with pytest.raises(ValueError, match="cond"):
            model.score(X, k)
        return
    score = model.score(X, k)
    assert np.isfinite(score).all()
    if policy == "clip":
        np.testing.assert_array_equal(score, model.score(X, np.clip(k, model.cond_range_.low[0],
                                                                     model.cond_range_.high[0])))


def clone_with_policy(fitted, policy):
    """The fitted detector with another out_of_range policy (a copy: the module fixture stays as it is)."""
    model = copy.deepcopy(fitted)
    return model.set_params(out_of_range=policy)


def test_threshold_is_the_bin_cut_of_each_condition(fitted, data):
    X, k = data["reference"][0][:200], data["reference"][1][:200]
    cuts = fitted.threshold(quantile=0.95, cond=k)
    np.testing.assert_array_equal(cuts, fitted.bin_thresholds(0.95)[1][fitted.bins_.assign(k[:, None])])
    np.testing.assert_array_equal(fitted.threshold(fpr=0.05, cond=k), cuts)
    np.testing.assert_array_equal(fitted.predict(X, k, fpr=0.05), fitted.predict(X, k, quantile=0.95))
    scores = fitted.score(X, k)
    assert fitted.threshold(0.05, reference=scores) == np.quantile(scores.astype(np.float64), 0.95)
