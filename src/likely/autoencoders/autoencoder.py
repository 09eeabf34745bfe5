"""The plain autoencoder of vectors or images, scored by its reconstruction error."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from likely._checks import instance, options, positive, widths
from likely.autoencoders.base import BaseAutoencoder
from likely.nn import Trainer, build_decoder, build_encoder
from likely.nn.mlp import ACTIVATIONS

__all__ = ["Autoencoder"]

#: hyperparameter rules shared by the autoencoders with an encoder/decoder backbone
BACKBONE_CONSTRAINTS = {
    "latent": positive(integer=True),
    "channels": widths(),
    "hidden": widths(),
    "activation": options(*ACTIVATIONS),
    "output": options("sigmoid", "softplus", "none"),
    "loss": options("mse", "bce"),
    "normalize": instance(bool),
}


def reconstruction_terms(x: torch.Tensor, x_hat: torch.Tensor, sigmoid: bool) -> dict[str, torch.Tensor]:
    """Per-object mean squared error and, for a sigmoid output, mean binary cross-entropy, (n,) each.

    The cross-entropy's targets are clipped to [0, 1], the range a sigmoid can reach.
    """
    terms = {"mse": ((x_hat - x) ** 2).flatten(1).mean(1)}
    if sigmoid:
        bce = F.binary_cross_entropy(x_hat, x.clamp(0, 1), reduction="none")
        terms["bce"] = bce.flatten(1).mean(1)
    return terms


def check_bce_setup(x: torch.Tensor, loss: str, output: str) -> None:
    """Binary cross-entropy needs a sigmoid output and learns targets ``x`` in [0, 1] only."""
    if loss == "bce" and output != "sigmoid":
        raise ValueError(f"loss='bce' needs output='sigmoid'; got output={output!r}")
    if loss == "bce" and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"X spans [{float(x.min()):g}, {float(x.max()):g}] after preprocessing; loss='bce' needs "
                         "values in [0, 1] (use normalize=True or loss='mse')")


class OutputChoice:
    """What a model whose ``output`` activation and ``loss`` are parameters shares: the scores it
    offers (``"bce"`` only for a sigmoid output) and the check that BCE gets values in [0, 1]."""

    @property
    def available_scores(self) -> tuple[str, ...]:
        """``score_names`` less ``"bce"`` unless the output is a sigmoid."""
        return tuple(name for name in self.score_names if name != "bce" or self.output == "sigmoid")

    def _check_training_inputs(self, x: torch.Tensor) -> None:
        check_bce_setup(x, self.loss, self.output)

    def _decoder_output(self) -> str:
        return self.output


class _Network(nn.Module):
    def __init__(self, shape, latent, channels, hidden, activation, output):
        super().__init__()
        self.encoder = build_encoder(shape, latent, channels=channels, hidden=hidden, activation=activation)
        self.decoder = build_decoder(latent, shape, channels=channels[::-1], hidden=hidden[::-1],
                                     activation=activation, output=output)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)


class Autoencoder(OutputChoice, BaseAutoencoder):
    """Autoencoder of vectors (MLP) or images (convolutional), trained on the reference class.

    The encoder maps an object to ``latent`` numbers and the decoder back; the loss is the
    mean squared error or the binary cross-entropy per pixel (feature). Anomaly scores:
    ``"mse"`` and (with a sigmoid output) ``"bce"``, the per-object means of those terms,
    and ``"latent_norm"``, the Euclidean norm of the latent code.

    Parameters
    ----------
    latent : int
        Bottleneck width.
    channels : sequence of int
        Filters of the encoder's stride-2 convolution stages (images only); the decoder mirrors them.
    hidden : sequence of int
        Dense widths after the convolutions (images) or of the MLP (vectors); mirrored in the decoder.
    activation : str
        Hidden activation (:data:`likely.nn.ACTIVATIONS`).
    output : {"sigmoid", "softplus", "none"}
        Decoder output: in (0, 1) (images normalized to unit sum or max, masks), ≥ 0, or unbounded.
    loss : {"mse", "bce"}
        Training loss; ``"bce"`` needs ``output="sigmoid"`` and inputs in [0, 1] after preprocessing.
    power : float or None
        pTⁿ remapping ``x → x ** power`` of every pixel (feature) before the network (seed 003: 0.2).
    normalize : bool
        Divide each object by its sum after the remapping.
    trainer : Trainer or None
        Training settings; None: ``Trainer()``.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, validation split and shuffling.

    Attributes
    ----------
    input_shape_, n_features_in_, device_, model_, history_
        As in :class:`BaseAutoencoder`.

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import Autoencoder
    >>> from likely.nn import Trainer
    >>> images = np.random.default_rng(0).uniform(size=(64, 8, 8)).astype("float32")
    >>> ae = Autoencoder(latent=2, channels=(4,), hidden=(8,), trainer=Trainer(epochs=1, progress=False),
    ...                  random_state=0).fit(images)
    >>> sorted(ae.scores(images[:3])), ae.reconstruct(images[:3]).shape
    (['bce', 'latent_norm', 'mse'], (3, 1, 8, 8))
    """

    score_names = ("mse", "bce", "latent_norm")
    default_score = "mse"
    _parameter_constraints = BACKBONE_CONSTRAINTS

    def __init__(self, *, latent: int = 8, channels: Sequence[int] = (8, 16, 32), hidden: Sequence[int] = (64,),
                 activation: str = "leaky_relu", output: str = "sigmoid", loss: str = "mse",
                 power: float | None = None, normalize: bool = False, trainer: Trainer | None = None,
                 device: str = "auto", random_state: int | None = None) -> None:
        self.latent = latent
        self.channels = channels
        self.hidden = hidden
        self.activation = activation
        self.output = output
        self.loss = loss
        self.power = power
        self.normalize = normalize
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def init_module(self, name: str) -> nn.Module:
        """The untrained network (``model_``) for ``input_shape_``."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self.input_shape_, self.latent, tuple(self.channels), tuple(self.hidden), self.activation,
                        self.output)

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        _, x_hat = self.model_(x)
        if self.loss == "bce":
            return F.binary_cross_entropy(x_hat, x)
        return F.mse_loss(x_hat, x)

    def _scores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z, x_hat = self.model_(x)
        return {**reconstruction_terms(x, x_hat, self.output == "sigmoid"), "latent_norm": z.norm(dim=1)}

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_(x)[1]

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_(x)[0]
