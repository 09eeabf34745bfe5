"""Seed 003's normalized-autoencoder tables and seed 004's Table 6, on data made here (issue 15).

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/autoencoders.py top inverse --jets /tmp/jets            # jets made if missing
    .venv/bin/python benchmarks/autoencoders.py aachen --jets /tmp/jets --powers 0.5 0.3 0.2 0.1
    .venv/bin/python benchmarks/autoencoders.py codae --event-images /tmp/ei            # event_images.py --keep
    .venv/bin/python benchmarks/autoencoders.py cost
    ... --write docs/benchmarks.md                                                      # one section per task

Tasks (each a section of docs/benchmarks.md):

- ``top``: train on QCD jet images (40 x 40, σ_G = 1 pixel, normalized), top jets are the
  anomaly: the autoencoder (the NAE's network after its pre-training alone), the NAE (that
  network after ``--nae-steps`` NAE steps, ``warm_start``) and the Dirichlet VAE (seed 003:
  NAE AUC 0.91, above AE and DVAE).
- ``inverse``: train on top jets, QCD is the anomaly (seed 003: AE 0.579, NAE "almost 0.9").
- ``aachen``: train on QCD jets of pT 150–300 GeV with the pTⁿ remapping inside the model,
  the Aachen dark jets are the anomaly, for each n of ``--powers`` (seed 003, Fig. 5.11 table).
- ``codae``: CoDAE on the tracker masks of the 58 x 72 event images of
  ``benchmarks/event_images.py --keep FOLDER``: trained on part of the QCD images, its BCE
  (and SAE) scores per SUEP and SVJ mass against the rest, beside the number of tracks on
  the same QCD images (seed 004, Table 6 and Table 5's FPR at 40 % TPR).
- ``cost``: images/s of training and of scoring and the peak memory of one training step at
  each model's default batch, on the bundled jets and event images.

Every number is the median over ``--seeds`` model seeds with their standard deviation; the
data are fixed (their generator seeds are in the JSON beside each file). The networks and
step counts are the CPU-sized settings printed with each table, not the seeds' GPU-sized
ones: the tables say which.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from _common import log, peak_mib, run_tasks, warn_if_busy

from likely.autoencoders import CoDAE, DirichletVAE, Langevin, NormalizedAutoencoder
from likely.data import jet_images, read_event_images, read_particles
from likely.data.event_images import baseline_scores, tracker_mask
from likely.data.generate import JetSettings, generate_jets
from likely.data.samples import load_bundled_event_images, load_bundled_jets
from likely.metrics import auc, background_efficiency_at_signal_efficiency, rejection_at_signal_efficiency
from likely.nn import Trainer

TITLES = {
    "top": "Autoencoders: top jets against a QCD-trained model (benchmarks/autoencoders.py)",
    "inverse": "Autoencoders: the inverse task, QCD jets against a top-trained model (benchmarks/autoencoders.py)",
    "aachen": "Autoencoders: Aachen dark jets and the pTⁿ remapping (benchmarks/autoencoders.py)",
    "codae": "Autoencoders: CoDAE on SUEP and SVJ event images, seed 004 Table 6 (benchmarks/autoencoders.py)",
    "cost": "Autoencoders: training and scoring cost (benchmarks/autoencoders.py)",
}
#: the jet samples: generator settings, first chunk seed
JETS = {
    "top": (JetSettings("top"), 1501),
    "qcd": (JetSettings("qcd"), 2501),
    "aachen": (JetSettings.preset("aachen"), 3501),
    "qcd150": (JetSettings("qcd", pt_min=150.0, pt_max=300.0), 4501),
}
#: seed 003: top tagging (Sec. 5.2.2), the inverse task, the Aachen row of the Fig. 5.11 table (AUC, 1/eps_B(0.2))
PUBLISHED_TOP = {"AE": "below the NAE", "DVAE": "below the NAE", "NAE": "0.91"}
PUBLISHED_INVERSE = {"AE": "0.579", "NAE": "almost 0.9"}
PUBLISHED_AACHEN = {0.5: ("0.68(1)", "15(1)"), 0.3: ("0.746(5)", "38(3)"), 0.2: ("0.75(1)", "33(7)"),
                    0.1: ("0.767(5)", "41(2)"), 0.01: ("0.755(5)", "41(1)")}
#: seed 004 Table 6, CoDAE (BCE) AUC %, per signal file stem of event_images.py
PUBLISHED_CODAE = {"SUEP_125": 86.4, "SUEP_200": 96.8, "SUEP_300": 99.5, "SUEP_400": 99.9, "SUEP_700": 99.98,
                   "SUEP_1000": 99.98, "SVJ_2.1": 85.7, "SVJ_3.1": 89.9, "SVJ_4.1": 92.1}
#: a quarter of seed 004's widths (docs/autoencoders.md): the CPU-sized CoDAE
QUARTER = dict(filters=(16, 32, 32, 64), mask_filters=(16, 32, 32, 64), latent_channels=16)


# ------------------------------------------------------------------ data
def jets(folder: Path, name: str, n: int, workers: int) -> np.ndarray:
    """Jet images (n, 40, 40) of sample ``name`` from ``folder/<name>.h5``, generated first if missing or short."""
    path = folder / f"{name}.h5"
    if not path.exists() or len(read_particles(path)) < n:
        settings, seed = JETS[name]
        log(f"{name}: generating {n} jets")
        generate_jets(path, settings, n, chunk_size=-(-n // workers), workers=workers, seed=seed, overwrite=True,
                      progress=False)
    return jet_images(read_particles(path)[:n], pixels=40, sigma=1.0)


def split(background: np.ndarray, signal: np.ndarray, n_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training background, and the test objects and labels: the last ``n_test`` of each class."""
    if len(background) <= n_test or len(signal) < n_test:
        raise SystemExit(f"need more than {n_test} background and {n_test} signal objects for --test {n_test}")
    test = np.concatenate([background[-n_test:], signal[-n_test:]])
    return background[:-n_test], test, np.r_[np.zeros(n_test), np.ones(n_test)]


# ---------------------------------------------------------------- models
def pretraining(args) -> Trainer:
    return Trainer(epochs=args.epochs, batch_size=args.pretrain_batch, lr=1e-3, schedule="constant",
                   val_fraction=0.0, patience=None, progress=False)


def nae(args, power: float | None, seed: int) -> NormalizedAutoencoder:
    """The NAE of seed 003's Tab. 5.1 with the CPU-sized step counts of ``args``."""
    return NormalizedAutoencoder(
        power=power, trainer=pretraining(args), steps=0, lr=args.nae_lr, batch_size=128,
        latent_chain=Langevin(step=100.0, noise=1e-2, steps=args.chain_steps),
        input_chain=Langevin(step=50.0, noise=1e-4, steps=args.chain_steps, anneal=True),
        monitor_every=max(1, args.nae_steps // 4), progress=False, device=args.device, random_state=seed)


def ae_and_nae(train: np.ndarray, args, power: float | None, seed: int) -> dict[str, Callable]:
    """Score functions of the pre-trained autoencoder and of the NAE trained on from it."""
    ae = nae(args, power, seed).fit(train)
    tuned = copy.deepcopy(ae).set_params(steps=args.nae_steps, warm_start=True).fit(train)
    return {"AE": ae.reconstruction_error, "NAE": tuned.reconstruction_error}


def dvae(train: np.ndarray, args, seed: int) -> Callable:
    trainer = Trainer(epochs=args.epochs, batch_size=128, lr=1e-3, schedule="constant", val_fraction=0.0,
                      patience=None, progress=False)
    return DirichletVAE(trainer=trainer, device=args.device, random_state=seed).fit(train).reconstruction_error


def settings_line(args) -> str:
    return (f"Models: the NAE of seed 003's Tab. 5.1 (latent 3 on the sphere, 8-filter convolutions, spectral "
            f"normalization, chains λ 100 | 50, σ 1e-2 | 1e-4, Metropolis, input-noise annealing) with CPU-sized "
            f"training: pre-training {args.epochs} epochs of batch {args.pretrain_batch} (seed: 300 epochs of 2048), then "
            f"{args.nae_steps} NAE steps of batch 128 at lr {args.nae_lr:g} (seed: 40k at 1e-5) with chains of "
            f"{args.chain_steps} | {args.chain_steps} steps (seed: 30 | 30). AE = that network after its "
            f"pre-training alone (the seed's AE); DVAE = `DirichletVAE()` defaults, {args.epochs} epochs. "
            f"Seeds {args.seed}..{args.seed + args.seeds - 1}; median ± std over seeds.")


# --------------------------------------------------------------- metrics
def summary(values: Sequence[float], digits: int = 3) -> str:
    values = np.asarray(values, float)
    return f"{np.median(values):.{digits}f} ± {values.std():.{digits}f}"


def evaluate(scorers: dict[str, list[Callable]], test: np.ndarray, y: np.ndarray, eps_s: float = 0.2) -> dict:
    """``{model: (AUCs, rejections at eps_s)}`` over the seeds' score functions."""
    result = {}
    for name, fns in scorers.items():
        scores = [fn(test) for fn in fns]
        result[name] = ([auc(y, s) for s in scores], [rejection_at_signal_efficiency(y, s, eps_s) for s in scores])
    return result


def jet_task(background: np.ndarray, signal: np.ndarray, args, power: float | None, with_dvae: bool) -> dict:
    train, test, y = split(background, signal, args.test)
    scorers: dict[str, list[Callable]] = {}
    for seed in range(args.seed, args.seed + args.seeds):
        start = time.perf_counter()
        for name, fn in ae_and_nae(train, args, power, seed).items():
            scorers.setdefault(name, []).append(fn)
        if with_dvae:
            scorers.setdefault("DVAE", []).append(dvae(train, args, seed))
        log(f"  seed {seed}: {time.perf_counter() - start:.0f} s")
    return evaluate(scorers, test, y)


def jet_rows(result: dict, published: dict) -> list[list[str]]:
    return [[name, summary(aucs), summary(rejections, 1), published[name]]
            for name, (aucs, rejections) in result.items()]


# ----------------------------------------------------------------- tasks
def top_and_qcd(args, inverse: bool) -> tuple[str, list]:
    """Train on QCD, top is the anomaly (seed 003's direct task), or the other way round (``inverse``)."""
    n = args.train + args.test
    qcd, top = jets(args.jets, "qcd", n, args.workers), jets(args.jets, "top", n, args.workers)
    background, signal, names = (top, qcd, ("top", "QCD")) if inverse else (qcd, top, ("QCD", "top"))
    result = jet_task(background, signal, args, None, with_dvae=not inverse)
    setup = (f"Train on {args.train} {names[0]} jets, test on {args.test} {names[0]} and {args.test} {names[1]} "
             f"jets ({names[1]} = signal; jets of pT 550–650 GeV). ")
    return setup + settings_line(args), [(["model", "AUC", "1/eps_B(eps_S=0.2)", "seed 003 AUC"],
                                          jet_rows(result, PUBLISHED_INVERSE if inverse else PUBLISHED_TOP))]


def task_aachen(args) -> tuple[str, list]:
    qcd = jets(args.jets, "qcd150", args.train + args.test, args.workers)
    dark = jets(args.jets, "aachen", args.test, args.workers)
    rows = []
    for power in args.powers:
        log(f"n = {power}")
        result = jet_task(qcd, dark, args, power, with_dvae=False)
        published = PUBLISHED_AACHEN.get(power, ("—", "—"))
        for name, (aucs, rejections) in result.items():
            rows.append([f"{power:g}", name, summary(aucs), summary(rejections, 1),
                         *(published if name == "NAE" else ("—", "—"))])
    setup = (f"Train on {args.train} QCD jets (150–300 GeV), test on {args.test} QCD and {args.test} Aachen dark "
             f"jets; pixels remapped x → x^n inside the model. " + settings_line(args))
    headers = ["n", "model", "AUC", "1/eps_B(eps_S=0.2)", "seed 003 NAE AUC", "seed 003 NAE 1/eps_B"]
    return setup, [(headers, rows)]


def task_codae(args) -> tuple[str, list]:
    if args.event_images is None:
        raise SystemExit("codae needs --event-images FOLDER (benchmarks/event_images.py --keep FOLDER)")
    qcd_images = read_event_images(args.event_images / "QCD_images.h5")
    signals = {stem: read_event_images(args.event_images / f"{stem}_images.h5") for stem in PUBLISHED_CODAE}
    masks = tracker_mask(qcd_images.images)
    n_test = len(masks) // 3
    train, test = masks[:-n_test], masks[-n_test:]
    tracks_qcd = baseline_scores(qcd_images[-n_test:])["tracks"]
    models = []
    for seed in range(args.seed, args.seed + args.seeds):
        start = time.perf_counter()
        trainer = Trainer(epochs=args.codae_epochs, batch_size=128, lr=1e-3, weight_decay=1e-4, max_grad_norm=1.0,
                          schedule="constant", val_fraction=0.25, patience=None, progress=False)
        widths = QUARTER if args.codae_width == "quarter" else {}
        models.append(CoDAE(**widths, trainer=trainer, device=args.device, random_state=seed).fit(train))
        log(f"  seed {seed}: {time.perf_counter() - start:.0f} s")
    qcd_scores = [model.scores(test) for model in models]
    auc_rows, fpr_rows = [], []
    for stem, images in signals.items():
        y = np.r_[np.zeros(n_test), np.ones(len(images))]
        tracks = np.r_[tracks_qcd, baseline_scores(images)["tracks"]]
        signal_scores = [model.scores(tracker_mask(images.images)) for model in models]
        auc_row, fpr_row = [stem.replace("_", " ")], [stem.replace("_", " ")]
        for name in ("bce", "sae"):
            scores = [np.r_[q[name], s[name]] for q, s in zip(qcd_scores, signal_scores)]
            auc_row.append(summary([100 * auc(y, s) for s in scores], 1))
            fpr_row.append(summary([100 * background_efficiency_at_signal_efficiency(y, s, 0.4) for s in scores], 2))
        auc_rows.append([*auc_row, f"{100 * auc(y, tracks):.1f}", f"{PUBLISHED_CODAE[stem]:g}"])
        fpr_rows.append([*fpr_row, f"{100 * background_efficiency_at_signal_efficiency(y, tracks, 0.4):.2f}"])
    width = f"a quarter of seed 004's widths ({QUARTER})" if args.codae_width == "quarter" else "seed 004's widths"
    setup = (f"CoDAE at {width}, the seed's training (AdamW lr 1e-3, weight "
             f"decay 1e-4, clipping 1, batch 128, 25 % validation, best epoch kept) for {args.codae_epochs} "
             f"epochs on {len(train)} QCD tracker masks; test: the other {n_test} QCD images and every signal "
             f"image. Seeds {args.seed}..{args.seed + args.seeds - 1}; median ± std over seeds. nTracks: the "
             f"number of tracks on the same images (no training).")
    return setup, [(["signal", "CoDAE BCE AUC %", "CoDAE SAE AUC %", "nTracks AUC %", "seed 004 CoDAE (BCE)"],
                    auc_rows),
                   (["signal (FPR at 40 % TPR, %)", "CoDAE BCE", "CoDAE SAE", "nTracks"], fpr_rows)]


COST_MODELS = ("AE (NAE pre-training), 40 x 40", "Dirichlet VAE, 40 x 40", "CoDAE quarter, 58 x 72",
               "CoDAE seed widths, 58 x 72", "NAE step, 40 x 40", "imports and data only")


def _cost_inputs(name: str) -> np.ndarray:
    if "58 x 72" in name:
        masks = tracker_mask(load_bundled_event_images("qcd").images)
        return masks[:256] if "seed widths" in name else masks
    return jet_images(load_bundled_jets("qcd"), pixels=40, sigma=1.0)


def _cost_model(name: str, args, epochs: int):
    trainer = Trainer(epochs=epochs, batch_size=128, val_fraction=0.0, schedule="constant", patience=None,
                      progress=False)
    if name.startswith("AE") or name.startswith("NAE"):
        return nae(args, None, 0).set_params(trainer=trainer)
    if name.startswith("Dirichlet"):
        return DirichletVAE(trainer=trainer, device=args.device)
    return CoDAE(**(QUARTER if "quarter" in name else {}), trainer=trainer, device=args.device)


def measure_cost(name: str, args) -> list[str]:
    """One row of the cost table, measured in this (fresh) process: images, training and
    scoring images/s, peak resident MiB."""
    torch.set_num_threads(args.threads)
    X = _cost_inputs(name)
    if name.startswith("imports"):
        return [name, str(len(X)), "—", "—", f"{peak_mib():.0f}"]
    model = _cost_model(name, args, 1)
    start = time.perf_counter()
    model.fit(X[:512] if name.startswith("NAE") else X)
    seconds = time.perf_counter() - start
    if name.startswith("NAE"):  # two NAE steps of batch 128 on the pre-trained network
        start = time.perf_counter()
        model.set_params(steps=2, warm_start=True).fit(X[:512])
        return [f"{name} (two chains of {args.chain_steps} steps)", "128",
                f"{2 * 128 / (time.perf_counter() - start):.0f}", "—", f"{peak_mib():.0f}"]
    start = time.perf_counter()
    model.reconstruction_error(X)
    return [name, str(len(X)), f"{len(X) / seconds:.0f}", f"{len(X) / (time.perf_counter() - start):.0f}",
            f"{peak_mib():.0f}"]


def task_cost(args) -> tuple[str, list]:
    rows = []
    for name in COST_MODELS:  # a fresh process each: the peak memory is that model's
        log(name)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows.append(pool.submit(measure_cost, name, args).result())
    setup = (f"One epoch of batch 128 on {args.device} with {args.threads} torch threads, each model in a fresh "
             "process; peak MiB is that process's resident maximum (imports and data included: the last row).")
    return setup, [(["model", "images", "training images/s", "scoring images/s", "peak MiB"], rows)]


TASKS = {"top": lambda args: top_and_qcd(args, inverse=False), "inverse": lambda args: top_and_qcd(args, inverse=True),
         "aachen": task_aachen, "codae": task_codae, "cost": task_cost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tasks", nargs="+", choices=sorted(TASKS))
    parser.add_argument("--jets", type=Path, default=Path("jets"), help="folder of the jet samples (made if missing)")
    parser.add_argument("--event-images", type=Path, help="folder of benchmarks/event_images.py --keep")
    parser.add_argument("--train", type=int, default=4000, help="background training jets (default 4000)")
    parser.add_argument("--test", type=int, default=1500, help="test jets per class (default 1500)")
    parser.add_argument("--epochs", type=int, default=30, help="pre-training / DVAE epochs (default 30; seed: 300)")
    parser.add_argument("--pretrain-batch", type=int, default=128, help="pre-training batch (default 128; seed: 2048)")
    parser.add_argument("--nae-steps", type=int, default=200, help="NAE steps (default 200; seed: 40k)")
    parser.add_argument("--nae-lr", type=float, default=1e-5, help="NAE learning rate (default and seed: 1e-5)")
    parser.add_argument("--chain-steps", type=int, default=30, help="steps of each Langevin chain (seed: 30)")
    parser.add_argument("--powers", type=float, nargs="+", default=[0.5, 0.3, 0.2, 0.1], help="aachen: the n scan")
    parser.add_argument("--codae-epochs", type=int, default=15, help="CoDAE epochs (default 15)")
    parser.add_argument("--codae-width", choices=("quarter", "seed"), default="quarter",
                        help="CoDAE widths: a quarter of the seed's (default, CPU) or the seed's")
    parser.add_argument("--seeds", type=int, default=3, help="model seeds per number (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="first model seed")
    parser.add_argument("--workers", type=int, default=2, help="generator workers for missing jets")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", type=Path, help="write each task's section into this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warn_if_busy()
    run_tasks(TASKS, lambda task: TITLES[task] if task != "aachen" else
              TITLES[task].replace(" (", f", n = {args.powers} (", 1), args)


if __name__ == "__main__":
    main()
