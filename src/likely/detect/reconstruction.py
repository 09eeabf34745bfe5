"""Reconstruction anomaly scores: an autoencoder trained on the reference class reconstructs
its objects well and anything else worse."""

from __future__ import annotations

from typing import Any

import numpy as np

from sklearn.base import clone

from likely._checks import check_array, check_cond, check_fitted, instance, validate_params
from likely.autoencoders import ConditionalAutoencoder
from likely.detect.base import OUT_OF_RANGE, Detector, estimator_with

__all__ = ["ReconstructionDetector"]


class ReconstructionDetector(Detector):
    """Anomaly score = an autoencoder's reconstruction error of each object, (N,).

    Parameters
    ----------
    autoencoder : estimator or None
        An autoencoder with ``fit(X, cond)`` and ``reconstruction_error(X, cond) -> (N,)``
        (e.g. :class:`~likely.autoencoders.ConditionalAutoencoder`, whose error is the mean
        squared residual with every feature scaled to [-1, 1]); cloned and trained in
        :meth:`fit` unless ``prefit``. None: ``ConditionalAutoencoder()``, the
        Flux+Mutability paper's LHC network.
    prefit : bool
        Use ``autoencoder`` as already trained; :meth:`fit` then only keeps the reference
        scores of the objects it is given (e.g. a held-out calibration sample).
    out_of_range : {"clip", "flag", "error"}
        Conditions outside the training range: clipped to its edge (logged), scored where
        they lie with a warning (:meth:`outside_training_range` says which), or refused.

    Attributes
    ----------
    autoencoder_ : estimator
        The trained autoencoder (``autoencoder`` itself when ``prefit``).
    reference_scores_ : ndarray (N,) float32
        Scores of the objects given to ``fit``, the default reference of :meth:`threshold`.
    cond_range_ : ConditionRange or None
        Training range of the condition (None without one).
    n_features_in_, n_cond_ : int
        Features D and condition columns C (0 without a condition).

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import ConditionalAutoencoder
    >>> from likely.detect import ReconstructionDetector
    >>> from likely.nn import Trainer
    >>> rng = np.random.default_rng(0)
    >>> c = rng.uniform(size=500).astype("float32")
    >>> X = np.stack([c + 0.05 * rng.normal(size=500), c**2], 1).astype("float32")
    >>> ae = ConditionalAutoencoder(encoder=(8,), latent=1, trainer=Trainer(epochs=2, progress=False), random_state=0)
    >>> detector = ReconstructionDetector(autoencoder=ae).fit(X, c)
    >>> detector.predict(X[:4], c[:4], fpr=0.01).shape
    (4,)
    """

    _parameter_constraints = {
        "autoencoder": estimator_with("fit", "reconstruction_error", what="an autoencoder") | None,
        "prefit": instance(bool),
        "out_of_range": OUT_OF_RANGE,
    }
    _fitted_attribute = "autoencoder_"

    def __init__(self, *, autoencoder: Any = None, prefit: bool = False, out_of_range: str = "clip") -> None:
        self.autoencoder = autoencoder
        self.prefit = prefit
        self.out_of_range = out_of_range

    def fit(self, X: Any, cond: Any = None) -> ReconstructionDetector:
        """Train on reference objects ``X`` (N, D) given ``cond`` (N,), (N, C) or None."""
        validate_params(self)
        if self.prefit and self.autoencoder is None:
            raise ValueError("prefit=True needs a trained autoencoder; got autoencoder=None")
        X = check_array(X, "X")
        cond = check_cond(cond, len(X))
        autoencoder = ConditionalAutoencoder() if self.autoencoder is None else self.autoencoder
        self.autoencoder_ = autoencoder if self.prefit else clone(autoencoder).fit(X, cond)
        self.n_features_in_, self.n_cond_ = X.shape[1], 0 if cond is None else cond.shape[1]
        self._fit_cond_range(cond)
        self.reference_scores_ = self.score(X, cond)
        return self

    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """Reconstruction error of each object ``X`` (N, D) given ``cond``, (N,) float32; higher = more anomalous."""
        check_fitted(self, "autoencoder_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        cond = self._limit_cond(check_cond(cond, len(X), n_features=self.n_cond_))
        return np.asarray(self.autoencoder_.reconstruction_error(X, cond), np.float32)
