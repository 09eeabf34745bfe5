"""Element-wise preprocessing transforms: Affine, Standardize, MinMax, Logit, Log."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from likely.transforms.base import ElementwiseTransform

__all__ = ["Affine", "Standardize", "MinMax", "Logit", "Log"]


class Affine(ElementwiseTransform):
    """``y = scale * x + shift`` with fixed (not fitted) scalars, e.g. a paper's fixed rescaling."""

    params = ("scale", "shift", "columns")

    def __init__(self, scale: float = 1.0, shift: float = 0.0, columns: list[int] | None = None) -> None:
        if not math.isfinite(scale) or scale == 0:
            raise ValueError(f"scale must be finite and non-zero; got {scale!r}")
        if not math.isfinite(shift):
            raise ValueError(f"shift must be finite; got {shift!r}")
        super().__init__(columns)
        self.scale = float(scale)
        self.shift = float(shift)

    def _f(self, x: Tensor) -> Tensor:
        return self.scale * x + self.shift

    def _f_inv(self, y: Tensor) -> Tensor:
        return (y - self.shift) / self.scale

    def _log_df(self, x: Tensor) -> Tensor:
        return torch.full_like(x, math.log(abs(self.scale)))


class Standardize(ElementwiseTransform):
    """``y = (x - mean) / std`` per feature, fitted on training data.

    Constant features (std = 0) are only shifted.
    """

    params = ("columns",)
    fitted = ("mean", "std")

    def _fit(self, x: Tensor) -> None:
        x = x.double()
        std = x.std(dim=0) if x.shape[0] > 1 else torch.ones(x.shape[1], dtype=x.dtype)
        self.mean = x.mean(dim=0)
        self.std = torch.where(std > 0, std, torch.ones_like(std))

    def _f(self, x: Tensor) -> Tensor:
        return (x - self._param("mean", x)) / self._param("std", x)

    def _f_inv(self, y: Tensor) -> Tensor:
        return y * self._param("std", y) + self._param("mean", y)

    def _log_df(self, x: Tensor) -> Tensor:
        return (-torch.log(self._param("std", x))).expand_as(x)


class MinMax(ElementwiseTransform):
    """``y = (x - min) / (max - min)`` per feature: the training range maps onto [0, 1].

    Constant features are only shifted.
    """

    params = ("columns",)
    fitted = ("low", "width")

    def _fit(self, x: Tensor) -> None:
        x = x.double()
        self.low = x.min(dim=0).values
        width = x.max(dim=0).values - self.low
        self.width = torch.where(width > 0, width, torch.ones_like(width))

    def _f(self, x: Tensor) -> Tensor:
        return (x - self._param("low", x)) / self._param("width", x)

    def _f_inv(self, y: Tensor) -> Tensor:
        return y * self._param("width", y) + self._param("low", y)

    def _log_df(self, x: Tensor) -> Tensor:
        return (-torch.log(self._param("width", x))).expand_as(x)


class Logit(ElementwiseTransform):
    """``y = logit(alpha + (1 - 2 alpha) x)`` for ``x`` in [0, 1] (e.g. after :class:`MinMax`).

    ``alpha`` keeps the end points finite; inputs outside
    ``(-alpha, 1 + alpha) / (1 - 2 alpha)`` are outside the domain and give NaN.
    """

    params = ("alpha", "columns")

    def __init__(self, alpha: float = 1e-5, columns: list[int] | None = None) -> None:
        if not 0 <= alpha < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5); got {alpha!r}")
        super().__init__(columns)
        self.alpha = float(alpha)

    def _squeeze(self, x: Tensor) -> Tensor:
        u = self.alpha + (1 - 2 * self.alpha) * x
        return torch.where((u > 0) & (u < 1), u, torch.full_like(u, math.nan))

    def _f(self, x: Tensor) -> Tensor:
        return torch.logit(self._squeeze(x))

    def _f_inv(self, y: Tensor) -> Tensor:
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)

    def _log_df(self, x: Tensor) -> Tensor:
        u = self._squeeze(x)
        return math.log(1 - 2 * self.alpha) - torch.log(u) - torch.log1p(-u)


class Log(ElementwiseTransform):
    """``y = log(x + offset)``; inputs with ``x + offset <= 0`` are outside the domain (NaN)."""

    params = ("offset", "columns")

    def __init__(self, offset: float = 0.0, columns: list[int] | None = None) -> None:
        super().__init__(columns)
        self.offset = float(offset)

    def _shifted(self, x: Tensor) -> Tensor:
        shifted = x + self.offset
        return torch.where(shifted > 0, shifted, torch.full_like(shifted, math.nan))

    def _f(self, x: Tensor) -> Tensor:
        return torch.log(self._shifted(x))

    def _f_inv(self, y: Tensor) -> Tensor:
        return torch.exp(y) - self.offset

    def _log_df(self, x: Tensor) -> Tensor:
        return -torch.log(self._shifted(x))
