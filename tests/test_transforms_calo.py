"""Affine and LayerSplit: exact inverses, log-Jacobians vs autograd / finite differences, persistence."""

import math

import pytest
import torch

from likely.transforms import Affine, Chain, LayerSplit, Log, transform_from_dict

SIZES = [3, 4, 2]


def _voxels(n=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, sum(SIZES), generator=generator, dtype=torch.float64) * 5 + 1e-3


def _slogdet_autograd(transform, row):
    jacobian = torch.autograd.functional.jacobian(lambda r: transform(r[None])[0][0], row)
    return torch.linalg.slogdet(jacobian).logabsdet.item()


@pytest.mark.parametrize("make", [lambda: Affine(2 / math.log(10), -2.0), lambda: LayerSplit(SIZES),
                                  lambda: Chain(Log(offset=1e-6), Affine(-0.5, 3.0))])
def test_inverse_and_log_jacobian_are_exact(make):
    x = _voxels()
    transform = make().fit(x)
    y, ladj = transform(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    torch.testing.assert_close(transform.inverse(y), x, rtol=1e-10, atol=1e-10)
    for row, value in zip(x[:6], ladj[:6]):
        assert value.item() == pytest.approx(_slogdet_autograd(transform, row), abs=1e-9)


def test_layer_split_log_jacobian_matches_finite_differences():
    x = _voxels(n=4, seed=3)
    transform = LayerSplit(SIZES).fit(x)
    _, ladj = transform(x)
    step = 1e-6
    for i in range(len(x)):
        columns = []
        for j in range(x.shape[1]):
            shift = torch.zeros_like(x[i])
            shift[j] = step
            plus, minus = transform((x[i] + shift)[None])[0], transform((x[i] - shift)[None])[0]
            columns.append(((plus - minus) / (2 * step))[0])
        numeric = torch.linalg.slogdet(torch.stack(columns, dim=1)).logabsdet.item()
        assert ladj[i].item() == pytest.approx(numeric, abs=1e-5)


def test_layer_split_layout_reference_and_closed_form():
    x = _voxels(n=200)
    x[:, 1] += 10.0  # voxel 1 of layer 0 holds the core
    transform = LayerSplit(SIZES).fit(x)
    assert transform.reference[0].item() == 1
    y, ladj = transform(x)
    torch.testing.assert_close(y[:, 0], x[:, :3].sum(1))
    torch.testing.assert_close(y[:, 3], torch.log(x[:, 0] / x[:, 1]))  # first ratio of layer 0
    layers = torch.split(x, SIZES, dim=1)
    expected = sum(torch.log(layer.sum(1)) - torch.log(layer).sum(1) for layer in layers)
    torch.testing.assert_close(ladj, expected)


def test_layer_split_inverse_of_any_point_is_positive_and_sums_to_layer_energy():
    transform = LayerSplit(SIZES).fit(_voxels())
    generator = torch.Generator().manual_seed(1)
    y = torch.randn(50, sum(SIZES), generator=generator, dtype=torch.float64) * 10
    y[:, :3] = y[:, :3].abs() + 0.1
    x = transform.inverse(y)
    assert (x > 0).all()
    torch.testing.assert_close(torch.stack([layer.sum(1) for layer in torch.split(x, SIZES, 1)], 1), y[:, :3])


def test_layer_split_outside_domain_gives_nan():
    x = _voxels(n=3)
    transform = LayerSplit(SIZES).fit(x)
    x[0, 4] = 0.0
    y, ladj = transform(x)
    assert torch.isnan(y[0]).any() and torch.isnan(ladj[0])
    assert torch.isfinite(y[1:]).all()


def test_persistence_round_trip():
    x = _voxels()
    for transform in (LayerSplit(SIZES).fit(x), Affine(3.0, 1.0, columns=[0])):
        loaded = transform_from_dict(transform.to_dict())
        torch.testing.assert_close(loaded(x)[0], transform(x)[0], equal_nan=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match="layer_sizes"):
        LayerSplit([3, 0])
    with pytest.raises(ValueError, match="scale"):
        Affine(0.0)
    with pytest.raises(ValueError, match="features"):
        LayerSplit([2, 2]).fit(_voxels())
