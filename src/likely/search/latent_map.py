"""A latent map of new-physics models: which known models does an excess resemble?

After "Universal New Physics Latent Space" (Hallin, Kasieczka, Kraml, Lessa, Moureaux, von
Schwartz, Shih, arXiv:2407.20315, seed 002). The input of the encoder is a *set* of
``set_size`` events of one model (the paper: 10), their standardized features concatenated
into one vector; a fully connected encoder maps it to a point of a low-dimensional latent
space (default 2-d). It is trained with a pairwise contrastive loss (Hadsell, Chopra & LeCun
2006) over every pair of sets in a batch, ``d`` their latent distance:

* same model: ``d²`` (pulled together);
* different models: ``max(0, margin - d)²`` (pushed at least ``margin`` apart).

Models the encoder can tell apart end up in different regions; models whose events it cannot
tell apart (the same physics, or differences below what ``set_size`` events reveal) cannot be
pushed apart and overlap. A model's place is the cloud of latent points of its held-out sets;
two clouds are compared with the energy distance (:func:`likely.metrics.energy_distance`, in
latent units, 0 in expectation for one distribution), which ranks the known models by how much
a query sample (e.g. the events selected in an excess) resembles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from likely._checks import check_array, check_fitted, fraction, instance, positive, seed, validate_params, widths
from likely._persist import Saveable
from likely.data import EventSet
from likely.metrics import energy_distance
from likely.nn import MLP, Trainer, resolve_device, seeded, to_numpy, to_tensor
from likely.transforms import Standardize

__all__ = ["MAP_FEATURES", "LatentMap", "Resemblance"]

#: dijet features for a map of resonances: the dijet mass, both jet masses (lighter first, TeV) and their 2- and
#: 3-prong N-subjettiness ratios (:func:`likely.data.derive_features`)
MAP_FEATURES = ("mjj", "mj1", "mj2", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2")

#: held-out sets per model at most (the energy distance costs (sets)² pairs)
MAX_REFERENCE_SETS = 1000
_BATCH = 65536


@dataclass
class Resemblance:
    """Known models ranked by their latent energy distance to a query sample.

    Attributes
    ----------
    names : list of str
        The known models, most similar first.
    distances : ndarray (M,)
        Energy distance of the query's latent cloud to each model's, ascending (latent
        units; about 0, possibly slightly negative, for the query's own model).
    latent : ndarray (S, latent_dim)
        The query's sets in the latent space.
    """

    names: list[str]
    distances: np.ndarray
    latent: np.ndarray

    @property
    def best(self) -> str:
        """The most similar known model."""
        return self.names[0]

    def as_dict(self) -> dict:
        """The ranking as plain data (for results.json)."""
        return {"ranking": [{"model": name, "distance": float(d)} for name, d in zip(self.names, self.distances,
                                                                                    strict=True)],
                "n_sets": len(self.latent)}


class LatentMap(Saveable, BaseEstimator):
    """Encoder of sets of events into a latent space that places models by their phenomenology.

    Parameters
    ----------
    features : sequence of str or None
        Columns of the EventSets to use (None: every column of the first model's events).
        Ignored for plain arrays.
    set_size : int
        Events per encoder input (the paper: 10). More events per set separate models that
        differ less, and leave fewer sets in a small query.
    latent_dim : int
        Dimension of the latent space (the paper: 2, for the map's picture).
    hidden : sequence of int
        Hidden widths of the encoder MLP (ReLU).
    margin : float
        Latent distance beyond which sets of different models are no longer pushed apart;
        it sets the map's scale.
    sets_per_model : int
        Training sets drawn per model (the same for every model, so a large sample such as the
        background does not dominate); events are drawn without replacement within a set.
    reference_fraction : float
        Fraction of each model's events held out of training; their disjoint sets (at most
        :data:`MAX_REFERENCE_SETS`) place the model in the latent space.
    trainer : Trainer or None
        Training settings; None uses ``Trainer(epochs=30, batch_size=256, lr=1e-3, patience=5)``.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds the held-out split, the sets, the initialization and the shuffling.

    Attributes
    ----------
    models_ : list of str
        The known models, in the order of ``fit``'s input.
    feature_names_ : list of str or None
        The columns used (None when fitted on arrays).
    n_features_in_ : int
        Features D per event; the encoder sees ``set_size * D`` inputs.
    scaler_ : Standardize
        Standardization of the features over every model's training events.
    model_ : torch.nn.Module
        The encoder.
    history_ : History
        Training and validation losses per epoch.
    reference_latents_ : dict of str to ndarray (S_m, latent_dim)
        Latent points of each model's held-out sets.
    centroids_ : ndarray (M, latent_dim)
        Mean latent point of each model's held-out sets.
    covariances_ : ndarray (M, latent_dim, latent_dim)
        Covariance of each model's held-out latent points.
    device_ : torch.device

    Examples
    --------
    >>> import numpy as np
    >>> from likely.nn import Trainer
    >>> rng = np.random.default_rng(0)
    >>> zoo = {"a": rng.normal(0, 1, (600, 2)), "b": rng.normal(3, 1, (600, 2))}
    >>> latent_map = LatentMap(set_size=5, hidden=(16,), sets_per_model=100, random_state=0,
    ...                        trainer=Trainer(epochs=2, progress=False)).fit(zoo)
    >>> latent_map.rank(rng.normal(3, 1, (100, 2))).names
    ['b', 'a']
    """

    _parameter_constraints = {
        "features": instance(list, tuple) | None,
        "set_size": positive(integer=True),
        "latent_dim": positive(integer=True),
        "hidden": widths(),
        "margin": positive(),
        "sets_per_model": positive(integer=True),
        "reference_fraction": fraction(allow_zero=False),
        "trainer": instance(Trainer) | None,
        "device": instance(str, torch.device),
        "random_state": seed(),
    }

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        set_size: int = 10,
        latent_dim: int = 2,
        hidden: Sequence[int] = (384, 512, 256, 128),
        margin: float = 1.0,
        sets_per_model: int = 2000,
        reference_fraction: float = 0.25,
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.features = features
        self.set_size = set_size
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.margin = margin
        self.sets_per_model = sets_per_model
        self.reference_fraction = reference_fraction
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ public
    def fit(self, events: Any, y: Any = None) -> LatentMap:
        """Learn the map from the events of at least two models.

        Parameters
        ----------
        events : mapping of str to EventSet or array-like (N_m, D), or EventSet / array-like (N, D)
            The events of each model (e.g. the SM background and several signals), or all
            events together with their model in ``y``.
        y : array-like (N,) or None
            The model of each event when ``events`` is not a mapping (names or numbers).
        """
        validate_params(self)
        by_model = self._group(events, y)
        rng = np.random.default_rng(self.random_state)
        held_out = {name: self._split(name, X, rng) for name, X in by_model.items()}
        self.device_ = resolve_device(self.device)
        with seeded(self.random_state):
            training = np.concatenate([train for train, _ in held_out.values()])
            self.scaler_ = Standardize().fit(to_tensor(training, self.device_))
            sets, labels = self._training_sets(held_out, rng)
            self.model_ = self.init_module("model_").to(self.device_)
            trainer = Trainer(epochs=30, batch_size=256, lr=1e-3, patience=5) if self.trainer is None else self.trainer
            self.history_ = trainer.fit(self.model_, self._loss, (sets, labels), random_state=self.random_state)
        self.model_.eval()
        self.reference_latents_ = {name: self._encode(reference[:MAX_REFERENCE_SETS * self.set_size])
                                   for name, (_, reference) in held_out.items()}
        clouds = list(self.reference_latents_.values())
        self.centroids_ = np.stack([cloud.mean(0) for cloud in clouds]).astype(np.float32)
        self.covariances_ = np.stack([np.cov(cloud, rowvar=False).reshape(self.latent_dim, self.latent_dim)
                                      for cloud in clouds]).astype(np.float32)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Latent points (N // set_size, latent_dim) of consecutive sets of ``set_size`` events.

        ``X``: an EventSet with the fitted columns, or an array (N, D). Events are grouped in
        the order given (a last incomplete set is dropped): shuffle ordered data first, or use
        :meth:`embed`.
        """
        check_fitted(self, "model_")
        X = self._array(X, "X")
        if len(X) < self.set_size:
            raise ValueError(f"X has {len(X)} events, fewer than one set of set_size={self.set_size}")
        return self._encode(X)

    def embed(self, events: Any) -> np.ndarray:
        """Latent points of ``events`` (EventSet or (N, D)) cut into disjoint sets in a random order
        (seeded by ``random_state``): (N // set_size, latent_dim)."""
        X = self._array(events, "events")
        return self.transform(X[np.random.default_rng(self.random_state).permutation(len(X))])

    def rank(self, events: Any) -> Resemblance:
        """The known models ranked by the energy distance of their latent clouds to that of ``events``.

        ``events``: EventSet or (N, D) with N >= 2 * set_size (the distance needs two sets).
        """
        check_fitted(self, "model_")
        latent = self.embed(events)
        if len(latent) < 2:
            raise ValueError(f"events has {len(self._array(events, 'events'))} events; the query needs at least "
                             f"2 * set_size = {2 * self.set_size}")
        distances = np.array([energy_distance(latent, self.reference_latents_[name]) for name in self.models_])
        order = np.argsort(distances, kind="stable")
        return Resemblance([self.models_[i] for i in order], distances[order], latent)

    def distances(self) -> np.ndarray:
        """Energy distances (M, M) between the known models' latent clouds (0 on the diagonal)."""
        check_fitted(self, "model_")
        clouds = [self.reference_latents_[name] for name in self.models_]
        return np.array([[0.0 if i == j else energy_distance(a, b) for j, b in enumerate(clouds)]
                         for i, a in enumerate(clouds)])

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained encoder (``model_``) with the fitted sizes, also to load saved weights into."""
        if name != "model_":
            return super().init_module(name)
        return MLP(self.set_size * self.n_features_in_, self.latent_dim, tuple(self.hidden), "relu")

    # ----------------------------------------------------------------- helpers
    def _group(self, events: Any, y: Any) -> dict[str, np.ndarray]:
        """The events of each model as float32 arrays (N_m, D); sets ``models_`` and the feature names."""
        if isinstance(events, Mapping):
            if y is not None:
                raise ValueError("y must be None when events is a mapping of model name to events")
            first = next(iter(events.values()), None)
            self.feature_names_ = (list(self.features or first.names) if isinstance(first, EventSet) else None)
            by_model = {str(name): self._columns(X, f"events[{name!r}]") for name, X in events.items()}
        else:
            if y is None:
                raise ValueError("y (the model of each event) is required when events is not a mapping")
            self.feature_names_ = list(self.features or events.names) if isinstance(events, EventSet) else None
            X = self._columns(events, "events")
            y = np.asarray(y)
            if y.shape != (len(X),):
                raise ValueError(f"y must have shape ({len(X)},), one model per event; got {y.shape}")
            by_model = {str(name): X[y == name] for name in dict.fromkeys(y.tolist())}
        if len(by_model) < 2:
            raise ValueError(f"events must hold at least 2 models to map; got {len(by_model)}")
        widths = {name: X.shape[1] for name, X in by_model.items()}
        if len(set(widths.values())) > 1:
            raise ValueError(f"every model needs the same features; got feature counts {widths}")
        self.models_ = list(by_model)
        self.n_features_in_ = next(iter(widths.values()))
        return by_model

    def _columns(self, X: Any, name: str) -> np.ndarray:
        """``X`` as float32 (N, D): the fitted columns of an EventSet, or a checked array."""
        if isinstance(X, EventSet):
            if self.feature_names_ is None:
                raise TypeError(f"{name} is an EventSet, but the map was fitted on arrays; pass an array")
            missing = [column for column in self.feature_names_ if column not in X]
            if missing:
                raise ValueError(f"{name} lacks the feature column(s) {missing}; it has {X.names}")
            X = X.array(self.feature_names_)
        return check_array(X, name)

    def _array(self, X: Any, name: str) -> np.ndarray:
        return check_array(self._columns(X, name), name, n_features=self.n_features_in_)

    def _split(self, name: str, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(training events, held-out reference events) of one model, at random."""
        n_reference = int(round(self.reference_fraction * len(X)))
        if n_reference < 2 * self.set_size or len(X) - n_reference < self.set_size:
            raise ValueError(
                f"model {name!r} has {len(X)} events: too few for set_size={self.set_size} with reference_fraction="
                f"{self.reference_fraction} (held out >= 2 sets, trained on >= 1 set); need about "
                f"{int(np.ceil(2 * self.set_size / self.reference_fraction))} events")
        order = rng.permutation(len(X))
        return X[order[n_reference:]], X[order[:n_reference]]

    def _training_sets(self, held_out: dict, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``sets_per_model`` sets of each model, (M * sets, set_size * D), and their model index."""
        sets, labels = [], []
        for index, (train, _) in enumerate(held_out.values()):
            rows = _draw_sets(len(train), self.sets_per_model, self.set_size, rng)
            sets.append(self._scaled(train)[torch.as_tensor(rows, device=self.device_)].flatten(1))
            labels.append(torch.full((self.sets_per_model,), float(index), device=self.device_))
        return torch.cat(sets), torch.cat(labels)

    def _scaled(self, X: np.ndarray) -> torch.Tensor:
        return self.scaler_(to_tensor(X, self.device_))[0]

    def _encode(self, X: np.ndarray) -> np.ndarray:
        """Latent points of consecutive sets of ``X`` (N, D) -> (N // set_size, latent_dim)."""
        n_sets = len(X) // self.set_size
        sets = X[:n_sets * self.set_size].reshape(n_sets, self.set_size * self.n_features_in_)
        out = np.empty((n_sets, self.latent_dim), np.float32)
        with torch.no_grad():
            for start in range(0, n_sets, _BATCH):
                chunk = sets[start:start + _BATCH].reshape(-1, self.n_features_in_)
                scaled = self._scaled(chunk).reshape(-1, self.set_size * self.n_features_in_)
                out[start:start + _BATCH] = to_numpy(self.model_(scaled))
        return out

    def _loss(self, sets: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean pairwise contrastive loss over the distinct pairs of sets in the batch."""
        z = self.model_(sets)
        squared = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        same = labels[:, None] == labels[None, :]
        distinct = ~torch.eye(len(z), dtype=torch.bool, device=z.device)
        push = torch.relu(self.margin - torch.sqrt(squared.clamp_min(1e-12))) ** 2
        loss = torch.where(same, squared, push)[distinct]
        return loss.mean() if loss.numel() else squared.sum() * 0.0


def _draw_sets(n_events: int, n_sets: int, set_size: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices (n_sets, set_size) into ``n_events`` events: consecutive cuts of fresh permutations,
    so no event appears twice in a set."""
    per_permutation = n_events // set_size
    blocks = [rng.permutation(n_events)[:per_permutation * set_size].reshape(per_permutation, set_size)
              for _ in range(-(-n_sets // per_permutation))]
    return np.concatenate(blocks)[:n_sets]
