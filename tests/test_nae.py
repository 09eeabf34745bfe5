"""The normalized autoencoder: its energy, the Langevin sampler (steps, Metropolis test, replay
buffer), spectral normalization, a tiny training run, persistence and the detector contract."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from likely.autoencoders import Langevin, NormalizedAutoencoder
from likely.autoencoders.langevin import (
    ReplayBuffer, chain_state, langevin_chain, langevin_step, mala_log_ratio, metropolis_accept, to_sphere,
)
from likely.detect import ReconstructionDetector, check_detector
from likely.nn import Trainer
from likely.plot import plot_nae_energies, plot_nae_samples


def blobs(n=160, seed=0):
    """8 x 8 images of one Gaussian blob, around one of two centres."""
    rng = np.random.default_rng(seed)
    centres = np.where(rng.uniform(size=(n, 1)) < 0.5, [2.0, 2.0], [5.0, 5.0]) + rng.normal(0, 0.3, (n, 2))
    rows, cols = np.mgrid[0:8, 0:8]
    squared = (rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2
    return np.exp(-squared / 2).astype("f4")


def tiny_nae(**changes):
    settings = dict(channels=(4, 4), hidden=(16,), steps=5, batch_size=32, lr=1e-4, monitor_every=2,
                    monitor_samples=3, latent_chain=Langevin(step=100.0, noise=1e-2, steps=3),
                    input_chain=Langevin(step=50.0, noise=1e-4, steps=3, anneal=True),
                    trainer=Trainer(epochs=3, batch_size=64, progress=False), progress=False, device="cpu",
                    random_state=0)
    return NormalizedAutoencoder(**{**settings, **changes})


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)  # as every test (conftest), which runs after module fixtures: sums depend on it
    return tiny_nae(power=0.5, normalize=True).fit(blobs())


def quadratic(a, centre):
    """E(x) = a/2 |x − centre|² per object, and its gradient."""
    return (lambda x: 0.5 * a * (x - centre).square().flatten(1).sum(1)), (lambda x: a * (x - centre))


# ------------------------------------------------------------------ energy
def test_energy_is_the_reconstruction_mse_computed_by_hand(fitted):
    X = blobs(6, seed=1)
    x = (X**0.5 / (X**0.5).sum((1, 2), keepdims=True))[:, None]
    np.testing.assert_allclose(fitted.preprocess(X), x, rtol=1e-5)
    with torch.no_grad():
        code = fitted.model_.encoder(torch.from_numpy(x))
        output = fitted.model_.decoder(code / code.norm(dim=1, keepdim=True)).numpy()
    np.testing.assert_allclose(fitted.reconstruct(X), output, rtol=1e-5)
    energy = fitted.scores(X)["energy"]
    np.testing.assert_allclose(energy, ((x - output) ** 2).mean((1, 2, 3)), rtol=1e-4)
    assert NormalizedAutoencoder.default_score == "energy"
    np.testing.assert_array_equal(fitted.reconstruction_error(X), energy)
    np.testing.assert_allclose(np.linalg.norm(fitted.encode(X), axis=1), 1, rtol=1e-6)


# ------------------------------------------------------------ Langevin steps
def test_one_latent_step_on_a_quadratic_energy_follows_the_formula_on_the_sphere():
    generator = torch.Generator().manual_seed(0)
    z = to_sphere(torch.randn(5, 3, generator=generator, dtype=torch.float64))
    eps = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    centre = torch.tensor([0.3, -0.2, 0.9], dtype=torch.float64)
    energy, grad = quadratic(2.0, centre)
    new, moved = langevin_step(chain_state(energy, z), energy, 0.1, 0.05, eps, project=to_sphere)
    expected = z - 0.1 * grad(z) + 0.05 * eps
    expected = expected / expected.norm(dim=1, keepdim=True)
    torch.testing.assert_close(new.x, expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(new.energy, energy(expected))
    torch.testing.assert_close(new.grad, grad(expected))
    assert moved.all()


def test_one_input_step_follows_the_formula_without_and_with_noise_and_clips_pixels():
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(4, 1, 3, 3, generator=generator, dtype=torch.float64)
    eps = torch.randn(x.shape, generator=generator, dtype=torch.float64)
    energy, grad = quadratic(3.0, torch.full((1, 3, 3), 0.5, dtype=torch.float64))
    clip = lambda v: v.clamp(0, 1)  # noqa: E731
    for noise in (0.0, 1.0):
        new, _ = langevin_step(chain_state(energy, x), energy, 0.4, noise, eps, project=clip)
        torch.testing.assert_close(new.x, (x - 0.4 * grad(x) + noise * eps).clamp(0, 1), rtol=1e-12, atol=0)
    assert (new.x == 0).any() or (new.x == 1).any()  # the noisy step leaves the pixel range somewhere


def test_gradients_are_clipped_per_object():
    energy, grad = quadratic(1.0, 0.0)
    x = torch.tensor([[3.0, 4.0], [0.03, 0.04]], dtype=torch.float64)
    state = chain_state(energy, x, grad_clip=0.1)
    torch.testing.assert_close(state.grad, torch.tensor([[0.06, 0.08], [0.03, 0.04]], dtype=torch.float64))


def test_mala_log_ratio_is_the_metropolis_hastings_ratio_of_the_langevin_proposal():
    generator = torch.Generator().manual_seed(2)
    energy, _ = quadratic(1.5, torch.tensor([0.2, -0.4], dtype=torch.float64))
    step, noise = 0.3, 0.4
    current = chain_state(energy, torch.randn(6, 2, generator=generator, dtype=torch.float64))
    eps = torch.randn(6, 2, generator=generator, dtype=torch.float64)
    proposal = chain_state(energy, current.x - step * current.grad + noise * eps)
    x, y, g_x, g_y = current.x, proposal.x, current.grad, proposal.grad
    log_q_forward = -(y - x + step * g_x).square().sum(1) / (2 * noise**2)
    log_q_backward = -(x - y + step * g_y).square().sum(1) / (2 * noise**2)
    temperature = noise**2 / (2 * step)
    direct = -(proposal.energy - current.energy) / temperature + log_q_backward - log_q_forward
    torch.testing.assert_close(mala_log_ratio(current, proposal, step, noise), direct, rtol=1e-10, atol=1e-10)


def test_metropolis_accepts_downhill_and_uphill_by_the_ratio():
    n = 100_000
    downhill = metropolis_accept(torch.full((n,), 0.7, dtype=torch.float64), torch.Generator().manual_seed(3))
    assert downhill.all()
    log_ratio = torch.full((n,), np.log(0.3), dtype=torch.float64)  # −ΔE / T of a symmetric proposal
    accepted = metropolis_accept(log_ratio, torch.Generator().manual_seed(4))
    uniform = torch.rand(n, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    torch.testing.assert_close(accepted, uniform < 0.3)
    assert abs(accepted.double().mean() - 0.3) < 0.006  # 4 standard deviations
    assert not metropolis_accept(torch.tensor([float("nan"), -np.inf], dtype=torch.float64)).any()


def test_metropolis_adjusted_chain_samples_its_temperature_and_the_plain_one_does_not():
    """On E = x²/2 the chain targets N(0, T) with T = σ²/(2λ) = 0.1; without the test the
    discretized chain has variance σ²/(2λ − λ²) = 0.167 at λ = 0.8."""
    energy, _ = quadratic(1.0, 0.0)
    start = torch.zeros(4000, 2, dtype=torch.float64)
    variances = {}
    for metropolis in (True, False):
        chain = Langevin(step=0.8, noise=0.4, steps=150, metropolis=metropolis, grad_clip=None)
        x, rate = langevin_chain(start, energy, chain, generator=torch.Generator().manual_seed(5))
        variances[metropolis] = x.var().item()
        assert 0 < rate <= 1
    assert chain.temperature() == pytest.approx(0.1)
    assert variances[True] == pytest.approx(0.1, rel=0.06)
    assert variances[False] == pytest.approx(0.4**2 / (1.6 - 0.64), rel=0.06)


def test_noise_annealing_and_bad_chain_settings():
    chain = Langevin(step=50.0, noise=1e-4, steps=30, anneal=True)
    assert chain.noise_at(0) == 1e-4 and chain.noise_at(3) == pytest.approx(2.5e-5)
    assert chain.temperature() == pytest.approx(1e-10)
    assert Langevin(step=100.0, noise=1e-2, steps=30).noise_at(7) == 1e-2
    with pytest.raises(ValueError, match="step"):
        Langevin(step=-1.0, noise=1e-2, steps=3)
    with pytest.raises(TypeError, match="steps"):
        Langevin(step=1.0, noise=1e-2, steps=2.5)


# ----------------------------------------------------------------- buffer
def test_replay_buffer_keeps_the_newest_points_up_to_its_size():
    buffer = ReplayBuffer(10, 3)
    points = to_sphere(torch.randn(25, 3, generator=torch.Generator().manual_seed(6)))
    for chunk in points.split(7):
        buffer.push(chunk)
        assert len(buffer) <= 10
    torch.testing.assert_close(buffer.points, points[-10:])
    assert len(ReplayBuffer(0, 3).points) == 0


def test_replay_buffer_draws_from_the_buffer_with_the_stated_probability():
    generator = torch.Generator().manual_seed(7)
    buffer = ReplayBuffer(50, 3)
    empty = buffer.draw(1000, 0.95, generator)
    torch.testing.assert_close(empty.norm(dim=1), torch.ones(1000))
    buffer.push(to_sphere(torch.randn(50, 3, generator=generator)))
    n = 20_000
    drawn = buffer.draw(n, 0.95, generator)
    stored = lambda points: (points[:, None] == buffer.points[None]).all(2).any(1)  # noqa: E731
    assert abs(stored(drawn).double().mean() - 0.95) < 0.006  # 4 standard deviations of the fraction
    assert not stored(buffer.draw(1000, 0.0, generator)).any()
    torch.testing.assert_close(drawn.norm(dim=1), torch.ones(n))


# ---------------------------------------------------------------- network
def test_spectral_normalization_bounds_every_layer_by_one(fitted):
    layers = [m for m in fitted.model_.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert layers and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    with torch.no_grad():
        largest = [torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() for m in layers]
    assert max(largest) < 1.05, largest


@pytest.mark.parametrize("which, encoder, decoder", [("encoder", True, False), ("none", False, False)])
def test_spectral_norm_option_chooses_the_normalized_part(which, encoder, decoder):
    model = tiny_nae(spectral_norm=which, steps=0, trainer=Trainer(epochs=1, progress=False)).fit(blobs(40))
    for part, expected in ((model.model_.encoder, encoder), (model.model_.decoder, decoder)):
        layers = [m for m in part.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert all(torch.nn.utils.parametrize.is_parametrized(m, "weight") == expected for m in layers)
    with pytest.raises(ValueError, match="spectral_norm"):
        tiny_nae(spectral_norm="decoder").fit(blobs(40))


# --------------------------------------------------------------- training
def test_tiny_training_records_energies_acceptance_and_samples(fitted):
    history = fitted.history_
    assert history.steps == 5 and history.epochs == 3 and len(history.train_loss) == 3
    for values in (history.nae_loss, history.positive_energy, history.negative_energy):
        assert values.shape == (5,) and values.dtype == np.float32 and np.isfinite(values).all()
    np.testing.assert_allclose(history.nae_loss, history.positive_energy - history.negative_energy, rtol=1e-5,
                               atol=1e-7)
    for rate in (history.latent_acceptance, history.input_acceptance):
        assert rate.shape == (5,) and ((0 <= rate) & (rate <= 1)).all()
    np.testing.assert_array_equal(history.sample_steps, [0, 2, 4])
    assert history.samples.shape == (3, 3, 1, 8, 8) and history.samples.min() >= 0 and history.samples.max() <= 1
    assert np.isfinite(fitted.reconstruction_error(blobs(20, seed=2))).all()
    assert fitted.replay_buffer_.shape == (5 * 32, 3)
    samples = fitted.sample(4, random_state=1)
    assert samples.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(samples, fitted.sample(4, random_state=1))


def test_training_is_repeatable_with_a_random_state(fitted):
    again = tiny_nae(power=0.5, normalize=True).fit(blobs())
    np.testing.assert_array_equal(again.history_.negative_energy, fitted.history_.negative_energy)
    np.testing.assert_array_equal(again.reconstruction_error(blobs(10)), fitted.reconstruction_error(blobs(10)))


def test_warm_start_skips_the_pretraining_and_appends_the_nae_steps():
    pretrained = tiny_nae(power=0.5, normalize=True, steps=0).fit(blobs())
    assert pretrained.history_.steps == 0 and len(pretrained.history_.samples) == 0
    before = {name: value.clone() for name, value in pretrained.model_.state_dict().items()}
    warm = pretrained.set_params(steps=3, warm_start=True).fit(blobs())
    assert warm.history_.epochs == 3 and warm.history_.steps == 3  # no second pre-training
    np.testing.assert_array_equal(warm.history_.sample_steps, [0, 2])
    changed = [name for name, value in warm.model_.state_dict().items() if not torch.equal(value, before[name])]
    assert changed  # the NAE steps moved the pre-trained network, not a new one
    again = warm.set_params(steps=2).fit(blobs())  # two more steps: records appended, numbered on
    assert again.history_.steps == 5 and again.history_.epochs == 3
    np.testing.assert_array_equal(again.history_.sample_steps, [0, 2, 4])
    assert again.replay_buffer_.shape == (5 * 32, 3)
    with pytest.raises(ValueError, match="warm_start=True: X holds objects of shape"):
        again.fit(blobs()[:, :7])
    with pytest.raises(ValueError, match="monitor_samples"):
        again.set_params(monitor_samples=2).fit(blobs())
    assert again.history_.steps == 5  # refused fits changed nothing


def test_data_sampler_starts_the_chains_at_the_data_batch_and_takes_unbounded_vectors():
    """Contrastive divergence without chain steps: every negative is its positive, so E⁻ = E⁺ at each step."""
    rng = np.random.default_rng(4)
    X = (rng.normal(size=(96, 5)) * [1, 2, 3, 4, 50]).astype("f4")  # representations: unbounded, not in [0, 1]
    nae = tiny_nae(hidden=(16,), output="none", sampler="data", input_chain=Langevin(step=1.0, noise=0.1, steps=0),
                   spectral_norm="encoder").fit(X)
    history = nae.history_
    np.testing.assert_array_equal(history.negative_energy, history.positive_energy)
    assert np.isnan(history.latent_acceptance).all() and len(nae.replay_buffer_) == 0
    assert np.isfinite(nae.reconstruction_error(X)).all()
    assert nae.model_.decoder[-1].__class__.__name__ == "Identity"
    moved = tiny_nae(hidden=(16,), output="none", sampler="data", spectral_norm="encoder").fit(X).history_
    assert (moved.negative_energy != moved.positive_energy).all()  # with chain steps the negatives move
    with pytest.raises(ValueError, match="sampler='on-manifold'"):
        nae.sample(3)


def test_save_and_load_give_identical_scores(fitted, tmp_path):
    X = blobs(30, seed=3)
    loaded = NormalizedAutoencoder.load(fitted.save(tmp_path / "nae"), device="cpu")
    np.testing.assert_array_equal(loaded.reconstruction_error(X), fitted.reconstruction_error(X))
    np.testing.assert_array_equal(loaded.history_.samples, fitted.history_.samples)
    np.testing.assert_array_equal(loaded.sample(3, random_state=2), fitted.sample(3, random_state=2))
    assert loaded.latent_chain == fitted.latent_chain


def test_vectors_pass_the_detector_suite_through_the_reconstruction_detector():
    """Vectors in [0, 1] (the sigmoid's range): a noisy curve; the default outliers lie 10 standard deviations away."""
    rng = np.random.default_rng(8)
    t = rng.uniform(0.1, 0.9, (400, 1))
    X = np.clip(np.hstack([t, t**2, 1 - t]) + 0.02 * rng.normal(size=(400, 3)), 0, 1).astype("f4")
    nae = tiny_nae(hidden=(16, 8), trainer=Trainer(epochs=5, batch_size=64, progress=False))
    fitted = check_detector(ReconstructionDetector(autoencoder=nae), X)
    assert fitted.autoencoder_.history_.steps == 5


# ------------------------------------------------------------------ errors
def test_bad_inputs_are_refused_naming_the_argument(fitted):
    X = blobs(5)
    with pytest.raises(NotFittedError):
        tiny_nae().reconstruction_error(X)
    with pytest.raises(NotFittedError):
        tiny_nae().sample(3)
    with pytest.raises(ValueError, match="X has images of shape"):
        fitted.reconstruction_error(X[:, :7])
    with pytest.raises(ValueError, match="X must be images"):
        fitted.reconstruction_error(X[:, 0])
    with pytest.raises(ValueError, match="cond was given"):
        fitted.reconstruction_error(X, np.ones(5))
    with pytest.raises(ValueError, match="negative value"):
        fitted.reconstruction_error(-X)
    with pytest.raises(ValueError, match=r"X spans \[.*, 2.99.*\] after preprocessing; .* work in \[0, 1\]"):
        tiny_nae().fit(3 * blobs())
    with pytest.raises(ValueError, match="NaN"):
        tiny_nae().fit(np.where(np.eye(8, dtype=bool), np.nan, blobs()))
    with pytest.raises(TypeError, match="latent_chain must be a Langevin"):
        tiny_nae(latent_chain=(100.0, 1e-2, 30)).fit(blobs())


def test_plots_show_the_energies_and_the_kept_samples(fitted):
    assert len(plot_nae_energies(fitted.history_).axes) == 3
    assert len(plot_nae_samples(fitted.history_).axes) == 3 * 3


# ---------------------------------------------------------------- command
def test_nae_command_trains_scores_and_reports_with_its_training_figures(tmp_path):
    from likely.cli import main
    from likely.data import write_particles
    from likely.data.samples import load_bundled_jets

    files = [str(write_particles(tmp_path / f"{name}.h5", load_bundled_jets(name)[:100])) for name in ("qcd", "top")]
    run = tmp_path / "run"
    assert main(["-q", "detect", "nae", "train", "--data", files[0], "--out", str(run), "--pixels", "8",
                 "--power", "0.5", "--normalize", "--conv-channels", "4", "--hidden", "8", "--epochs", "1",
                 "--batch-size", "32", "--nae-steps", "3", "--nae-batch-size", "16", "--latent-steps", "2",
                 "--input-steps", "2", "--monitor-every", "2", "--spectral-norm", "encoder", "--seed", "0",
                 "--device", "cpu"]) == 0
    assert main(["-q", "detect", "nae", "score", str(run), "--data", *files]) == 0
    scores = np.load(run / "scores.npz")
    assert set(scores.files) == {"score", "label", "score_energy"} and scores["score"].shape == (200,)
    assert main(["-q", "detect", "nae", "report", str(run), "--data", *files, "--resamples", "5"]) == 0
    report = (run / "report.md").read_text()
    for figure in ("nae_energies", "nae_samples", "training"):
        assert f"![{figure}]({figure}.png)" in report and (run / f"{figure}.png").stat().st_size > 0
    model = ReconstructionDetector.load(run / "model", device="cpu").autoencoder_
    assert model.history_.steps == 3 and model.input_chain.anneal and model.latent == 3
    assert model.spectral_norm == "encoder"
