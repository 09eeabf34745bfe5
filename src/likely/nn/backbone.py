"""Encoders and decoders of vectors or images, chosen by the shape of one object.

Every autoencoder of :mod:`likely.autoencoders` builds its networks here: an object shape
``(D,)`` gets an :class:`~likely.nn.MLP`, an image shape ``(C, H, W)`` the
:class:`~likely.nn.ConvEncoder` / :class:`~likely.nn.ConvDecoder` pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from likely.nn.conv import OUTPUT_ACTIVATIONS, ConvDecoder, ConvEncoder, _check_choice, spectral_normalized
from likely.nn.mlp import MLP

__all__ = ["build_decoder", "build_encoder", "init_output_level"]


def build_encoder(in_shape: Sequence[int], out_features: int, *, channels: Sequence[int] = (8, 16, 32),
                  hidden: Sequence[int] = (64,), activation: str = "leaky_relu", spectral_norm: bool = False,
                  batch_norm: bool = False) -> nn.Module:
    """Object of shape ``in_shape`` → vector ``(N, out_features)``.

    ``in_shape`` (D,): an MLP with ``hidden`` widths (``batch_norm`` before every hidden
    activation); (C, H, W): a :class:`ConvEncoder` with ``channels`` stride-2 stages, then
    ``hidden``. ``spectral_norm`` normalizes every layer.
    """
    if len(in_shape) == 1:
        network = MLP(int(in_shape[0]), out_features, tuple(hidden), activation, batch_norm=batch_norm)
        return spectral_normalized(network) if spectral_norm else network
    if batch_norm:
        raise ValueError("batch_norm is available for vector inputs only")
    return ConvEncoder(in_shape, out_features, tuple(channels), tuple(hidden), activation, spectral_norm)


def build_decoder(in_features: int, out_shape: Sequence[int], *, channels: Sequence[int] = (32, 16, 8),
                  hidden: Sequence[int] = (64,), activation: str = "leaky_relu", output: str = "sigmoid",
                  spectral_norm: bool = False) -> nn.Module:
    """Vector ``(N, in_features)`` → object of shape ``out_shape``, with the ``output`` activation.

    ``out_shape`` (D,): an MLP with ``hidden`` widths; (C, H, W): a :class:`ConvDecoder`
    with ``hidden``, then ``channels`` upsampling stages (pass an encoder's settings reversed
    to mirror it). ``output``: ``"sigmoid"`` (0, 1), ``"softplus"`` ≥ 0 or ``"none"``.
    """
    _check_choice(output, "output", OUTPUT_ACTIVATIONS)
    if len(out_shape) == 1:
        network = nn.Sequential(MLP(in_features, int(out_shape[0]), tuple(hidden), activation),
                                OUTPUT_ACTIVATIONS[output]())
        return spectral_normalized(network) if spectral_norm else network
    return ConvDecoder(in_features, out_shape, tuple(channels), tuple(hidden), activation, output, spectral_norm)


def _inverse_activation(mean: torch.Tensor, output: str) -> torch.Tensor:
    """The pre-activation that ``output`` maps to ``mean`` (clamped into the activation's range)."""
    tiny = 1e-6
    if output == "sigmoid":
        return torch.logit(mean.clamp(tiny, 1 - tiny))
    if output == "softplus":
        return torch.log(torch.expm1(mean.clamp_min(tiny)))
    return mean


def init_output_level(decoder: nn.Module, x: torch.Tensor, output: str) -> None:
    """Set the bias of ``decoder``'s last layer so that it starts at the mean level of the data ``x``.

    ``decoder`` is a :func:`build_decoder` network with that ``output`` activation; ``x``
    (N, *shape) are its targets. The bias becomes the pre-activation of the mean of ``x``
    per channel (images) or per feature (vectors). A sigmoid decoder left at its initial
    output of about 0.5 on sum-normalized jet images (pixels ~10⁻³) is pushed into the
    saturated all-zero output within its first steps and never learns the images
    (docs/autoencoders.md); started at the data's level, it does.
    """
    _check_choice(output, "output", OUTPUT_ACTIVATIONS)
    last = [module for module in decoder.modules() if isinstance(module, (nn.Linear, nn.Conv2d))][-1]
    if last.bias is None:
        raise ValueError(f"the decoder's last layer ({type(last).__name__}) has no bias to set")
    dims = (0,) if x.ndim == 2 else (0, *range(2, x.ndim))
    with torch.no_grad():
        last.bias.copy_(_inverse_activation(x.mean(dims), output).to(last.bias.dtype))
