"""CaloFlow: two conditional flows giving an exact shower likelihood in voxel-energy space.

Seed 000 (CaloFlow for anomaly detection, appendix A; after Krause & Shih's CaloFlow):
Flow-I learns the layer energies p(E_0, ..., E_{L-1} | E_inc), Flow-II the layer-normalized
voxels p(f | E_0, ..., E_{L-1}, E_inc). Both are masked autoregressive flows with
rational-quadratic splines (:class:`likely.density.Flow`). Energies are in GeV.

Preprocessing (paper, appendix A):

- uniform noise in [0, 1 keV] is added to every voxel, in training and in evaluation;
- condition ``log10(E_inc / 10 GeV)``;
- Flow-I features ``2 (log10(E_i + 1 keV) - 1)``;
- Flow-II condition ``log10(E_i + 1 keV) - 2`` and ``log10(E_inc / 10 GeV)``.

Where we deviate (see ``docs/calo-models.md``): the paper's Flow-II models all n_i
normalized voxels of a layer through ``logit(alpha + (1 - 2 alpha) f)``, but they sum to
one, so that density lives on a lower-dimensional set and is not a density in voxel
space. We model the n_i - 1 free coordinates as log-ratios against the layer's core voxel
(:class:`likely.transforms.LayerSplit`), standardized, so that voxels -> (layer energies,
log-ratios) is a bijection with an exact Jacobian and every sample is a valid shower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone

from likely._checks import check_energies, check_fitted, check_showers, instance, positive, seed, validate_params, widths
from likely._persist import Saveable
from likely.density import Flow
from likely.nn import Trainer
from likely.transforms import Affine, Chain, LayerSplit, Log

__all__ = ["CaloFlow", "KEV", "paper_flow_i", "paper_flow_ii"]

#: 1 keV in GeV, the noise scale and the offset in the logarithms of seed 000
KEV = 1e-6


def paper_flow_i(trainer: Trainer | None = None) -> Flow:
    """Seed 000's Flow-I (table IV): MAF, 6 RQS transforms, MADE 2 x 64, 8 bins, tail bound 14.

    Training as in appendix A: 75 epochs, batch 200, learning rate 1e-4 (cosine schedule
    instead of the paper's multi-step halving).
    """
    trainer = trainer or Trainer(epochs=75, batch_size=200, lr=1e-4)
    return Flow(kind="maf", transforms=6, hidden=(64, 64), bins=8, tail_bound=14.0, trainer=trainer)


def paper_flow_ii(trainer: Trainer | None = None, kind: str = "maf") -> Flow:
    """Seed 000's Flow-II (table IV): MAF, 8 RQS transforms, MADE 1 x 378, 8 bins.

    Its inputs are standardized log-ratios, so the tail bound is 5 (the paper: 14 on
    logits). Training: 100 epochs, batch 200, learning rate 1e-4. ``kind="coupling"``
    keeps the sizes but samples in one pass instead of one per voxel (about 1000x faster
    sampling at 504 voxels on a CPU, see docs/calo-models.md), at some cost in fidelity.
    """
    trainer = trainer or Trainer(epochs=100, batch_size=200, lr=1e-4)
    return Flow(kind=kind, transforms=8, hidden=(378,), bins=8, tail_bound=5.0,
                preprocessing="standardize", trainer=trainer)


def _flow_i_preprocessing() -> Chain:
    """``E -> 2 (log10(E + 1 keV) - 1)``, seed 000 appendix A."""
    return Chain(Log(offset=KEV), Affine(scale=2 / math.log(10), shift=-2.0))


class CaloFlow(Saveable, BaseEstimator):
    """Seed 000's CaloFlow: p(shower | E_inc) = p_I(E_i | E_inc) p_II(f | E_i, E_inc).

    Parameters
    ----------
    layer_sizes : sequence of int
        Voxels per layer, in the order of the shower columns (seed 000: (288, 144, 72)).
    flow_i, flow_ii : Flow or None
        Unfitted templates for Flow-I and Flow-II (cloned at fit); None gives
        :func:`paper_flow_i` / :func:`paper_flow_ii`. Flow-I's ``preprocessing`` is
        replaced by the paper's fixed log map.
    noise : float
        Width (GeV) of the uniform noise added to every voxel; the paper's 1 keV.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ... for both flows.
    random_state : int or None
        Seeds the training noise and both flows.

    Attributes
    ----------
    split_ : LayerSplit
        The fitted voxels -> (layer energies, log-ratios) map.
    flow_i_, flow_ii_ : Flow
        The trained flows.
    e_inc_range_ : (float, float)
        Smallest and largest training E_inc (GeV).

    Examples
    --------
    >>> import numpy as np
    >>> from likely.calo import CaloFlow
    >>> from likely.density import Flow
    >>> from likely.nn import Trainer
    >>> rng = np.random.default_rng(0)
    >>> e_inc = rng.uniform(10, 50, size=300).astype("float32")
    >>> showers = (rng.dirichlet(np.ones(7), size=300) * 0.2 * e_inc[:, None]).astype("float32")
    >>> flow = Flow(transforms=1, hidden=(16,), trainer=Trainer(epochs=2, progress=False))
    >>> model = CaloFlow(layer_sizes=(4, 3), flow_i=flow, flow_ii=flow, random_state=0).fit(showers, e_inc)
    >>> model.log_prob(showers[:5], e_inc[:5]).shape
    (5,)
    >>> model.sample(np.array([20.0, 30.0]), random_state=1).shape
    (2, 7)

    Notes
    -----
    ``log_prob`` adds noise to the showers (as the paper does in evaluation), seeded by
    its ``random_state`` argument or the model's. Sampled voxels below ``noise`` are set
    to 0, so generated showers are as sparse as the noise-free training showers.
    """

    _parameter_constraints = {
        "layer_sizes": widths(),
        "flow_i": instance(Flow) | None,
        "flow_ii": instance(Flow) | None,
        "noise": positive(),
        "random_state": seed(),
    }

    def __init__(
        self,
        *,
        layer_sizes: Sequence[int] = (288, 144, 72),
        flow_i: Flow | None = None,
        flow_ii: Flow | None = None,
        noise: float = KEV,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.layer_sizes = layer_sizes
        self.flow_i = flow_i
        self.flow_ii = flow_ii
        self.noise = noise
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, showers: Any, e_inc: Any) -> CaloFlow:
        """Train both flows on showers (N, n_voxels) in GeV with incident energies (N,) in GeV."""
        validate_params(self)
        templates = (self.flow_i or paper_flow_i(), self.flow_ii or paper_flow_ii())
        self.split_ = LayerSplit(self.layer_sizes)  # validates layer_sizes
        self.n_voxels_ = sum(self.split_.layer_sizes)
        if self.n_voxels_ == self.split_.n_layers:
            raise ValueError(f"layer_sizes {self.layer_sizes} has one voxel per layer: Flow-II has nothing to model")
        showers, e_inc = self._check(showers, e_inc)
        self.e_inc_range_ = (float(e_inc.min()), float(e_inc.max()))
        seeds = np.random.SeedSequence(self.random_state).generate_state(3)
        noisy = self._add_noise(showers, np.random.default_rng(seeds[0]))
        self.split_.fit(noisy)
        energies, ratios, _ = self._split(noisy)
        self.flow_i_ = clone(templates[0]).set_params(
            preprocessing=_flow_i_preprocessing(), device=self.device, random_state=int(seeds[1])
        ).fit(energies, cond=_cond_i(e_inc))
        self.flow_ii_ = clone(templates[1]).set_params(device=self.device, random_state=int(seeds[2])).fit(
            ratios, cond=_cond_ii(energies, e_inc)
        )
        return self

    # ---------------------------------------------------------------- inference
    def log_prob(self, showers: Any, e_inc: Any, random_state: int | None = None) -> np.ndarray:
        """Log-density (N,) of showers (N, n_voxels) given E_inc (N,), per GeV^n_voxels.

        The sum of :meth:`log_prob_terms`: exact in voxel-energy space for the
        noise-smeared showers (uniform noise seeded by ``random_state``; None uses the
        model's ``random_state``, so repeated calls agree).
        """
        terms = self.log_prob_terms(showers, e_inc, random_state)
        return (terms["flow_i"] + terms["flow_ii"] + terms["jacobian"]).astype(np.float32)

    def log_prob_terms(self, showers: Any, e_inc: Any, random_state: int | None = None) -> dict[str, np.ndarray]:
        """The three terms (each (N,), float64) of the voxel-space log-likelihood.

        ``flow_i``: log p_I(E_0..E_{L-1} | E_inc) per GeV^L; ``flow_ii``: log p_II of the
        layer log-ratios (incl. their standardization); ``jacobian``: log|det| of
        voxels -> (layer energies, log-ratios), ``sum_i (log E_i - sum_a log x_ia)``.
        """
        energies, ratios, jacobian, e_inc = self.prepare(showers, e_inc, random_state)
        flow_i, flow_ii = self.flow_terms(energies, ratios, e_inc)
        return {"flow_i": flow_i, "flow_ii": flow_ii, "jacobian": jacobian}

    def prepare(self, showers: Any, e_inc: Any, random_state: int | None = None):
        """Validate, add noise and split once; for evaluating many E_inc hypotheses (calibration).

        Returns layer energies (N, L) float32, log-ratios (N, n_voxels - L) float32, the
        split's log-Jacobian (N,) float64 and E_inc (N,) float32.
        """
        check_fitted(self, "flow_ii_")
        showers, e_inc = self._check(showers, e_inc)
        seed = self.random_state if random_state is None else random_state
        noisy = self._add_noise(showers, np.random.default_rng(seed))
        return (*self._split(noisy), e_inc)

    def flow_terms(self, energies: np.ndarray, ratios: np.ndarray, e_inc: np.ndarray):
        """Flow-I and Flow-II log-densities (N,) float64 of prepared inputs given E_inc (N,)."""
        flow_i = self.flow_i_.log_prob(energies, cond=_cond_i(e_inc)).astype(np.float64)
        flow_ii = self.flow_ii_.log_prob(ratios, cond=_cond_ii(energies, e_inc)).astype(np.float64)
        return flow_i, flow_ii

    def sample(self, e_inc: Any, random_state: int | None = None) -> np.ndarray:
        """One shower (GeV) per incident energy in ``e_inc`` (N,); returns (N, n_voxels) float32 >= 0."""
        check_fitted(self, "flow_ii_")
        e_inc = check_energies(e_inc, len(np.atleast_1d(np.asarray(e_inc))), reference="e_inc")
        seeds = np.random.SeedSequence(random_state).generate_state(2) if random_state is not None else (None, None)
        energies = self.flow_i_.sample(cond=_cond_i(e_inc), random_state=seeds[0])
        ratios = self.flow_ii_.sample(cond=_cond_ii(energies, e_inc), random_state=seeds[1])
        latent = torch.from_numpy(np.concatenate([energies, ratios], axis=1).astype(np.float64))
        showers = self.split_.inverse(latent).numpy()
        return np.where(showers < self.noise, 0.0, showers).astype(np.float32)

    # ----------------------------------------------------------------- helpers
    def _check(self, showers: Any, e_inc: Any) -> tuple[np.ndarray, np.ndarray]:
        showers = check_showers(showers, n_voxels=self.n_voxels_)
        return showers, check_energies(e_inc, len(showers))

    def _add_noise(self, showers: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        noise = rng.uniform(0.0, self.noise, size=showers.shape)
        return torch.from_numpy(showers.astype(np.float64) + noise)

    def _split(self, noisy: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        latent, jacobian = self.split_(noisy)
        n_layers = self.split_.n_layers
        latent = latent.numpy()
        return (latent[:, :n_layers].astype(np.float32), latent[:, n_layers:].astype(np.float32),
                jacobian.numpy())


def _cond_i(e_inc: np.ndarray) -> np.ndarray:
    """Flow-I condition ``log10(E_inc / 10 GeV)``, (N, 1); in float64, so a sub-keV E_inc stays finite."""
    return np.log10(e_inc.astype(np.float64) / 10.0).astype(np.float32)[:, None]


def _cond_ii(energies: np.ndarray, e_inc: np.ndarray) -> np.ndarray:
    """Flow-II condition ``[log10(E_i + 1 keV) - 2, log10(E_inc / 10 GeV)]``, (N, L + 1)."""
    layer = np.log10(np.maximum(energies.astype(np.float64), 0.0) + KEV) - 2.0
    return np.concatenate([layer, _cond_i(e_inc)], axis=1).astype(np.float32)
