"""``likely detect ae|vae|dvae|nae|codae|codvae train | score | report``: autoencoder-family detectors on jet or event images.

Inputs are likely particles files of jets (made into jet images: ``--pixels``, ``--sigma``)
or seed-004 event-image files (``--channels``), read by :func:`likely.data.read_images`;
the run keeps those options, so ``score`` and ``report`` read their files the same way.
Training uses the objects of ``--background-label`` (all objects of a file without labels).
Every model is one entry of :data:`MODELS`: its help, its own options and how they make
the model; the rest of the command is shared.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.cli.rundir import fresh_file, positive_int, prepare_run_dir

log = logging.getLogger(__name__)

#: signal efficiencies at which the report gives the background rejection
SIGNAL_EFFICIENCIES = (0.2, 0.3)


@dataclass(frozen=True)
class ModelCommand:
    """One model of the command.

    ``add_options(parser)`` adds the model's own ``train`` options; ``build(args, trainer)``
    returns the unfitted model (``args.seed`` and ``args.device`` are for its
    ``random_state`` and ``device``); ``figures(model, run)``, if given, draws more report
    figures of the trained model into the run directory and returns their paths.
    """

    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace, Any], Any]
    figures: Callable[[Any, Path], list[Path]] | None = None


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


#: the models of the command: ``likely detect <name> train | score | report``
MODELS: dict[str, ModelCommand] = {
    "ae": ModelCommand("autoencoder: reconstruction error (docs/autoencoders.md)", _backbone_options, _build_ae),
    "vae": ModelCommand("variational autoencoder: reconstruction, KL, ELBO (docs/autoencoders.md)", _vae_options,
                        _build_vae),
    "dvae": ModelCommand("Dirichlet VAE of unit-sum images (docs/autoencoders.md)", _dvae_options, _build_dvae),
    "nae": ModelCommand("normalized autoencoder: energy of a normalized model (docs/autoencoders.md)", _nae_options,
                        _build_nae, _nae_figures),
    "codae": ModelCommand("conditional dual autoencoder of event-image masks, seed 004; its training by default: "
                          "30 epochs, batch 128, no early stopping (docs/autoencoders.md)", _dual_options, _build_codae),
    "codvae": ModelCommand("categorical conditional dual VAE of event-image masks, seed 004; its training by default: "
                           "100 epochs, batch 128, no early stopping (docs/autoencoders.md)", _codvae_options,
                           _build_codvae),
}


# ----------------------------------------------------------------- parsers
def add_parsers(methods) -> None:
    """Add ``train``, ``score`` and ``report`` of every model of :data:`MODELS` to ``likely detect``."""
    for name, entry in MODELS.items():
        commands = methods.add_parser(name, help=entry.help).add_subparsers(
            dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
        train = commands.add_parser("train", help="learn the reference class from jet or event-image files")
        _train_options(train)
        entry.add_options(train)
        train.set_defaults(run=functools.partial(run_train, method=name))

        score = commands.add_parser("score", help="every score of each object of some files -> scores.npz")
        score.add_argument("run_dir", type=Path, metavar="RUN", help="run directory made by 'train'")
        score.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE", help="files to score")
        score.add_argument("--out", type=Path, help="scores file (default: RUN/scores.npz)")
        score.add_argument("--force", action="store_true", help="overwrite an existing scores file")
        score.set_defaults(run=functools.partial(run_score, method=name))

        report = commands.add_parser("report", help="ROC, SIC, rejection, score distributions and AUC on labelled files")
        report.add_argument("run_dir", type=Path, metavar="RUN", help="run directory made by 'train'")
        report.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE",
                            help="labelled files: the training label is background, any other signal")
        report.add_argument("--resamples", type=positive_int, default=200,
                            help="bootstrap resamples for the AUC's uncertainty (default: 200)")
        report.set_defaults(run=functools.partial(run_report, method=name))


def _train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE",
                        help="likely particles files of jets, or seed-004 event-image files")
    parser.add_argument("--out", type=Path, required=True, help="run directory (model, config)")
    parser.add_argument("--background-label", type=int, default=0,
                        help="the label of the reference class to train on (default: 0)")
    parser.add_argument("--pixels", type=positive_int, default=40, help="jet images: pixels per side (default: 40)")
    parser.add_argument("--sigma", type=float, help="jet images: Gaussian smearing in pixels (seed 003: 1)")
    parser.add_argument("--channels", choices=("trk", "mask", "all"), default="mask",
                        help="event images: tracker pT, its hit mask (default, seed 004) or all three channels")
    parser.add_argument("--power", type=float, help="pT^n remapping of every pixel inside the model (seed 003: 0.2)")
    parser.add_argument("--score", help="the run's anomaly score, one of the model's scores (default: its "
                                        "reconstruction_error)")
    parser.add_argument("--epochs", type=positive_int, default=100, help="maximum epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="objects per step (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: %(default)s)")
    parser.add_argument("--patience", type=positive_int, default=10, help="early-stopping patience (default: %(default)s; None trains all --epochs)")
    parser.add_argument("--device", default="auto", help="'auto' (a GPU if there is one), 'cpu', 'cuda', ...")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="overwrite an existing run directory's model")


# ---------------------------------------------------------------- commands
def run_train(args, method: str) -> Path:
    from likely.data import read_images
    from likely.detect import ReconstructionDetector
    from likely.nn import Trainer

    out = prepare_run_dir(args.out, args.force)
    inputs = {"pixels": args.pixels, "sigma": args.sigma, "channels": args.channels}
    images, labels = read_images(args.data, **inputs)
    images = images[(labels == args.background_label) | (labels < 0)]
    if len(images) == 0:
        raise ValueError(f"--data holds no objects of --background-label {args.background_label}")
    trainer = Trainer(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                      progress=not args.quiet)
    model = MODELS[method].build(args, trainer)
    detector = ReconstructionDetector(autoencoder=model, score_name=args.score)
    write_json(out / "config.json", {
        "command": f"detect {method} train", "method": method, "data": [str(p) for p in args.data],
        "inputs": inputs, "background_label": args.background_label, "objects": len(images),
        "image_shape": list(images.shape[1:]), "model": " ".join(repr(model).split()), "score": args.score, "seed": args.seed,
    })
    detector.fit(images)
    detector.save(out / "model")
    log.info("model written to %s", out / "model")
    return out


def _load_run(run: Path, method: str):
    """The run's config and its trained detector; refuses a run of another model."""
    from likely.detect import ReconstructionDetector

    path = run / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run} is not a run directory of 'likely detect {method} train' (no config.json)")
    config = json.loads(path.read_text())
    if config.get("method") != method:
        raise ValueError(f"{run} was trained by 'likely detect {config.get('method')}', not '{method}'")
    return config, ReconstructionDetector.load(run / "model")


def _all_scores(detector, images: np.ndarray) -> tuple[str, dict[str, np.ndarray]]:
    """The name of the run's score and every score of the model, ``{name: (N,)}``."""
    model = detector.autoencoder_
    return detector.score_name or type(model).default_score, model.scores(images)


def run_score(args, method: str) -> Path:
    from likely.data import read_images

    target = fresh_file(args.out or args.run_dir / "scores.npz", args.force)
    config, detector = _load_run(args.run_dir, method)
    images, labels = read_images(args.data, **config["inputs"])
    chosen, scores = _all_scores(detector, images)
    with atomic_write(target) as stream:
        np.savez(stream, score=scores[chosen], label=labels, **{f"score_{name}": value for name, value in scores.items()})
    log.info("scores written to %s", target)
    return target


def run_report(args, method: str) -> Path:
    from likely.data import read_images

    if args.resamples < 2:
        raise ValueError(f"--resamples must be at least 2; got {args.resamples}")
    config, detector = _load_run(args.run_dir, method)
    images, labels = read_images(args.data, **config["inputs"])
    if (labels < 0).any():
        raise ValueError("--data must be labelled files: some have no labels")
    y = (labels != config["background_label"]).astype(int)
    if y.min() == y.max():
        raise ValueError(f"--data must hold both the background (label {config['background_label']}) and "
                         "other labels")
    chosen, scores = _all_scores(detector, images)
    figures = _figures(args.run_dir, y, scores, detector.autoencoder_)
    extra = MODELS[method].figures
    figures += [] if extra is None else extra(detector.autoencoder_, args.run_dir)
    lines = [f"# likely detect {method}: report", "",
             f"Model: `{config['model']}`, trained on {config['objects']} objects of label "
             f"{config['background_label']} ({', '.join(config['data'])}); the run's score is `{chosen}`.",
             f"Test: {np.count_nonzero(y == 0)} background and {np.count_nonzero(y == 1)} signal objects "
             f"({', '.join(str(p) for p in args.data)}).", "", *_table(y, scores, chosen, args.resamples), "",
             *(f"![{path.stem}]({path.name})" for path in figures), ""]
    target = write_text(args.run_dir / "report.md", "\n".join(lines))
    log.info("report written to %s", target)
    return target


def _table(y: np.ndarray, scores: dict[str, np.ndarray], chosen: str, resamples: int) -> list[str]:
    """AUC (± its bootstrap std over ``resamples``) and the rejection 1/ε_B at ``SIGNAL_EFFICIENCIES`` of every score."""
    from likely.metrics import auc, bootstrap, rejection_at_signal_efficiency

    header = " | ".join(f"1/ε_B at ε_S = {eff}" for eff in SIGNAL_EFFICIENCIES)
    lines = [f"| score | AUC | {header} |", "|---|--:|" + "--:|" * len(SIGNAL_EFFICIENCIES)]
    for name, score in scores.items():
        value, std = bootstrap(auc, y, score, n_resamples=resamples, random_state=0)
        rejections = " | ".join(f"{rejection_at_signal_efficiency(y, score, eff):.3g}" for eff in SIGNAL_EFFICIENCIES)
        label = f"**{name}** (the run's)" if name == chosen else name
        lines.append(f"| {label} | {value:.3f} ± {std:.3f} | {rejections} |")
    return lines


def _figures(run: Path, y: np.ndarray, scores: dict[str, np.ndarray], model) -> list[Path]:
    from likely.plot import (
        plot_monitors, plot_rejection, plot_roc, plot_score_distributions, plot_sic, save_figure,
    )

    curves = {name: (y, score) for name, score in scores.items()}
    return [save_figure(plot_roc(curves), run / "roc.png"),
            save_figure(plot_sic({name: [curve] for name, curve in curves.items()}), run / "sic.png"),
            save_figure(plot_rejection(curves), run / "rejection.png"),
            save_figure(plot_score_distributions(y, scores), run / "scores.png"),
            save_figure(plot_monitors(model.history_), run / "training.png")]
