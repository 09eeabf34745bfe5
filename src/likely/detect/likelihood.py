"""Likelihood anomaly detection for showers (seed 000): score = -log p(shower | reconstructed E_inc).

A conditional density model of background showers, p(x | E_inc) (e.g.
:class:`likely.calo.CaloFlow`), scores a shower by its negative log-likelihood. The
incident energy of a real shower is unknown, so it is reconstructed from the deposited
energy, ``E_rec = lambda * E_dep`` with ``E_dep = sum of voxel energies`` and
``lambda = mean(E_inc / E_dep)`` over the training showers.

Which density? For CaloFlow, seed 000's score (its eq. 1) is ``-(log p_I + log p_II)``
in the flows' own coordinates (layer energies and layer-normalized voxels), not the
density in voxel-energy space: the Jacobian between the two adds about +14 to log p for
every voxel at the noise level, so a shower with an empty layer looks *more* typical
than a photon in voxel space (docs/calo-anomaly.md). ``space`` chooses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from likely._checks import check_array, check_choice, check_energies, check_fitted, check_fraction, check_showers

__all__ = ["LikelihoodScorer"]


class LikelihoodScorer(BaseEstimator):
    """Anomaly score ``-log p(x | lambda * E_dep)`` from a density model trained on background.

    Parameters
    ----------
    model : estimator
        Conditional density model with ``fit(showers, e_inc)`` and
        ``log_prob(showers, e_inc) -> (N,)``, e.g. ``likely.calo.CaloFlow(...)``; cloned and
        trained in :meth:`fit` unless ``prefit``.
    prefit : bool
        Use ``model`` as already trained; :meth:`fit` then only computes ``lambda_``.
    space : {"auto", "flows", "voxels"}
        ``"flows"``: seed 000's eq. (1), the density in the model's own coordinates, which
        needs a model with ``log_prob_terms`` (CaloFlow); ``"voxels"``: ``model.log_prob``,
        the density in voxel-energy space; ``"auto"``: ``"flows"`` where the model has
        ``log_prob_terms``, else ``"voxels"``.

    Attributes
    ----------
    model_ : the trained density model.
    lambda_ : float
        Mean ``E_inc / E_dep`` of the training showers.
    """

    def __init__(self, model: Any = None, prefit: bool = False, space: str = "auto") -> None:
        self.model = model
        self.prefit = prefit
        self.space = space

    def fit(self, showers: Any, e_inc: Any) -> LikelihoodScorer:
        """Train on background showers (N, n_voxels) with their true incident energies (N,)."""
        if self.model is None or not hasattr(self.model, "log_prob"):
            raise TypeError(f"model must be a density model with fit and log_prob; got {type(self.model).__name__}")
        self._check_space(self.model)
        showers = check_showers(showers)
        e_inc = check_energies(e_inc, len(showers))
        self.lambda_ = float(np.mean(e_inc.astype(np.float64) / showers.sum(axis=1, dtype=np.float64)))
        self.model_ = self.model if self.prefit else clone(self.model).fit(showers, e_inc)
        return self

    def _check_space(self, model: Any) -> None:
        check_choice(self.space, "space", ("auto", "flows", "voxels"))
        if self.space == "flows" and not hasattr(model, "log_prob_terms"):
            raise ValueError(f"space='flows' needs a model with log_prob_terms (CaloFlow); "
                             f"got {type(model).__name__}: use space='voxels'")

    @classmethod
    def from_model(cls, model: Any, lambda_: float, space: str = "auto") -> LikelihoodScorer:
        """A fitted scorer from a trained ``model`` and a known ``lambda_`` (e.g. saved with the model)."""
        if not np.isfinite(lambda_) or lambda_ <= 0:
            raise ValueError(f"lambda_ must be a positive number; got {lambda_!r}")
        scorer = cls(model, prefit=True, space=space)
        scorer._check_space(model)
        scorer.model_, scorer.lambda_ = model, float(lambda_)
        return scorer

    @property
    def space_(self) -> str:
        """The density scored: ``"flows"`` or ``"voxels"`` (``space`` with ``"auto"`` resolved)."""
        check_fitted(self, "model_")
        if self.space != "auto":
            return self.space
        return "flows" if hasattr(self.model_, "log_prob_terms") else "voxels"

    def reconstruct_energy(self, showers: Any) -> np.ndarray:
        """Reconstructed incident energy ``lambda * E_dep`` (N,), in the showers' units."""
        check_fitted(self, "lambda_")
        return self._e_rec(check_showers(showers))

    def _e_rec(self, showers: np.ndarray) -> np.ndarray:
        return (self.lambda_ * showers.sum(axis=1, dtype=np.float64)).astype(np.float32)

    def score(self, showers: Any) -> np.ndarray:
        """Anomaly score ``-log p(shower | E_rec)`` (N,) in :attr:`space_`; higher = more anomalous."""
        return self.scores(showers)[self.space_]

    def scores(self, showers: Any) -> dict[str, np.ndarray]:
        """Both scores from one pass where the model allows: ``{"flows": (N,), "voxels": (N,)}``
        (only ``"voxels"`` for a model without ``log_prob_terms``), float32."""
        check_fitted(self, "lambda_")
        showers = check_showers(showers)
        e_rec = self._e_rec(showers)
        if not hasattr(self.model_, "log_prob_terms"):
            return {"voxels": -self.model_.log_prob(showers, e_rec)}
        terms = self.model_.log_prob_terms(showers, e_rec)
        flows = terms["flow_i"] + terms["flow_ii"]
        return {"flows": (-flows).astype(np.float32), "voxels": (-(flows + terms["jacobian"])).astype(np.float32)}

    def threshold(self, fpr: float, reference: Any) -> float:
        """Score cut passed by a fraction ``fpr`` of a background ``reference``.

        ``reference`` is either background showers (M, n_voxels) or their scores (M,);
        the cut is the ``1 - fpr`` quantile of the reference scores.
        """
        check_fraction(fpr, "fpr", allow_zero=False)
        array = np.asarray(reference)
        scores = check_array(array, "reference", ndim=1) if array.ndim == 1 else self.score(array)
        return float(np.quantile(scores.astype(np.float64), 1.0 - fpr))
