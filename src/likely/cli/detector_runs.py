"""``likely detect <model> train | score | report`` for the learned detectors of files of objects.

One machinery for every model of the command (the autoencoder family on images,
:mod:`likely.cli.autoencoders`; contrastive representations of sets,
:mod:`likely.cli.contrastive`). A model is a :class:`ModelCommand`: its options and how
they make the model, the objects it reads (:class:`Inputs`: images or sets) and the
detector family that wraps it (:class:`Family`: reconstruction or representation scores).
``train`` writes a run directory (``config.json``, ``model/``); ``score`` every score of
each object of some files into ``scores.npz``; ``report`` ROC, SIC, rejection and score
distributions on labelled files into ``report.md``. The run keeps the input options, so
``score`` and ``report`` read their files the same way.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.cli.rundir import fresh_file, positive_int, prepare_run_dir

log = logging.getLogger(__name__)

#: the scores of a representation ``--scorer`` offers: ‖z‖, DarkCLR's NAE, AnomalyCLR's autoencoder
REPRESENTATION_SCORERS = ("norm", "nae", "ae")
#: signal efficiencies at which the report gives the background rejection
SIGNAL_EFFICIENCIES = (0.2, 0.3)


@dataclass(frozen=True)
class Inputs:
    """The objects a model reads: ``add_options(parser)`` adds the reading options,
    ``options(args)`` gathers them (kept in the run), ``read(files, **options) -> (X, labels)``."""

    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    options: Callable[[argparse.Namespace], dict]
    read: Callable[..., tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Family:
    """How a model becomes a detector: ``add_options(parser)`` (the detector's own options),
    ``wrap(model, args) -> Detector``, ``scores(detector, X) -> (the run's score name,
    {name: (N,)})``, ``model(detector)`` the trained model (its ``history_`` is plotted)."""

    detector: str
    add_options: Callable[[argparse.ArgumentParser], None]
    wrap: Callable[[Any, argparse.Namespace], Any]
    scores: Callable[[Any, np.ndarray], tuple[str, dict[str, np.ndarray]]]
    model: Callable[[Any], Any]


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
    inputs: Inputs
    family: Family
    figures: Callable[[Any, Path], list[Path]] | None = None


# ----------------------------------------------------------------- parsers
def add_parsers(methods, models: Mapping[str, ModelCommand]) -> None:
    """Add ``train``, ``score`` and ``report`` of every model of ``models`` to ``likely detect``."""
    for name, entry in models.items():
        commands = methods.add_parser(name, help=entry.help).add_subparsers(
            dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
        train = commands.add_parser("train", help=f"learn the reference class from {entry.inputs.help}")
        _train_options(train, entry.inputs.help)
        entry.inputs.add_options(train)
        entry.family.add_options(train)
        entry.add_options(train)
        train.set_defaults(run=functools.partial(run_train, method=name, entry=entry))

        score = commands.add_parser("score", help="every score of each object of some files -> scores.npz")
        score.add_argument("run_dir", type=Path, metavar="RUN", help="run directory made by 'train'")
        score.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE", help="files to score")
        score.add_argument("--out", type=Path, help="scores file (default: RUN/scores.npz)")
        score.add_argument("--force", action="store_true", help="overwrite an existing scores file")
        score.set_defaults(run=functools.partial(run_score, method=name, entry=entry))

        report = commands.add_parser("report", help="ROC, SIC, rejection, score distributions and AUC on labelled files")
        report.add_argument("run_dir", type=Path, metavar="RUN", help="run directory made by 'train'")
        report.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE",
                            help="test files: of their labels the training one is background, any other signal; "
                                 "objects without labels (ADC2021 files) are background when --signal is given")
        report.add_argument("--signal", type=Path, nargs="+", metavar="FILE",
                            help="files whose objects are all signal, whatever their labels")
        report.add_argument("--resamples", type=positive_int, default=200,
                            help="bootstrap resamples for the AUC's uncertainty (default: 200)")
        report.set_defaults(run=functools.partial(run_report, method=name, entry=entry))


def _train_options(parser: argparse.ArgumentParser, inputs: str) -> None:
    parser.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE", help=inputs)
    parser.add_argument("--out", type=Path, required=True, help="run directory (model, config)")
    parser.add_argument("--background-label", type=int, default=0,
                        help="the label of the reference class to train on (default: 0)")
    parser.add_argument("--epochs", type=positive_int, default=100, help="maximum epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="objects per step (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: %(default)s)")
    parser.add_argument("--patience", type=positive_int, default=10,
                        help="early-stopping patience (default: %(default)s; None trains all --epochs)")
    parser.add_argument("--device", default="auto", help="'auto' (a GPU if there is one), 'cpu', 'cuda', ...")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="overwrite an existing run directory's model")


# ---------------------------------------------------------------- commands
def run_train(args, method: str, entry: ModelCommand) -> Path:
    from likely.nn import Trainer

    out = prepare_run_dir(args.out, args.force)
    inputs = entry.inputs.options(args)
    X, labels = entry.inputs.read(args.data, **inputs)
    X = X[(labels == args.background_label) | (labels < 0)]
    if len(X) == 0:
        raise ValueError(f"--data holds no objects of --background-label {args.background_label}")
    trainer = Trainer(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                      progress=not args.quiet)
    model = entry.build(args, trainer)
    detector = entry.family.wrap(model, args)
    write_json(out / "config.json", {
        "command": f"detect {method} train", "method": method, "data": [str(p) for p in args.data],
        "inputs": inputs, "background_label": args.background_label, "objects": len(X),
        "object_shape": list(X.shape[1:]), "model": " ".join(repr(model).split()),
        "detector": entry.family.detector, "seed": args.seed,
    })
    detector.fit(X)
    detector.save(out / "model")
    log.info("model written to %s", out / "model")
    return out


def _load_run(run: Path, method: str, entry: ModelCommand):
    """The run's config and its trained detector; refuses a run of another model."""
    from likely.detect import DETECTORS

    path = run / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run} is not a run directory of 'likely detect {method} train' (no config.json)")
    config = json.loads(path.read_text())
    if config.get("method") != method:
        raise ValueError(f"{run} was trained by 'likely detect {config.get('method')}', not '{method}'")
    return config, DETECTORS[entry.family.detector].load(run / "model")


def run_score(args, method: str, entry: ModelCommand) -> Path:
    target = fresh_file(args.out or args.run_dir / "scores.npz", args.force)
    config, detector = _load_run(args.run_dir, method, entry)
    X, labels = entry.inputs.read(args.data, **config["inputs"])
    chosen, scores = entry.family.scores(detector, X)
    with atomic_write(target) as stream:
        np.savez(stream, score=scores[chosen], label=labels, **{f"score_{name}": value for name, value in scores.items()})
    log.info("scores written to %s", target)
    return target


def run_report(args, method: str, entry: ModelCommand) -> Path:
    if args.resamples < 2:
        raise ValueError(f"--resamples must be at least 2; got {args.resamples}")
    config, detector = _load_run(args.run_dir, method, entry)
    X, y = _test_objects(args, entry, config)
    chosen, scores = entry.family.scores(detector, X)
    model = entry.family.model(detector)
    figures = _figures(args.run_dir, y, scores, model)
    figures += [] if entry.figures is None else entry.figures(model, args.run_dir)
    lines = [f"# likely detect {method}: report", "",
             f"Model: `{config['model']}`, trained on {config['objects']} objects of label "
             f"{config['background_label']} ({', '.join(config['data'])}); the run's score is `{chosen}`.",
             f"Test: {np.count_nonzero(y == 0)} background and {np.count_nonzero(y == 1)} signal objects "
             f"({', '.join(str(p) for p in args.data + (args.signal or []))}).", "", *_table(y, scores, chosen, args.resamples), "",
             *(f"![{path.stem}]({path.name})" for path in figures), ""]
    target = write_text(args.run_dir / "report.md", "\n".join(lines))
    log.info("report written to %s", target)
    return target


def _test_objects(args, entry: ModelCommand, config: dict) -> tuple[np.ndarray, np.ndarray]:
    """The objects of ``--data`` and ``--signal`` and their truth y (N,) (1: signal)."""
    X, labels = entry.inputs.read(args.data, **config["inputs"])
    if (labels < 0).any() and not args.signal:
        raise ValueError("--data holds objects without labels (e.g. ADC2021 files): give the signal files with "
                         "--signal, or labelled files")
    y = ((labels >= 0) & (labels != config["background_label"])).astype(int)
    if args.signal:
        signal, _ = entry.inputs.read(args.signal, **config["inputs"])
        X, y = np.concatenate([X, signal]), np.r_[y, np.ones(len(signal), int)]
    if y.min() == y.max():
        raise ValueError(f"the test objects must hold both background (label {config['background_label']}) and "
                         "signal (other labels, or --signal)")
    return X, y


def _table(y: np.ndarray, scores: dict[str, np.ndarray], chosen: str, resamples: int) -> list[str]:
    """AUC (± its bootstrap std over ``resamples``) and the rejection 1/ε_B at ``SIGNAL_EFFICIENCIES`` of every score."""
    from likely.metrics import auc, bootstrap, rejection_at_signal_efficiency

    header = " | ".join(f"1/ε_B at ε_S = {eff}" for eff in SIGNAL_EFFICIENCIES)
    lines = [f"| score | AUC | {header} |", "|---|--:|" + "--:|" * len(SIGNAL_EFFICIENCIES)]
    for name, score in scores.items():
        value, std = bootstrap(auc, y, score, n_resamples=resamples, random_state=0)
        rejections = " | ".join(_rejection(rejection_at_signal_efficiency(y, score, eff), y)
                                for eff in SIGNAL_EFFICIENCIES)
        label = f"**{name}** (the run's)" if name == chosen else name
        lines.append(f"| {label} | {value:.3f} ± {std:.3f} | {rejections} |")
    return lines


def _rejection(value: float, y: np.ndarray) -> str:
    """A rejection, or the bound the background count sets where no background passes the cut."""
    return f"{value:.3g}" if np.isfinite(value) else f"> {np.count_nonzero(y == 0)} (no background passes)"


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


# ------------------------------------------------------------------- inputs
def _image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pixels", type=positive_int, default=40, help="jet images: pixels per side (default: 40)")
    parser.add_argument("--sigma", type=float, help="jet images: Gaussian smearing in pixels (seed 003: 1)")
    parser.add_argument("--channels", choices=("trk", "mask", "all"), default="mask",
                        help="event images: tracker pT, its hit mask (default, seed 004) or all three channels")
    parser.add_argument("--power", type=float, help="pT^n remapping of every pixel inside the model (seed 003: 0.2)")


def _read_images(files, **options):
    from likely.data import read_images

    return read_images(files, **options)


def _set_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--constituents", type=positive_int, default=50,
                        help="jets: the hardest constituents kept per jet (default: 50, seed 003)")


def _read_sets(files, **options):
    from likely.data.set_inputs import read_sets

    X, labels, _ = read_sets(files, **options)
    return X, labels


#: jet images or seed-004 event images
IMAGES = Inputs("likely particles files of jets (as jet images), or seed-004 event-image files", _image_options,
                lambda args: {"pixels": args.pixels, "sigma": args.sigma, "channels": args.channels}, _read_images)
#: point clouds of jets or ADC2021 events
SETS = Inputs("likely particles files of jets (as point clouds), or ADC2021 files", _set_options,
              lambda args: {"constituents": args.constituents}, _read_sets)


# ----------------------------------------------------------------- families
def _reconstruction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--score", help="the run's anomaly score, one of the model's scores (default: its "
                                        "reconstruction_error)")


def _reconstruction(model, args):
    from likely.detect import ReconstructionDetector

    return ReconstructionDetector(autoencoder=model, score_name=args.score)


def _reconstruction_scores(detector, X) -> tuple[str, dict[str, np.ndarray]]:
    model = detector.autoencoder_
    return detector.score_name or type(model).default_score, model.scores(X)


def _representation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scorer", choices=REPRESENTATION_SCORERS, default="norm",
                        help="score of a representation z: its norm (DarkCLR's s_CLR, default), the energy of seed "
                             "003's normalized autoencoder of the background's z (DarkCLR's s_NAE) or the "
                             "reconstruction error of its 5-d autoencoder (AnomalyCLR)")
    parser.add_argument("--scorer-epochs", type=positive_int, metavar="N",
                        help="training epochs of the nae or ae scorer (default: the seed's, 200 for nae (pre-training), "
                             "100 for ae)")
    parser.add_argument("--nae-steps", type=positive_int, default=1000,
                        help="NAE steps of the nae scorer after its pre-training (default: 1000)")


def _representation(model, args):
    from likely.detect import RepresentationDetector, anomclr_autoencoder, darkclr_nae

    scorer = "norm"
    if args.scorer != "norm":
        epochs = {} if args.scorer_epochs is None else {"epochs": args.scorer_epochs}
        if args.scorer == "nae":
            scorer = darkclr_nae(steps=args.nae_steps, device=args.device, random_state=args.seed, **epochs)
        else:
            scorer = anomclr_autoencoder(device=args.device, random_state=args.seed, **epochs)
    return RepresentationDetector(representation=model, scorer=scorer)


def _representation_scores(detector, X) -> tuple[str, dict[str, np.ndarray]]:
    from likely.autoencoders import NormalizedAutoencoder

    if detector.scorer_ is None:
        name = "norm"
    else:
        name = "nae" if isinstance(detector.scorer_.autoencoder_, NormalizedAutoencoder) else "ae"
    return name, {name: detector.score(X)}


#: autoencoders: every named score of the model
RECONSTRUCTION = Family("ReconstructionDetector", _reconstruction_options, _reconstruction, _reconstruction_scores,
                        lambda detector: detector.autoencoder_)
#: representations: the norm of z or a detector's score of z
REPRESENTATION = Family("RepresentationDetector", _representation_options, _representation, _representation_scores,
                        lambda detector: detector.representation_)
