"""Transforms: exact inverses, log-Jacobians against autograd, persistence, domains."""

import math

import numpy as np
import pytest
import torch

from likely.transforms import (
    Chain, Log, Logit, MinMax, Standardize, Transform, make_preprocessing, transform_from_dict,
)


def _data(n=64, d=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=generator, dtype=torch.float64) * 4 + 0.5


TRANSFORMS = {
    "standardize": lambda: Standardize(),
    "minmax": lambda: MinMax(),
    "logit": lambda: Chain(MinMax(), Logit(alpha=1e-3)),
    "log": lambda: Log(offset=0.25),
    "log-columns": lambda: Log(offset=1.0, columns=[0, 2]),
    "cathode": lambda: Chain(MinMax(), Logit(1e-3), Standardize()),
}


@pytest.fixture(params=sorted(TRANSFORMS))
def fitted(request):
    x = _data()
    return TRANSFORMS[request.param]().fit(x), x


def test_inverse_of_forward_is_identity(fitted):
    transform, x = fitted
    y, _ = transform(x)
    assert not torch.allclose(y, x)
    torch.testing.assert_close(transform.inverse(y), x, rtol=1e-10, atol=1e-10)


def test_log_jacobian_matches_autograd(fitted):
    transform, x = fitted
    _, ladj = transform(x)
    for row, value in zip(x[:8], ladj[:8]):
        jacobian = torch.autograd.functional.jacobian(lambda r: transform(r[None])[0][0], row)
        expected = torch.linalg.slogdet(jacobian).logabsdet
        assert value.item() == pytest.approx(expected.item(), abs=1e-9)


def test_log_jacobian_matches_finite_differences():
    transform = Chain(MinMax(), Logit(1e-3), Standardize()).fit(_data())
    x = _data(n=5, d=3, seed=1)
    _, ladj = transform(x)
    step = 1e-6
    for i in range(len(x)):
        columns = []
        for j in range(x.shape[1]):
            shift = torch.zeros_like(x[i]); shift[j] = step
            columns.append((transform((x[i] + shift)[None])[0] - transform((x[i] - shift)[None])[0])[0] / (2 * step))
        numeric = torch.linalg.slogdet(torch.stack(columns, dim=1)).logabsdet
        assert ladj[i].item() == pytest.approx(numeric.item(), abs=1e-5)


def test_standardize_gives_zero_mean_unit_variance():
    x = _data(n=1000)
    y, ladj = Standardize().fit(x)(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(3, dtype=x.dtype), atol=1e-12, rtol=0)
    torch.testing.assert_close(y.std(0), torch.ones(3, dtype=x.dtype))
    torch.testing.assert_close(ladj, torch.full((1000,), -torch.log(x.std(0)).sum().item(), dtype=x.dtype))


def test_constant_feature_is_only_shifted():
    x = torch.ones(10, 2, dtype=torch.float64)
    for transform in (Standardize(), MinMax()):
        y, ladj = transform.fit(x)(x)
        assert torch.isfinite(y).all() and torch.equal(ladj, torch.zeros(10, dtype=x.dtype))


def test_columns_leave_other_features_untouched():
    x = _data()
    y, _ = Log(columns=[1]).fit(x)(x)
    torch.testing.assert_close(y[:, [0, 2]], x[:, [0, 2]])
    torch.testing.assert_close(y[:, 1], torch.log(x[:, 1]))


def test_outside_domain_gives_nan():
    x = torch.tensor([[-1.0], [0.5], [2.0]], dtype=torch.float64)
    y, ladj = Logit(alpha=0.0).fit(x)(x)
    assert torch.isnan(y[0]).all() and torch.isfinite(y[1]).all() and torch.isnan(ladj[2])
    y, _ = Log().fit(x)(x)
    assert torch.isnan(y[0]).all() and torch.isfinite(y[1:]).all()


def test_round_trip_through_dict_keeps_fitted_state():
    x = _data()
    transform = Chain(MinMax(), Logit(1e-4), Standardize(), Log(offset=50.0, columns=[0]))
    transform.fit(x)
    rebuilt = transform_from_dict(transform.to_dict())
    assert repr(rebuilt) == repr(transform)
    torch.testing.assert_close(rebuilt(x)[0], transform(x)[0], rtol=0, atol=0)
    torch.testing.assert_close(rebuilt(x)[1], transform(x)[1], rtol=0, atol=0)


def test_to_dict_loads_with_weights_only(tmp_path):
    transform = Chain(MinMax(), Standardize()).fit(_data())
    torch.save(transform.to_dict(), tmp_path / "t.pt")
    spec = torch.load(tmp_path / "t.pt", weights_only=True)
    torch.testing.assert_close(transform_from_dict(spec)(_data())[0], transform(_data())[0])


def test_float32_input_keeps_dtype():
    x = _data().float()
    y, ladj = Chain(MinMax(), Logit(), Standardize()).fit(x)(x)
    assert y.dtype == torch.float32 and ladj.dtype == torch.float32


def test_make_preprocessing_presets_and_copies():
    user = Standardize()
    made = make_preprocessing(user)
    assert made is not user and isinstance(made, Standardize)
    assert isinstance(make_preprocessing("logit"), Chain)
    assert isinstance(make_preprocessing(None), Transform)
    with pytest.raises(ValueError, match="preprocessing"):
        make_preprocessing("whiten")


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        Logit(alpha=0.5)
    with pytest.raises(TypeError, match="Chain"):
        Chain(Standardize(), "logit")
    with pytest.raises(ValueError, match="columns"):
        Log(columns=[5]).fit(_data())
    with pytest.raises(ValueError, match="unknown transform"):
        transform_from_dict({"name": "Nope", "params": {}, "state": {}})


def test_logit_end_points_are_finite():
    x = torch.tensor([[0.0], [1.0]])
    y, ladj = Logit(alpha=1e-5).fit(x)(x)
    assert torch.isfinite(y).all() and torch.isfinite(ladj).all()
    assert y[0].item() == pytest.approx(math.log(1e-5 / (1 - 1e-5)), rel=1e-3)
    assert np.isfinite(ladj.numpy()).all()
