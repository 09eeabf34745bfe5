"""Convolutional building blocks of residual image networks ``(N, C, H, W)`` (the conditional dual autoencoders).

- :class:`ConvLayer`: 3 × 3 convolution (optionally strided and grouped) → instance
  normalization → leaky ReLU.
- :class:`UpConvLayer`: bilinear ×2 upsampling → :class:`ConvLayer`.
- :class:`ResidualBlock`: ``x + ConvLayer(ConvLayer(x))`` at constant width.
- :class:`SpatialConditioning`: modulation of a feature map by a small vector ``z``
  (spatial broadcast + coordinate channels → linear 3 × 3 convolution → element-wise product).
- :func:`center_crop`: the central ``H × W`` window of a larger map.

Padding is "same" throughout: a stride-2 layer maps n pixels to ⌈n / 2⌉.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvLayer", "ResidualBlock", "SpatialConditioning", "UpConvLayer", "center_crop", "coordinate_grid"]

#: negative slope of the leaky ReLUs (TensorFlow's default, which seed 004's networks use)
LEAKY_SLOPE = 0.2


class ConvLayer(nn.Sequential):
    """3 × 3 convolution (``stride``, ``groups``, padding 1) → ``InstanceNorm2d`` (affine) → leaky ReLU.

    ``in_channels`` and ``out_channels`` must both divide by ``groups``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, groups: int = 1) -> None:
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(f"{name}={value} does not divide into groups={groups}")
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups),
                         nn.InstanceNorm2d(out_channels, affine=True), nn.LeakyReLU(LEAKY_SLOPE))


class UpConvLayer(nn.Sequential):
    """Bilinear ×2 upsampling → :class:`ConvLayer` (stride 1): ``(N, C_in, H, W)`` → ``(N, C_out, 2H, 2W)``."""

    def __init__(self, in_channels: int, out_channels: int, *, groups: int = 1) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                         ConvLayer(in_channels, out_channels, groups=groups))


class ResidualBlock(nn.Module):
    """``x + ConvLayer(ConvLayer(x))`` with ``channels`` in and out."""

    def __init__(self, channels: int, *, groups: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvLayer(channels, channels, groups=groups),
                                  ConvLayer(channels, channels, groups=groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def coordinate_grid(height: int, width: int, *, device=None) -> torch.Tensor:
    """Two coordinate channels ``(2, H, W)``: the row and column positions, each spaced evenly in [−1, 1]."""
    rows = torch.linspace(-1, 1, height, device=device)
    cols = torch.linspace(-1, 1, width, device=device)
    return torch.stack(torch.meshgrid(rows, cols, indexing="ij"))


class SpatialConditioning(nn.Module):
    """``h ⊙ conv([tile(z), rows, cols])``: a feature map ``h`` (N, C, H, W) modulated by ``z`` (N, D).

    Seed 004's Algorithm 2: ``z`` is tiled over the H × W grid (D channels), two
    coordinate channels (:func:`coordinate_grid`) are appended, a linear 3 × 3 convolution
    (padding 1, with bias, no activation) maps the D + 2 channels to C, and the result
    multiplies ``h`` element-wise.
    """

    def __init__(self, channels: int, z_features: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(z_features + 2, channels, 3, padding=1)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        n, _, height, width = h.shape
        tiled = z[:, :, None, None].expand(-1, -1, height, width)
        grid = coordinate_grid(height, width, device=h.device).expand(n, -1, -1, -1)
        return h * self.conv(torch.cat([tiled, grid.to(h.dtype)], 1))


def center_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The central ``height × width`` window of ``x`` (..., H, W); the extra rows/columns split with the odd one after."""
    top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2
    return x[..., top:top + height, left:left + width]
