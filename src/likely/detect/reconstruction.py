"""Reconstruction anomaly scores: an autoencoder trained on the reference class reconstructs
its objects well and anything else worse."""

from __future__ import annotations

from typing import Any

import numpy as np

from sklearn.base import clone

from likely._checks import check_cond, check_fitted, check_inputs, instance, validate_params
from likely.autoencoders import ConditionalAutoencoder
from likely.detect.base import OUT_OF_RANGE, Detector, estimator_with

__all__ = ["ReconstructionDetector"]


class ReconstructionDetector(Detector):
    """Anomaly score = one of an autoencoder's scores of each object, (N,): by default its reconstruction error.

    Objects are vectors (N, D) or images (N, C, H, W) / (N, H, W), as the autoencoder takes them.

    Parameters
    ----------
    autoencoder : estimator or None
        An autoencoder with ``fit(X, cond)`` and ``reconstruction_error(X, cond) -> (N,)``:
        a model of :mod:`likely.autoencoders` (``Autoencoder``, ``VariationalAutoencoder``,
        ``DirichletVAE``, ...) or :class:`~likely.autoencoders.ConditionalAutoencoder` (whose
        error is the mean squared residual with every feature scaled to [-1, 1]); cloned and
        trained in :meth:`fit` unless ``prefit``. None: ``ConditionalAutoencoder()``, the
        Flux+Mutability paper's LHC network.
    score_name : str or None
        Which of the autoencoder's named scores (``autoencoder.scores(X, cond)[score_name]``,
        one of its ``available_scores``, e.g. ``"kl"``) is the anomaly score; None: its
        ``reconstruction_error``, the model's ``default_score``. (Named so because
        ``score`` is the detector's method.)
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
    input_shape_ : tuple of int
        Shape of one object: (D,) or (C, H, W).
    n_features_in_, n_cond_ : int
        Numbers per object (D, or C × H × W) and condition columns C (0 without a condition).

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
        "score_name": instance(str) | None,
        "prefit": instance(bool),
        "out_of_range": OUT_OF_RANGE,
    }
    _fitted_attribute = "autoencoder_"

    def __init__(self, *, autoencoder: Any = None, score_name: str | None = None, prefit: bool = False,
                 out_of_range: str = "clip") -> None:
        self.autoencoder = autoencoder
        self.score_name = score_name
        self.prefit = prefit
        self.out_of_range = out_of_range

    def fit(self, X: Any, cond: Any = None) -> ReconstructionDetector:
        """Train on reference objects ``X`` (N, D) or (N, C, H, W) given ``cond`` (N,), (N, C) or None."""
        validate_params(self)
        if self.prefit and self.autoencoder is None:
            raise ValueError("prefit=True needs a trained autoencoder; got autoencoder=None")
        autoencoder = ConditionalAutoencoder() if self.autoencoder is None else self.autoencoder
        _check_score_name(self.score_name, autoencoder)
        X = check_inputs(X, "X")
        cond = check_cond(cond, len(X))
        self.autoencoder_ = autoencoder if self.prefit else clone(autoencoder).fit(X, cond)
        self.input_shape_ = X.shape[1:]
        self.n_features_in_, self.n_cond_ = int(np.prod(X.shape[1:])), 0 if cond is None else cond.shape[1]
        self._fit_cond_range(cond)
        self.reference_scores_ = self.score(X, cond)
        return self

    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """The chosen score of each object ``X`` given ``cond``, (N,) float32; higher = more anomalous."""
        check_fitted(self, "autoencoder_")
        X = check_inputs(X, "X", shape=self.input_shape_)
        cond = self._limit_cond(check_cond(cond, len(X), n_features=self.n_cond_))
        if self.score_name is None:
            return np.asarray(self.autoencoder_.reconstruction_error(X, cond), np.float32)
        return np.asarray(self.autoencoder_.scores(X, cond)[self.score_name], np.float32)


def _check_score_name(name: str | None, autoencoder: Any) -> None:
    """``name`` must be None or one of the autoencoder's available scores."""
    if name is None:
        return
    available = tuple(getattr(autoencoder, "available_scores", ()))
    if name not in available:
        raise ValueError(f"score_name must be one of the scores {available} of {type(autoencoder).__name__}; "
                         f"got {name!r}")
