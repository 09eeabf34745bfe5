"""The conv backbones: any image size in and out, spectral normalization bounds every layer."""

import pytest
import torch
from torch import nn

from likely.nn import ConvDecoder, ConvEncoder, spectral_normalized
from likely.nn.conv import conv_grid


@pytest.mark.parametrize("shape", [(1, 40, 40), (1, 58, 72), (3, 29, 17), (2, 8, 8)])
def test_encoder_and_decoder_take_any_image_size(shape):
    torch.manual_seed(0)
    encoder = ConvEncoder(shape, 5, channels=(4, 8, 8), hidden=(16,), activation="prelu")
    decoder = ConvDecoder(5, shape, channels=(8, 8, 4), hidden=(16,), output="softplus")
    x = torch.rand(3, *shape)
    z = encoder(x)
    assert z.shape == (3, 5)
    out = decoder(z)
    assert out.shape == (3, *shape) and bool((out >= 0).all())
    out.sum().backward()
    assert all(p.grad is not None for p in [*encoder.parameters(), *decoder.parameters()])


def test_the_grid_is_the_ceiling_of_the_halvings():
    assert conv_grid(58, 72, 3) == (8, 9) and conv_grid(40, 40, 4) == (3, 3) and conv_grid(5, 4, 0) == (5, 4)


def test_spectral_normalization_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    network = spectral_normalized(nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 3)))
    for layer in (network[0], network[2]):
        for _ in range(20):  # power iterations run in training mode
            layer(torch.randn(4, layer.in_features))
        largest = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
        assert largest == pytest.approx(1.0, abs=1e-3)
    plain = nn.Linear(6, 20)
    with torch.no_grad():
        plain.weight.mul_(10)
    assert torch.linalg.matrix_norm(plain.weight.detach(), ord=2) > 2  # without it, nothing bounds the weights


def test_encoders_can_be_spectrally_normalized_and_bad_choices_are_named():
    encoder = ConvEncoder((1, 16, 16), 3, spectral_norm=True)
    normalized = [m for m in encoder.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert normalized and all(nn.utils.parametrize.is_parametrized(m, "weight") for m in normalized)
    with pytest.raises(ValueError, match="activation"):
        ConvEncoder((1, 8, 8), 2, activation="swish")
    with pytest.raises(ValueError, match="output"):
        ConvDecoder(2, (1, 8, 8), output="relu")
    with pytest.raises(ValueError, match="channels"):
        ConvDecoder(2, (1, 8, 8), channels=())
