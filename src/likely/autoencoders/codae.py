"""Conditional dual autoencoders of images (seed 004): :class:`CoDAE` and the categorical :class:`CoDVAE`.

Anzalone et al., "Triggering Dark Showers with Conditional Dual Auto-Encoders"
(arXiv:2306.12955). Two encoders read the same image: a residual encoder f_R to a large
latent grid Z, and a small mask encoder f_m to a 2-d latent z_m; the decoder
reconstructs the image from Z while spatially conditioned on z_m at every scale
(:mod:`likely.autoencoders.dual`). Trained on background only, each model gives several
anomaly scores per image (:func:`reconstruction_scores`, ``scores``). The seed's input is
the tracker mask of the 58 × 72 pooled event images,
``likely.data.tracker_mask(images)`` (N, 1, 58, 72); any image size works. See docs/codae.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from likely._checks import check_images, instance, positive, validate_params, widths
from likely.autoencoders.base import BaseAutoencoder
from likely.autoencoders.dual import DualNetwork, DualVariationalNetwork
from likely.autoencoders.relaxed import gumbel_noise
from likely.data.event_images import augment as augment_images
from likely.nn import History, Trainer, to_numpy, to_tensor

__all__ = ["CoDAE", "CoDVAE", "default_trainer", "reconstruction_scores"]

#: seed of the common random numbers of the CoDVAE's scores when random_state is None
_SCORE_SEED = 0


def default_trainer(epochs: int) -> Trainer:
    """Seed 004's training: AdamW (lr 1e-3, weight decay 1e-4), gradient norm clipped at 1, batch 128,
    constant rate, 25 % of the images held out for validation (evaluated 256 at a time), all ``epochs`` (the best
    validation loss kept)."""
    return Trainer(epochs=epochs, batch_size=128, lr=1e-3, weight_decay=1e-4, max_grad_norm=1.0,
                   schedule="constant", val_fraction=0.25, patience=None, eval_batch_size=256)


def _image_scores(x: torch.Tensor, x_hat: torch.Tensor) -> dict[str, torch.Tensor]:
    """The scores of :func:`reconstruction_scores` as tensors."""
    dims = tuple(range(1, x.ndim))
    dice = ((x_hat**2).sum(dims) + (x**2).sum(dims)) / (2 * (x_hat * x).sum(dims))
    return {
        "bce": F.binary_cross_entropy(x_hat, x, reduction="none").sum(dims),
        "sse": ((x - x_hat) ** 2).sum(dims),
        "sae": (x - x_hat).abs().sum(dims),
        "sae_mask": ((x > 0).to(x.dtype) - (x_hat > 0).to(x.dtype)).abs().sum(dims),
        "dice_inv": torch.where(torch.isfinite(dice), dice, torch.zeros_like(dice)),
        "total": x_hat.sum(dims),
    }


def reconstruction_scores(x: Any, x_hat: Any) -> dict[str, np.ndarray]:
    """Seed 004's reconstruction scores of images ``x`` and reconstructions ``x_hat`` (N, C, H, W) in [0, 1].

    Sums over the pixels p of each image, (N,) float32 each:

    - ``bce`` = Σ −[x log x̂ + (1 − x) log(1 − x̂)] (each log clamped at −100, as torch's BCE)
    - ``sse`` = Σ (x − x̂)²
    - ``sae`` = Σ |x − x̂|
    - ``sae_mask`` = Σ |1[x > 0] − 1[x̂ > 0]|
    - ``dice_inv`` = (Σ x̂² + Σ x²) / (2 Σ x̂ x), set to 0 where that is inf or nan (no overlap), as the seed does
    - ``total`` = Σ x̂ (for masks: the predicted number of hit pixels)
    """
    x = _unit_range(check_images(x, "x"), "x")
    x_hat = _unit_range(check_images(x_hat, "x_hat", shape=x.shape[1:]), "x_hat")
    if len(x_hat) != len(x):
        raise ValueError(f"x_hat has {len(x_hat)} images, but x has {len(x)}")
    return {name: to_numpy(value) for name, value in _image_scores(torch.from_numpy(x), torch.from_numpy(x_hat)).items()}


def _unit_range(array: np.ndarray, name: str) -> np.ndarray:
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ValueError(f"{name} must lie in [0, 1] (e.g. tracker masks, likely.data.event_images.tracker_mask); "
                         f"got values in [{low:g}, {high:g}]")
    return array


class CoDAE(BaseAutoencoder):
    """Conditional dual autoencoder of images (seed 004, §4): x̂ = D(f_R(x), f_m(x)) with z_m = f_m(x) ∈ R².

    Trained to minimize the binary cross-entropy summed over the pixels (mean over images),
    with one random η-flip / φ-roll augmentation (:func:`likely.data.event_images.augment`)
    per image per epoch. The defaults are the seed's widths (1.65 M parameters); every width
    is a hyperparameter, so small networks run on a CPU. Images (N, C, H, W) (or (N, H, W))
    of any size, values in [0, 1]; the seed's are tracker masks (N, 1, 58, 72).

    Parameters
    ----------
    filters : sequence of int
        Widths of the residual encoder's stages (each: a stride-2 convolution and ``depth``
        residual blocks); seed: (64, 128, 128, 256).
    mask_filters : sequence of int
        Widths of the mask encoder's stages (each: a convolution and a stride-2 max-pool); seed: (64, 128, 128, 256).
    decoder_filters : sequence of int or None
        Widths of the decoder's stages, as many as ``filters``; None mirrors ``filters``.
    latent_channels : int
        Channels of Z (seed: 64; Z is 64 × 4 × 5 for 58 × 72 images).
    groups, mask_groups : int
        Groups of the grouped convolutions of f_R and D (seed: 4) and of f_m (seed: 2);
        each network's first convolution is ungrouped.
    depth : int
        Residual blocks per stage in f_R and D (seed: 1).
    augment : bool
        Augment the training images (η flip, φ roll; seed 004 §3.2).
    power : float or None
        Pixels remapped to ``x ** power`` before the network (:class:`BaseAutoencoder`; no
        effect on masks). The images are never normalized (the loss needs pixels in [0, 1]).
    trainer : Trainer or None
        None: :func:`default_trainer` with 30 epochs (the seed's CoDAE).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int or None
        Seeds the initialization, the validation split, the shuffling and the augmentations.

    Attributes
    ----------
    input_shape_, n_features_in_, device_
        As in :class:`BaseAutoencoder`.
    model_ : torch.nn.Module
        The trained :class:`~likely.autoencoders.dual.DualNetwork`.
    history_ : History
        Training and validation loss (summed BCE per image) per epoch.

    Notes
    -----
    ``scores(X)`` gives, per image, every name of ``score_names``: the reconstruction scores
    of :func:`reconstruction_scores` on x̂ (all higher = worse reconstruction = more
    anomalous, except ``total`` = Σ x̂, which is high for images with many hits, like the
    number of tracks) and the two components ``z_m0``, ``z_m1`` of z_m as they are: their
    direction is set by training, not by construction (the seed reports one component with
    AUC ≫ 0.5 and the other ≪ 0.5). ``encode(X)`` is z_m (N, 2): only the small mask
    encoder runs (the seed's trigger use). ``default_score`` is the seed's best CoDAE score (Table 6).

    Examples
    --------
    >>> import numpy as np
    >>> from likely.autoencoders import CoDAE
    >>> from likely.nn import Trainer
    >>> X = (np.random.default_rng(0).uniform(size=(64, 1, 16, 16)) > 0.8).astype("float32")
    >>> model = CoDAE(filters=(4, 8), mask_filters=(4, 8), latent_channels=4, groups=2,
    ...               trainer=Trainer(epochs=1, progress=False), device="cpu", random_state=0).fit(X)
    >>> tuple(model.scores(X[:3])) == CoDAE.score_names, model.encode(X[:3]).shape
    (True, (3, 2))
    """

    score_names: ClassVar[tuple[str, ...]] = ("bce", "sse", "sae", "sae_mask", "dice_inv", "total", "z_m0", "z_m1")
    default_score: ClassVar[str] = "bce"
    score_batch: ClassVar[int] = 256
    _default_epochs: ClassVar[int] = 30
    _parameter_constraints = {
        "filters": widths(),
        "mask_filters": widths(),
        "decoder_filters": widths() | None,
        "latent_channels": positive(integer=True),
        "groups": positive(integer=True),
        "mask_groups": positive(integer=True),
        "depth": positive(integer=True, allow_zero=True),
        "augment": instance(bool),
    }

    def __init__(
        self,
        *,
        filters: Sequence[int] = (64, 128, 128, 256),
        mask_filters: Sequence[int] = (64, 128, 128, 256),
        decoder_filters: Sequence[int] | None = None,
        latent_channels: int = 64,
        groups: int = 4,
        mask_groups: int = 2,
        depth: int = 1,
        augment: bool = True,
        power: float | None = None,
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.filters = filters
        self.mask_filters = mask_filters
        self.decoder_filters = decoder_filters
        self.latent_channels = latent_channels
        self.groups = groups
        self.mask_groups = mask_groups
        self.depth = depth
        self.augment = augment
        self.power = power
        self.trainer = trainer
        self.device = device
        self.random_state = random_state

    def fit(self, X: Any, cond: Any = None) -> CoDAE:
        """Train on background images ``X`` (N, C, H, W) or (N, H, W) in [0, 1] (``cond`` must be None)."""
        validate_params(self)
        self._check_architecture()
        return super().fit(X, cond)

    def normalizes(self) -> bool:
        """Never: the binary cross-entropy needs the pixels as they are, in [0, 1]."""
        return False

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained network (``model_``) for the fitted image shape, also to load saved weights into."""
        if name != "model_":
            return super().init_module(name)
        return DualNetwork(self.input_shape_, **self._architecture())

    # ------------------------------------------------------------------ hooks
    def _train(self, x: torch.Tensor) -> History:
        trainer = default_trainer(self._default_epochs) if self.trainer is None else self.trainer
        return trainer.fit(self.model_, self._loss, (x,), random_state=self.random_state, monitor=self._monitor,
                           augment=self._augmenter() if self.augment else None)

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        logits, _ = self.model_(x)
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)

    def _scores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        scores = self._evaluate(x)[1]
        return {name: scores[name] for name in self.available_scores}

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self._evaluate(x)[0]

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_.mask_encoder(x)

    def _check_values(self, X: np.ndarray) -> None:
        super()._check_values(X)
        if X.ndim != 4:
            raise ValueError(f"X must be images (N, C, H, W) or (N, H, W): {type(self).__name__} is convolutional; "
                             f"got shape {X.shape}")
        _unit_range(X, "X")

    # ---------------------------------------------------------------- helpers
    def _architecture(self) -> dict:
        decoder = tuple(reversed(tuple(self.filters))) if self.decoder_filters is None else tuple(self.decoder_filters)
        return {"filters": tuple(self.filters), "mask_filters": tuple(self.mask_filters), "decoder_filters": decoder,
                "latent_channels": self.latent_channels, "groups": self.groups, "mask_groups": self.mask_groups,
                "depth": self.depth}

    def _check_architecture(self) -> None:
        architecture = self._architecture()
        if len(architecture["decoder_filters"]) != len(architecture["filters"]):
            raise ValueError(f"decoder_filters must have as many stages as filters ({len(self.filters)}); "
                             f"got {architecture['decoder_filters']}")
        for name, groups in (("filters", "groups"), ("decoder_filters", "groups"), ("mask_filters", "mask_groups")):
            if any(width % getattr(self, groups) for width in architecture[name]):
                raise ValueError(f"every width of {name} must divide into {groups}={getattr(self, groups)}; "
                                 f"got {architecture[name]}")

    def _augmenter(self):
        """A random seed-004 augmentation of each image of a training batch (NumPy, on the CPU)."""
        rng = np.random.default_rng(self.random_state)
        return lambda x: (to_tensor(augment_images(to_numpy(x), rng), x.device),)

    def _evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Reconstruction x̂ and every score of a batch."""
        logits, z_m = self.model_(x)
        x_hat = torch.sigmoid(logits)
        return x_hat, _image_scores(x, x_hat) | {"z_m0": z_m[:, 0], "z_m1": z_m[:, 1]}


class CoDVAE(CoDAE):
    """Categorical conditional dual variational autoencoder (seed 004, §4.3).

    As :class:`CoDAE`, but Z is stochastic: at each location of the latent grid, f_R gives
    the logits of a relaxed categorical (Gumbel-Softmax) over ``latent_channels`` categories
    and its temperature τ(x) = softplus(conv1×1) + ``tau0``; the prior is a uniform mixture
    of ``prior_components`` relaxed categoricals (:class:`~likely.autoencoders.relaxed.MixturePrior`);
    the decoder is a Bernoulli per pixel. Loss per image: −log p(x | z, z_m) + ``kl_weight`` ·
    KL(q ‖ p), the KL estimated by Monte Carlo over ``mc_samples`` samples of q.

    Parameters
    ----------
    tau0 : float
        Base temperature (seed's notebook: 1.0).
    prior_components : int
        Mixture components (seed: 5), logits initialized from N(μ_m, 1), μ_m evenly spaced
        in [−``prior_spread``, ``prior_spread``] (seed: 3) and trained with the model.
    prior_temperatures : (float, float)
        The components' fixed temperatures are drawn from U(low, high) (seed: (0.1, 1.0)).
    mc_samples : int
        Samples of the Monte-Carlo KL estimates, in training and scoring (seed: 10).
    kl_weight : float
        β of the KL term (seed: 1).
    Other parameters as :class:`CoDAE`; ``trainer=None`` trains 100 epochs (the seed's CoDVAE).

    Notes
    -----
    The reconstruction x̂ is the Bernoulli mode (1 where p > 0.5). Scores: ``bce`` =
    −log p(x | z, z_m), the BCE of the Bernoulli means p (finite; the mode's would not be);
    ``sse``, ``sae_mask``, ``dice_inv``, ``total`` on the mode (``sae`` equals ``sse`` on
    binary images and is left out, as in the seed); ``z_m0``, ``z_m1`` as for CoDAE; ``kl_r``
    = KL(q(z|x) ‖ p(z)) and ``kl_f`` = KL(p(z) ‖ q(z|x)), both higher = more anomalous. The
    stochastic parts use common random numbers: one fixed set of ``mc_samples`` Gumbel draws
    (and prior samples), seeded by ``random_state``, for every image, so each score depends
    on the image alone and repeats exactly; x̂ is decoded from the first draw.
    ``history_.monitors`` holds, per epoch on the validation images, the means of
    −log p(x | z, z_m) (``"reconstruction"``), of the KL (``"kl"``) and of the learned
    temperature τ(x) (``"temperature"``; the seed's rose to ≈ 3.8).
    """

    score_names: ClassVar[tuple[str, ...]] = ("bce", "sse", "sae_mask", "dice_inv", "total", "z_m0", "z_m1",
                                              "kl_r", "kl_f")
    default_score: ClassVar[str] = "sse"
    _default_epochs: ClassVar[int] = 100
    _parameter_constraints = {
        "tau0": positive(),
        "prior_components": positive(integer=True),
        "prior_temperatures": instance(tuple, list),
        "prior_spread": positive(allow_zero=True),
        "mc_samples": positive(integer=True),
        "kl_weight": positive(allow_zero=True),
    }

    def __init__(
        self,
        *,
        filters: Sequence[int] = (64, 128, 128, 256),
        mask_filters: Sequence[int] = (64, 128, 128, 256),
        decoder_filters: Sequence[int] | None = None,
        latent_channels: int = 64,
        groups: int = 4,
        mask_groups: int = 2,
        depth: int = 1,
        tau0: float = 1.0,
        prior_components: int = 5,
        prior_temperatures: tuple[float, float] = (0.1, 1.0),
        prior_spread: float = 3.0,
        mc_samples: int = 10,
        kl_weight: float = 1.0,
        augment: bool = True,
        power: float | None = None,
        trainer: Trainer | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        super().__init__(filters=filters, mask_filters=mask_filters, decoder_filters=decoder_filters,
                         latent_channels=latent_channels, groups=groups, mask_groups=mask_groups, depth=depth,
                         augment=augment, power=power, trainer=trainer, device=device, random_state=random_state)
        self.tau0 = tau0
        self.prior_components = prior_components
        self.prior_temperatures = prior_temperatures
        self.prior_spread = prior_spread
        self.mc_samples = mc_samples
        self.kl_weight = kl_weight

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained :class:`~likely.autoencoders.dual.DualVariationalNetwork` (``model_``)."""
        if name != "model_":
            return super().init_module(name)
        low, high = (float(t) for t in self.prior_temperatures)
        return DualVariationalNetwork(self.input_shape_, tau0=self.tau0, prior_components=self.prior_components,
                                      prior_temperatures=(low, high), prior_spread=self.prior_spread,
                                      **self._architecture())

    def _check_architecture(self) -> None:
        super()._check_architecture()
        temperatures = tuple(self.prior_temperatures)
        if len(temperatures) != 2 or not 0 < temperatures[0] <= temperatures[1]:
            raise ValueError(f"prior_temperatures must be (low, high) with 0 < low <= high; got {self.prior_temperatures!r}")

    def _latent_shape(self) -> tuple[int, ...]:
        return tuple(self.model_.prior.logits.shape[1:])

    def _terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """−log p(x | z, z_m) and the Monte-Carlo KL(q ‖ p) of each image, at fresh Gumbel draws, (n,) each."""
        noise = gumbel_noise((self.mc_samples, len(x), *self._latent_shape()), device=x.device)
        logits, _, kl, _ = self.model_(x, noise)
        return _summed_bce(logits, x), kl

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        nll, kl = self._terms(x)
        return (nll + self.kl_weight * kl).mean()

    def _monitor(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll, kl = self._terms(x)
        return {"reconstruction": nll.mean(), "kl": kl.mean(), "temperature": self.model_.posterior(x)[1].mean()}

    def _evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        generator = torch.Generator().manual_seed(_SCORE_SEED if self.random_state is None else int(self.random_state))
        noise = gumbel_noise((self.mc_samples, 1, *self._latent_shape()), generator=generator, device=x.device)
        prior_log_z = self.model_.prior.sample_log(self.mc_samples, generator=generator)
        logits, z_m, kl_r, kl_f = self.model_(x, noise, prior_log_z)
        x_hat = (logits > 0).to(x.dtype)  # the Bernoulli mode: p > 1/2
        scores = _image_scores(x, x_hat) | {"bce": _summed_bce(logits, x)}
        return x_hat, scores | {"z_m0": z_m[:, 0], "z_m1": z_m[:, 1], "kl_r": kl_r, "kl_f": kl_f}


def _summed_bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ_pixels BCE(x, sigmoid(logits)) of each image = −log p(x) under Bernoulli pixels, (n,)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
