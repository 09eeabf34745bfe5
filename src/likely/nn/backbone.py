"""Encoders and decoders of vectors or images, chosen by the shape of one object.

Every autoencoder of :mod:`likely.autoencoders` builds its networks here: an object shape
``(D,)`` gets an :class:`~likely.nn.MLP`, an image shape ``(C, H, W)`` the
:class:`~likely.nn.ConvEncoder` / :class:`~likely.nn.ConvDecoder` pair.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from likely.nn.conv import OUTPUT_ACTIVATIONS, ConvDecoder, ConvEncoder, _check_choice, spectral_normalized
from likely.nn.mlp import MLP

__all__ = ["build_decoder", "build_encoder"]


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
