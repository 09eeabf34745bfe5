"""Anomaly scores in a learned representation (seed 003 §5.3: AnomalyCLR, DarkCLR).

A representation (``likely.represent.CLR``: ``fit(X)``, ``transform(X) -> z``) is trained
on the reference class; the score of an object is then either the norm ‖z‖ of its
representation (DarkCLR's s_CLR) or the score of a detector trained on the reference
representations (AnomalyCLR: an autoencoder with a 5-d bottleneck, :func:`anomclr_autoencoder`;
DarkCLR: a normalized autoencoder, :func:`darkclr_nae`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from likely._checks import check_fitted, instance, validate_params
from likely.autoencoders import Autoencoder, Langevin, NormalizedAutoencoder
from likely.represent import CLR
from likely.detect.base import Detector, estimator_with
from likely.detect.reconstruction import ReconstructionDetector
from likely.nn import Trainer

__all__ = ["RepresentationDetector", "anomclr_autoencoder", "darkclr_nae"]


def anomclr_autoencoder(*, epochs: int = 100, device: str = "auto", random_state: int | None = None
                        ) -> ReconstructionDetector:
    """Seed 003's scorer of AnomalyCLR representations: an MLP autoencoder 256-128-64-32-16 → 5
    (mirrored, LeakyReLU, linear output, MSE), Adam at 10⁻³, batch 4096, ``epochs`` epochs."""
    trainer = Trainer(epochs=epochs, batch_size=4096, lr=1e-3, schedule="constant", patience=None)
    autoencoder = Autoencoder(latent=5, hidden=(256, 128, 64, 32, 16), activation="leaky_relu", output="none",
                              trainer=trainer, device=device, random_state=random_state)
    return ReconstructionDetector(autoencoder=autoencoder)


def darkclr_nae(*, epochs: int = 200, steps: int = 1000, chain: Langevin = Langevin(step=1.0, noise=0.01, steps=10),
                device: str = "auto", random_state: int | None = None) -> ReconstructionDetector:
    """Seed 003's scorer of DarkCLR representations: a normalized autoencoder 128-64-32-16-8 → 3
    (spectral norm on the encoder, unbounded output), pre-trained ``epochs`` epochs (batch 128,
    Adam at 10⁻³), then ``steps`` NAE steps (batch 128, 10⁻⁴) whose negative samples are
    ``chain`` run from the data batch (contrastive divergence). The seed gives the network and
    200 + 100 epochs, not the chain: λ = 1, σ = 0.01, 10 steps are ours (docs/contrastive.md)."""
    trainer = Trainer(epochs=epochs, batch_size=128, lr=1e-3, schedule="constant", val_fraction=0.0, patience=None)
    nae = NormalizedAutoencoder(hidden=(128, 64, 32, 16, 8), latent=3, output="none", sampler="data",
                                spectral_norm="encoder", trainer=trainer, steps=steps, lr=1e-4, batch_size=128,
                                input_chain=chain, monitor_every=max(1, steps // 4), device=device,
                                random_state=random_state)
    return ReconstructionDetector(autoencoder=nae)


class RepresentationDetector(Detector):
    """Anomaly score of each object in a learned representation z (module docstring).

    Parameters
    ----------
    representation : estimator or None
        ``fit(X)`` and ``transform(X) -> (N, D)``, cloned and trained in :meth:`fit` unless
        ``prefit``; None: ``likely.represent.CLR()`` (DarkCLR's settings).
    scorer : "norm" or Detector
        ``"norm"``: the score is ‖z‖₂ (DarkCLR's s_CLR); a detector (``fit(z)``, ``score(z)``,
        e.g. :func:`anomclr_autoencoder`): trained on the reference representations
        (cloned), its score of z.
    prefit : bool
        Use ``representation`` as already trained.

    Attributes
    ----------
    representation_ : estimator
        The trained representation.
    scorer_ : Detector or None
        The trained scorer of representations (None for ``"norm"``).
    reference_scores_ : ndarray (N,) float32
        Scores of the objects given to ``fit``.
    input_shape_ : tuple of int
        Shape of one object, e.g. (P, F) for padded sets.
    n_features_in_, n_cond_ : int
        Numbers per object; 0 (no condition).
    """

    _parameter_constraints = {
        "representation": estimator_with("fit", "transform", what="a representation") | None,
        "scorer": instance(str, Detector),
        "prefit": instance(bool),
    }
    _fitted_attribute = "representation_"

    def __init__(self, *, representation: Any = None, scorer: str | Detector = "norm", prefit: bool = False) -> None:
        self.representation = representation
        self.scorer = scorer
        self.prefit = prefit

    def fit(self, X: Any, cond: Any = None) -> RepresentationDetector:
        """Train the representation (unless ``prefit``) and the scorer on reference objects ``X``."""
        validate_params(self)
        if isinstance(self.scorer, str) and self.scorer != "norm":
            raise ValueError(f"scorer must be 'norm' or a Detector; got {self.scorer!r}")
        if self.prefit and self.representation is None:
            raise ValueError("prefit=True needs a trained representation; got representation=None")
        _refuse_cond(cond)
        X = np.asarray(X, dtype=np.float32)
        representation = CLR() if self.representation is None else self.representation
        self.representation_ = representation if self.prefit else clone(representation).fit(X)
        z = self.representation_.transform(X)
        self.scorer_ = None if isinstance(self.scorer, str) else clone(self.scorer).fit(z)
        self.input_shape_ = X.shape[1:]
        self.n_features_in_, self.n_cond_ = int(np.prod(X.shape[1:])), 0
        self.reference_scores_ = self._score_representations(z)
        return self

    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """The score of each object ``X``, (N,) float32; higher = more anomalous."""
        check_fitted(self, "representation_")
        _refuse_cond(cond)
        X = np.asarray(X, dtype=np.float32)
        if X.shape[1:] != self.input_shape_:
            raise ValueError(f"X has objects of shape {X.shape[1:]}; the detector was fitted on {self.input_shape_}")
        return self._score_representations(self.representation_.transform(X))

    def _score_representations(self, z: np.ndarray) -> np.ndarray:
        if self.scorer_ is None:
            return np.linalg.norm(z, axis=1).astype(np.float32)
        return np.asarray(self.scorer_.score(z), np.float32)


def _refuse_cond(cond: Any) -> None:
    if cond is not None:
        raise ValueError("cond was given, but RepresentationDetector takes no condition")
