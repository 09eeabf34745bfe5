"""The transform interface: fitted, invertible, and tracking log|det J|."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
from torch import Tensor

__all__ = ["Transform", "ElementwiseTransform", "Chain", "transform_from_dict"]

_REGISTRY: dict[str, type[Transform]] = {}


class Transform:
    """An invertible map ``y = f(x)`` on (N, D) tensors, fitted on training data.

    ``forward`` returns ``(y, ladj)`` with ``ladj = log|det df/dx|`` of shape (N,), so a
    density in ``y`` converts to one in ``x`` by ``log p_x(x) = log p_y(f(x)) + ladj``.
    Rows outside the domain of ``f`` give NaN in ``y``: density models report them as
    impossible (log-density ``-inf``).
    """

    #: names of constructor arguments, saved with the transform
    params: ClassVar[tuple[str, ...]] = ()
    #: names of fitted tensors, saved with the transform
    fitted: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def fit(self, x: Tensor) -> Transform:
        """Learn the transform's parameters from training data ``x`` (N, D); returns self."""
        return self

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.params)
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """Constructor arguments and fitted tensors, loadable with ``weights_only=True``."""
        return {
            "name": type(self).__name__,
            "params": {name: getattr(self, name) for name in self.params},
            "state": {name: getattr(self, name) for name in self.fitted if hasattr(self, name)},
        }

    @classmethod
    def from_dict(cls, spec: dict) -> Transform:
        """Rebuild a transform written by :meth:`to_dict` (any registered kind)."""
        return transform_from_dict(spec)

    def _set_state(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)


def transform_from_dict(spec: dict) -> Transform:
    """Rebuild a transform written by :meth:`Transform.to_dict`."""
    cls = _REGISTRY.get(spec.get("name"))
    if cls is None:
        raise ValueError(f"unknown transform {spec.get('name')!r}; known: {sorted(_REGISTRY)}")
    transform = cls._from_params(spec["params"])
    transform._set_state(spec["state"])
    return transform


class ElementwiseTransform(Transform):
    """A transform acting on each selected feature independently.

    Subclasses implement ``_f(x, i)``, ``_f_inv(y, i)`` and ``_log_df(x, i)`` on the
    selected columns ``x`` (N, K), where ``i`` indexes them. ``columns=None`` selects all.
    """

    def __init__(self, columns: list[int] | None = None) -> None:
        self.columns = None if columns is None else [int(c) for c in columns]

    @classmethod
    def _from_params(cls, params: dict) -> ElementwiseTransform:
        return cls(**params)

    def _index(self, x: Tensor) -> slice | list[int]:
        if self.columns is None:
            return slice(None)
        if max(self.columns) >= x.shape[1] or min(self.columns) < -x.shape[1]:
            raise ValueError(f"columns {self.columns} do not exist in data with {x.shape[1]} features")
        return self.columns

    def _param(self, name: str, like: Tensor) -> Tensor:
        return getattr(self, name).to(device=like.device, dtype=like.dtype)

    def fit(self, x: Tensor) -> ElementwiseTransform:
        self._fit(x[:, self._index(x)])
        return self

    def _fit(self, x: Tensor) -> None:
        """Fit on the selected columns (N, K); stateless transforms do nothing."""

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        index = self._index(x)
        selected = x[:, index]
        y = x.clone()
        y[:, index] = self._f(selected)
        return y, self._log_df(selected).sum(dim=1)

    def inverse(self, y: Tensor) -> Tensor:
        index = self._index(y)
        x = y.clone()
        x[:, index] = self._f_inv(y[:, index])
        return x


class Chain(Transform):
    """Apply transforms in order; fitting fits each on the output of the previous one."""

    def __init__(self, *transforms: Transform) -> None:
        for transform in transforms:
            if not isinstance(transform, Transform):
                raise TypeError(f"Chain takes Transform objects; got {type(transform).__name__}")
        self.transforms = list(transforms)

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self.transforms))})"

    def fit(self, x: Tensor) -> Chain:
        for transform in self.transforms:
            x, _ = transform.fit(x).forward(x)
        return self

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for transform in self.transforms:
            x, ladj = transform.forward(x)
            total = total + ladj
        return x, total

    def inverse(self, y: Tensor) -> Tensor:
        for transform in reversed(self.transforms):
            y = transform.inverse(y)
        return y

    def to_dict(self) -> dict:
        return {"name": "Chain", "params": {"transforms": [t.to_dict() for t in self.transforms]}, "state": {}}

    @classmethod
    def _from_params(cls, params: dict) -> Chain:
        return cls(*(transform_from_dict(spec) for spec in params["transforms"]))


def fresh_copy(transform: Transform) -> Transform:
    """An independent copy, so fitting never modifies a user's hyperparameter object."""
    return copy.deepcopy(transform)
