"""The supervised transformer on padded sets (likely.classify.SetClassifier)."""

import numpy as np
import pytest

from likely.classify import SetClassifier
from likely.metrics import auc
from likely.nn import Trainer


def _sets(n: int, objects: int, rng: np.random.Generator, width: int = 12) -> np.ndarray:
    """Point clouds (n, width, 3) with ``objects`` real objects of pT ~ 10-20 GeV each, zero padded."""
    X = np.zeros((n, width, 3), np.float32)
    X[:, :objects, 0] = rng.uniform(10, 20, (n, objects))
    X[:, :objects, 1:] = rng.normal(0, 0.2, (n, objects, 2))
    return X


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = np.concatenate([_sets(200, 3, rng), _sets(200, 8, rng)])
    y = np.r_[np.zeros(200), np.ones(200)].astype(int)
    trainer = Trainer(epochs=15, batch_size=64, lr=1e-3, patience=None, progress=False)
    model = SetClassifier(dim=16, layers=1, heads=2, feedforward=32, hidden=(16,), trainer=trainer, device="cpu",
                          random_state=0)
    return model.fit(X, y), rng


def test_learns_the_multiplicity_and_is_invariant_to_order_and_padding(fitted):
    model, rng = fitted
    few, many = _sets(50, 3, rng), _sets(50, 8, rng)
    y = np.r_[np.zeros(50), np.ones(50)]
    assert auc(y, np.r_[model.predict_proba(few), model.predict_proba(many)]) > 0.99
    shuffled = many[:, rng.permutation(many.shape[1])]
    padded = np.concatenate([many, np.zeros((50, 5, 3), np.float32)], axis=1)
    np.testing.assert_allclose(model.predict_proba(shuffled), model.predict_proba(many), atol=1e-5)
    np.testing.assert_allclose(model.predict_proba(padded), model.predict_proba(many), atol=1e-5)
    assert model.n_features_in_ == 3 and model.pt_scale_ == pytest.approx(15, rel=0.05)


def test_save_and_load_give_identical_probabilities(fitted, tmp_path):
    model, rng = fitted
    X = _sets(20, 5, rng)
    loaded = SetClassifier.load(model.save(tmp_path / "cls"), device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_bad_sets_are_named(fitted):
    model, rng = fitted
    with pytest.raises(ValueError, match=r"X must be sets \(N, P, 3\)"):
        model.predict_proba(np.zeros((4, 9)))
    empty = _sets(4, 2, rng)
    empty[1, :, 0] = 0
    with pytest.raises(ValueError, match="1 set.s. have no object"):
        model.predict_proba(empty)
    with pytest.raises(ValueError, match="y"):
        SetClassifier().fit(_sets(4, 2, rng), [0, 1, 2, 0])
