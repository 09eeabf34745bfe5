"""Density estimators: exact change of variables, known densities, persistence, bad input."""

import math

import numpy as np
import pytest
import torch
from zuko.utils import odeint

from likely.data import conditional_gaussian_mixture
from likely.density import Flow, FlowMatching
from likely.nn import Trainer
from likely.transforms import Chain, MinMax, Logit, Standardize


def mixture(n, d, seed):
    return conditional_gaussian_mixture(n, d, random_state=seed)


def quick(**trainer):
    return Trainer(**{"epochs": 2, "progress": False, **trainer})


MODELS = {
    "maf": lambda t: Flow(kind="maf", transforms=3, hidden=(64, 64), trainer=t, random_state=0, device="cpu"),
    "coupling": lambda t: Flow(kind="coupling", transforms=4, hidden=(64, 64), trainer=t, random_state=0, device="cpu"),
    "flow-matching": lambda t: FlowMatching(hidden=(128, 128, 128), trainer=t, random_state=0, device="cpu"),
}


@pytest.fixture(scope="module")
def small_fitted():
    """Briefly trained conditional models on 2-D data (for exactness and API tests)."""
    X, c, _ = mixture(600, 2, 0)
    return {name: make(quick()).fit(X, c) for name, make in MODELS.items()}, X, c


# ------------------------------------------------------------------ statistics
@pytest.mark.slow
@pytest.mark.parametrize("dim", [2, 4])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_reaches_true_density_of_conditional_mixture(name, dim):
    """Held-out mean log-density within 0.05 nats per dimension of the truth."""
    X, c, _ = mixture(20_000, dim, seed=0)
    X_test, c_test, true_log_p = mixture(4_000, dim, seed=1)
    epochs = 40 if name == "flow-matching" else 20
    model = MODELS[name](Trainer(epochs=epochs, batch_size=512, lr=2e-3, progress=False))
    model.fit(X, c)
    gap = (true_log_p.mean() - model.log_prob(X_test, c_test).mean()) / dim
    assert abs(gap) < 0.05, f"{name} in {dim} dims is {gap:.3f} nats/dim from the truth"


# ------------------------------------------------------------ exact densities
@pytest.mark.parametrize("name", ["maf", "coupling"])
def test_flow_log_prob_is_change_of_variables(small_fitted, name):
    """log p(x) = log N(z) + log|det dz/dx| with the Jacobian of the whole map by autograd."""
    models, X, c = small_fitted
    flow = models[name]
    x, cond = torch.as_tensor(X[:6]), torch.as_tensor(c[:6, None])

    def to_latent(row, ci):
        y, _ = flow.preprocessing_(row[None])
        return flow.model_(flow.preprocess_cond(ci[None])).transform(y)[0]

    for row, ci, value in zip(x, cond, flow.log_prob(X[:6], c[:6])):
        z = to_latent(row, ci)
        jacobian = torch.autograd.functional.jacobian(lambda r: to_latent(r, ci), row)
        expected = -0.5 * (z.square().sum() + 2 * math.log(2 * math.pi)) + torch.linalg.slogdet(jacobian).logabsdet
        assert value == pytest.approx(expected.item(), abs=1e-4)


def _ode_map(model, z, c, t0, t1, tol=1e-10):
    """Integrate the velocity field from t0 to t1 (use float64 for tight tolerances)."""
    return odeint(lambda t, x: model.model_.velocity(x, t, c), z, torch.tensor(t0, dtype=z.dtype),
                  torch.tensor(t1, dtype=z.dtype), atol=tol, rtol=tol)


def test_flow_matching_log_prob_is_change_of_variables(small_fitted):
    """Exact-trace log-density against a finite-difference Jacobian of the ODE map (float64)."""
    models, X, c = small_fitted
    fm = models["flow-matching"]
    fm.model_.double()
    try:
        z = torch.as_tensor(X[:5], dtype=torch.float64)
        cond = torch.as_tensor(c[:5, None], dtype=torch.float64)
        fm_tight = fm.set_params(atol=1e-10, rtol=1e-10)
        value = fm_tight.model_(cond).log_prob(z)
        step = 1e-5
        for i in range(len(z)):
            noise = _ode_map(fm, z[i : i + 1], cond[i : i + 1], 1.0, 0.0)[0]
            columns = [
                (_ode_map(fm, (z[i] + step * e)[None], cond[i : i + 1], 1.0, 0.0)
                 - _ode_map(fm, (z[i] - step * e)[None], cond[i : i + 1], 1.0, 0.0))[0] / (2 * step)
                for e in torch.eye(2, dtype=torch.float64)
            ]
            logdet = torch.linalg.slogdet(torch.stack(columns, dim=1)).logabsdet
            expected = -0.5 * (noise.square().sum() + 2 * math.log(2 * math.pi)) + logdet
            assert value[i].item() == pytest.approx(expected.item(), abs=1e-6)
    finally:
        fm.model_.float()
        fm.set_params(atol=1e-5, rtol=1e-5)


def test_hutchinson_trace_is_unbiased(small_fitted):
    models, X, c = small_fitted
    fm = models["flow-matching"]
    exact = fm.log_prob(X[:4], c[:4])
    fm.set_params(trace="hutchinson")
    try:
        repeats = 500
        torch.manual_seed(0)
        estimates = fm.log_prob(np.repeat(X[:4], repeats, 0), np.repeat(c[:4], repeats)).reshape(4, repeats)
    finally:
        fm.set_params(trace="exact")
    error = estimates.std(axis=1) / math.sqrt(repeats)
    assert estimates.std(axis=1).min() > 0  # it really is stochastic
    np.testing.assert_array_less(np.abs(estimates.mean(axis=1) - exact), 4 * error + 1e-3)


def test_public_log_prob_adds_preprocessing_jacobian(small_fitted):
    models, X, c = small_fitted
    fm = models["flow-matching"]
    z, cond, ladj = fm.preprocess(X[:10], c[:10])
    with torch.no_grad():
        latent = fm.model_(cond).log_prob(z)
    np.testing.assert_allclose(fm.log_prob(X[:10], c[:10]), (latent + ladj).numpy(), rtol=1e-5, atol=1e-5)


def test_flow_inverse_of_forward(small_fitted):
    models, X, c = small_fitted
    for name in ("maf", "coupling"):
        flow = models[name]
        z, cond, _ = flow.preprocess(X[:50], c[:50])
        transform = flow.model_(cond).transform
        with torch.no_grad():
            torch.testing.assert_close(transform.inv(transform(z)), z, atol=1e-4, rtol=1e-4)


def test_flow_matching_inverse_of_forward(small_fitted):
    models, X, c = small_fitted
    fm = models["flow-matching"]
    z = torch.as_tensor(X[:50])
    cond = torch.as_tensor(c[:50, None])
    with torch.no_grad():
        back = _ode_map(fm, _ode_map(fm, z, cond, 1.0, 0.0, 1e-6), cond, 0.0, 1.0, 1e-6)
    torch.testing.assert_close(back, z, atol=1e-4, rtol=1e-4)


# -------------------------------------------------------------------- the API
@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(small_fitted, tmp_path, name):
    models, X, c = small_fitted
    model = models[name]
    model.save(tmp_path / "model")
    loaded = type(model).load(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(loaded.log_prob(X[:100], c[:100]), model.log_prob(X[:100], c[:100]))
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert loaded.history_.epochs == model.history_.epochs
    np.testing.assert_array_equal(
        loaded.sample(cond=c[:20], random_state=3), model.sample(cond=c[:20], random_state=3)
    )


def test_load_refuses_other_class(small_fitted, tmp_path):
    models, _, _ = small_fitted
    models["maf"].save(tmp_path / "flow")
    with pytest.raises(ValueError, match="FlowMatching"):
        FlowMatching.load(tmp_path / "flow")
    with pytest.raises(FileNotFoundError):
        Flow.load(tmp_path / "missing.pt")


def test_custom_preprocessing_survives_save(tmp_path):
    X, c, _ = mixture(300, 2, 0)
    X = np.abs(X)
    preprocessing = Chain(MinMax(), Logit(1e-3), Standardize())
    flow = Flow(transforms=1, hidden=(8,), preprocessing=preprocessing, trainer=quick(), random_state=0)
    flow.fit(X, c)
    assert not hasattr(preprocessing.transforms[0], "low"), "fit must not modify the user's object"
    flow.save(tmp_path / "f")
    loaded = Flow.load(tmp_path / "f")
    assert isinstance(loaded.preprocessing, Chain)
    np.testing.assert_array_equal(loaded.log_prob(X, c), flow.log_prob(X, c))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_shapes_and_reproducibility(small_fitted, name):
    models, _, _ = small_fitted
    model = models[name]
    cond = np.linspace(-1, 1, 7, dtype="f4")
    first = model.sample(cond=cond, random_state=1)
    assert first.shape == (7, 2) and first.dtype == np.float32 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, model.sample(cond=cond, random_state=1))
    assert not np.array_equal(first, model.sample(cond=cond, random_state=2))
    assert model.sample(n=7, cond=cond[:, None]).shape == (7, 2)


def test_unconditional_model():
    X, _, _ = mixture(400, 3, 0)
    flow = Flow(transforms=1, hidden=(8,), trainer=quick(), random_state=0).fit(X)
    assert flow.n_cond_ == 0 and flow.sample(5).shape == (5, 3)
    assert flow.log_prob(X).shape == (400,)
    assert np.isfinite(flow.score(X))
    with pytest.raises(ValueError, match="n is required"):
        flow.sample()
    with pytest.raises(ValueError, match="without a condition"):
        flow.log_prob(X, cond=np.zeros(400))


def test_points_outside_logit_support_have_zero_density():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (500, 2)).astype("f4")
    flow = Flow(transforms=1, hidden=(8,), preprocessing="logit", trainer=quick(), random_state=0).fit(X)
    log_p = flow.log_prob(np.array([[0.5, 0.5], [2.0, 0.5]], dtype="f4"))
    assert np.isfinite(log_p[0]) and log_p[1] == -np.inf


def test_validation_data_are_used():
    X, c, _ = mixture(400, 2, 0)
    X_val, c_val, _ = mixture(100, 2, 1)
    flow = Flow(transforms=1, hidden=(8,), trainer=quick(), random_state=0)
    flow.fit(X, c, X_val=X_val, cond_val=c_val)
    assert flow.history_.val_loss != flow.history_.train_loss


def test_same_seed_same_model():
    X, c, _ = mixture(300, 2, 0)
    a, b = (Flow(transforms=1, hidden=(8,), trainer=quick(), random_state=4).fit(X, c) for _ in range(2))
    np.testing.assert_array_equal(a.log_prob(X, c), b.log_prob(X, c))


def test_bad_inputs_name_the_argument(small_fitted):
    models, X, c = small_fitted
    flow = models["maf"]
    fresh = Flow(trainer=quick())
    bad_X = X.copy()
    bad_X[3, 1] = np.nan
    cases = [
        (lambda: fresh.fit(bad_X, c), ValueError, "X contains 1 non-finite"),
        (lambda: fresh.fit(X[:, 0], c), ValueError, "X must be 2-D"),
        (lambda: fresh.fit(X[:0], c[:0]), ValueError, "X is empty"),
        (lambda: fresh.fit(X, c[:-1]), ValueError, "cond has"),
        (lambda: fresh.fit(X.astype(str), c), TypeError, "X must hold numbers"),
        (lambda: fresh.fit(X, c, cond_val=c), ValueError, "cond_val"),
        (lambda: fresh.fit(X, c, X_val=X[:, :1], cond_val=c), ValueError, "X_val"),
        (lambda: fresh.log_prob(X, c), ValueError, "not fitted"),
        (lambda: flow.log_prob(X[:, :1], c), ValueError, "X has 1 features, but 2"),
        (lambda: flow.log_prob(X), ValueError, "cond is required"),
        (lambda: flow.sample(n=3, cond=c[:5]), ValueError, "n=3"),
        (lambda: flow.sample(n=-1), ValueError, "cond is required"),
        (lambda: Flow(kind="realnvp", trainer=quick()).fit(X, c), ValueError, "kind"),
        (lambda: Flow(transforms=0, trainer=quick()).fit(X, c), ValueError, "transforms"),
        (lambda: FlowMatching(trace="skilling", trainer=quick()).fit(X, c), ValueError, "trace"),
        (lambda: Flow(device="tpu", trainer=quick()).fit(X, c), ValueError, "device"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_training_data_outside_preprocessing_domain_is_refused():
    X = np.random.default_rng(0).uniform(0, 1, (100, 2)).astype("f4")
    flow = Flow(preprocessing=Chain(Logit()), trainer=quick())
    with pytest.raises(ValueError, match="domain"):
        flow.fit(X * 3)


def test_killed_fit_resumes_from_checkpoint(tmp_path, monkeypatch):
    X, c, _ = mixture(500, 2, 0)
    checkpoint = tmp_path / "flow.ckpt"

    def make():
        trainer = Trainer(epochs=4, batch_size=100, patience=None, checkpoint=checkpoint, progress=False)
        return Flow(transforms=1, hidden=(8,), trainer=trainer, random_state=0)

    reference = Flow(transforms=1, hidden=(8,), random_state=0,
                     trainer=make().trainer.set_params(checkpoint=tmp_path / "ref.ckpt")).fit(X, c)
    calls = []
    original = Flow._loss

    def dying_loss(self, z, cond):
        calls.append(torch.is_grad_enabled())
        if sum(calls) > 4 * 2 + 1:  # 4 steps per epoch: dies early in epoch 3
            raise KeyboardInterrupt
        return original(self, z, cond)

    def counting_loss(self, z, cond):
        calls.append(torch.is_grad_enabled())
        return original(self, z, cond)

    monkeypatch.setattr(Flow, "_loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        make().fit(X, c)
    calls.clear()
    monkeypatch.setattr(Flow, "_loss", counting_loss)
    resumed = make().fit(X, c)
    assert sum(calls) == 2 * 4, "only the two unfinished epochs are trained again"
    assert resumed.history_.epochs == 4
    np.testing.assert_allclose(resumed.log_prob(X, c), reference.log_prob(X, c), rtol=1e-5, atol=1e-5)


def test_interpolated_sampling_at_an_anchor_equals_plain_sampling(small_fitted):
    models, _, _ = small_fitted
    fm = models["flow-matching"]
    cond = np.full(50, -0.5, dtype="f4")
    np.testing.assert_allclose(
        fm.sample_interpolated(cond, -0.5, 0.5, random_state=2), fm.sample(cond=cond, random_state=2), atol=1e-5
    )
    between = fm.sample_interpolated(np.zeros(200, "f4"), -0.5, 0.5, random_state=2)
    assert between.shape == (200, 2) and np.isfinite(between).all()
    with pytest.raises(ValueError, match="low < high"):
        fm.sample_interpolated(cond, 0.5, -0.5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_inference_batches_bound_values_not_results(small_fitted, monkeypatch, name):
    """Batches hold at most INFERENCE_VALUES values (>= 64 events); log p is the same however split."""
    import likely.density.base as base

    models, X, c = small_fitted
    model = models[name]
    whole = model.log_prob(X, c)
    monkeypatch.setattr(base, "INFERENCE_VALUES", 2 * 100)  # 100 events of 2 features per batch
    assert [stop - start for start, stop in model._batches(250, "test")] == [100, 100, 50]
    np.testing.assert_allclose(model.log_prob(X, c), whole, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(base, "INFERENCE_VALUES", 2)
    assert [stop - start for start, stop in model._batches(100, "test")] == [64, 36]


def test_seeded_fits_are_repeatable_in_threads():
    """torch's RNG is global: fits in parallel threads (a threaded Dask worker) must not share its stream."""
    from concurrent.futures import ThreadPoolExecutor

    X, c, _ = mixture(400, 2, 0)

    def fit(seed):
        model = FlowMatching(hidden=(8,), trainer=Trainer(epochs=3, batch_size=32, progress=False),
                             device="cpu", random_state=seed).fit(X, cond=c)
        return model.sample(cond=c[:50], random_state=seed)

    alone = [fit(seed) for seed in (1, 2)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(fit, [1, 2, 1, 2]))
    for got, want in zip(threaded, alone * 2):
        np.testing.assert_array_equal(got, want)
