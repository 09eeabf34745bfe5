"""Conditional normalizing flows with rational-quadratic spline transforms (on zuko)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import torch
import zuko
from zuko.transforms import MonotonicRQSTransform

from likely._checks import check_array, check_cond, check_fitted, options, positive, validate_params, widths
from likely.density.base import DensityEstimator
from likely.nn import Trainer, to_numpy, to_tensor
from likely.transforms import Transform

__all__ = ["Flow"]


class Flow(DensityEstimator):
    """Conditional normalizing flow p(x | c) with monotonic rational-quadratic splines.

    Parameters
    ----------
    kind : {"maf", "coupling"}
        ``"maf"``: masked autoregressive (density evaluation in one pass, sampling in D
        passes). ``"coupling"``: coupling layers, half the features transformed given
        the other half (fast in both directions).
    transforms : int
        Number of spline transforms; feature order is reversed between them.
    hidden : sequence of int
        Hidden widths of each transform's conditioner network.
    bins : int
        Spline bins per feature.
    tail_bound : float
        Splines act on [-tail_bound, tail_bound] in preprocessed units; identity outside.
    preprocessing : str, Transform or None
        Applied to ``X`` before the flow (see :func:`likely.transforms.make_preprocessing`);
        the condition is always standardized.
    trainer : Trainer or None
        Training settings; None uses ``Trainer()``'s defaults.
    device : str
        ``"auto"`` (GPU if present), ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, the validation split and shuffling.

    Examples
    --------
    >>> import numpy as np
    >>> from likely.density import Flow
    >>> from likely.nn import Trainer
    >>> rng = np.random.default_rng(0)
    >>> m = rng.uniform(3, 4, size=500).astype("float32")
    >>> X = (rng.normal(size=(500, 2)) + m[:, None]).astype("float32")
    >>> flow = Flow(transforms=2, hidden=(16, 16), trainer=Trainer(epochs=2, progress=False),
    ...             random_state=0).fit(X, cond=m)
    >>> flow.log_prob(X[:3], cond=m[:3]).shape
    (3,)
    >>> flow.sample(cond=np.full(4, 3.5)).shape
    (4, 2)
    """

    _parameter_constraints = {
        "kind": options("maf", "coupling"),
        "transforms": positive(integer=True),
        "hidden": widths(),
        "bins": positive(integer=True),
        "tail_bound": positive(),
    }

    def __init__(
        self,
        *,
        kind: str = "maf",
        transforms: int = 4,
        hidden: Sequence[int] = (128, 128),
        bins: int = 8,
        tail_bound: float = 5.0,
        preprocessing: str | Transform | None = "standardize",
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.kind = kind
        self.transforms = transforms
        self.hidden = hidden
        self.bins = bins
        self.tail_bound = tail_bound
        self.preprocessing = preprocessing
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def build_module(self, n_features: int, n_cond: int) -> zuko.flows.Flow:
        """An untrained zuko MAF / coupling flow of this architecture."""
        validate_params(self)
        return zuko.flows.MAF(
            features=n_features,
            context=n_cond,
            transforms=self.transforms,
            passes=2 if self.kind == "coupling" else None,
            univariate=partial(MonotonicRQSTransform, bound=float(self.tail_bound)),
            shapes=[(self.bins,), (self.bins,), (self.bins - 1,)],
            hidden_features=tuple(self.hidden),
        )

    def _loss(self, z, c):
        return -self.model_(c).log_prob(z).mean()

    # ------------------------------------------------------------- base space
    def to_base(self, X, cond=None) -> np.ndarray:
        """Map data to the flow's standard-normal base space, z = f⁻¹(x | c), shape (N, D).

        For data distributed as the model, z ~ N(0, I) whatever the condition.
        """
        return self._map_base(X, cond, "X", inverse=False)

    def from_base(self, Z, cond=None) -> np.ndarray:
        """Map base-space points to data space, x = f(z | c), shape (N, D) (D network passes for a MAF)."""
        return self._map_base(Z, cond, "Z", inverse=True)

    def _map_base(self, values, cond, name: str, *, inverse: bool) -> np.ndarray:
        check_fitted(self, "model_")
        values = check_array(values, name, n_features=self.n_features_in_)
        cond = check_cond(cond, len(values), n_features=self.n_cond_)
        out = np.empty_like(values)
        with torch.no_grad():
            for start, stop in self._batches(len(values), "flow base map"):
                v = to_tensor(values[start:stop], self.device_)
                c = self._cond_latent(to_tensor(None if cond is None else cond[start:stop], self.device_))
                transform = self.model_(c).transform
                if inverse:
                    mapped = self.preprocessing_.inverse(transform.inv(v))
                else:
                    mapped = transform(self._to_latent(v, None, name)[0])
                out[start:stop] = to_numpy(mapped)
        return out
