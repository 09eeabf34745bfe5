"""Convolutional encoders and decoders for images ``(N, C, H, W)``: the backbone of the image autoencoders.

:class:`ConvEncoder` maps an image to a vector through stride-2 convolution stages and an
MLP; :class:`ConvDecoder` mirrors it (MLP, reshape, ×2 upsampling + convolution stages,
centre crop to the image size, 1 × 1 convolution to the channels, output activation).
Both take any image size: the decoder's first grid is the encoder's last (⌈H / 2^S⌉ ×
⌈W / 2^S⌉ for S stages), and the crop removes what the doublings add. ``spectral_norm``
wraps every convolution and linear layer in spectral normalization (Miyato et al. 2018),
which bounds each layer's largest singular value by one (the normalized autoencoder needs it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from likely.nn.blocks import center_crop
from likely.nn.mlp import ACTIVATIONS, MLP

__all__ = ["OUTPUT_ACTIVATIONS", "ConvDecoder", "ConvEncoder", "conv_grid", "spectral_normalized"]

#: output activations of the decoder: pixels in (0, 1), non-negative, or unbounded
OUTPUT_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "none": nn.Identity}


def _check_choice(value: str, name: str, choices: dict) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")


def conv_grid(height: int, width: int, stages: int) -> tuple[int, int]:
    """The grid after ``stages`` stride-2 convolutions of padding 1 and kernel 3: ⌈H / 2^S⌉ × ⌈W / 2^S⌉."""
    return math.ceil(height / 2**stages), math.ceil(width / 2**stages)


def spectral_normalized(module: nn.Module) -> nn.Module:
    """``module`` with every ``Conv2d`` and ``Linear`` inside it spectrally normalized (in place)."""
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            spectral_normalized(child)
    return module


class ConvEncoder(nn.Module):
    """Image ``(N, C, H, W)`` → vector ``(N, out_features)``.

    Parameters
    ----------
    in_shape : (C, H, W)
        Image shape.
    out_features : int
        Output width (e.g. the latent dimension, or twice it for a VAE's mean and log-variance).
    channels : sequence of int
        Filters of the stride-2 3 × 3 convolution stages (one stage per entry).
    hidden : sequence of int
        Hidden widths of the MLP after flattening.
    activation : str
        Hidden activation, one of ``relu elu silu gelu leaky_relu tanh prelu selu``.
    spectral_norm : bool
        Spectrally normalize every layer.
    """

    def __init__(self, in_shape: Sequence[int], out_features: int, channels: Sequence[int] = (8, 16, 32),
                 hidden: Sequence[int] = (64,), activation: str = "leaky_relu", spectral_norm: bool = False) -> None:
        super().__init__()
        _check_choice(activation, "activation", ACTIVATIONS)
        depth, height, width = (int(n) for n in in_shape)
        layers: list[nn.Module] = []
        for filters in channels:
            layers += [nn.Conv2d(depth, filters, 3, stride=2, padding=1), ACTIVATIONS[activation]()]
            depth = filters
        grid = conv_grid(height, width, len(channels))
        self.convolutions = nn.Sequential(*layers, nn.Flatten())
        self.dense = MLP(depth * grid[0] * grid[1], out_features, hidden, activation)
        if spectral_norm:
            spectral_normalized(self)

    def forward(self, x):
        return self.dense(self.convolutions(x))


class ConvDecoder(nn.Module):
    """Vector ``(N, in_features)`` → image ``(N, C, H, W)``, the mirror of :class:`ConvEncoder`.

    Parameters
    ----------
    in_features : int
        Input width (the latent dimension).
    out_shape : (C, H, W)
        Image shape of the output.
    channels : sequence of int
        Filters of the upsampling stages, first stage first (mirror an encoder's by reversing it).
    hidden : sequence of int
        Hidden widths of the MLP before the reshape.
    activation : str
        Hidden activation, as in :class:`ConvEncoder`.
    output : {"sigmoid", "softplus", "none"}
        Output activation: pixels in (0, 1) (normalized images, masks), ≥ 0, or unbounded.
    spectral_norm : bool
        Spectrally normalize every layer.
    """

    def __init__(self, in_features: int, out_shape: Sequence[int], channels: Sequence[int] = (32, 16, 8),
                 hidden: Sequence[int] = (64,), activation: str = "leaky_relu", output: str = "sigmoid",
                 spectral_norm: bool = False) -> None:
        super().__init__()
        _check_choice(activation, "activation", ACTIVATIONS)
        _check_choice(output, "output", OUTPUT_ACTIVATIONS)
        depth, self.height, self.width = (int(n) for n in out_shape)
        if not channels:
            raise ValueError("channels must list at least one upsampling stage")
        grid = conv_grid(self.height, self.width, len(channels))
        self.dense = nn.Sequential(MLP(in_features, channels[0] * grid[0] * grid[1], hidden, activation),
                                   ACTIVATIONS[activation](), nn.Unflatten(1, (channels[0], *grid)))
        layers: list[nn.Module] = []
        for before, filters in zip(channels, [*channels[1:], channels[-1]], strict=True):
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(before, filters, 3, padding=1),
                       ACTIVATIONS[activation]()]
        self.upsampling = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(channels[-1], depth, 1), OUTPUT_ACTIVATIONS[output]())
        if spectral_norm:
            spectral_normalized(self)

    def forward(self, z):
        return self.head(center_crop(self.upsampling(self.dense(z)), self.height, self.width))

