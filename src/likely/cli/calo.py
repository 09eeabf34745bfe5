"""``likely calo generate | train | sample | score | calibrate | evaluate | study``: showers and CaloFlow.

``generate`` is ``likely generate showers`` (the GFLASH-type simulator); the others work
on CaloChallenge-style HDF5 files.

Files hold ``incident_energies`` (N, 1) and ``showers`` (N, n_voxels) in MeV, as the
CaloChallenge datasets do; the library works in GeV (:func:`likely.data.showers.read_showers`
and :func:`~likely.data.showers.write_showers` convert). A training run directory holds
``model/`` (the CaloFlow, in the one save format), ``config.json`` and ``results.json`` (with the scorer's
lambda = mean E_inc / E_dep of the training showers).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json
from likely.calo import (
    CaloFlow, CylindricalGeometry, bias_resolution, evaluate_showers, maximum_likelihood_energy, paper_flow_i,
    paper_flow_ii, seed000_geometry,
)
from likely.cli.calo_run import load_calo_run
from likely.cli.calo_study import add_study_parser
from likely.cli.generate import add_showers_parser
from likely.cli.rundir import add_strict, fresh_file, input_record, on_invalid, positive_int, prepare_run_dir
from likely.data.showers import read_calochallenge, read_calogan, read_showers, write_showers
from likely.detect import LikelihoodScorer
from likely.nn import Trainer

__all__ = ["add_parser"]

log = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    calo = subparsers.add_parser("calo", help="CaloFlow: train, sample, score and calibrate showers; evaluate generated ones")
    commands = calo.add_subparsers(dest="calo_command", required=True, metavar="SUBCOMMAND")
    add_showers_parser(commands, "generate")

    train = commands.add_parser("train", help="train CaloFlow on a CaloChallenge-style file")
    train.add_argument("--data", type=Path, required=True, help="training showers (HDF5, MeV)")
    train.add_argument("--layers", type=positive_int, nargs="+", required=True, metavar="N",
                       help="voxels per layer, in column order (seed 000: 288 144 72)")
    train.add_argument("--max-showers", type=positive_int, help="use only the first N showers")
    train.add_argument("--epochs", type=positive_int, nargs=2, default=(75, 100), metavar=("I", "II"),
                       help="epochs of Flow-I and Flow-II (default: the paper's 75 100)")
    train.add_argument("--flow-ii", choices=("maf", "coupling"), default="maf",
                       help="Flow-II kind: the paper's MAF (default; samples one voxel per pass) or "
                            "coupling layers (samples a shower in one pass: use it on a CPU)")
    train.add_argument("--batch-size", type=positive_int, default=200, help="default: 200")
    train.add_argument("--lr", type=float, default=1e-4, help="learning rate (default: 1e-4)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto")
    _out(train, "run directory")
    train.set_defaults(run=run_train)

    sample = commands.add_parser("sample", help="generate showers with a trained CaloFlow")
    sample.add_argument("--run", dest="run_dir", type=Path, required=True, help="training run directory")
    energies = sample.add_mutually_exclusive_group(required=True)
    energies.add_argument("--like", type=Path, help="use the incident energies of this HDF5 file")
    energies.add_argument("--log-uniform", type=float, nargs=2, metavar=("LOW", "HIGH"),
                          help="incident energies log-uniform in [LOW, HIGH] GeV (with --n)")
    sample.add_argument("--n", type=positive_int, default=10_000, help="showers with --log-uniform")
    sample.add_argument("--seed", type=int, default=0)
    _out(sample, "output HDF5 file (CaloChallenge style, MeV)")
    sample.set_defaults(run=run_sample)

    score = commands.add_parser("score", help="anomaly scores -log p(shower | lambda E_dep)")
    score.add_argument("--run", dest="run_dir", type=Path, required=True, help="training run directory")
    score.add_argument("--data", type=Path, required=True, help="showers to score (HDF5, MeV)")
    score.add_argument("--space", choices=("flows", "voxels"), default="flows",
                       help="seed 000's eq. (1) in the flows' coordinates (default) or the density in "
                            "voxel-energy space (misses showers with empty layers, docs/calo-anomaly.md)")
    _out(score, "output .npz with 'score', 'e_rec' (GeV) and 'space'")
    score.set_defaults(run=run_score)

    calibrate = commands.add_parser("calibrate", help="maximum-likelihood incident energies")
    calibrate.add_argument("--run", dest="run_dir", type=Path, required=True, help="training run directory")
    calibrate.add_argument("--data", type=Path, required=True, help="showers with true energies (HDF5, MeV)")
    calibrate.add_argument("--bins", type=positive_int, default=10, help="E_inc bins (default: 10)")
    _out(calibrate, "run directory")
    calibrate.set_defaults(run=run_calibrate)


    evaluate = commands.add_parser("evaluate", help="judge generated showers against reference ones")
    evaluate.add_argument("--reference", type=Path, required=True, help="reference showers (HDF5)")
    evaluate.add_argument("--generated", type=Path, required=True, help="generated showers (HDF5)")
    evaluate.add_argument("--format", choices=("calochallenge", "calogan"), default="calochallenge",
                          help="layout of both files (default: calochallenge)")
    evaluate.add_argument("--xml", type=Path, metavar="FILE",
                          help="CaloChallenge binning XML of the showers (default: the seed-000 calorimeter)")
    evaluate.add_argument("--xml-particle", metavar="NAME", help="the <Bin> to use in --xml when it has several")
    evaluate.add_argument("--threshold", type=float, default=0.0, metavar="MEV",
                          help="readout threshold: voxels at or below it count as empty in both files (default: 0)")
    evaluate.add_argument("--seed", type=int, default=0)
    _out(evaluate, "run directory")
    evaluate.set_defaults(run=run_evaluate)
    add_study_parser(commands)


def _out(parser, what: str) -> None:
    parser.add_argument("--out", type=Path, required=True, help=what)
    parser.add_argument("--force", action="store_true", help="overwrite existing results")
    add_strict(parser, "refuse shower files with NaN/inf values (default: drop those showers and record how many)")


def run_train(args) -> Path:
    out = prepare_run_dir(args.out, args.force)
    showers, e_inc, invalid = read_showers(args.data, args.layers, args.max_showers, on_invalid=on_invalid(args),
                                           return_invalid=True)
    trainers = [Trainer(epochs=epochs, batch_size=args.batch_size, lr=args.lr, progress=not args.quiet)
                for epochs in args.epochs]
    config = {"command": "calo train", "data": str(args.data), "input": input_record(invalid),
              "n_showers": len(showers), "layers": args.layers,
              "flow_ii": args.flow_ii, "epochs": list(args.epochs), "batch_size": args.batch_size, "lr": args.lr,
              "seed": args.seed}
    write_json(out / "config.json", config)
    model = CaloFlow(layer_sizes=args.layers, flow_i=paper_flow_i(trainers[0]),
                     flow_ii=paper_flow_ii(trainers[1], kind=args.flow_ii), device=args.device, random_state=args.seed)
    scorer = LikelihoodScorer(model=model).fit(showers, e_inc)
    scorer.model_.save(out / "model")
    histories = {name: flow.history_.as_dict() for name, flow in
                 (("flow_i", scorer.model_.flow_i_), ("flow_ii", scorer.model_.flow_ii_))}
    write_json(out / "results.json", {"lambda": scorer.lambda_, "e_inc_range": scorer.model_.e_inc_range_,
                                      "history": histories})
    log.info("model written to %s", out / "model")
    return out


def run_sample(args) -> Path:
    out = fresh_file(args.out, args.force)
    model, _ = load_calo_run(args.run_dir)
    if args.like is not None:
        _, e_inc = read_showers(args.like, on_invalid=on_invalid(args))
    else:
        low, high = args.log_uniform
        if not 0 < low < high:
            raise ValueError(f"--log-uniform needs 0 < LOW < HIGH; got {low} {high}")
        e_inc = np.exp(np.random.default_rng(args.seed).uniform(np.log(low), np.log(high), args.n))
    showers = model.sample(e_inc.astype(np.float32), random_state=args.seed)
    return write_showers(out, showers, e_inc, overwrite=args.force)


def run_score(args) -> Path:
    out = fresh_file(args.out, args.force)
    model, lam = load_calo_run(args.run_dir)
    scorer = LikelihoodScorer.from_model(model, lam, space=args.space)
    showers, _, invalid = read_showers(args.data, on_invalid=on_invalid(args), return_invalid=True)
    with atomic_write(out) as stream:  # showers dropped for NaN/inf are left out (n_dropped says how many)
        np.savez_compressed(stream, score=scorer.score(showers), e_rec=scorer.reconstruct_energy(showers),
                            space=args.space, n_dropped=invalid.n_dropped)
    return out


def run_calibrate(args) -> Path:
    from likely.plot import plot_calibration, save_figure

    out = prepare_run_dir(args.out, args.force)
    model, _ = load_calo_run(args.run_dir)
    showers, e_inc, invalid = read_showers(args.data, on_invalid=on_invalid(args), return_invalid=True)
    e_hat = maximum_likelihood_energy(model, showers, progress=not args.quiet)
    with atomic_write(out / "energies.npz") as stream:
        np.savez_compressed(stream, e_inc=e_inc, e_mle=e_hat)
    table = bias_resolution(e_inc, e_hat, bins=args.bins)
    write_json(out / "results.json", {"input": input_record(invalid),
                                      **{key: np.asarray(value).tolist() for key, value in table.items()}})
    save_figure(plot_calibration({"max. likelihood": table}), out / "calibration.png")
    return out


def run_evaluate(args) -> Path:
    from likely.plot import plot_feature_histograms, save_figure

    geometry = seed000_geometry() if args.xml is None else CylindricalGeometry.from_xml(args.xml, args.xml_particle)
    out = prepare_run_dir(args.out, args.force)
    options = {"on_invalid": on_invalid(args), "return_invalid": True}
    read = {"calochallenge": lambda path: read_calochallenge(path, layer_sizes=geometry.layer_sizes, **options),
            "calogan": lambda path: read_calogan(path, **options)}[args.format]
    (reference, reference_invalid), (generated, generated_invalid) = read(args.reference), read(args.generated)
    result = evaluate_showers(reference, generated, geometry, threshold=args.threshold, random_state=args.seed)
    features = result.pop("features")
    write_json(out / "config.json", {"command": "calo evaluate", "reference": str(args.reference),
                                     "generated": str(args.generated), "format": args.format,
                                     "xml": None if args.xml is None else str(args.xml), "threshold_mev": args.threshold,
                                     "seed": args.seed})
    write_json(out / "results.json", {"input": {"reference": reference_invalid.to_dict(),
                                                "generated": generated_invalid.to_dict()}, **result})
    names = [name for name in features[0].names if name in result["separation_power"]]
    save_figure(plot_feature_histograms(*features, names), out / "features.png")
    worst = sorted(result["separation_power"].items(), key=lambda item: -item[1])[:5]
    log.info("classifier AUC: low-level %.3f, high-level %.3f; largest separation powers: %s",
             result["low_level"]["auc"], result["high_level"]["auc"],
             ", ".join(f"{name} {value:.3f}" for name, value in worst))
    return out
