"""Multilayer perceptrons, the building block of every network in ``likely``."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["MLP", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "prelu": nn.PReLU,
    "selu": nn.SELU,
}


class MLP(nn.Sequential):
    """Fully connected network ``in_features -> hidden... -> out_features``.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    hidden : sequence of int
        Widths of the hidden layers (may be empty for a linear map).
    activation : str
        One of ``ACTIVATIONS``; applied after every hidden layer.
    dropout : float
        Dropout probability after every hidden activation (0 disables it).
    batch_norm : bool
        Batch normalization before every hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}; got {activation!r}")
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
