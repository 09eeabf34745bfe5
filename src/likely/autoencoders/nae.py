"""The normalized autoencoder (NAE): an autoencoder whose reconstruction error is a normalized energy.

Yoon, Noh & Park, "Autoencoding under normalization constraints" (ICML 2021); on jet images
Dillon, Favaro, Plehn, Sorrenson & Krämer, arXiv:2206.14225 (seed 003, Sec. 5.2, Tab. 5.1).
The energy of an object is its reconstruction error, E(x) = mean over entries of
(x − f_D(f_E(x)))², with the encoder's output projected onto the unit sphere S^{D_z−1}, and
p(x) ∝ exp(−E(x) / T). After plain autoencoder training, the NAE loss
E(x⁺) − E(x⁻) + γ (E(x⁺)² + E(x⁻)²) lowers the energy of data x⁺ and raises it for negative
samples x⁻ of the model (:mod:`likely.autoencoders.langevin`: a latent chain on the sphere,
decoded, then a chain in input space), so that the density is normalized. See docs/nae.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from likely._checks import (
    check_array, check_cond, check_fitted, fraction, instance, options, positive, seed, validate_params, widths,
)
from likely._persist import Saveable
from likely.autoencoders.langevin import Langevin, ReplayBuffer, langevin_chain, to_sphere
from likely.nn import (
    MLP, ConvDecoder, ConvEncoder, History, Trainer, batch_slices, progress_bar, resolve_device, seeded,
    spectral_normalized, to_numpy, to_tensor,
)

__all__ = ["NAEHistory", "NormalizedAutoencoder"]

log = logging.getLogger(__name__)

_BATCH = 4096


@dataclass
class NAEHistory:
    """What a fit of :class:`NormalizedAutoencoder` records, to see whether the sampler collapsed.

    Attributes
    ----------
    pretraining : History
        Per-epoch losses (mean energy) of the plain autoencoder training.
    loss, positive_energy, negative_energy : ndarray (S,) float32
        Per NAE step: E⁺ − E⁻ (without the regularization terms), mean energy of the data
        batch E⁺ and of the negative samples E⁻.
    latent_acceptance, input_acceptance : ndarray (S,) float32
        Per NAE step: the chains' mean Metropolis acceptance rates (1 without the test).
    sample_steps : ndarray (K,) int64
        The NAE steps at which negative samples were kept.
    samples : ndarray (K, m, ...) float32
        ``m`` negative samples at each of those steps, in the network's units (preprocessed).
    """

    pretraining: History = field(default_factory=History)
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    positive_energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    negative_energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    latent_acceptance: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    input_acceptance: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    sample_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    @property
    def steps(self) -> int:
        return len(self.loss)


class _Network(nn.Module):
    """Spectrally normalized encoder → unit sphere → decoder (sigmoid output); images or vectors."""

    def __init__(self, shape: tuple[int, ...], latent: int, channels: Sequence[int], hidden: Sequence[int],
                 activation: str) -> None:
        super().__init__()
        back = tuple(reversed(hidden))
        if len(shape) == 1:
            self.encoder = spectral_normalized(MLP(shape[0], latent, hidden, activation))
            self.decoder = spectral_normalized(nn.Sequential(MLP(latent, shape[0], back, activation), nn.Sigmoid()))
        else:
            self.encoder = ConvEncoder(shape, latent, channels, hidden, activation, spectral_norm=True)
            self.decoder = ConvDecoder(latent, shape, tuple(reversed(channels)), back, activation, "sigmoid",
                                       spectral_norm=True)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return to_sphere(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction MSE of each object, (N,)."""
        return (x - self.decode(self.encode(x))).square().flatten(1).mean(1)

    def latent_energy(self, z: torch.Tensor) -> torch.Tensor:
        """H(z) = E(f_D(z)), (N,)."""
        return self.energy(self.decode(z))


class NormalizedAutoencoder(Saveable, BaseEstimator):
    """Normalized autoencoder: anomaly score = energy = reconstruction MSE of a normalized model.

    Objects are images (N, H, W) or (N, C, H, W), through spectrally normalized convolutional
    encoder and decoder (:class:`~likely.nn.ConvEncoder`), or vectors (N, D), through MLPs.
    Training: the plain autoencoder (MSE) with ``pretrainer``, then ``steps`` NAE steps, each
    with a batch of data and as many negative samples from the sampler (module docstring).
    Defaults are seed 003's Tab. 5.1 (docs/nae.md).

    Parameters
    ----------
    latent : int
        Latent dimension D_z; codes lie on the unit sphere S^{D_z−1}.
    channels : sequence of int
        Filters of the encoder's stride-2 convolution stages (the decoder mirrors them); images only.
    hidden : sequence of int
        Hidden widths of the dense layers between the convolutions and the latent space
        (of the whole encoder for vectors); the decoder mirrors them.
    activation : str
        Hidden activation (seed: PReLU).
    normalize : {"sum", "minmax", None}
        Before the network: each object divided by its sum (non-negative images, e.g. jet pT),
        each entry scaled to [0, 1] over the training data, or nothing (X must lie in [0, 1]).
    power : float or None
        Then every entry x → x**power (pTⁿ remapping, seed: n = 0.2); needs x ≥ 0.
    pretrainer : Trainer or None
        Plain autoencoder training; None: 300 epochs of batch 2048 at learning rate 1e-3.
    steps : int
        NAE steps (seed: 40k).
    batch_size : int
        Data objects and negative samples per NAE step (seed: 128).
    lr : float
        Adam learning rate of the NAE steps (seed: 1e-5).
    energy_l2 : float
        γ of the energy regularization γ (⟨E(x⁺)²⟩ + ⟨E(x⁻)²⟩).
    weight_l2 : float
        Coefficient of Σ θ² over the network weights added to the NAE loss (seed: 1e-8).
    latent_chain, input_chain : Langevin
        The samplers (seed: λ 100 | 50, σ 1e-2 | 1e-4, 30 | 30 steps, Metropolis test on
        both, noise annealing in input space, gradients clipped to 0.01).
    buffer_size : int
        Final latent points kept in the replay buffer (seed: 10000; 0: no replay).
    replay_ratio : float
        Probability that a latent chain starts from the buffer rather than uniformly on the sphere.
    monitor_every : int
        Keep ``monitor_samples`` negative samples every this many NAE steps (in ``history_``).
    monitor_samples : int
        Negative samples kept each time.
    progress : bool
        Show progress bars.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, shuffling and the samplers.

    Attributes
    ----------
    shape_ : tuple of int
        Shape of one object as given to :meth:`fit`.
    minimum_, range_ : ndarray or None
        The per-entry scaling of ``normalize="minmax"``.
    model_ : torch.nn.Module
        Encoder and decoder.
    history_ : NAEHistory
        Pre-training losses, per-step energies, losses and acceptance rates, kept negative samples.
    replay_buffer_ : ndarray (n, latent) float32
        The replay buffer at the end of training (starting points of :meth:`sample`).
    device_ : torch.device
    """

    score_names: ClassVar[tuple[str, ...]] = ("energy",)
    default_score: ClassVar[str] = "energy"
    _parameter_constraints = {
        "latent": positive(integer=True),
        "channels": widths(),
        "hidden": widths(),
        "activation": instance(str),
        "normalize": options("sum", "minmax", None),
        "power": positive() | None,
        "pretrainer": instance(Trainer) | None,
        "steps": positive(integer=True, allow_zero=True),
        "batch_size": positive(integer=True),
        "lr": positive(),
        "energy_l2": positive(allow_zero=True),
        "weight_l2": positive(allow_zero=True),
        "latent_chain": instance(Langevin),
        "input_chain": instance(Langevin),
        "buffer_size": positive(integer=True, allow_zero=True),
        "replay_ratio": fraction(),
        "monitor_every": positive(integer=True),
        "monitor_samples": positive(integer=True, allow_zero=True),
        "progress": instance(bool),
        "device": instance(str, torch.device),
        "random_state": seed(),
    }

    def __init__(
        self,
        *,
        latent: int = 3,
        channels: Sequence[int] = (8, 8, 8, 8),
        hidden: Sequence[int] = (100,),
        activation: str = "prelu",
        normalize: str | None = "sum",
        power: float | None = None,
        pretrainer: Trainer | None = None,
        steps: int = 40000,
        batch_size: int = 128,
        lr: float = 1e-5,
        energy_l2: float = 1.0,
        weight_l2: float = 1e-8,
        latent_chain: Langevin = Langevin(step=100.0, noise=1e-2, steps=30),
        input_chain: Langevin = Langevin(step=50.0, noise=1e-4, steps=30, anneal=True),
        buffer_size: int = 10000,
        replay_ratio: float = 0.95,
        monitor_every: int = 1000,
        monitor_samples: int = 8,
        progress: bool = True,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.latent = latent
        self.channels = channels
        self.hidden = hidden
        self.activation = activation
        self.normalize = normalize
        self.power = power
        self.pretrainer = pretrainer
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.energy_l2 = energy_l2
        self.weight_l2 = weight_l2
        self.latent_chain = latent_chain
        self.input_chain = input_chain
        self.buffer_size = buffer_size
        self.replay_ratio = replay_ratio
        self.monitor_every = monitor_every
        self.monitor_samples = monitor_samples
        self.progress = progress
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ public
    def fit(self, X: Any, cond: Any = None) -> NormalizedAutoencoder:
        """Train on objects ``X`` (N, D), (N, H, W) or (N, C, H, W); ``cond`` must be None."""
        validate_params(self)
        X = _check_objects(X)
        check_cond(cond, len(X), n_features=0)
        self.shape_ = X.shape[1:]
        self.device_ = resolve_device(self.device)
        self._fit_scaling(X)
        x = self._network_input(X)
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > 1:
            raise ValueError(f"X lies in [{low:.4g}, {high:.4g}] after preprocessing, but the NAE works on [0, 1]: "
                             "pass normalize='sum' (non-negative images) or 'minmax', or scale X into [0, 1]")
        with seeded(self.random_state):
            self.model_ = self.init_module("model_").to(self.device_)
            trainer = self.pretrainer if self.pretrainer is not None else Trainer(
                epochs=300, batch_size=2048, lr=1e-3, schedule="constant", patience=None, progress=self.progress)
            pretraining = trainer.fit(self.model_, lambda batch: self.model_.energy(batch).mean(), (x,),
                                      random_state=self.random_state)
            generator = torch.Generator(device=self.device_).manual_seed(int(torch.randint(2**62, ())))
        self.history_ = NAEHistory(pretraining=pretraining)
        buffer = ReplayBuffer(self.buffer_size, self.latent, self.device_)
        self._train_nae(x, buffer, generator)
        self.replay_buffer_ = to_numpy(buffer.points)
        self.model_.eval()
        return self

    def energy(self, X: Any) -> np.ndarray:
        """E(x): reconstruction MSE of each object in the network's units, (N,) float32."""
        x = self._prepare(X)
        out = np.empty(len(x), np.float32)
        with torch.no_grad():
            for start, stop in batch_slices(len(x), _BATCH):
                out[start:stop] = to_numpy(self.model_.energy(x[start:stop]))
        return out

    def reconstruction_error(self, X: Any, cond: Any = None) -> np.ndarray:
        """The energy of each object, (N,) float32 (the autoencoder contract; ``cond`` must be None)."""
        check_fitted(self, "model_")
        X = _check_objects(X, self.shape_)
        check_cond(cond, len(X), n_features=0)
        return self.energy(X)

    def scores(self, X: Any) -> dict[str, np.ndarray]:
        """Every anomaly score of each object, higher = more anomalous: ``{"energy": (N,)}``."""
        return {"energy": self.energy(X)}

    def preprocess(self, X: Any) -> np.ndarray:
        """``X`` as the network sees it (normalized, remapped), same shape, float32."""
        return to_numpy(self._prepare(X)).reshape(-1, *self.shape_)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions f_D(f_E(x)) in the network's units (compare with :meth:`preprocess`), shape of ``X``."""
        return self._apply(X, lambda x: self.model_.decode(self.model_.encode(x))).reshape(-1, *self.shape_)

    def encode(self, X: Any) -> np.ndarray:
        """Latent codes on the unit sphere, (N, latent) float32."""
        return self._apply(X, self.model_.encode)

    def sample(self, n: int, *, random_state: int | None = None) -> np.ndarray:
        """``n`` negative samples from the trained sampler, (n, ...) in the network's units.

        The latent chains start from the saved replay buffer (or uniformly on the sphere).
        """
        check_fitted(self, "model_")
        generator = torch.Generator(device=self.device_)
        if random_state is not None:
            generator.manual_seed(int(random_state))
        else:
            generator.seed()
        buffer = ReplayBuffer(self.buffer_size, self.latent, self.device_)
        buffer.push(to_tensor(self.replay_buffer_, self.device_))
        x, _ = self._negatives(buffer, n, generator)
        return to_numpy(x).reshape(-1, *self.shape_)

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``) with the fitted sizes, also to load saved weights into."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self._network_shape(), self.latent, tuple(self.channels), tuple(self.hidden),
                        self.activation)

    # ------------------------------------------------------------- NAE phase
    def _train_nae(self, x: torch.Tensor, buffer: ReplayBuffer, generator: torch.Generator) -> None:
        """``steps`` NAE steps on the data ``x``, recording ``history_``."""
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.lr)
        batch = min(self.batch_size, len(x))
        records: dict[str, list] = {key: [] for key in ("loss", "positive_energy", "negative_energy",
                                                       "latent_acceptance", "input_acceptance")}
        kept_steps, kept = [], []
        order, position = None, len(x)
        bar = progress_bar(range(self.steps), desc="NAE", enabled=self.progress)
        for step in bar:
            if position + batch > len(x):
                order, position = torch.randperm(len(x), generator=generator, device=self.device_), 0
            positive = x[order[position:position + batch]]
            position += batch
            negative, acceptance = self._negatives(buffer, batch, generator)
            e_pos, e_neg = self._nae_update(optimizer, positive, negative, step)
            values = (e_pos - e_neg, e_pos, e_neg, *acceptance)
            for key, value in zip(records, values):
                records[key].append(value)
            if step % self.monitor_every == 0:
                kept_steps.append(step)
                kept.append(to_numpy(negative[:self.monitor_samples]).reshape(-1, *self.shape_))
                log.info("NAE step %d: E+ %.4g, E- %.4g, acceptance %.2f (latent) %.2f (input)", step, e_pos, e_neg,
                         *acceptance)
            bar.set_postfix({"E+": f"{e_pos:.3g}", "E-": f"{e_neg:.3g}"}, refresh=False)
        bar.close()
        history = self.history_
        for key, values in records.items():
            setattr(history, key, np.asarray(values, np.float32))
        history.sample_steps = np.asarray(kept_steps, np.int64)
        history.samples = np.stack(kept) if kept else np.zeros((0, 0, *self.shape_), np.float32)

    def _negatives(self, buffer: ReplayBuffer, n: int, generator: torch.Generator) -> tuple[torch.Tensor, tuple]:
        """On-manifold negative samples: latent chain on the sphere from the buffer, decode, input chain."""
        self.model_.eval()
        start = buffer.draw(n, self.replay_ratio, generator)
        z, latent_rate = langevin_chain(start, self.model_.latent_energy, self.latent_chain, project=to_sphere,
                                        generator=generator)
        buffer.push(z)
        with torch.no_grad():
            x0 = self.model_.decode(z)
        x, input_rate = langevin_chain(x0, self.model_.energy, self.input_chain, project=lambda v: v.clamp(0, 1),
                                       generator=generator)
        return x, (latent_rate, input_rate)

    def _nae_update(self, optimizer: torch.optim.Optimizer, positive: torch.Tensor, negative: torch.Tensor,
                    step: int) -> tuple[float, float]:
        """One gradient step on the NAE loss; returns the mean positive and negative energies."""
        self.model_.train()
        energies = self.model_.energy(torch.cat([positive, negative]))
        e_pos, e_neg = energies[:len(positive)], energies[len(positive):]
        weights = sum(p.square().sum() for p in self.model_.parameters())
        loss = (e_pos.mean() - e_neg.mean() + self.energy_l2 * (e_pos.square().mean() + e_neg.square().mean())
                + self.weight_l2 * weights)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the NAE loss became {loss.item()} at step {step}: lower lr or the chains' "
                                     "step sizes, and look at history_ for a collapsing sampler")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return e_pos.mean().item(), e_neg.mean().item()

    # ----------------------------------------------------------------- helpers
    def _network_shape(self) -> tuple[int, ...]:
        return (1, *self.shape_) if len(self.shape_) == 2 else tuple(self.shape_)

    def _fit_scaling(self, X: np.ndarray) -> None:
        self.minimum_ = self.range_ = None
        if self.normalize == "minmax":
            self.minimum_ = X.min(0)
            spread = X.max(0) - self.minimum_
            self.range_ = np.where(spread > 0, spread, 1).astype(np.float32)

    def _prepare(self, X: Any) -> torch.Tensor:
        """Validated ``X`` as the network's input tensor."""
        check_fitted(self, "model_")
        return self._network_input(_check_objects(X, self.shape_))

    def _network_input(self, X: np.ndarray) -> torch.Tensor:
        """Normalization and power remapping of validated ``X``; (N, *network shape) on the device."""
        if self.normalize == "sum":
            totals = X.reshape(len(X), -1).sum(1)
            if (X < 0).any() or (totals <= 0).any():
                raise ValueError("X: normalize='sum' needs non-negative objects with a positive sum; "
                                 f"found {np.count_nonzero((X < 0).reshape(len(X), -1).any(1) | (totals <= 0))} "
                                 "that are not (use normalize='minmax' or None)")
            X = X / totals.reshape(-1, *[1] * (X.ndim - 1))
        elif self.normalize == "minmax":
            X = (X - self.minimum_) / self.range_
        if self.power is not None:
            if (X < 0).any():
                raise ValueError(f"X has {np.count_nonzero(X < 0)} negative entries after normalization, "
                                 f"and power={self.power} needs x >= 0")
            X = X**self.power
        return to_tensor(np.ascontiguousarray(X, np.float32), self.device_).reshape(-1, *self._network_shape())

    def _apply(self, X: Any, function) -> np.ndarray:
        x = self._prepare(X)
        with torch.no_grad():
            return np.concatenate([to_numpy(function(x[start:stop])) for start, stop in batch_slices(len(x), _BATCH)])


def _check_objects(X: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``X`` as float32 (N, D), (N, H, W) or (N, C, H, W), finite, with objects of ``shape`` if given."""
    ndim = np.ndim(X)
    if ndim not in (2, 3, 4):
        raise ValueError(f"X must be vectors (N, D) or images (N, H, W) or (N, C, H, W); got shape {np.shape(X)}")
    X = check_array(X, "X", ndim=ndim)
    if shape is not None and X.shape[1:] != tuple(shape):
        raise ValueError(f"X holds objects of shape {X.shape[1:]}, but the model was fitted on {tuple(shape)}")
    return X
