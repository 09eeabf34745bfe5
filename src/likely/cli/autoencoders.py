"""The autoencoder family of ``likely detect``: ``ae | vae | dvae | nae | codae | codvae``.

Each is one entry of :data:`MODELS` (a :class:`~likely.cli.detector_runs.ModelCommand`): its
help, its own options and how they make the model. They read images (jet images of particles
files, ``--pixels``, ``--sigma``, ``--power``; seed-004 event images, ``--channels``) and
become a :class:`~likely.detect.ReconstructionDetector` (``--score``); ``train``, ``score``
and ``report`` are :mod:`likely.cli.detector_runs`.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any

from likely.cli.detector_runs import IMAGES, RECONSTRUCTION, ModelCommand
from likely.cli.rundir import positive_int

def _backbone_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latent", type=positive_int, default=8, help="latent dimensions (default: 8)")
    parser.add_argument("--conv-channels", type=positive_int, nargs="+", default=[8, 16, 32], metavar="N",
                        help="filters of the stride-2 convolution stages (default: 8 16 32)")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[64], metavar="N",
                        help="dense widths after the convolutions (default: 64)")
    parser.add_argument("--loss", choices=("mse", "bce"), default="mse", help="reconstruction loss (default: mse)")
    parser.add_argument("--output", choices=("sigmoid", "softplus", "none"), default="sigmoid",
                        help="decoder output: (0, 1) (default; masks, normalized images), >= 0, or unbounded")
    parser.add_argument("--normalize", action="store_true", help="divide every image by its sum (after --power)")


def _vae_options(parser: argparse.ArgumentParser) -> None:
    _backbone_options(parser)
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (default: 1)")


def _dvae_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, nargs="+", default=[1.0, 0.25, 0.1], metavar="A",
                        help="Dirichlet concentrations, one per latent dimension (default: 1.0 0.25 0.1)")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[100], metavar="N",
                        help="hidden widths of the encoder (default: 100)")
    parser.add_argument("--batch-norm", action="store_true", help="batch normalization in the encoder")
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (default: 1)")


def _nae_options(parser: argparse.ArgumentParser) -> None:
    """The NAE's options; defaults are seed 003's Tab. 5.1 (--epochs, --batch-size, --lr: the pre-training)."""
    parser.add_argument("--latent", type=positive_int, default=3, help="latent dimensions, on a sphere (default: 3)")
    parser.add_argument("--conv-channels", type=positive_int, nargs="+", default=[8, 8, 8, 8], metavar="N",
                        help="filters of the stride-2 convolution stages (default: 8 8 8 8)")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[100], metavar="N",
                        help="dense widths after the convolutions (default: 100)")
    parser.add_argument("--normalize", action="store_true", help="divide every image by its sum (after --power)")
    parser.add_argument("--spectral-norm", choices=("all", "encoder", "none"), default="all",
                        help="spectrally normalized layers (default: all, as the seed)")
    parser.add_argument("--nae-steps", type=positive_int, default=40000, help="NAE steps (default: 40000)")
    parser.add_argument("--nae-batch-size", type=positive_int, default=128,
                        help="data objects and negative samples per NAE step (default: 128)")
    parser.add_argument("--nae-lr", type=float, default=1e-5, help="learning rate of the NAE steps (default: 1e-5)")
    for chain, (step, noise) in (("latent", (100.0, 1e-2)), ("input", (50.0, 1e-4))):
        parser.add_argument(f"--{chain}-step", type=float, default=step,
                            help=f"Langevin step lambda of the {chain} chain (default: {step:g})")
        parser.add_argument(f"--{chain}-noise", type=float, default=noise,
                            help=f"Langevin noise sigma of the {chain} chain (default: {noise:g})")
        parser.add_argument(f"--{chain}-steps", type=positive_int, default=30,
                            help=f"steps of the {chain} chain (default: 30)")
    parser.add_argument("--monitor-every", type=positive_int, default=1000,
                        help="keep negative samples every this many NAE steps (default: 1000)")


def _dual_options(parser: argparse.ArgumentParser) -> None:
    """The dual autoencoders' widths, and seed 004's training as the defaults (30 epochs, batch 128, no early
    stopping; the build adds weight decay 1e-4, gradient norm 1, a constant rate and 25 % validation)."""
    parser.set_defaults(epochs=30, batch_size=128, patience=None)
    for flag, default, what in (("--filters", (64, 128, 128, 256), "the residual encoder's stages"),
                                ("--mask-filters", (64, 128, 128, 256), "the mask encoder's stages"),
                                ("--decoder-filters", None, "the decoder's stages (default: --filters reversed)")):
        parser.add_argument(flag, type=positive_int, nargs="+", default=default, metavar="N",
                            help=f"widths of {what}" + ("" if default is None else
                                                        f" (default: {' '.join(map(str, default))}, seed 004)"))
    parser.add_argument("--latent-channels", type=positive_int, default=64, help="channels of Z (default: 64)")
    parser.add_argument("--groups", type=positive_int, default=4, help="groups of f_R and D (default: 4)")
    parser.add_argument("--mask-groups", type=positive_int, default=2, help="groups of the mask encoder (default: 2)")
    parser.add_argument("--depth", type=int, default=1, help="residual blocks per stage (default: 1)")
    parser.add_argument("--no-augment", action="store_true", help="no η-flip / φ-roll augmentation")


def _codvae_options(parser: argparse.ArgumentParser) -> None:
    _dual_options(parser)
    parser.set_defaults(epochs=100)
    parser.add_argument("--tau0", type=float, default=1.0, help="base temperature τ0 (default: 1.0)")
    parser.add_argument("--mc-samples", type=positive_int, default=10, help="Monte-Carlo samples of the KL (default: 10)")
    parser.add_argument("--kl-weight", type=float, default=1.0, help="weight β of the KL term (default: 1)")


def _dual(args: argparse.Namespace, trainer: Any) -> dict:
    trainer.set_params(weight_decay=1e-4, max_grad_norm=1.0, schedule="constant", val_fraction=0.25, eval_batch_size=256)
    decoder = None if args.decoder_filters is None else tuple(args.decoder_filters)
    return {"filters": tuple(args.filters), "mask_filters": tuple(args.mask_filters), "decoder_filters": decoder,
            "latent_channels": args.latent_channels, "groups": args.groups, "mask_groups": args.mask_groups,
            "depth": args.depth, "augment": not args.no_augment, **_common(args, trainer)}


def _build_codae(args, trainer):
    from likely.autoencoders import CoDAE

    return CoDAE(**_dual(args, trainer))


def _build_codvae(args, trainer):
    from likely.autoencoders import CoDVAE

    return CoDVAE(**_dual(args, trainer), tau0=args.tau0, mc_samples=args.mc_samples, kl_weight=args.kl_weight)


def _backbone(args: argparse.Namespace) -> dict:
    return {"latent": args.latent, "channels": tuple(args.conv_channels), "hidden": tuple(args.hidden),
            "loss": args.loss, "output": args.output, "normalize": args.normalize}


def _common(args: argparse.Namespace, trainer: Any) -> dict:
    return {"power": args.power, "trainer": trainer, "device": args.device, "random_state": args.seed}


def _build_ae(args, trainer):
    from likely.autoencoders import Autoencoder

    return Autoencoder(**_backbone(args), **_common(args, trainer))


def _build_vae(args, trainer):
    from likely.autoencoders import VariationalAutoencoder

    return VariationalAutoencoder(**_backbone(args), beta=args.beta, **_common(args, trainer))


def _build_dvae(args, trainer):
    from likely.autoencoders import DirichletVAE

    return DirichletVAE(alpha=tuple(args.alpha), hidden=tuple(args.hidden), batch_norm=args.batch_norm,
                        beta=args.beta, **_common(args, trainer))


def _build_nae(args, trainer):
    from likely.autoencoders import Langevin, NormalizedAutoencoder

    return NormalizedAutoencoder(
        latent=args.latent, channels=tuple(args.conv_channels), hidden=tuple(args.hidden), normalize=args.normalize,
        spectral_norm=args.spectral_norm, steps=args.nae_steps, batch_size=args.nae_batch_size, lr=args.nae_lr,
        latent_chain=Langevin(step=args.latent_step, noise=args.latent_noise, steps=args.latent_steps),
        input_chain=Langevin(step=args.input_step, noise=args.input_noise, steps=args.input_steps, anneal=True),
        monitor_every=args.monitor_every, progress=trainer.progress, **_common(args, trainer))


def _nae_figures(model, run: Path) -> list[Path]:
    """The NAE's training energies and its kept negative samples (what shows a collapsing sampler)."""
    from likely.plot import plot_nae_energies, plot_nae_samples, save_figure

    history = model.history_
    figures = [save_figure(plot_nae_energies(history, smooth=max(1, history.steps // 200)), run / "nae_energies.png")]
    if history.samples.size:
        figures.append(save_figure(plot_nae_samples(history), run / "nae_samples.png"))
    return figures


#: an autoencoder of images
_model = functools.partial(ModelCommand, inputs=IMAGES, family=RECONSTRUCTION)

#: the models of the command: ``likely detect <name> train | score | report``
MODELS: dict[str, ModelCommand] = {
    "ae": _model("autoencoder: reconstruction error (docs/autoencoders.md)", _backbone_options, _build_ae),
    "vae": _model("variational autoencoder: reconstruction, KL, ELBO (docs/autoencoders.md)", _vae_options,
                  _build_vae),
    "dvae": _model("Dirichlet VAE of unit-sum images (docs/autoencoders.md)", _dvae_options, _build_dvae),
    "nae": _model("normalized autoencoder: energy of a normalized model (docs/autoencoders.md)", _nae_options,
                  _build_nae, figures=_nae_figures),
    "codae": _model("conditional dual autoencoder of event-image masks, seed 004; its training by default: "
                    "30 epochs, batch 128, no early stopping (docs/autoencoders.md)", _dual_options, _build_codae),
    "codvae": _model("categorical conditional dual VAE of event-image masks, seed 004; its training by default: "
                     "100 epochs, batch 128, no early stopping (docs/autoencoders.md)", _codvae_options,
                     _build_codvae),
}
