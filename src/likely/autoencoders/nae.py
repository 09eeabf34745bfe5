"""The normalized autoencoder (NAE): an autoencoder whose reconstruction error is a normalized energy.

Yoon, Noh & Park, "Autoencoding under normalization constraints" (ICML 2021); on jet images
Dillon, Favaro, Plehn, Sorrenson & Krämer, arXiv:2206.14225 (seed 003, Sec. 5.2, Tab. 5.1).
The energy of an object is its reconstruction error, E(x) = mean over entries of
(x − f_D(f_E(x)))², with the encoder's output projected onto the unit sphere S^{D_z−1}, and
p(x) ∝ exp(−E(x) / T). After plain autoencoder training, the NAE loss
E(x⁺) − E(x⁻) + γ (E(x⁺)² + E(x⁻)²) lowers the energy of data x⁺ and raises it for negative
samples x⁻ of the model (:mod:`likely.autoencoders.langevin`: a latent chain on the sphere,
decoded, then a chain in input space), so that the density is normalized. See
docs/autoencoders.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from likely._checks import check_fitted, check_inputs, fraction, instance, options, positive
from likely.autoencoders.autoencoder import BACKBONE_CONSTRAINTS
from likely.autoencoders.base import BaseAutoencoder
from likely.autoencoders.langevin import Langevin, ReplayBuffer, langevin_chain, to_sphere
from likely.nn import History, Trainer, build_decoder, build_encoder, progress_bar, to_numpy, to_tensor

__all__ = ["NAEHistory", "NormalizedAutoencoder"]

log = logging.getLogger(__name__)


def _empty(dtype=np.float32) -> np.ndarray:
    return np.zeros(0, dtype)


@dataclass
class NAEHistory(History):
    """The record of a :class:`NormalizedAutoencoder` fit, to see whether the sampler collapsed.

    The fields of :class:`~likely.nn.History` (``train_loss``, ``val_loss``, ... per epoch)
    are those of the plain autoencoder training (the mean energy); then per NAE step:

    Attributes
    ----------
    nae_loss, positive_energy, negative_energy : ndarray (S,) float32
        E⁺ − E⁻ (without the regularization terms), the mean energy of the data batch E⁺
        and of the negative samples E⁻.
    latent_acceptance, input_acceptance : ndarray (S,) float32
        The chains' mean Metropolis acceptance rates (1 without the test; NaN for a chain that did not run).
    sample_steps : ndarray (K,) int64
        The NAE steps at which negative samples were kept.
    samples : ndarray (K, m, *input_shape_) float32
        ``m`` negative samples at each of those steps, in the preprocessed units.
    """

    nae_loss: np.ndarray = field(default_factory=_empty)
    positive_energy: np.ndarray = field(default_factory=_empty)
    negative_energy: np.ndarray = field(default_factory=_empty)
    latent_acceptance: np.ndarray = field(default_factory=_empty)
    input_acceptance: np.ndarray = field(default_factory=_empty)
    sample_steps: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    samples: np.ndarray = field(default_factory=_empty)

    @property
    def steps(self) -> int:
        """Number of NAE steps recorded."""
        return len(self.nae_loss)


class _Network(nn.Module):
    """Encoder → unit sphere → decoder with the ``output`` activation; ``spectral_norm`` says which are spectrally
    normalized."""

    def __init__(self, shape, latent, channels, hidden, activation, spectral_norm, output):
        super().__init__()
        self.encoder = build_encoder(shape, latent, channels=channels, hidden=hidden, activation=activation,
                                     spectral_norm=spectral_norm != "none")
        self.decoder = build_decoder(latent, shape, channels=channels[::-1], hidden=hidden[::-1],
                                     activation=activation, output=output, spectral_norm=spectral_norm == "all")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return to_sphere(self.encoder(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """E(x): reconstruction MSE of each object, (N,)."""
        return (x - self.reconstruct(x)).square().flatten(1).mean(1)

    def latent_energy(self, z: torch.Tensor) -> torch.Tensor:
        """H(z) = E(f_D(z)), (N,)."""
        return self.energy(self.decoder(z))


class NormalizedAutoencoder(BaseAutoencoder):
    """Normalized autoencoder: anomaly score = energy = reconstruction MSE of a normalized model.

    Objects are vectors (N, D) (MLPs) or images (N, C, H, W) / (N, H, W) (the convolutional
    backbone), every layer spectrally normalized, with values in [0, 1] after the
    preprocessing (the decoder's sigmoid range, where the sampler keeps its samples).
    Training: the plain autoencoder on the MSE with ``trainer``, then ``steps`` NAE steps,
    each on a batch of data and as many negative samples (module docstring). Defaults are
    seed 003's Tab. 5.1 (docs/autoencoders.md). Score: ``"energy"``.

    Parameters
    ----------
    latent : int
        Latent dimension D_z; codes lie on the unit sphere S^{D_z−1} (seed: 3).
    channels : sequence of int
        Filters of the encoder's stride-2 convolution stages (images only); the decoder mirrors them.
    hidden : sequence of int
        Dense widths after the convolutions (images) or of the MLP (vectors); mirrored in the decoder.
    activation : str
        Hidden activation (seed: PReLU).
    spectral_norm : {"all", "encoder", "none"}
        Which layers are spectrally normalized (seed: all; "encoder" leaves the decoder free,
        e.g. for unbounded representations).
    output : {"sigmoid", "none"}
        The decoder's output: in [0, 1] (images; the data must lie there) or unbounded
        (vectors such as learned representations, DarkCLR).
    sampler : {"on-manifold", "data"}
        Where the negative samples' chains start: the latent chain on the sphere (from the
        replay buffer), decoded, then the input chain (seed 003's on-manifold
        initialization); or the input chain from the data batch itself (contrastive
        divergence, DarkCLR's NAE on representations; no latent chain, no buffer).
    power : float or None
        pTⁿ remapping ``x → x ** power`` before the network (seed: n = 0.2 for dark jets).
    normalize : bool
        Divide each object by its sum after the remapping.
    trainer : Trainer or None
        The plain autoencoder training; None: 300 epochs of batch 2048 at learning rate 1e-3.
    steps : int
        NAE steps (seed: 40k).
    batch_size : int
        Data objects and negative samples per NAE step (seed: 128).
    lr : float
        Adam learning rate of the NAE steps (seed: 1e-5).
    energy_l2 : float
        γ of the energy regularization γ (⟨E(x⁺)²⟩ + ⟨E(x⁻)²⟩).
    weight_l2 : float
        Coefficient of Σ θ² over the network's parameters, added to the NAE loss (seed: 1e-8).
    latent_chain, input_chain : Langevin
        The samplers (seed: λ 100 | 50, σ 1e-2 | 1e-4, 30 | 30 steps, Metropolis test on
        both, noise annealing in input space; gradients clipped to norm 0.01).
    buffer_size : int
        Final latent points kept in the replay buffer (seed: 10000; 0: no replay).
    replay_ratio : float
        Probability that a latent chain starts from the buffer rather than uniformly on the sphere.
    monitor_every : int
        Keep ``monitor_samples`` negative samples every this many NAE steps (in ``history_``).
    monitor_samples : int
        Negative samples kept each time.
    warm_start : bool
        When fitted already, ``fit`` keeps the network and its replay buffer, skips the
        pre-training and runs ``steps`` more NAE steps, appended to ``history_``: pre-train
        once with ``steps=0``, keep that autoencoder (``copy.deepcopy``), then
        ``set_params(steps=..., warm_start=True).fit(X)``.
    progress : bool
        Show progress bars.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds initialization, shuffling and the samplers.

    Attributes
    ----------
    input_shape_, n_features_in_, device_, model_
        As in :class:`BaseAutoencoder`.
    history_ : NAEHistory
        Pre-training losses per epoch; per NAE step energies, loss, acceptance; kept negative samples.
    replay_buffer_ : ndarray (n, latent) float32
        The replay buffer at the end of training (where :meth:`sample` starts).
    """

    score_names = ("energy",)
    default_score = "energy"
    _parameter_constraints = {
        **{name: BACKBONE_CONSTRAINTS[name] for name in ("latent", "channels", "hidden", "activation", "normalize")},
        "spectral_norm": options("all", "encoder", "none"),
        "output": options("sigmoid", "none"),
        "sampler": options("on-manifold", "data"),
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
        "warm_start": instance(bool),
        "progress": instance(bool),
    }

    def __init__(
        self,
        *,
        latent: int = 3,
        channels: Sequence[int] = (8, 8, 8, 8),
        hidden: Sequence[int] = (100,),
        activation: str = "prelu",
        spectral_norm: str = "all",
        output: str = "sigmoid",
        sampler: str = "on-manifold",
        power: float | None = None,
        normalize: bool = False,
        trainer: Trainer | None = None,
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
        warm_start: bool = False,
        progress: bool = True,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.latent = latent
        self.channels = channels
        self.hidden = hidden
        self.activation = activation
        self.spectral_norm = spectral_norm
        self.output = output
        self.sampler = sampler
        self.power = power
        self.normalize = normalize
        self.trainer = trainer
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
        self.warm_start = warm_start
        self.progress = progress
        self.device = device
        self.random_state = random_state

    def fit(self, X: Any, cond: Any = None) -> NormalizedAutoencoder:
        """Pre-train the autoencoder on ``X``, then run the NAE steps (only those with a warm start)."""
        if self._warm():
            shape = check_inputs(X, "X").shape[1:]
            if shape != self.input_shape_:
                raise ValueError(f"warm_start=True: X holds objects of shape {shape}, the fitted network "
                                 f"takes {self.input_shape_}")
            kept = self.history_.samples.shape[1]
            if len(self.history_.samples) and min(self.monitor_samples, self.batch_size) != kept:
                raise ValueError(f"warm_start=True: monitor_samples (and batch_size) must keep {kept} negative "
                                 "samples per kept step, as the first fit did")
        return super().fit(X, cond)

    def sample(self, n: int, *, random_state: int | None = None) -> np.ndarray:
        """``n`` negative samples of the trained sampler, (n, *input_shape_) in the preprocessed units.

        The latent chains start from the replay buffer of the training (or uniformly on the sphere).
        """
        check_fitted(self, "model_")
        if self.sampler == "data":
            raise ValueError("sample needs sampler='on-manifold': with sampler='data' the chains start from data")
        generator = torch.Generator(device=self.device_)
        if random_state is None:
            generator.seed()
        else:
            generator.manual_seed(int(random_state))
        buffer = ReplayBuffer(self.buffer_size, self.latent, self.device_)
        buffer.push(to_tensor(self.replay_buffer_, self.device_))
        x, _ = self._negatives(buffer, n, generator)
        return to_numpy(x).reshape(-1, *self.input_shape_)

    def init_module(self, name: str) -> nn.Module:
        """The untrained network (``model_``) for ``input_shape_``."""
        if name != "model_":
            return super().init_module(name)
        return _Network(self.input_shape_, self.latent, tuple(self.channels), tuple(self.hidden), self.activation,
                        self.spectral_norm, self.output)

    # ------------------------------------------------------------------ hooks
    def _check_training_inputs(self, x: torch.Tensor) -> None:
        if self.output != "sigmoid":
            return
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > 1:
            raise ValueError(f"X spans [{low:g}, {high:g}] after preprocessing; the NAE's sigmoid decoder and "
                             "its sampler work in [0, 1] (use normalize=True or scale X into [0, 1])")

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_.energy(x).mean()

    def _scores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"energy": self.model_.energy(x)}

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_.reconstruct(x)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_.encode(x)

    def _warm(self) -> bool:
        """Whether ``fit`` continues the fitted network (``warm_start``) rather than starting anew."""
        return self.warm_start and hasattr(self, "history_")

    def _start_module(self, x: torch.Tensor) -> nn.Module:
        return self.model_ if self._warm() else super()._start_module(x)

    def _decoder_output(self) -> str:
        return self.output

    def _train(self, x: torch.Tensor) -> NAEHistory:
        """The plain autoencoder on the MSE, then the NAE steps (only those with a warm start)."""
        buffer = ReplayBuffer(self.buffer_size, self.latent, self.device_)
        if self._warm():
            previous = self.history_
            buffer.push(to_tensor(self.replay_buffer_, self.device_))
        else:
            trainer = self.trainer if self.trainer is not None else Trainer(
                epochs=300, batch_size=2048, lr=1e-3, schedule="constant", patience=None, progress=self.progress)
            pretraining = trainer.fit(self.model_, self._loss, (x,), random_state=self.random_state)
            previous = NAEHistory(**{f.name: getattr(pretraining, f.name) for f in fields(History)})
        generator = torch.Generator(device=self.device_).manual_seed(int(torch.randint(2**62, ())))
        nae = self._train_nae(x, buffer, generator, first_step=previous.steps)
        self.replay_buffer_ = to_numpy(buffer.points)
        merged = {name: np.concatenate([getattr(previous, name), values]) if len(getattr(previous, name)) else values
                  for name, values in nae.items()}
        return NAEHistory(**{f.name: getattr(previous, f.name) for f in fields(History)}, **merged)

    # -------------------------------------------------------------- NAE phase
    def _train_nae(self, x: torch.Tensor, buffer: ReplayBuffer, generator: torch.Generator, first_step: int = 0
                   ) -> dict:
        """``steps`` NAE steps on the data ``x``, numbered from ``first_step``; returns the per-step
        records of :class:`NAEHistory`."""
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.lr)
        batch = min(self.batch_size, len(x))
        names = ("nae_loss", "positive_energy", "negative_energy", "latent_acceptance", "input_acceptance")
        records: dict[str, list] = {name: [] for name in names}
        kept_steps, kept = [], []
        order, position = None, len(x)
        bar = progress_bar(range(first_step, first_step + self.steps), desc="NAE", enabled=self.progress)
        for step in bar:
            if position + batch > len(x):
                order, position = torch.randperm(len(x), generator=generator, device=self.device_), 0
            positive = x[order[position:position + batch]]
            position += batch
            negative, acceptance = self._negatives(buffer, batch, generator, positive)
            e_pos, e_neg = self._nae_update(optimizer, positive, negative, step)
            for name, value in zip(names, (e_pos - e_neg, e_pos, e_neg, *acceptance)):
                records[name].append(value)
            if step % self.monitor_every == 0:
                kept_steps.append(step)
                kept.append(to_numpy(negative[:self.monitor_samples]))
                log.info("NAE step %d: E+ %.4g, E- %.4g, acceptance %.2f (latent) %.2f (input)", step, e_pos, e_neg,
                         *acceptance)
            bar.set_postfix({"E+": f"{e_pos:.3g}", "E-": f"{e_neg:.3g}"}, refresh=False)
        bar.close()
        shape = (len(kept), min(self.monitor_samples, batch), *self.input_shape_)
        return {**{name: np.asarray(values, np.float32) for name, values in records.items()},
                "sample_steps": np.asarray(kept_steps, np.int64),
                "samples": np.stack(kept).reshape(shape) if kept else np.zeros(shape, np.float32)}

    def _negatives(self, buffer: ReplayBuffer, n: int, generator: torch.Generator,
                   data: torch.Tensor | None = None) -> tuple[torch.Tensor, tuple]:
        """Negative samples: on-manifold (a latent chain on the sphere from the buffer, decoded, then an
        input chain), or with ``sampler="data"`` an input chain from the ``data`` batch."""
        self.model_.eval()
        if self.sampler == "data":
            x0, latent_rate = data, float("nan")
        else:
            start = buffer.draw(n, self.replay_ratio, generator)
            z, latent_rate = langevin_chain(start, self.model_.latent_energy, self.latent_chain, project=to_sphere,
                                            generator=generator)
            buffer.push(z)
            with torch.no_grad():
                x0 = self.model_.decoder(z)
        project = (lambda v: v.clamp(0, 1)) if self.output == "sigmoid" else None
        x, input_rate = langevin_chain(x0, self.model_.energy, self.input_chain, project=project, generator=generator)
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
