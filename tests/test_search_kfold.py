"""k-fold training of the data-classifying search methods: out-of-fold scores of the data.

The data here are a toy in which, by construction, the features do not depend on mjj:
mjj uniform in 2.8-4.2 TeV (SR 3.3-3.7), four standard-normal features; the planted
signal sits at mjj ~ N(3.5, 0.05) with its first two features near +2.
"""

import numpy as np
import pytest

from likely.classify import TreeClassifier
from likely.data import EventSet
from likely.metrics import auc
from likely.search import CWoLa, IdealizedAD, Window
from likely.search.methods import CATHODE

FEATURES = ("f0", "f1", "f2", "f3")


def _events(n_background, n_signal, seed):
    rng = np.random.default_rng(seed)
    mjj = np.concatenate([rng.uniform(2.8, 4.2, n_background), rng.normal(3.5, 0.05, n_signal)])
    X = rng.normal(size=(n_background + n_signal, 4))
    X[n_background:, :2] = rng.normal(2.0, 0.3, (n_signal, 2))
    label = np.r_[np.zeros(n_background), np.ones(n_signal)].astype(np.int64)
    return EventSet({"mjj": mjj, **dict(zip(FEATURES, X.T))}, label=label)


def _flexible():
    """Boosted trees that never stop early: they memorize their training events."""
    return TreeClassifier(max_iter=60, learning_rate=0.3, max_leaf_nodes=63, n_iter_no_change=10**6)


def test_out_of_fold_scores_are_honest_without_signal():
    """No signal, features independent of mjj: SR and SB events are the same population.

    Scored by models that saw them, the training SR events stand out from the SB events
    (AUC > 0.7, with one classifier or with the fold models' average); their out-of-fold
    scores do not: AUC 0.5 within 0.04, ~5 sigma of its spread for these 1700 SR and
    4300 SB events (sigma = sqrt((n1 + n2 + 1) / (12 n1 n2)) = 0.008). A search cutting
    on in-sample scores would carve a fake bump into the SR; one cutting on
    ``data_scores_`` does not.
    """
    data = _events(6000, 0, seed=0)
    in_sr = Window().in_sr(data).astype(int)
    one = CWoLa(features=FEATURES, classifier=_flexible(), n_folds=None, random_state=0).fit(data)
    assert auc(in_sr, one.score(data)) > 0.7
    assert not hasattr(one, "data_scores_")
    folded = CWoLa(features=FEATURES, classifier=_flexible(), n_folds=5, random_state=0).fit(data)
    assert auc(in_sr, folded.score(data)) > 0.7
    assert abs(auc(in_sr, folded.data_scores_) - 0.5) < 0.04
    folded.set_params(n_folds=None).fit(data)  # refitted without folds: no stale out-of-fold scores
    assert not hasattr(folded, "data_scores_") and not hasattr(folded, "data_folds_")


def test_out_of_fold_scores_find_a_planted_signal():
    """With signal, the out-of-fold scores of the data rank its signal events first.

    The score must come back in the order of the events passed to fit: a misaligned
    ``data_scores_`` would give the planted signal an AUC near 0.5, not > 0.9.
    """
    data = _events(6000, 400, seed=1)
    method = CWoLa(features=FEATURES, classifier=TreeClassifier(max_iter=50), n_folds=5, random_state=0).fit(data)
    in_sr = Window().in_sr(data)
    assert method.data_scores_.shape == (len(data),) and method.data_scores_.dtype == np.float32
    assert (method.data_folds_ >= 0).all()  # SB = every event outside the SR: all are trained on
    assert auc(data.label[in_sr], method.data_scores_[in_sr]) > 0.9
    # score() of new events averages the fold models
    new = _events(2000, 200, seed=2)
    members = np.mean([member.predict_proba(new.array(FEATURES)) for member in method.classifier_.members_], axis=0)
    np.testing.assert_allclose(method.score(new), members, rtol=1e-6)
    assert auc(new.label, method.score(new)) > 0.9


def test_each_event_is_scored_by_the_model_that_left_its_fold_out():
    data = _events(3000, 0, seed=3)
    window = Window(sideband_width=0.2)
    method = CWoLa(features=FEATURES, classifier=TreeClassifier(max_iter=20), n_folds=3, random_state=0)
    method.fit(data, window)
    folds, X = method.data_folds_, data.array(FEATURES)
    trained = window.in_sr(data) | window.in_sb(data)
    np.testing.assert_array_equal(folds >= 0, trained)
    for k, member in enumerate(method.classifier_.members_):
        np.testing.assert_allclose(method.data_scores_[folds == k], member.predict_proba(X[folds == k]), rtol=1e-6)
    # events in neither SR nor SB were never trained on: they get the fold models' average
    np.testing.assert_allclose(method.data_scores_[~trained], method.score(data[~trained]), rtol=1e-6)
    # stratified folds: each holds a third of the SR and of the SB events
    for region in (window.in_sr(data), window.in_sb(data)):
        sizes = np.bincount(folds[region], minlength=3)
        assert sizes.max() - sizes.min() <= 1, sizes


def test_data_scores_of_methods_against_a_reference():
    """Generic on the classifying methods: SR data out-of-fold, SB data by the fold models' average."""
    data, reference = _events(4000, 0, seed=4), _events(4000, 0, seed=5)
    method = IdealizedAD(features=FEATURES, classifier=TreeClassifier(max_iter=20), n_folds=3, random_state=0)
    method.fit(data, background=reference)
    in_sr = Window().in_sr(data)
    np.testing.assert_array_equal(method.data_folds_ >= 0, in_sr)
    np.testing.assert_array_equal(method.data_scores_[in_sr], method.classifier_.oof_proba_[:in_sr.sum()])
    np.testing.assert_allclose(method.data_scores_[~in_sr], method.score(data[~in_sr]), rtol=1e-6)
    assert not hasattr(IdealizedAD(features=FEATURES, classifier=TreeClassifier(max_iter=5)).fit(
        data, background=reference), "data_scores_")


def test_folds_follow_random_state():
    data = _events(2000, 0, seed=6)

    def fit(seed):
        return CWoLa(features=FEATURES, classifier=TreeClassifier(max_iter=10), n_folds=4, random_state=seed).fit(data)

    first, again, other = fit(0), fit(0), fit(1)
    np.testing.assert_array_equal(first.data_folds_, again.data_folds_)
    np.testing.assert_array_equal(first.data_scores_, again.data_scores_)
    assert (first.data_folds_ != other.data_folds_).mean() > 0.5


@pytest.mark.parametrize(("n_folds", "error", "message"), [
    (1, ValueError, "n_folds must be >= 2"),
    (0, ValueError, "n_folds must be > 0"),
    (2.5, TypeError, "n_folds must be an integer"),
    (10**6, ValueError, "n_folds must be at most"),
])
def test_bad_n_folds(n_folds, error, message):
    data = _events(500, 0, seed=7)
    with pytest.raises(error, match=message):
        CWoLa(features=FEATURES, n_folds=n_folds).fit(data)
    with pytest.raises(error, match=message):
        IdealizedAD(features=FEATURES, n_folds=n_folds).fit(data, background=data)
    if n_folds != 10**6:  # checked before the (here untrained) flow would be fitted
        with pytest.raises(error, match=message):
            CATHODE(features=FEATURES, n_folds=n_folds).fit(data)
