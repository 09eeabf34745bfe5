"""The conv backbones: any image size in and out, spectral normalization bounds every layer."""

import pytest
import torch
from torch import nn

from likely.nn import ConvDecoder, ConvEncoder, build_decoder, init_output_level, spectral_normalized
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


@pytest.mark.parametrize("output", ["sigmoid", "softplus", "none"])
@pytest.mark.parametrize("shape", [(2, 12, 10), (7,)])
def test_init_output_level_starts_the_decoder_at_the_data_mean(shape, output):
    torch.manual_seed(0)
    decoder = build_decoder(3, shape, channels=(4, 4), hidden=(8,), output=output)
    x = torch.rand(50, *shape) * torch.linspace(1e-4, 0.3, shape[0]).view(-1, *[1] * (len(shape) - 1))
    init_output_level(decoder, x, output)
    last = [m for m in decoder.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    with torch.no_grad():
        last.weight.zero_()  # only the bias left: the output is the activation of it
        out = decoder(torch.randn(4, 3))
    mean = x.mean(0) if len(shape) == 1 else x.mean((0, 2, 3)).view(-1, 1, 1).expand(shape)
    torch.testing.assert_close(out, mean.expand_as(out), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="output must be one of"):
        init_output_level(decoder, x, "tanh")
