"""The conditional dual autoencoders of seed 004: shapes and parameter counts of the networks, the spatial
conditioning, the scores, the relaxed categorical latent and its KL, training, save/load and validation."""

import math

import numpy as np
import pytest
import torch

from likely.autoencoders import CoDAE, CoDVAE, reconstruction_scores
from likely.autoencoders.dual import DualNetwork, DualVariationalNetwork
from likely.autoencoders.relaxed import MixturePrior, exp_concrete_log_prob, gumbel_noise, log_gumbel_softmax
from likely.data.event_images import baseline_scores, tracker_mask
from likely.data.samples import load_bundled_event_images
from likely.nn import ResidualBlock, SpatialConditioning, Trainer, center_crop

PAPER = {"filters": (64, 128, 128, 256), "mask_filters": (64, 128, 128, 256), "decoder_filters": (256, 128, 128, 64),
         "latent_channels": 64, "groups": 4, "mask_groups": 2, "depth": 1}
PRIOR = {"tau0": 1.0, "prior_components": 5, "prior_temperatures": (0.1, 1.0), "prior_spread": 3.0}
SMALL = {"filters": (4, 8), "mask_filters": (4, 8), "latent_channels": 4, "groups": 2, "mask_groups": 2}


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _shapes(network, x, modules):
    """Output shapes (without the batch axis) of ``modules`` in one forward pass of ``network`` on ``x``."""
    shapes = []
    hooks = [m.register_forward_hook(lambda _, __, out: shapes.append(tuple(out.shape[1:]))) for m in modules]
    with torch.no_grad():
        network(x)
    for hook in hooks:
        hook.remove()
    return shapes


# ------------------------------------------------------------------ networks
def test_paper_widths_give_the_published_parameter_counts():
    net = DualNetwork((1, 58, 72), **PAPER)
    assert (_count(net.encoder), _count(net.mask_encoder), _count(net.decoder)) == (612_032, 270_594, 763_841)
    vae = DualVariationalNetwork((1, 58, 72), **PRIOR, **PAPER)
    # the seed's CoDVAE encoder: f_R with a temperature head (257) and the prior's logits (5 x 64 x 4 x 5)
    assert _count(vae.encoder) + _count(vae.temperature) + _count(vae.prior) == 618_689
    assert torch.all(net.decoder.head.bias == -1.0)


@pytest.mark.parametrize(("shape", "architecture", "encoder", "decoder"), [
    ((1, 58, 72), PAPER, [(64, 29, 36), (128, 15, 18), (128, 8, 9), (256, 4, 5)],
     [(256, 8, 10), (128, 16, 20), (128, 32, 40), (64, 64, 80)]),
    ((1, 13, 21), {"filters": (4, 8, 8), "mask_filters": (2, 4, 6), "decoder_filters": (8, 4, 4), "latent_channels": 3,
                   "groups": 2, "mask_groups": 2, "depth": 2},
     [(4, 7, 11), (8, 4, 6), (8, 2, 3)], [(8, 4, 6), (4, 8, 12), (4, 16, 24)]),
], ids=["paper-58x72", "odd-13x21"])
def test_shapes_through_every_block(shape, architecture, encoder, decoder):
    net = DualNetwork(shape, **architecture)
    x = (torch.rand(2, *shape) > 0.8).float()
    grid = encoder[-1][1:]
    depth = architecture["depth"]
    stages = [m for m in net.encoder.features if isinstance(m, ResidualBlock)][depth - 1::depth]  # each stage's last
    assert _shapes(net, x, stages) == encoder
    assert _shapes(net, x, [net.encoder]) == [(architecture["latent_channels"], *grid)]
    pools = [m for m in net.mask_encoder.body if isinstance(m, torch.nn.MaxPool2d)]
    assert _shapes(net, x, pools) == [(w, *s[1:]) for w, s in zip(architecture["mask_filters"], encoder, strict=True)]
    assert _shapes(net, x, [net.mask_encoder]) == [(2,)]
    inputs = [(architecture["latent_channels"], *grid), *decoder[:-1]]
    assert _shapes(net, x, list(net.decoder.conditioning)) == inputs
    assert _shapes(net, x, list(net.decoder.stages)) == decoder
    assert _shapes(net, x, [net.decoder]) == [shape]


def test_spatial_conditioning_is_tiled_latent_and_coordinates_through_a_conv_times_the_map():
    torch.manual_seed(0)
    layer = SpatialConditioning(3, z_features=2)
    h, z = torch.randn(2, 3, 4, 5), torch.tensor([[0.5, -2.0], [1.5, 0.25]])
    weight, bias = layer.conv.weight.detach().numpy(), layer.conv.bias.detach().numpy()
    expected = np.empty((2, 3, 4, 5), np.float32)
    for n in range(2):
        rows, cols = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 5), indexing="ij")
        inputs = np.stack([np.full((4, 5), z[n, 0]), np.full((4, 5), z[n, 1]), rows, cols])
        padded = np.pad(inputs, ((0, 0), (1, 1), (1, 1)))
        for c in range(3):
            conv = bias[c] + sum(weight[c, d, a, b] * padded[d, a:a + 4, b:b + 5]
                                 for d in range(4) for a in range(3) for b in range(3))
            expected[n, c] = h[n, c].numpy() * conv
    with torch.no_grad():
        np.testing.assert_allclose(layer(h, z).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_center_crop_keeps_the_middle():
    x = torch.arange(8 * 10).reshape(1, 1, 8, 10)
    assert torch.equal(center_crop(x, 5, 7), x[..., 1:6, 1:8])


# -------------------------------------------------------------------- scores
def test_scores_equal_their_formulas_on_hand_made_images():
    x = np.array([[[1, 0], [0, 1]], [[0, 0], [0, 0]], [[1, 1], [0, 0]]], np.float32)[:, None]
    x_hat = np.array([[[0.8, 0.1], [0.4, 0.5]], [[0, 0], [0, 0]], [[0, 0], [0.5, 0.25]]], np.float32)[:, None]
    s = reconstruction_scores(x, x_hat)
    expected = {
        "bce": [-math.log(0.8 * 0.9 * 0.6 * 0.5), 0.0, 200 - math.log(0.5 * 0.75)],  # log 0 clamped at -100
        "sse": [0.04 + 0.01 + 0.16 + 0.25, 0.0, 1 + 1 + 0.25 + 0.0625],
        "sae": [0.2 + 0.1 + 0.4 + 0.5, 0.0, 2.75],
        "sae_mask": [2.0, 0.0, 4.0],
        "dice_inv": [(0.64 + 0.01 + 0.16 + 0.25 + 2) / (2 * 1.3), 0.0, 0.0],  # 0/0 = nan and 2.3125/0 = inf -> 0
        "total": [1.8, 0.0, 0.75],
    }
    assert set(s) == set(expected)
    for name, values in expected.items():
        assert s[name].dtype == np.float32 and s[name].shape == (3,)
        np.testing.assert_allclose(s[name], values, rtol=1e-5, atol=1e-6, err_msg=name)


def test_scores_refuse_mismatched_or_out_of_range_images():
    x = np.zeros((2, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"x_hat has images of shape \(C, H, W\) = \(1, 3, 4\)"):
        reconstruction_scores(x, np.zeros((2, 1, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"x_hat must lie in \[0, 1\]"):
        reconstruction_scores(x, x + 1.5)
    with pytest.raises(ValueError, match="x_hat has 1 images"):
        reconstruction_scores(x, x[:1])


# ----------------------------------------------------- the relaxed categorical
def test_gumbel_softmax_lies_on_the_simplex_and_its_temperature_interpolates():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 5, 2, 3, generator=generator)
    noise = gumbel_noise((6, 5, 2, 3), generator=generator)
    z = log_gumbel_softmax(logits, 0.7, noise).exp()
    assert torch.all(z >= 0) and torch.allclose(z.sum(1), torch.ones(6, 2, 3))
    torch.testing.assert_close(z, torch.softmax((logits + noise) / 0.7, 1))
    cold = log_gumbel_softmax(logits, 1e-4, noise).exp()  # τ -> 0: the one-hot Gumbel-max sample
    onehot = torch.nn.functional.one_hot((logits + noise).argmax(1), 5).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(cold, onehot)
    hot = log_gumbel_softmax(logits, 1e4, noise).exp()  # τ -> ∞: uniform
    torch.testing.assert_close(hot, torch.full_like(hot, 0.2), atol=1e-3, rtol=0)


def test_the_learned_temperature_is_softplus_plus_tau0():
    net = DualVariationalNetwork((1, 16, 16), **{**PRIOR, "tau0": 0.5}, **SMALL, decoder_filters=(8, 4), depth=1)
    x = (torch.rand(3, 1, 16, 16) > 0.7).float()
    with torch.no_grad():
        _, tau = net.posterior(x)
        expected = torch.nn.functional.softplus(net.temperature(net.encoder.features(x))) + 0.5
    assert tau.shape == (3, 1, 4, 4) and torch.all(tau > 0.5)
    torch.testing.assert_close(tau, expected)


def _two_category_grid(n=400_001, half_width=60.0):
    """log z on a fine grid of the 2-category simplex, z = (σ(u), σ(−u)); the density of u is exp(log q(log z))."""
    u = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    return u, torch.log_softmax(torch.stack([u, torch.zeros_like(u)], 1), 1)[..., None, None]


def _prior(logits, temperatures):
    prior = MixturePrior((2, 1, 1), components=len(temperatures))
    with torch.no_grad():
        prior.logits.copy_(torch.tensor(logits, dtype=torch.float64)[..., None, None])
    prior.temperatures = torch.tensor(temperatures, dtype=torch.float64)
    return prior.double()


def test_relaxed_density_integrates_to_one_and_monte_carlo_kl_matches_quadrature():
    q_logits, q_tau = torch.tensor([0.5, -0.3], dtype=torch.float64)[:, None, None], 0.8
    prior = _prior([[-1.0, 1.0], [2.0, 0.0]], [0.3, 1.5])
    u, log_z = _two_category_grid()
    log_q, log_p = exp_concrete_log_prob(log_z, q_logits, q_tau)[:, 0, 0], prior.log_prob(log_z)[:, 0, 0]
    for log_density in (log_q, log_p):
        assert torch.trapezoid(log_density.exp(), u).item() == pytest.approx(1.0, abs=1e-6)
    exact = {"reverse": torch.trapezoid(log_q.exp() * (log_q - log_p), u).item(),
             "forward": torch.trapezoid(log_p.exp() * (log_p - log_q), u).item()}
    assert min(exact.values()) > 0.05

    generator = torch.Generator().manual_seed(3)
    from_q = log_gumbel_softmax(q_logits, q_tau, gumbel_noise((200_000, 2, 1, 1), generator=generator).double())
    from_p = prior.sample_log(200_000, generator=generator)
    ratios = {"reverse": exp_concrete_log_prob(from_q, q_logits, q_tau) - prior.log_prob(from_q),
              "forward": prior.log_prob(from_p) - exp_concrete_log_prob(from_p, q_logits, q_tau)}
    for name, ratio in ratios.items():
        standard_error = ratio.std().item() / math.sqrt(ratio.numel())
        assert abs(ratio.mean().item() - exact[name]) < 4 * standard_error, name


def test_kl_is_zero_when_the_prior_is_the_posterior():
    logits = torch.randn(4, 2, 3, dtype=torch.float64)
    prior = MixturePrior((4, 2, 3), components=3).double()
    with torch.no_grad():
        prior.logits.copy_(logits.expand(3, -1, -1, -1))
    prior.temperatures = torch.full((3,), 0.6, dtype=torch.float64)
    log_z = log_gumbel_softmax(logits, 0.6, gumbel_noise((50, 4, 2, 3)).double())
    torch.testing.assert_close(exp_concrete_log_prob(log_z, logits, 0.6), prior.log_prob(log_z))


# ------------------------------------------------------------ the estimators
@pytest.fixture(scope="module")
def masks():
    return tracker_mask(load_bundled_event_images("qcd").images[:100])


def _small(cls, **more):
    return cls(**SMALL, **more, trainer=Trainer(epochs=2, batch_size=50, progress=False), device="cpu", random_state=0)


@pytest.fixture(scope="module")
def trained(masks):
    torch.set_num_threads(1)
    return {cls: _small(cls).fit(masks) for cls in (CoDAE, CoDVAE)}


@pytest.mark.parametrize("cls", [CoDAE, CoDVAE], ids=lambda c: c.__name__)
def test_a_tiny_training_on_bundled_qcd_masks_gives_finite_scores_and_a_history(trained, masks, cls):
    model = trained[cls]
    assert model.history_.epochs == 2 and np.isfinite(model.history_.train_loss + model.history_.val_loss).all()
    if cls is CoDVAE:
        monitors = model.history_.monitors
        assert set(monitors) == {"reconstruction", "kl", "temperature"} and min(monitors["temperature"]) > 1.0
    scores = model.scores(masks)
    assert tuple(scores) == cls.score_names and cls.default_score in scores
    for name, values in scores.items():
        assert values.dtype == np.float32 and values.shape == (100,) and np.isfinite(values).all(), name
    assert np.array_equal(model.reconstruction_error(masks), scores[cls.default_score])
    np.testing.assert_array_equal(model.encode(masks), np.stack([scores["z_m0"], scores["z_m1"]], 1))
    part = model.scores(masks[7:12])  # an image's scores do not depend on the others in its batch
    for name in scores:  # (up to the floating-point order of batched convolutions)
        np.testing.assert_allclose(part[name], scores[name][7:12], rtol=1e-4, atol=1e-4, err_msg=name)


def test_codae_scores_are_those_of_its_reconstructions(trained, masks):
    model = trained[CoDAE]
    x_hat = model.reconstruct(masks)
    assert x_hat.shape == masks.shape and ((x_hat > 0) & (x_hat < 1)).all()
    expected, scores = reconstruction_scores(masks, x_hat), model.scores(masks)
    for name in expected:
        np.testing.assert_allclose(scores[name], expected[name], rtol=1e-5, err_msg=name)


def test_codvae_reconstructs_the_bernoulli_mode_and_scores_it(trained, masks):
    model = trained[CoDVAE]
    x_hat = model.reconstruct(masks)
    assert set(np.unique(x_hat)) <= {0.0, 1.0}
    expected, scores = reconstruction_scores(masks, x_hat), model.scores(masks)
    for name in ("sse", "sae_mask", "dice_inv", "total"):
        np.testing.assert_allclose(scores[name], expected[name], rtol=1e-5, err_msg=name)
    np.testing.assert_array_equal(expected["sae"], expected["sse"])  # why the seed leaves SAE out


@pytest.mark.parametrize("cls", [CoDAE, CoDVAE], ids=lambda c: c.__name__)
def test_save_and_load_give_identical_scores(trained, masks, cls, tmp_path):
    model = trained[cls]
    loaded = cls.load(model.save(tmp_path / "model"), device="cpu")
    before, after = model.scores(masks), loaded.scores(masks)
    assert all(np.array_equal(before[name], after[name]) for name in cls.score_names)


def test_bad_inputs_and_settings_are_refused_by_name(trained, masks):
    model = trained[CoDAE]
    np.testing.assert_array_equal(model.scores(masks[:, 0])["bce"], model.scores(masks)["bce"])  # (N, H, W): 1 channel
    with pytest.raises(ValueError, match=r"X must be images \(N, C, H, W\) of shape \(1, 58, 72\)"):
        model.scores(masks[:, 0, 0])
    with pytest.raises(ValueError, match=r"X has images of shape \(C, H, W\) = \(1, 58, 71\)"):
        model.scores(masks[..., :71])
    with pytest.raises(ValueError, match="CoDAE is convolutional"):
        CoDAE(**SMALL).fit(masks[:, 0, 0])
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        model.scores(masks * 2)
    with pytest.raises(ValueError, match="X contains 1 non-finite"):
        model.scores(np.where(np.arange(masks.size).reshape(masks.shape) == 0, np.nan, masks))
    with pytest.raises(ValueError, match="cond was given, but CoDAE takes no condition"):
        model.reconstruction_error(masks, cond=np.zeros(100))
    with pytest.raises(ValueError, match="every width of filters must divide into groups=4"):
        CoDAE(filters=(4, 6), mask_filters=(4, 8), groups=4, mask_groups=2).fit(masks[:4])
    with pytest.raises(ValueError, match="decoder_filters must have as many stages as filters"):
        CoDAE(**SMALL, decoder_filters=(8,)).fit(masks[:4])
    with pytest.raises(ValueError, match="prior_temperatures"):
        CoDVAE(**SMALL, prior_temperatures=(1.0, 0.5)).fit(masks[:4])
    with pytest.raises(TypeError, match="latent_channels"):
        CoDAE(latent_channels=2.5).fit(masks[:4])


def test_unfitted_models_refuse_to_score(masks):
    with pytest.raises(ValueError, match="not fitted"):
        CoDAE().scores(masks)


def test_the_seed_baselines_are_tracks_and_channel_energies():
    images = load_bundled_event_images("suep400")
    scores = baseline_scores(images)
    assert np.array_equal(scores["tracks"], images.n_tracks)
    np.testing.assert_allclose(scores["trk"] + scores["ecal"] + scores["hcal"], scores["sum"])
    np.testing.assert_allclose(scores["hcal"], images.images[:, 2].sum((1, 2)), rtol=1e-5)
    with pytest.raises(TypeError, match="EventImages"):
        baseline_scores(images.images)
