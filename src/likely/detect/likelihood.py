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
from sklearn.base import clone

from likely._checks import check_energies, check_fitted, check_showers, instance, options, validate_params
from likely.detect.base import Detector, estimator_with

__all__ = ["LikelihoodScorer"]


class LikelihoodScorer(Detector):
    """Anomaly score ``-log p(x | lambda * E_dep)`` from a density model trained on background showers.

    A :class:`~likely.detect.Detector` whose objects ``X`` are showers (N, n_voxels) of
    voxel energies (GeV) and whose condition is the incident energy (GeV). The flows are
    evaluated at the reconstructed energy wherever it lies, as in seed 000: E_rec is
    computed from the shower itself, and an E_rec unlike the background's is part of what
    makes a shower anomalous, so there is no ``out_of_range`` policy.

    Parameters
    ----------
    model : estimator
        Conditional density model with ``fit(showers, e_inc)`` and
        ``log_prob(showers, e_inc) -> (N,)``, e.g. ``likely.calo.CaloFlow(...)``; cloned and
        trained in :meth:`fit` unless ``prefit``.
    prefit : bool
        Use ``model`` as already trained; :meth:`fit` then only computes ``lambda_`` and
        the reference scores, so the showers given to ``fit`` may be a held-out
        calibration sample.
    space : {"auto", "flows", "voxels"}
        ``"flows"``: seed 000's eq. (1), the density in the model's own coordinates, which
        needs a model with ``log_prob_terms`` (CaloFlow); ``"voxels"``: ``model.log_prob``,
        the density in voxel-energy space; ``"auto"``: ``"flows"`` where the model has
        ``log_prob_terms``, else ``"voxels"``.

    Attributes
    ----------
    model_ : estimator
        The trained density model (``model`` itself when ``prefit``).
    lambda_ : float
        Mean ``E_inc / E_dep`` of the showers given to ``fit``.
    reference_scores_ : ndarray (M,) float32 or None
        Scores of the showers given to ``fit`` (at their reconstructed energies), the
        default reference of :meth:`threshold`; None for :meth:`from_model`.
    n_features_in_ : int or None
        Voxels per shower (None for :meth:`from_model` with a model that does not say).
    n_cond_ : int
        1: the incident energy.
    """

    _parameter_constraints = {
        "model": estimator_with("log_prob", what="a density model"),
        "prefit": instance(bool),
        "space": options("auto", "flows", "voxels"),
    }
    _fitted_attribute = "lambda_"

    def __init__(self, *, model: Any = None, prefit: bool = False, space: str = "auto") -> None:
        self.model = model
        self.prefit = prefit
        self.space = space

    def fit(self, X: Any, cond: Any = None) -> LikelihoodScorer:
        """Train on background showers ``X`` (N, n_voxels) given their true incident energies ``cond`` (N,), GeV."""
        validate_params(self)
        if not self.prefit:
            estimator_with("fit", "log_prob", what="a density model to train")(self.model, "model")
        self._check_space(self.model)
        showers = check_showers(X, "X")
        if cond is None:
            raise ValueError("cond (the true incident energies) is required: lambda = mean(E_inc / E_dep)")
        e_inc = check_energies(cond, len(showers), "cond", reference="X")
        self.lambda_ = float(np.mean(e_inc.astype(np.float64) / showers.sum(axis=1, dtype=np.float64)))
        self.model_ = self.model if self.prefit else clone(self.model).fit(showers, e_inc)
        self.n_features_in_, self.n_cond_ = showers.shape[1], 1
        self.reference_scores_ = self.score(showers)
        return self

    def _check_space(self, model: Any) -> None:
        if self.space == "flows" and not hasattr(model, "log_prob_terms"):
            raise ValueError(f"space='flows' needs a model with log_prob_terms (CaloFlow); "
                             f"got {type(model).__name__}: use space='voxels'")

    @classmethod
    def from_model(cls, model: Any, lambda_: float, space: str = "auto") -> LikelihoodScorer:
        """A fitted scorer from a trained ``model`` and a known ``lambda_`` (e.g. saved with the model).

        It keeps no reference scores: pass ``reference=`` to :meth:`threshold`.
        """
        if not np.isfinite(lambda_) or lambda_ <= 0:
            raise ValueError(f"lambda_ must be a positive number; got {lambda_!r}")
        scorer = cls(model=model, prefit=True, space=space)
        validate_params(scorer)
        scorer._check_space(model)
        scorer.model_, scorer.lambda_, scorer.reference_scores_ = model, float(lambda_), None
        scorer.n_features_in_, scorer.n_cond_ = getattr(model, "n_voxels_", None), 1
        return scorer

    @property
    def space_(self) -> str:
        """The density scored: ``"flows"`` or ``"voxels"`` (``space`` with ``"auto"`` resolved)."""
        check_fitted(self, "model_")
        if self.space != "auto":
            return self.space
        return "flows" if hasattr(self.model_, "log_prob_terms") else "voxels"

    def reconstruct_energy(self, X: Any) -> np.ndarray:
        """Reconstructed incident energy ``lambda * E_dep`` (N,) of showers ``X``, in their units."""
        check_fitted(self, "lambda_")
        return self._e_rec(self._check(X))

    def _e_rec(self, showers: np.ndarray) -> np.ndarray:
        return (self.lambda_ * showers.sum(axis=1, dtype=np.float64)).astype(np.float32)

    def _check(self, X: Any) -> np.ndarray:
        return check_showers(X, "X", n_voxels=self.n_features_in_)

    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """Anomaly score ``-log p(shower | E)`` (N,) float32 in :attr:`space_`; higher = more anomalous.

        ``X``: showers (N, n_voxels); ``cond``: known incident energies (N,) to condition
        on, or None for the reconstructed ``E_rec = lambda * E_dep`` (seed 000).
        """
        return self.scores(X, cond)[self.space_]

    def scores(self, X: Any, cond: Any = None) -> dict[str, np.ndarray]:
        """Both scores from one pass where the model allows: ``{"flows": (N,), "voxels": (N,)}``
        (only ``"voxels"`` for a model without ``log_prob_terms``), float32; ``X`` and
        ``cond`` as in :meth:`score`."""
        check_fitted(self, "lambda_")
        showers = self._check(X)
        e_inc = self._e_rec(showers) if cond is None else check_energies(cond, len(showers), "cond", reference="X")
        if not hasattr(self.model_, "log_prob_terms"):
            return {"voxels": np.asarray(-self.model_.log_prob(showers, e_inc), np.float32)}
        terms = self.model_.log_prob_terms(showers, e_inc)
        flows = terms["flow_i"] + terms["flow_ii"]
        return {"flows": (-flows).astype(np.float32), "voxels": (-(flows + terms["jacobian"])).astype(np.float32)}
