"""``likely detect fm train | score | report``: Flux+Mutability on dijet events.

Input files are LHC Olympics-format features files (``likely generate dijet`` writes them):
the jets are ordered by pT, the condition is the leading jet's pT (GeV) and the features
are :data:`likely.data.lhco.FM_FEATURES`, the two jets' remaining kinematics and N-subjettiness as in the
paper (seed 001, section 3.2). Training uses the events labelled 0 (all events of a file
without labels); scoring keeps the labels for the report.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.cli import autoencoders, contrastive, detector_runs
from likely.cli.rundir import (
    add_strict, fresh_file, input_line, input_record, on_invalid, positive_int, prepare_run_dir,
)
from likely.data.lhco import FM_FEATURES, read_fm_features

log = logging.getLogger(__name__)

QUANTILES = (0.68, 0.95, 0.99)


def add_parser(subparsers) -> None:
    detect = subparsers.add_parser("detect", help="one-class / unsupervised anomaly detection")
    methods = detect.add_subparsers(dest="detect_method", required=True, metavar="METHOD")
    detector_runs.add_parsers(methods, {**autoencoders.MODELS, **contrastive.MODELS})
    fm = methods.add_parser("fm", help="Flux+Mutability (docs/flux-mutability.md)")
    commands = fm.add_subparsers(dest="fm_command", required=True, metavar="SUBCOMMAND")

    train = commands.add_parser("train", help="learn the reference class (label 0) of dijet files")
    train.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE", help="features files")
    train.add_argument("--out", type=Path, required=True, help="run directory (model, config)")
    train.add_argument("--features-only", action="store_true", help="no autoencoder residuals")
    train.add_argument("--residuals", choices=("in-sample", "crossfit"), default="in-sample",
                       help="training residuals the flow learns: the cAE's own training events' (the paper, "
                            "default) or cross-fitted over --folds cAEs")
    train.add_argument("--folds", type=positive_int, default=5, help="cross-fit folds (default: 5)")
    train.add_argument("--epochs", type=positive_int, default=100, help="max epochs of the cAE and the flow")
    train.add_argument("--transforms", type=positive_int, default=10, help="flow bijections (paper: 10)")
    train.add_argument("--bins", type=positive_int, default=50, help="kinematic bins (default: 50)")
    train.add_argument("--reference-size", type=positive_int, default=1500, help="points per reference cluster")
    train.add_argument("--calibration-size", type=positive_int, default=1500,
                       help="generated points per bin that calibrate the quantile cut")
    train.add_argument("--min-cluster-size", type=positive_int, default=1000)
    train.add_argument("--min-samples", type=positive_int, default=100)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--force", action="store_true", help="overwrite an existing run directory's model")
    add_strict(train)
    train.set_defaults(run=run_train)

    score = commands.add_parser("score", help="score dijet files with a trained model")
    score.add_argument("--run", dest="run_dir", type=Path, required=True, help="run directory made by 'train'")
    score.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE", help="features files")
    score.add_argument("--per-object", action="store_true", help="the paper's per-object path (slow)")
    score.add_argument("--out-of-range", choices=("clip", "flag", "error"), default="clip",
                       help="events whose leading-jet pT lies outside the trained range: scored at the nearest "
                            "edge bin (clip, default), where they lie (flag), or refused (error); scores.npz "
                            "marks them in 'outside'")
    score.add_argument("--force", action="store_true", help="overwrite existing scores")
    add_strict(score)
    score.set_defaults(run=run_score)

    report = commands.add_parser("report", help="TPR/TNR at 68/95/99 %%, AUC, score vs pT")
    report.add_argument("--run", dest="run_dir", type=Path, required=True, help="run directory with scores")
    report.set_defaults(run=run_report)


def run_train(args) -> Path:
    from likely.autoencoders import ConditionalAutoencoder
    from likely.density import Flow
    from likely.detect import FluxMutability
    from likely.nn import Trainer

    out = prepare_run_dir(args.out, args.force)
    X, pt, labels, invalid = read_fm_features(args.data, on_invalid=on_invalid(args), return_invalid=True)
    if labels is not None:
        X, pt = X[labels == 0], pt[labels == 0]
    if len(X) == 0:
        raise ValueError("--data holds no reference (label 0) events")
    progress = not args.quiet
    fm = FluxMutability(
        augmented=not args.features_only, residuals=args.residuals.replace("-", "_"), n_folds=args.folds,
        autoencoder=ConditionalAutoencoder(trainer=Trainer(lr=5e-4, epochs=args.epochs, progress=progress),
                                           random_state=args.seed),
        flow=Flow(kind="maf", transforms=args.transforms, trainer=Trainer(lr=1e-4, epochs=args.epochs, progress=progress),
                  random_state=args.seed),
        n_bins=args.bins, reference_size=args.reference_size, calibration_size=args.calibration_size,
        min_cluster_size=args.min_cluster_size,
        min_samples=args.min_samples, progress=progress, random_state=args.seed,
    )
    write_json(out / "config.json", {
        "command": "detect fm train", "data": [str(p) for p in args.data], "input": input_record(invalid),
        "events": len(X),
        "features": list(FM_FEATURES), "condition": "ptj1 (GeV)", "epochs": args.epochs,
        "transforms": args.transforms,
        "augmented": not args.features_only, "residuals": args.residuals, "folds": args.folds,
        "bins": args.bins, "reference_size": args.reference_size, "calibration_size": args.calibration_size,
        "min_cluster_size": args.min_cluster_size, "min_samples": args.min_samples, "seed": args.seed,
    })
    fm.fit(X, pt)
    fm.save(out / "model")
    log.info("model written to %s", out / "model")
    return out


def run_score(args) -> Path:
    from likely.detect import FluxMutability

    target = fresh_file(args.run_dir / "scores.npz", args.force)
    fm = FluxMutability.load(args.run_dir / "model")
    fm.set_params(progress=not args.quiet, method="per_object" if args.per_object else "binned",
                  out_of_range=args.out_of_range)
    X, pt, labels, invalid = read_fm_features(args.data, on_invalid=on_invalid(args), return_invalid=True)
    write_json(args.run_dir / "score_input.json", input_record(invalid))
    labels = np.full(len(X), -1) if labels is None else labels
    score, rank = fm.score_and_rank(X, pt)
    with atomic_write(target) as stream:
        np.savez(stream, score=score, rank=rank, pt=pt, label=labels, outside=fm.outside_training_range(pt))
    fm.set_params(method="binned")
    write_json(args.run_dir / "thresholds.json", _threshold_steps(fm))
    log.info("scores written to %s", target)
    return target


def _threshold_steps(fm) -> dict:
    """A fitted FluxMutability's score thresholds vs pT as steps: pT bin ``edges`` (GeV, over the trained
    range) and, per quantile, the threshold in each bin (an empty bin uses its nearest full one's)."""
    bins = fm.bins_
    edges = [float(bins.low[0]), *map(float, bins.edges[0]), float(bins.high[0])]
    steps = {str(q): fm.bin_thresholds(q)[1][bins.lookup].tolist() for q in QUANTILES}
    return {"edges": edges, **steps}


def run_report(args) -> Path:
    from likely.metrics import auc, bootstrap

    path = args.run_dir / "scores.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no scores in {args.run_dir}; run 'likely detect fm score' first")
    scores = np.load(path)
    rank, label, score = scores["rank"], scores["label"], scores["score"]
    read = args.run_dir / "score_input.json"
    dropped = input_line(json.loads(read.read_text())) if read.is_file() else ""
    lines = ["# Flux+Mutability report", "", f"{len(label)} scored events. {dropped}".strip(), ""]
    has_classes = {0, 1} <= set(np.unique(label).tolist())
    lines += ["| quantile | TPR (label 0) | TNR (label 1) |", "| --: | --: | --: |"]
    for q in QUANTILES:
        tpr = _rate(rank[label == 0] <= q) if (label == 0).any() else "—"
        tnr = _rate(rank[label == 1] > q) if (label == 1).any() else "—"
        lines.append(f"| {100 * q:.0f} % | {tpr} | {tnr} |")
    if has_classes:
        y = (label == 1).astype(int)[label >= 0]
        value, std = bootstrap(auc, y, score[label >= 0], n_resamples=200, random_state=0)
        lines += ["", f"AUC of the outlier score: {value:.3f} ± {std:.3f} (paper: 0.891 ± 0.005)."]
    figure = _plot_score_vs_pt(args.run_dir, scores)
    lines += ["", f"![outlier score vs leading-jet pT]({figure.name})", ""]
    target = write_text(args.run_dir / "report.md", "\n".join(lines))
    log.info("report written to %s", target)
    return target


def _rate(passed: np.ndarray) -> str:
    p = passed.mean()
    return f"{100 * p:.2f} ± {100 * np.sqrt(p * (1 - p) / len(passed)):.2f} %"


def _plot_score_vs_pt(run: Path, scores) -> Path:
    """The paper's figure 4: outlier score against leading-jet pT, with the 99 % threshold per bin."""
    from likely.plot import plot_score_vs_condition, save_figure

    steps = run / "thresholds.json"
    table = json.loads(steps.read_text()) if steps.is_file() else None
    fig = plot_score_vs_condition(scores["pt"], scores["score"], scores["label"],
                                  None if table is None else (table["0.99"], table["edges"]),
                                  threshold_label="99 % quantile threshold")
    return save_figure(fig, run / "score_vs_pt.png")
