"""The networks of the conditional dual autoencoders (seed 004, Tables 1–3): images ``(N, C, H, W)``.

- :class:`ResidualEncoder` f_R: S stages of [stride-2 :class:`~likely.nn.blocks.ConvLayer`
  → ``depth`` residual blocks], then a 1 × 1 convolution: ``(N, C, H, W)`` → ``Z``
  ``(N, latent_channels, ⌈H/2^S⌉, ⌈W/2^S⌉)``.
- :class:`MaskEncoder` f_m: stages of [ConvLayer → 3 × 3 max-pool, stride 2], flatten,
  linear → ``z_m`` (N, 2).
- :class:`ConditionalDecoder` D: S stages of [spatial conditioning on ``z_m`` → ×2 up-conv
  → ``depth`` residual blocks], centre crop to H × W, 1 × 1 convolution → logits
  ``(N, C, H, W)`` (output bias −1).

The first convolution of each network is ungrouped, the others use ``groups``: with the
seed's widths this gives the published parameter counts (612,032 / 270,594 / 763,841).
Weights start He-uniform, biases at zero (the decoder's output bias at −1). The networks
keep their feature maps channels-last: on a CPU, oneDNN's grouped convolutions run their
backward pass about ten times faster in that layout (measured with torch 2.13).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from likely.autoencoders.relaxed import MixturePrior, exp_concrete_log_prob, log_gumbel_softmax
from likely.nn.blocks import ConvLayer, ResidualBlock, SpatialConditioning, UpConvLayer, center_crop
from likely.nn.conv import conv_grid

__all__ = ["ConditionalDecoder", "DualNetwork", "DualVariationalNetwork", "MaskEncoder", "ResidualEncoder"]

#: dimension of the mask latent z_m
MASK_LATENT = 2
#: initial bias of the decoder's output convolution (seed 004)
OUTPUT_BIAS = -1.0


def _groups(index: int, groups: int) -> int:
    return 1 if index == 0 else groups


class ResidualEncoder(nn.Module):
    """f_R: image ``(N, C, H, W)`` → ``(N, out_channels, ⌈H/2^S⌉, ⌈W/2^S⌉)``; ``features`` is the part before
    the 1 × 1 ``head`` (``filters[-1]`` channels)."""

    def __init__(self, in_channels: int, out_channels: int, filters: Sequence[int], *, groups: int,
                 depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for j, width in enumerate(filters):
            layers.append(ConvLayer(in_channels, width, stride=2, groups=_groups(j, groups)))
            layers += [ResidualBlock(width, groups=groups) for _ in range(depth)]
            in_channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class MaskEncoder(nn.Module):
    """f_m: image ``(N, C, H, W)`` → ``z_m`` (N, 2)."""

    def __init__(self, in_shape: Sequence[int], filters: Sequence[int], *, groups: int) -> None:
        super().__init__()
        in_channels, height, width = in_shape
        layers: list[nn.Module] = []
        for i, filters_i in enumerate(filters):
            layers += [ConvLayer(in_channels, filters_i, groups=_groups(i, groups)), nn.MaxPool2d(3, 2, padding=1)]
            in_channels = filters_i
        grid = conv_grid(height, width, len(filters))
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(in_channels * grid[0] * grid[1], MASK_LATENT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ConditionalDecoder(nn.Module):
    """D: ``Z`` (N, latent_channels, h, w) and ``z_m`` (N, 2) → output logits ``(N, C, H, W)``."""

    def __init__(self, latent_channels: int, out_shape: Sequence[int], filters: Sequence[int], *, groups: int,
                 depth: int) -> None:
        super().__init__()
        out_channels, self.height, self.width = out_shape
        self.conditioning, self.stages = nn.ModuleList(), nn.ModuleList()
        in_channels = latent_channels
        for j, width in enumerate(filters):
            self.conditioning.append(SpatialConditioning(in_channels, MASK_LATENT))
            self.stages.append(nn.Sequential(UpConvLayer(in_channels, width, groups=_groups(j, groups)),
                                             *(ResidualBlock(width, groups=groups) for _ in range(depth))))
            in_channels = width
        self.head = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, z: torch.Tensor, z_m: torch.Tensor) -> torch.Tensor:
        h = z.contiguous(memory_format=torch.channels_last)
        for condition, stage in zip(self.conditioning, self.stages, strict=True):
            h = stage(condition(h, z_m))
        return self.head(center_crop(h, self.height, self.width))


def _initialize(module: nn.Module) -> None:
    """He-uniform weights (U(±√(6 / fan_in))) and zero biases for every convolution and linear layer."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)


class DualNetwork(nn.Module):
    """CoDAE: ``x`` → (output logits of x̂ = D(f_R(x), f_m(x)), ``z_m``)."""

    def __init__(self, in_shape: Sequence[int], *, filters: Sequence[int], mask_filters: Sequence[int],
                 decoder_filters: Sequence[int], latent_channels: int, groups: int, mask_groups: int,
                 depth: int) -> None:
        super().__init__()
        in_shape = tuple(int(n) for n in in_shape)
        self.encoder = ResidualEncoder(in_shape[0], latent_channels, filters, groups=groups, depth=depth)
        self.mask_encoder = MaskEncoder(in_shape, mask_filters, groups=mask_groups)
        self.decoder = ConditionalDecoder(latent_channels, in_shape, decoder_filters, groups=groups, depth=depth)
        _initialize(self)
        nn.init.constant_(self.decoder.head.bias, OUTPUT_BIAS)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.contiguous(memory_format=torch.channels_last)
        z_m = self.mask_encoder(x)
        return self.decoder(self.encoder(x), z_m), z_m


class DualVariationalNetwork(DualNetwork):
    """Categorical CoDVAE: f_R's head gives the logits of a relaxed categorical over ``latent_channels``
    categories at every location of the latent grid, a second 1 × 1 head its temperature
    τ(x) = softplus(·) + ``tau0``; the prior is a :class:`~likely.autoencoders.relaxed.MixturePrior`.
    """

    def __init__(self, in_shape: Sequence[int], *, tau0: float, prior_components: int,
                 prior_temperatures: tuple[float, float], prior_spread: float, **architecture) -> None:
        super().__init__(in_shape, **architecture)
        filters, latent_channels = architecture["filters"], architecture["latent_channels"]
        self.temperature = nn.Conv2d(filters[-1], 1, 1).to(memory_format=torch.channels_last)
        _initialize(self.temperature)
        self.tau0 = float(tau0)
        grid = conv_grid(int(in_shape[1]), int(in_shape[2]), len(filters))
        self.prior = MixturePrior((latent_channels, *grid), components=prior_components,
                                  temperatures=prior_temperatures, spread=prior_spread)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x): logits (N, K, h, w) and temperature τ(x) (N, 1, h, w)."""
        features = self.encoder.features(x.contiguous(memory_format=torch.channels_last))
        tau = nn.functional.softplus(self.temperature(features)) + self.tau0
        return self.encoder.head(features), tau

    def forward(self, x: torch.Tensor, noise: torch.Tensor, prior_log_z: torch.Tensor | None = None):
        """Output logits (decoded from the first sample of q(z | x)), ``z_m``, KL(q ‖ p) and KL(p ‖ q) (N,) each.

        KL(q ‖ p) is averaged over the samples z_s = softmax((logits + noise_s) / τ) of
        ``noise`` (S, N or 1, K, h, w); KL(p ‖ q) over the prior samples ``prior_log_z``
        (S', K, h, w) of ``log z``, None without them. Both are summed over the grid.
        """
        x = x.contiguous(memory_format=torch.channels_last)
        logits, tau = self.posterior(x)
        log_z = log_gumbel_softmax(logits, tau, noise)
        kl_r = _per_image(exp_concrete_log_prob(log_z, logits, tau) - self.prior.log_prob(log_z))
        kl_f = None
        if prior_log_z is not None:
            log_p = prior_log_z[:, None]
            kl_f = _per_image(self.prior.log_prob(log_p) - exp_concrete_log_prob(log_p, logits, tau))
        z_m = self.mask_encoder(x)
        return self.decoder(log_z[0].exp(), z_m), z_m, kl_r, kl_f


def _per_image(log_ratio: torch.Tensor) -> torch.Tensor:
    """Log density ratios (S, N, h, w) → their grid sum averaged over the S samples, (N,)."""
    return log_ratio.sum((-2, -1)).mean(0)
