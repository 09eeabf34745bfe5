"""Flux+Mutability: one-class classification with quantile cuts on a generated reference cluster.

Fanelli, Giroux, Papandreou, Mach. Learn.: Sci. Technol. 3 (2022) 045012. "Flux": a
conditional autoencoder gives residuals, the augmented space (features ⊕ residuals) is
learnt by a conditional MAF given the kinematics, and a KDE of the training data's
base-space vectors in kinematic bins restricts generation to the domain seen near each
condition. "Mutability": a reference cluster generated at a candidate's kinematics is
clustered with HDBSCAN; the candidate's outlier score (GLOSH, 1 − membership
persistence relative to the cluster's) is compared with the reference objects' own scores,
which gives a cut whose true-positive rate on the reference class equals the chosen quantile.

See docs/flux-mutability.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import hdbscan
import numpy as np
import torch
from sklearn.base import clone

from likely._checks import (
    Constraint,
    check_array,
    check_cond,
    check_fitted,
    check_fraction,
    check_positive,
    instance,
    options,
    positive,
    validate_params,
)
from likely.autoencoders import ConditionalAutoencoder
from likely.density import Flow
from likely.detect.base import OUT_OF_RANGE, Detector, resolve_quantile
from likely.nn import Trainer, progress_bar

__all__ = ["FluxMutability"]

log = logging.getLogger(__name__)

#: candidates per distance matrix in the binned path; bounds memory, not results
_CHUNK = 2048
#: candidates whose reference clusters are generated in one flow call (per-object path)
_GENERATION_BATCH = 32
#: fewest training events per cross-fit fold
_MIN_FOLD_SIZE = 10
#: settings the binned path's cached reference clusters depend on
_CACHE_KEY = ("transport", "reference_size", "calibration_size", "min_cluster_size", "min_samples",
              "scaling", "random_state")


def _check_bandwidth(value: Any, name: str) -> None:
    if isinstance(value, str):
        options("scott", "silverman")(value, name)
    else:
        check_positive(value, name)


class FluxMutability(Detector):
    """Flux+Mutability (F+M) anomaly scores and signal-agnostic quantile cuts.

    A :class:`~likely.detect.Detector` whose cut depends on the kinematics: without a
    ``reference``, :meth:`threshold` gives each row of ``cond`` its kinematic bin's cut on
    the generated calibration points and :meth:`predict` flags a candidate whose rank
    within its bin's calibration scores exceeds the quantile (ties split at random, so
    the true-positive rate on the reference class equals the quantile). With a
    ``reference`` (scores of held-out reference objects) both use one cut over all
    kinematics, as every detector does.

    Parameters
    ----------
    augmented : bool
        True: cluster in features ⊕ autoencoder residuals (x' − x), the paper's
        augmented space; False: features only (the paper's table 5 comparison).
    autoencoder : ConditionalAutoencoder or None
        The cAE (cloned at fit); None uses the paper's LHC network (table 7).
    residuals : {"in_sample", "crossfit"}
        Which cAE gives the residuals. ``"in_sample"``: the paper's one cAE, so the flow
        learns the residuals of the cAE's own training events. ``"crossfit"``: ``n_folds``
        cAEs, the j-th trained on the events outside fold j (:meth:`folds`, a hash of each
        object's values); an object's residual comes from its fold's cAE, so no training
        event's residual comes from a cAE that saw it and the flow learns exactly the
        residual distribution of new objects. On 20 000 dijets the two give the same TPR
        within errors and cross-fitting a slightly lower AUC (docs/benchmarks.md).
        Augmented space only.
    n_folds : int
        Folds of the cross-fit (≥ 2, each with ≥ 10 training events); ``n_folds`` cAE fits.
    flow : Flow or None
        The conditional flow on the clustered space given the condition (cloned at fit);
        None uses a MAF with the paper's 10 bijections and learning rate 1e-4.
    n_bins : int
        Kinematic bins per condition column, at quantiles of the training condition. Each
        bin holds a KDE of the training data's base-space vectors; the binned path also
        caches one reference cluster per bin.
    bandwidth : {"scott", "silverman"} or float
        KDE bandwidth in units of each bin's base-space standard deviation.
    reference_size : int
        Points N in each generated reference cluster (paper: 1500).
    calibration_size : int
        Binned path: extra generated points per bin whose scores form the reference
        distribution for the quantile cut.
    min_cluster_size, min_samples : int
        HDBSCAN settings (paper: 1000 and 100). ``min_cluster_size`` must exceed
        ``reference_size / 2``, so that the reference cluster is one cluster.
    scaling : {"standard", "minmax"}
        Normalization of each reference cluster before clustering (paper: standard for
        the LHC problem, min-max for GlueX); the candidate gets the same map.
    method : {"binned", "per_object"}
        ``"binned"``: one reference cluster per kinematic bin, generated and clustered once
        and cached; candidates are scored against their bin's cluster in batches without
        re-clustering (fast). ``"per_object"``: the paper's procedure, a fresh reference
        cluster generated at each candidate's own condition and clustered together with
        it (slow; for validation).
    transport : bool
        Binned path only. False: a bin's cluster is generated at the conditions of the
        bin's training objects (the bin's own mixture), and candidates are scored as they
        are. True: the cluster is generated at the bin's median condition k_b and each
        candidate is carried there through the flow's base space, x → f(f⁻¹(x | k) | k_b),
        which removes the bin width's effect but costs two flow passes per candidate.
    out_of_range : {"clip", "flag", "error"}
        Candidates whose condition lies outside the training range (held-out reference
        objects a hair past the training minimum or maximum, or new data): ``"clip"``
        clips the condition to the range, so they are scored in the edge bin at its edge
        (the count is logged); ``"flag"`` scores them at their own condition in the edge
        bin and logs a warning (:meth:`outside_training_range` says which rows);
        ``"error"`` raises ``ValueError``.
    progress : bool
        Show progress bars for the bin and per-object loops.
    device : str
        Device of the autoencoder and flow when they are built here.
    random_state : int or None
        Seeds training, generation and the random tie-breaking of the quantile cut;
        every scoring call restarts from it, so repeated calls agree.

    Attributes
    ----------
    autoencoder_ : ConditionalAutoencoder
        The cAE of the residuals (``residuals="in_sample"``, augmented space only).
    fold_autoencoders_ : list of ConditionalAutoencoder
        The ``n_folds`` cross-fit cAEs (``residuals="crossfit"``).
    flow_ : Flow
        The conditional flow of the clustered space given the condition.
    bins_ : _KinematicBins
        The kinematic bins: inner ``edges`` per column, training range ``low`` / ``high``,
        ``centers`` (n_cells, C) (median training condition of each non-empty bin) and
        ``lookup`` (every grid cell to a non-empty one).
    kde_ : _BaseKDE
        The per-bin KDE of the training data's base-space vectors.
    references_ : list of _ReferenceCluster
        Binned path: each bin's clustered reference and sorted calibration scores
        (``references_key_``: the settings they were built with).
    cond_range_ : ConditionRange
        Training range of the condition, for ``out_of_range``.
    reference_scores_ : None
        F+M keeps no scores of its training objects: its cut is calibrated per bin.
    n_features_in_, n_cond_ : int
        Features D and condition columns C.
    """

    per_condition_threshold = True
    randomized_cut = True
    _fitted_attribute = "flow_"
    _parameter_constraints = {
        "augmented": instance(bool),
        "autoencoder": instance(ConditionalAutoencoder) | None,
        "residuals": options("in_sample", "crossfit"),
        "n_folds": positive(integer=True),
        "flow": instance(Flow) | None,
        "n_bins": positive(integer=True),
        "bandwidth": Constraint(_check_bandwidth, "'scott', 'silverman' or a number > 0"),
        "reference_size": positive(integer=True),
        "calibration_size": positive(integer=True),
        "min_cluster_size": positive(integer=True),
        "min_samples": positive(integer=True),
        "scaling": options("standard", "minmax"),
        "method": options("binned", "per_object"),
        "transport": instance(bool),
        "out_of_range": OUT_OF_RANGE,
        "progress": instance(bool),
    }

    def __init__(
        self,
        *,
        augmented: bool = True,
        autoencoder: ConditionalAutoencoder | None = None,
        residuals: str = "in_sample",
        n_folds: int = 5,
        flow: Flow | None = None,
        n_bins: int = 50,
        bandwidth: str | float = "scott",
        reference_size: int = 1500,
        calibration_size: int = 1500,
        min_cluster_size: int = 1000,
        min_samples: int = 100,
        scaling: str = "standard",
        method: str = "binned",
        transport: bool = False,
        out_of_range: str = "clip",
        progress: bool = True,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.augmented = augmented
        self.autoencoder = autoencoder
        self.residuals = residuals
        self.n_folds = n_folds
        self.flow = flow
        self.n_bins = n_bins
        self.bandwidth = bandwidth
        self.reference_size = reference_size
        self.calibration_size = calibration_size
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.scaling = scaling
        self.method = method
        self.transport = transport
        self.out_of_range = out_of_range
        self.progress = progress
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, cond: Any = None) -> FluxMutability:
        """Learn the reference class: features ``X`` (N, D) given kinematics ``cond`` (N,) or (N, C)."""
        self._validate()
        X = check_array(X, "X")
        if cond is None:
            raise ValueError("cond is required: Flux+Mutability learns the reference class given the kinematics")
        cond = check_cond(cond, len(X))
        self.n_features_in_, self.n_cond_ = X.shape[1], cond.shape[1]
        self._fit_cond_range(cond)
        self.reference_scores_ = None
        self.bins_ = _KinematicBins.fit(cond, self.n_bins)
        space = self._fit_augmented_space(X, cond)
        self.flow_ = clone(self._default_flow())
        self.flow_.fit(space, cond)
        self.kde_ = _BaseKDE.fit(
            self.flow_.to_base(space, cond), cond, self.bins_.assign(cond), self.bandwidth
        )
        self.references_key_ = None
        if self.method == "binned":
            self._references()
        return self

    def _fit_augmented_space(self, X: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """Fit the cAE(s) and return the training events' clustered space, (N, 2D) or (N, D).

        Cross-fit: ``fold_autoencoders_[j]`` is trained on the events outside fold j
        (:meth:`folds`) and gives the residuals of fold j's events, at fit and later.
        """
        if not self.augmented:
            return X
        if self.residuals == "in_sample":
            self.autoencoder_ = clone(self._default_autoencoder()).fit(X, cond)
        else:
            folds = self.folds(X, cond)
            sizes = np.bincount(folds, minlength=self.n_folds)
            if sizes.min() < _MIN_FOLD_SIZE:
                raise ValueError(
                    f"X has {len(X)} events, too few for n_folds={self.n_folds}: a fold holds {sizes.min()}, "
                    f"at least {_MIN_FOLD_SIZE} are needed; lower n_folds or use residuals='in_sample'"
                )
            self.fold_autoencoders_ = []
            for fold in range(self.n_folds):
                log.info("cross-fit: autoencoder %d of %d", fold + 1, self.n_folds)
                seen = folds != fold
                self.fold_autoencoders_.append(clone(self._default_autoencoder()).fit(X[seen], cond[seen]))
        return self._augment(X, cond)

    def folds(self, X: Any, cond: Any) -> np.ndarray:
        """Cross-fit fold of each object, (N,) int in [0, n_folds).

        A hash of the object's exact feature and condition values (salted with
        ``random_state``): uniform, independent of the residuals, and the same in every
        call, so a training event always gets the residual of the cAE that did not see it
        and a new object that of a random one of the ``n_folds`` cAEs — the residual
        distribution the flow learnt.
        """
        X = check_array(X, "X")
        cond = check_cond(cond, len(X))
        bits = np.hstack([X, cond]).view(np.uint32).astype(np.uint64)
        h = _splitmix64(np.full(len(bits), self.random_state or 0, np.uint64))
        for column in bits.T:
            h = _splitmix64(h ^ column)
        return (h % np.uint64(self.n_folds)).astype(np.int64)

    def _validate(self) -> None:
        """The declared constraints, then the rules that tie parameters together."""
        validate_params(self)
        if self.n_folds < 2:
            raise ValueError(f"n_folds must be >= 2 (each event's residual comes from a cAE trained "
                             f"on the other folds); got {self.n_folds}")
        if not self.reference_size / 2 < self.min_cluster_size <= self.reference_size:
            raise ValueError(
                f"min_cluster_size must lie in (reference_size / 2, reference_size] = "
                f"({self.reference_size / 2:g}, {self.reference_size}] so the reference forms one "
                f"cluster; got {self.min_cluster_size}"
            )
        if self.min_samples >= self.min_cluster_size:
            raise ValueError(f"min_samples must be < min_cluster_size; got {self.min_samples}")

    def _default_autoencoder(self) -> ConditionalAutoencoder:
        if self.autoencoder is not None:
            return self.autoencoder
        return ConditionalAutoencoder(device=self.device, random_state=self.random_state)

    def _default_flow(self) -> Flow:
        if self.flow is not None:
            return self.flow
        return Flow(kind="maf", transforms=10, trainer=Trainer(lr=1e-4), device=self.device,
                    random_state=self.random_state)

    def _augment(self, X: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """The clustered space: X ⊕ residuals (augmented) or X, shape (N, 2D) or (N, D)."""
        if not self.augmented:
            return X
        if self.residuals == "in_sample":
            return np.hstack([X, self.autoencoder_.residuals(X, cond)])
        residuals = np.empty_like(X)
        folds = self.folds(X, cond)
        for fold, autoencoder in enumerate(self.fold_autoencoders_):
            rows = folds == fold
            residuals[rows] = autoencoder.residuals(X[rows], cond[rows])
        return np.hstack([X, residuals])

    # ---------------------------------------------------------------- inference
    def score(self, X: Any, cond: Any = None) -> np.ndarray:
        """Outlier score 1 − P_in of each candidate w.r.t. its reference cluster, (N,) in [0, 1].

        Higher is more anomalous. Scores of different kinematics come from different
        reference clusters; use :meth:`predict` or :meth:`reference_rank` for cuts.
        ``cond`` (N,) or (N, C) is required.
        """
        return self._evaluate(X, cond)[0]

    def reference_rank(self, X: Any, cond: Any) -> np.ndarray:
        """Fraction of the reference cluster scoring below each candidate, (N,) in (0, 1).

        Ties are split at random, so for objects of the reference class the rank is
        uniform on (0, 1) (when the generated cluster matches that class).
        """
        return self._evaluate(X, cond)[1]

    def score_and_rank(self, X: Any, cond: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`score` and :meth:`reference_rank` from one evaluation (one clustering per
        object in the per-object path)."""
        return self._evaluate(X, cond)

    def bin_thresholds(self, quantile: float) -> tuple[np.ndarray, np.ndarray]:
        """Binned path: each bin's median condition (n_bins, C) and the outlier-score value
        (n_bins,) below which the fraction ``quantile`` of its calibration points lies.

        For plots (the paper's figure 4); :meth:`predict` splits ties at the threshold at random.
        """
        check_fitted(self, "flow_")
        check_fraction(quantile, "quantile", allow_zero=False)
        self._validate()
        # a score above the j-th smallest of M calibration scores, j = ceil(q (M + 1)), has rank > q
        thresholds = [
            ref.calibration[min(int(np.ceil(quantile * (len(ref.calibration) + 1))), len(ref.calibration)) - 1]
            for ref in self._references()
        ]
        return self.bins_.centers.copy(), np.asarray(thresholds, np.float32)

    def threshold(self, fpr: float | None = None, *, quantile: float | None = None, reference: Any = None,
                  cond: Any = None) -> float | np.ndarray:
        """The score cut passed by the fraction ``fpr`` (= 1 − ``quantile``) of the reference class.

        Without ``reference``: the cut of each row's kinematic bin on its generated
        calibration points (:meth:`bin_thresholds`), (M,) float32 for the conditions
        ``cond`` (M,) or (M, C), which are required. With ``reference`` (objects scored
        at ``cond``, or scores): one cut over all kinematics, a float
        (:meth:`Detector.threshold <likely.detect.Detector.threshold>`).
        """
        if reference is not None:
            return super().threshold(fpr, quantile=quantile, reference=reference, cond=cond)
        check_fitted(self, "flow_")
        q = resolve_quantile(fpr, quantile)
        if cond is None:
            raise ValueError("cond is required: Flux+Mutability's cut depends on the kinematics (one per bin); "
                             "pass the conditions at which to cut, or reference= for one cut over all kinematics")
        cond = self._limit_cond(check_cond(cond, len(np.atleast_1d(np.asarray(cond))), n_features=self.n_cond_))
        return self.bin_thresholds(q)[1][self.bins_.assign(cond)]

    def predict(self, X: Any, cond: Any = None, *, fpr: float | None = None, quantile: float | None = None,
                reference: Any = None) -> np.ndarray:
        """True where a candidate lies outside the reference class's ``quantile`` (= 1 − ``fpr``), (N,) bool.

        Without ``reference``: a candidate is flagged when its :meth:`reference_rank`
        exceeds ``quantile``, which keeps the fraction ``quantile`` of the reference class
        in every kinematic bin: the true-positive rate equals ``quantile`` by construction.
        With ``reference`` (scores): ``score > threshold(fpr, reference=reference)``.
        """
        check_fitted(self, "flow_")
        if reference is not None:
            return super().predict(X, cond, fpr=fpr, quantile=quantile, reference=reference)
        q = resolve_quantile(fpr, quantile)
        return self.reference_rank(X, cond) > q

    def _evaluate(self, X: Any, cond: Any) -> tuple[np.ndarray, np.ndarray]:
        check_fitted(self, "flow_")
        X = check_array(X, "X", n_features=self.n_features_in_)
        if cond is None:
            raise ValueError("cond is required: candidates are compared with a reference at their kinematics")
        cond = self._limit_cond(check_cond(cond, len(X), n_features=self.n_cond_))
        self._validate()
        space = self._augment(X, cond)
        rng = np.random.default_rng(self.random_state)
        if self.method == "binned":
            return self._score_binned(space, cond, rng)
        return self._score_per_object(space, cond, rng)

    def _score_binned(self, space, cond, rng):
        cells = self.bins_.assign(cond)
        if self.transport:
            space = self.flow_.from_base(self.flow_.to_base(space, cond), self.bins_.centers[cells])
        references = self._references()
        scores = np.empty(len(space), np.float32)
        ranks = np.empty(len(space), np.float32)
        for cell in np.unique(cells):
            rows = np.flatnonzero(cells == cell)
            scores[rows] = references[cell].scores(space[rows])
            ranks[rows] = _rank(scores[rows], references[cell].calibration, rng)
        return scores, ranks

    def _score_per_object(self, space, cond, rng):
        cells = self.bins_.assign(cond)
        n_ref = self.reference_size
        scores = np.empty(len(space), np.float32)
        ranks = np.empty(len(space), np.float32)
        bar = progress_bar(total=len(space), desc="F+M per object", enabled=self.progress)
        for start in range(0, len(space), _GENERATION_BATCH):
            rows = np.arange(start, min(start + _GENERATION_BATCH, len(space)))
            generated = self._generate(np.repeat(cells[rows], n_ref), np.repeat(cond[rows], n_ref, axis=0), rng)
            for i, row in enumerate(rows):
                cluster = generated[i * n_ref:(i + 1) * n_ref]
                shift, scale = _scaler(cluster, self.scaling)
                points = (np.vstack([cluster, space[row:row + 1]]) - shift) / scale
                glosh = 1 - (lam := _hdbscan_lambdas(points, self.min_cluster_size, self.min_samples)) / lam.max()
                scores[row] = glosh[-1]
                ranks[row] = _rank(glosh[-1:], np.sort(glosh[:-1]), rng)[0]
                bar.update(1)
        bar.close()
        return scores, ranks

    def _generate(self, cells: np.ndarray, cond: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Reference points: KDE draws in the base space of each bin, mapped through the flow at
        ``cond`` (None: at the conditions of the drawn training vectors)."""
        z, own_cond = self.kde_.sample(cells, rng)
        return self.flow_.from_base(z, own_cond if cond is None else cond)

    def _references(self) -> list[_ReferenceCluster]:
        """The binned path's reference clusters, one per bin, built on first use and cached
        (and rebuilt when a setting they depend on has changed)."""
        key = [getattr(self, name) for name in _CACHE_KEY]
        if getattr(self, "references_key_", None) != key:
            rng = np.random.default_rng(self.random_state)
            n_cells, size = self.bins_.n_cells, self.reference_size + self.calibration_size
            cells = np.repeat(np.arange(n_cells), size)
            at = self.bins_.centers[cells] if self.transport else None
            generated = self._generate(cells, at, rng).reshape(n_cells, size, -1)
            self.references_ = [
                _ReferenceCluster.build(points[: self.reference_size], points[self.reference_size:], self)
                for points in progress_bar(generated, desc="F+M reference clusters", enabled=self.progress)
            ]
            self.references_key_ = key
            log.info("built %d reference clusters of %d points", n_cells, self.reference_size)
        return self.references_


# --------------------------------------------------------------------- pieces
@dataclass
class _KinematicBins:
    """Cells of the condition space: quantile bins per column, empty cells mapped to the nearest full one."""

    edges: list[np.ndarray]  # inner edges per column
    low: np.ndarray  # training range (C,)
    high: np.ndarray
    lookup: np.ndarray  # full-grid cell -> index of a non-empty cell
    centers: np.ndarray  # (n_cells, C): median training condition of each non-empty cell

    @classmethod
    def fit(cls, cond: np.ndarray, n_bins: int) -> _KinematicBins:
        edges = [np.unique(np.quantile(col, np.linspace(0, 1, n_bins + 1)[1:-1])) for col in cond.T]
        shape = tuple(len(e) + 1 for e in edges)
        flat = cls._grid_index(cond, edges, shape)
        occupied = np.unique(flat)
        grid = np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), 1)
        nearest = np.argmin(((grid[:, None, :] - grid[occupied][None, :, :]) ** 2).sum(-1), axis=1)
        centers = np.stack([np.median(cond[flat == cell], axis=0) for cell in occupied]).astype(np.float32)
        return cls(edges, cond.min(0), cond.max(0), nearest, centers)

    @staticmethod
    def _grid_index(cond, edges, shape) -> np.ndarray:
        index = [np.searchsorted(e, col, side="right") for e, col in zip(edges, cond.T)]
        return np.ravel_multi_index(index, shape)

    @property
    def n_cells(self) -> int:
        return len(self.centers)

    def assign(self, cond: np.ndarray) -> np.ndarray:
        """Index of the (non-empty) cell of each row of ``cond``, (N,)."""
        shape = tuple(len(e) + 1 for e in self.edges)
        return self.lookup[self._grid_index(cond, self.edges, shape)]


@dataclass
class _BaseKDE:
    """Per-bin Gaussian KDE of base-space vectors, sampled as a variance-preserving smoothed bootstrap."""

    points: np.ndarray  # base vectors sorted by cell (N, D)
    cond: np.ndarray  # their conditions (N, C)
    offsets: np.ndarray  # (n_cells + 1,)
    mean: np.ndarray  # (n_cells, D)
    std: np.ndarray  # (n_cells, D)
    factor: np.ndarray  # (n_cells,) bandwidth in units of std

    @classmethod
    def fit(cls, z: np.ndarray, cond: np.ndarray, cells: np.ndarray, bandwidth) -> _BaseKDE:
        order = np.argsort(cells, kind="stable")
        counts = np.bincount(cells, minlength=cells.max() + 1)
        if counts.min() < 2:
            raise ValueError(f"a kinematic bin holds {counts.min()} training point(s); lower n_bins")
        offsets = np.concatenate([[0], np.cumsum(counts)])
        mean = np.stack([z[cells == c].mean(0) for c in range(len(counts))])
        std = np.stack([z[cells == c].std(0) for c in range(len(counts))])
        d = z.shape[1]
        if bandwidth == "scott":
            factor = counts ** (-1.0 / (d + 4))
        elif bandwidth == "silverman":
            factor = (counts * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        else:
            factor = np.full(len(counts), bandwidth)
        return cls(z[order], cond[order], offsets, mean, np.maximum(std, 1e-6), factor.astype(np.float32))

    def sample(self, cells: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One draw per entry of ``cells``: base vectors (n, D) and the conditions (n, C) of the
        training vectors they were drawn around. A draw is a training vector of the cell plus
        kernel noise, shrunk towards the cell mean so the cell's mean and variance are preserved."""
        counts = self.offsets[cells + 1] - self.offsets[cells]
        index = self.offsets[cells] + (rng.random(len(cells)) * counts).astype(np.int64)
        picked = self.points[index]
        h = self.factor[cells][:, None]
        noise = rng.standard_normal(picked.shape) * h * self.std[cells]
        mean = self.mean[cells]
        return (mean + (picked - mean + noise) / np.sqrt(1 + h**2)).astype(np.float32), self.cond[index]


@dataclass
class _ReferenceCluster:
    """A clustered reference at one condition, for approximate GLOSH scores of new points."""

    TENSORS = ("points", "core", "lam")

    shift: np.ndarray
    scale: np.ndarray
    points: torch.Tensor  # scaled reference (N, D)
    core: torch.Tensor  # core distances (N,)
    lam: torch.Tensor  # lambda at which each point leaves the cluster (N,)
    min_samples: int
    calibration: np.ndarray  # sorted scores of independent reference points

    @classmethod
    def build(cls, points: np.ndarray, calibration: np.ndarray, fm: FluxMutability) -> _ReferenceCluster:
        shift, scale = _scaler(points, fm.scaling)
        scaled = (points - shift) / scale
        lam = _hdbscan_lambdas(scaled, fm.min_cluster_size, fm.min_samples)
        y = torch.as_tensor(scaled, dtype=torch.float64)
        distances = torch.cdist(y, y)
        core = torch.kthvalue(distances, fm.min_samples, dim=1).values  # the point itself counts
        cluster = cls(shift, scale, y, core, torch.as_tensor(lam), fm.min_samples, np.empty(0))
        cluster.calibration = np.sort(cluster.scores(calibration))
        return cluster

    def scores(self, candidates: np.ndarray) -> np.ndarray:
        """GLOSH score of each candidate as if added to the cluster, (B,) in [0, 1].

        A candidate joins the cluster's spanning tree through reference point j at
        mutual-reachability distance m_j = max(d_j, core(x), core(j)) and stays in the
        cluster until 1/m_j or until j leaves: λ(x) = max_j min(1/m_j, λ_j).
        """
        out = np.empty(len(candidates), np.float32)
        lam_max = self.lam.max()
        for start in range(0, len(candidates), _CHUNK):
            x = torch.as_tensor((candidates[start:start + _CHUNK] - self.shift) / self.scale, dtype=torch.float64)
            d = torch.cdist(x, self.points)
            core = torch.kthvalue(d, self.min_samples - 1, dim=1).values if self.min_samples > 1 else 0 * d[:, 0]
            reach = torch.maximum(torch.maximum(d, core[:, None]), self.core[None, :])
            lam = torch.minimum(1 / reach, self.lam[None, :]).max(dim=1).values
            out[start:start + _CHUNK] = (1 - lam / lam_max).numpy()
        return out


def _splitmix64(h):
    """SplitMix64's finalizer: a bijective mix of 64-bit integers (uint64 arrays wrap around)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _scaler(points: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Shift and scale of the standard (mean, std) or min-max ([0, 1]) normalization of ``points``."""
    if kind == "standard":
        shift, scale = points.mean(0), points.std(0)
    else:
        shift, scale = points.min(0), points.max(0) - points.min(0)
    return shift, np.where(scale > 0, scale, 1.0)


def _hdbscan_lambdas(points: np.ndarray, min_cluster_size: int, min_samples: int) -> np.ndarray:
    """λ = 1 / distance at which each point leaves the single HDBSCAN cluster, (N,)."""
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size, min_samples=min_samples, allow_single_cluster=True
    ).fit(points.astype(np.float64))
    tree = clusterer.condensed_tree_.to_numpy()
    leaves = tree["child"] < len(points)
    lam = np.zeros(len(points))
    lam[tree["child"][leaves]] = tree["lambda_val"][leaves]
    return lam


def _rank(scores: np.ndarray, reference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomized rank of each score within the sorted ``reference`` scores, (N,) in (0, 1).

    rank = (#below + V · (#tied + 1)) / (M + 1), V ~ U(0, 1): exactly uniform for a score
    exchangeable with the M reference scores, so ``rank > q`` keeps the fraction q.
    """
    below = np.searchsorted(reference, scores, "left")
    upto = np.searchsorted(reference, scores, "right")
    return ((below + rng.random(len(scores)) * (upto - below + 1)) / (len(reference) + 1)).astype(np.float32)
