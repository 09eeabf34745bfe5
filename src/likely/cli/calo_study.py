"""``likely calo study``: seed 000's anomaly study with a trained CaloFlow (and supervised classifiers).

Reads a ``likely calo train`` run and held-out photon showers, takes χ → γγ signal
showers per (m_χ, z) from ``--signal-dir`` (files ``chi_m{m}_z{z}.h5``, as
``--generate`` writes them) or simulates them, trains seed 000's supervised classifiers
(one per ``--supervised-masses``) and writes into ``--out``: ``config.json``,
``results.json`` (:meth:`likely.calo.AnomalyStudy.summary`), ``scores.npz``,
``report.md`` and the figures.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from likely._io import atomic_write, write_json, write_text
from likely.calo.anomaly import CHI_ENERGY, LIKELIHOOD, AnomalyStudy, run_anomaly_study, train_supervised
from likely.cli.calo_run import load_calo_run
from likely.cli.generate import positive_float
from likely.cli.rundir import check_run_dir, positive_int, prepare_run_dir
from likely.data.generate.showers import SEED000_DISPLACEMENTS, SEED000_LIFETIMES, SEED000_MASSES
from likely.data.showers import MEV_PER_GEV, read_showers, write_showers
from likely.detect import LikelihoodScorer

__all__ = ["add_study_parser", "signal_file"]

log = logging.getLogger(__name__)

#: Seed 000 §IV C: the classifiers' χ have τ = 1 ns and kinetic energy uniform in 1-100 GeV.
SUPERVISED_LIFETIME = 1.0
SUPERVISED_ENERGY = (1.0, 100.0)
#: Lifetime figures: one colour per lifetime, one line style per method (likelihood solid).
LINESTYLES = ("-", ":", "-.", (0, (5, 1)))


def signal_file(directory: Path, mass: float, z: float) -> Path:
    """Where the study reads/writes the showers of χ mass ``mass`` (GeV) decaying at ``z`` (m)."""
    return Path(directory) / f"chi_m{mass:g}_z{z:g}.h5"


def add_study_parser(commands) -> None:
    study = commands.add_parser(
        "study", help="seed 000's anomaly study: likelihood vs supervised classifiers on chi -> gamma gamma",
        description="Score held-out photon showers and chi -> gamma gamma showers at fixed (mass, z) with a "
                    "trained CaloFlow's likelihood and with supervised classifiers; write max-SIC heatmaps, "
                    "lifetime-mixture SIC curves, log-likelihood histograms, results.json and report.md.")
    study.add_argument("--run", dest="run_dir", type=Path, required=True, help="'likely calo train' run directory")
    study.add_argument("--background", type=Path, required=True,
                       help="held-out photon showers (HDF5, MeV), not used in training")
    signal = study.add_mutually_exclusive_group(required=True)
    signal.add_argument("--signal-dir", type=Path, help="directory of chi_m{M}_z{Z}.h5 files (MeV)")
    signal.add_argument("--generate", type=positive_int, metavar="N",
                        help="simulate N showers per (mass, z) (written to OUT/signals/)")
    study.add_argument("--masses", type=positive_float, nargs="+", default=list(SEED000_MASSES), metavar="GEV",
                       help="chi masses (default: seed 000's 0.005 0.05 0.5 5)")
    study.add_argument("--displacements", type=positive_float, nargs="+", default=list(SEED000_DISPLACEMENTS),
                       metavar="M", help="decay positions in m from the detector centre (default: seed 000's ten)")
    study.add_argument("--lifetimes", type=positive_float, nargs="+", default=list(SEED000_LIFETIMES), metavar="NS",
                       help="lifetimes of the mixtures (default: 0.01 0.1 1)")
    study.add_argument("--energy", type=positive_float, default=CHI_ENERGY,
                       help="chi total energy in GeV (default: 50)")
    study.add_argument("--supervised-masses", type=positive_float, nargs="*", default=[0.005, 5.0], metavar="GEV",
                       help="train one supervised classifier per mass (default: seed 000's 0.005 5; none: skip)")
    study.add_argument("--supervised-n", type=positive_int, default=10_000, metavar="N",
                       help="chi showers per classifier (tau = 1 ns, kinetic energy uniform 1-100 GeV)")
    study.add_argument("--supervised-background", type=Path, metavar="FILE",
                       help="photon showers for the classifiers (default: the run's training data)")
    study.add_argument("--supervised-epochs", type=positive_int, default=50, help="default: 50 (seed 000)")
    study.add_argument("--min-background", type=int, default=25,
                       help="max SIC only over cuts passed by >= this many background showers (default: 25)")
    study.add_argument("--seed", type=int, default=0)
    study.add_argument("--out", type=Path, required=True, help="run directory")
    study.add_argument("--force", action="store_true", help="overwrite existing results")
    study.set_defaults(run=run_study)


def run_study(args) -> Path:
    if args.min_background < 0:
        raise ValueError(f"--min-background must be >= 0; got {args.min_background}")
    check_run_dir(args.out, args.force)  # before any reading; created once the inputs are good
    model, lam = load_calo_run(args.run_dir)
    background, _ = read_showers(args.background)
    if background.shape[1] != model.n_voxels_:
        raise ValueError(f"--background showers have {background.shape[1]} voxels, but the CaloFlow in "
                         f"{args.run_dir} was trained on {model.n_voxels_}: a different calorimeter geometry")
    signals = None if args.signal_dir is None else _read_signals(args)
    out = prepare_run_dir(args.out, args.force)
    signals = signals or _generate_signals(args, out, model.n_voxels_)
    classifiers = _classifiers(args, lam, model.n_voxels_)
    study = run_anomaly_study(LikelihoodScorer.from_model(model, lam), background, signals, classifiers,
                              energy=args.energy, lifetimes=args.lifetimes, min_background=args.min_background,
                              progress=not args.quiet)
    write_json(out / "config.json", {key: str(v) if isinstance(v, Path) else v for key, v in vars(args).items()
                                     if key not in ("run", "quiet", "force")} | {"command": "calo study"})
    results = study.summary()
    write_json(out / "results.json", results)
    _write_scores(out / "scores.npz", study)
    figures = _write_figures(out, study)
    write_text(out / "report.md", report(results, figures))
    log.info("study written to %s", out)
    return out


def _points(args) -> list[tuple[float, float]]:
    return [(m, z) for m in args.masses for z in args.displacements]


def _read_signals(args) -> dict:
    files = {p: signal_file(args.signal_dir, *p) for p in _points(args)}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"--signal-dir lacks {len(missing)} of {len(files)} signal files, e.g. {missing[0]}")
    return {p: read_showers(path, allow_empty=True)[0] for p, path in files.items()}


def _generate_signals(args, out: Path, n_voxels: int) -> dict:
    from likely.calo.anomaly import simulate_signal_grid

    if n_voxels != 504:
        raise ValueError(f"--generate simulates seed 000's 504-voxel calorimeter, but the model has {n_voxels} "
                         "voxels; pass --signal-dir")
    grid = simulate_signal_grid(args.generate, args.masses, args.displacements, args.energy,
                                random_state=args.seed, progress=not args.quiet)
    for (m, z), showers in grid.items():
        write_showers(signal_file(out / "signals", m, z), showers, np.full(len(showers), args.energy),
                      overwrite=args.force)
    return grid


def _classifiers(args, lam: float, n_voxels: int) -> dict:
    if not args.supervised_masses:
        return {}
    from likely.classify import default_two_sample_classifier
    from likely.data.generate.showers import Source, simulate_showers

    path = args.supervised_background or Path(json.loads((args.run_dir / "config.json").read_text())["data"])
    photons, _ = read_showers(path)
    if n_voxels != 504:
        raise ValueError(f"the classifiers' chi showers are simulated in seed 000's 504-voxel calorimeter, but the "
                         f"model has {n_voxels} voxels; pass --supervised-masses with no value")
    classifiers = {}
    for k, mass in enumerate(args.supervised_masses):
        source = Source(particle="chi", energy=SUPERVISED_ENERGY, mass=mass, lifetime=SUPERVISED_LIFETIME)
        chi = simulate_showers(args.supervised_n, source=source, random_state=[args.seed, 1000 + k]).energies / MEV_PER_GEV
        classifier = default_two_sample_classifier(args.seed)
        classifier.trainer.set_params(epochs=args.supervised_epochs)
        log.info("training the supervised classifier on m = %g GeV (%d photons, %d chi)", mass, len(photons),
                 len(chi))
        classifiers[f"supervised m={mass:g}"] = train_supervised(photons, chi, lam, classifier)
    return classifiers


def _write_scores(path: Path, study: AnomalyStudy) -> None:
    arrays = {f"{method}/background": scores for method, scores in study.background.items()}
    arrays |= {f"{method}/m{m:g}_z{z:g}": s for method, points in study.signal.items() for (m, z), s in points.items()}
    with atomic_write(path) as stream:
        np.savez_compressed(stream, **arrays)


def _slug(method: str) -> str:
    return method.replace(". ", "_").replace(" ", "_").replace("=", "")


def _write_figures(out: Path, study: AnomalyStudy) -> list[tuple[str, str]]:
    """Save the heatmaps, lifetime curves and log-likelihood histograms; returns (file, caption)."""
    from likely.plot import plot_log_likelihoods, plot_sic_heatmap, plot_sic_vs_rejection, save_figure

    figures = []
    for method in study.methods:
        name = f"max_sic_{_slug(method)}.png"
        save_figure(plot_sic_heatmap(study.max_sic(method), study.masses, study.displacements,
                                     value_label=f"max SIC ({method})"), out / name)
        figures.append((name, f"max SIC per (m_chi, z), {method}"))
    for mass in study.masses:
        if any((mass, z) not in study.signal[LIKELIHOOD] for z in study.displacements):
            continue
        curves, styles = {}, {}
        for i, method in enumerate(study.methods):
            for j, t in enumerate(study.lifetimes):
                label = f"{t:g} ns ({method})"
                curves[label] = study.lifetime_sample(method, mass, t)
                styles[label] = {"color": f"C{j}", "linestyle": LINESTYLES[i % len(LINESTYLES)]}
        name = f"sic_lifetimes_m{mass:g}.png"
        save_figure(plot_sic_vs_rejection(curves, min_background=study.min_background, styles=styles), out / name)
        figures.append((name, f"SIC vs 1/eps_B of the lifetime mixtures, m_chi = {mass:g} GeV"))
    for mass in study.masses:
        signals = {f"z = {z:g} m": -s for (m, z), s in study.signal[LIKELIHOOD].items() if m == mass}
        name = f"log_likelihood_m{mass:g}.png"
        save_figure(plot_log_likelihoods(-study.background[LIKELIHOOD], signals), out / name)
        figures.append((name, f"log p of photons (filled) and chi showers, m_chi = {mass:g} GeV"))
    return figures


def report(results: dict, figures: list[tuple[str, str]]) -> str:
    """Markdown report: settings, the max-SIC tables, the lifetime mixtures' max SIC and the figures."""
    masses, zs = results["masses"], results["displacements"]
    lines = ["# Anomaly study (seed 000)", "",
             f"- chi energy {results['chi_energy_gev']:g} GeV; background showers: "
             f"{next(iter(results['n_background'].values()))}; signal showers per point: "
             f"{min(results['n_signal'].values())}-{max(results['n_signal'].values())}",
             f"- max SIC = max of eps_S / sqrt(eps_B) over the cuts passed by >= {results['min_background']} "
             "background showers", ""]
    for method, table in results["max_sic"].items():
        lines += [f"## Max SIC, {method}", "", "| m_chi [GeV] \\ z [m] | " + " | ".join(f"{z:g}" for z in zs) + " |",
                  "|" + "---|" * (len(zs) + 1)]
        lines += [f"| {m:g} | " + " | ".join("—" if v is None else f"{v:.2f}" for v in row) + " |"
                  for m, row in zip(masses, table)]
        lines.append("")
    mixtures = results["lifetime_max_sic"]
    methods = list(mixtures)
    rows = [(m, t) for m in mixtures[methods[0]] for t in results["lifetimes"]]
    if rows:
        lines += ["## Max SIC of the lifetime mixtures", "", "| m_chi [GeV] | tau [ns] | " + " | ".join(methods) + " |",
                  "|" + "---|" * (len(methods) + 2)]
        for m, t in rows:
            values = [mixtures[method][m][str(t)] for method in methods]
            lines.append(f"| {float(m):g} | {t:g} | " + " | ".join("—" if v is None else f"{v:.2f}" for v in values)
                         + " |")
        lines.append("")
    lines += ["## Figures", ""] + [f"![{caption}]({name})" for name, caption in figures]
    return "\n".join(lines) + "\n"
