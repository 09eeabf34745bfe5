"""Split positive grouped features into group sums and within-group log-ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from likely.transforms.base import Transform

__all__ = ["LayerSplit"]


class LayerSplit(Transform):
    """Map positive voxel energies onto (layer energies, log-ratios of the layer fractions).

    The D features are consecutive groups ("layers") of sizes ``layer_sizes``. For layer
    ``i`` with voxels ``x_ia > 0``, the layer energy is ``E_i = sum_a x_ia`` and the
    layer-normalized voxels ``f_ia = x_ia / E_i`` lie on a simplex with ``n_i - 1`` free
    coordinates. These are mapped onto the whole real space by the additive log-ratio
    ``y_ia = log(f_ia / f_ir)`` against one reference voxel ``r`` per layer (dropped from
    the output), so the map is a bijection from the positive orthant onto
    ``(0, inf)^L x R^(D-L)``, and any point of the latter maps back to positive voxels.

    Output layout: ``[E_0, ..., E_{L-1}, y_0 (n_0 - 1), ..., y_{L-1} (n_{L-1} - 1)]``.
    The log-Jacobian is ``sum_i (log E_i - sum_a log x_ia)`` (the ``(n_i - 1) log E_i`` of
    voxels -> (E_i, f_i) and ``-sum_a log f_ia`` of the log-ratio). Rows with a voxel
    ``<= 0`` are outside the domain (NaN).

    ``fit`` picks as reference the voxel with the largest mean fraction of each layer
    (the shower core), so the reference is rarely a near-empty voxel.
    """

    params = ("layer_sizes",)
    fitted = ("reference",)

    def __init__(self, layer_sizes: Sequence[int]) -> None:
        sizes = [int(n) for n in layer_sizes]
        if not sizes or any(n < 1 for n in sizes) or any(n != s for n, s in zip(sizes, layer_sizes)):
            raise ValueError(f"layer_sizes must be a non-empty sequence of positive integers; got {layer_sizes!r}")
        self.layer_sizes = sizes

    @classmethod
    def _from_params(cls, params: dict) -> LayerSplit:
        return cls(**params)

    @property
    def n_layers(self) -> int:
        return len(self.layer_sizes)

    def _layers(self, x: Tensor) -> list[Tensor]:
        if x.shape[1] != sum(self.layer_sizes):
            raise ValueError(f"x has {x.shape[1]} features, but layer_sizes {self.layer_sizes} sum to {sum(self.layer_sizes)}")
        return list(torch.split(x, self.layer_sizes, dim=1))

    def fit(self, x: Tensor) -> LayerSplit:
        layers = self._layers(x)
        refs = [(layer / layer.sum(1, keepdim=True).clamp_min(1e-300)).mean(0).argmax() for layer in layers]
        self.reference = torch.stack(refs).long().cpu()
        return self

    def _refs(self) -> list[int]:
        if not hasattr(self, "reference"):
            raise RuntimeError("LayerSplit is not fitted; call fit first")
        return [int(r) for r in self.reference]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        energies, ratios = [], []
        ladj = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for layer, ref in zip(self._layers(x), self._refs()):
            log_x = torch.log(torch.where(layer > 0, layer, torch.full_like(layer, math.nan)))
            energy = layer.sum(dim=1)
            keep = torch.arange(layer.shape[1], device=x.device) != ref
            energies.append(energy)
            ratios.append(log_x[:, keep] - log_x[:, ref : ref + 1])
            ladj = ladj + torch.log(energy) - log_x.sum(dim=1)
        return torch.cat([torch.stack(energies, dim=1), *ratios], dim=1), ladj

    def inverse(self, y: Tensor) -> Tensor:
        energies, rest = y[:, : self.n_layers], y[:, self.n_layers :]
        ratios = torch.split(rest, [n - 1 for n in self.layer_sizes], dim=1)
        layers = []
        for i, (ratio, ref) in enumerate(zip(ratios, self._refs())):
            zero = torch.zeros(len(y), 1, dtype=y.dtype, device=y.device)
            logits = torch.cat([ratio[:, :ref], zero, ratio[:, ref:]], dim=1)
            layers.append(torch.softmax(logits, dim=1) * energies[:, i : i + 1])
        return torch.cat(layers, dim=1)
