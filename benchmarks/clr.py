"""Contrastive anomaly detection: DarkCLR on dark jets, AnomalyCLR on ADC2021 events, their cost (seed 003 §5.3).

Run by hand from the repository root on samples made by ``likely generate`` (the commands
for each missing file are printed; ``--data`` is their folder), e.g.::

    .venv/bin/python benchmarks/clr.py darkclr anomclr --data /tmp/clrdata --write docs/benchmarks.md
    .venv/bin/python benchmarks/clr.py cost --write docs/benchmarks.md       # bundled samples

- ``darkclr`` (Tabs. 5.3, 5.4): a CLR with DarkCLR's loss (L⁺ with the background-norm
  penalty; rotation and translation make the positive view, dropping constituents with
  p = 0.5 the anomaly) and the JetCLR ablation (SimCLR, no anomaly view) learn 50-constituent
  point clouds of QCD jets (pT 150–300 GeV). Scores: ‖z‖ (s_CLR) and a normalized
  autoencoder on z (s_NAE, contrastive divergence from the data). Test: QCD against the
  Aachen dark jets and its variations (r_inv 0.5, 0.2; meson masses 10, 20 GeV), with a
  supervised transformer (the same backbone, trained on QCD against Aachen) beside it. The
  linear classifier test (LCT) and the MMD of QCD and Aachen say how far apart the classes
  lie in each representation.
- ``anomclr`` (Tab. 5.2): CLR, AnomCLR and AnomCLR⁺ learn ADC2021 events of the Standard
  Model (W, Z + jets and tt̄ in the challenge's shares, QCD left out: it does not pass a
  lepton trigger at a rate this machine can generate); seed 003's 5-d autoencoder on z scores
  them, and the same autoencoder on the preprocessed raw objects is AE-Raw. Signals: A → 4ℓ,
  h⁰ → ττ, h± → τν, LQ → bτ; AUC, 1/ε_B and SI = ε_S / √ε_B at ε_S = 0.3.
- ``cost``: training throughput (sets and objects per second) of the seed's networks and of
  the CPU-sized ones used here, on the bundled jets and events.

Every number is mean ± std over ``--seeds`` CLR runs × ``--scorer-seeds`` scorer runs (the
seed: 5 × 3). The networks and epochs are CPU-sized and printed with each table; the
seed's GPU-sized settings are ``--dim 128 --out-features 512 --layers 4 --feedforward 512
--epochs 150`` (DarkCLR) and ``--dim 160 --out-features 160 --feedforward 160 --epochs 500
--batch 128`` (AnomalyCLR), with ``--device cuda``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from _common import log, run_tasks, warn_if_busy

from likely.autoencoders import Langevin
from likely.classify import SetClassifier
from likely.data.adc import FEATURES as EVENT_FEATURES
from likely.data.adc import adc_layout
from likely.data.clouds import CLOUD, point_clouds
from likely.data.samples import load_bundled_adc, load_bundled_jets
from likely.data.set_inputs import read_sets
from likely.detect import RepresentationDetector, ReconstructionDetector, anomclr_autoencoder, darkclr_nae
from likely.metrics import auc, mmd, rejection_at_signal_efficiency
from likely.nn import Trainer, set_progress_bars
from likely.represent import CLR, RawSets, linear_classifier_test

TITLES = {
    "darkclr": "Contrastive learning: DarkCLR on Aachen dark jets, seed 003 Tabs. 5.3-5.4 (benchmarks/clr.py)",
    "anomclr": "Contrastive learning: AnomalyCLR on ADC2021 events, seed 003 Tab. 5.2 (benchmarks/clr.py)",
    "cost": "Contrastive learning: training throughput (benchmarks/clr.py)",
}
#: the dark-jet samples: file stem → (label in the tables, ``likely generate jets`` options)
DARK = {
    "aachen": ("Aachen", "--process dark --preset aachen --jets 3000 --seed 16101"),
    "aachen-rinv0.2": ("r_inv = 0.2", "--process dark --preset aachen-rinv0.2 --jets 1500 --seed 16201"),
    "aachen-rinv0.5": ("r_inv = 0.5", "--process dark --preset aachen-rinv0.5 --jets 1500 --seed 16201"),
    "aachen-m10": ("m_mesons = 10 GeV", "--process dark --preset aachen-m10 --jets 1500 --seed 16201"),
    "aachen-m20": ("m_mesons = 20 GeV", "--process dark --preset aachen-m20 --jets 1500 --seed 16201"),
}
QCD = ("qcd150", "--process qcd --pt-min 150 --pt-max 300 --jets 12000 --seed 16001")
#: ADC2021's background shares after its trigger, % (seed 003 §2.5), QCD (33.8 %) left out
BACKGROUND_SHARES = {"wjets": 59.2, "zjets": 6.7, "ttbar": 0.3}
#: the ADC signals: process → (label, published AUC, 1/ε_B, SI at ε_S = 0.3 for AE-Raw | CLR | AnomCLR | AnomCLR⁺)
ADC_SIGNALS = {
    "ato4l": ("A → 4ℓ", ("0.885(2)", "0.89(1)", "0.918(2)", "0.917(3)"), ("47(2)", "170(70)", "400(100)", "270(50)"),
              ("2.05(5)", "4.0(8)", "6.4(9)", "5.0(4)")),
    "h0tautau": ("h⁰ → ττ", ("0.755(2)", "0.726(9)", "0.749(3)", "0.776(2)"), ("14.9(7)", "10(1)", "15.0(5)", "19.1(7)"),
                 ("1.16(3)", "1.01(5)", "1.19(2)", "1.34(2)")),
    "hplus": ("h± → τν", ("0.900(4)", "0.84(1)", "0.898(3)", "0.925(2)"), ("60(10)", "20(2)", "53(3)", "110(10)"),
              ("2.3(2)", "1.38(9)", "2.24(7)", "3.2(2)")),
    "leptoquark": ("LQ → bτ", ("0.856(2)", "0.82(1)", "0.847(6)", "0.882(2)"), ("24.4(6)", "16(1)", "27(1)", "37(2)"),
                   ("1.48(2)", "1.25(5)", "1.59(3)", "1.87(6)")),
}
ADC_EVENTS = {"wjets": 12000, "zjets": 1500, "ttbar": 300, "ato4l": 1200, "leptoquark": 1200, "h0tautau": 1000,
              "hplus": 400}
ADC_SEEDS = {"ato4l": 16301, "leptoquark": 16401, "zjets": 16501, "ttbar": 16601, "wjets": 16701, "h0tautau": 16801,
             "hplus": 16901}
#: AnomalyCLR's models: table column → CLR loss (None: AE-Raw)
ADC_MODELS = {"AE-Raw": None, "CLR": "simclr", "AnomCLR": "anomclr", "AnomCLR⁺": "anomclr+"}


# ------------------------------------------------------------------ data
def _missing(path: Path, commands: list[str]) -> None:
    raise SystemExit(f"{path} is missing; make it with\n  " + "\n  ".join(commands))


def jet_sets(folder: Path, stem: str, options: str) -> np.ndarray:
    """Point clouds (N, 50, 3) of ``folder/<stem>.h5``."""
    path = folder / f"{stem}.h5"
    if not path.exists():
        _missing(path, [f"likely generate jets {options} --out {path} --workers 2"])
    return read_sets([path], constituents=50)[0]


def adc_sets(folder: Path, process: str) -> np.ndarray:
    """ADC2021 events (N, 19, 4) of ``folder/adc_<process>.h5``."""
    path = folder / f"adc_{process}.h5"
    if not path.exists():
        truth, seed = folder / f"{process}_truth.h5", ADC_SEEDS[process]
        _missing(path, [f"likely generate events --process {process} --events {ADC_EVENTS[process]} --out {truth} "
                        f"--lepton-pt-min 20 --workers 2 --seed {seed}",
                        f"likely generate detector {truth} --out {path} --to adc --card adc --lepton-trigger "
                        f"--seed {seed}"])
    return read_sets([path])[0]


def adc_background(folder: Path, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, int]]:
    """The largest mixture of the backgrounds in :data:`BACKGROUND_SHARES` the files allow, shuffled."""
    samples = {name: adc_sets(folder, name) for name in BACKGROUND_SHARES}
    total = sum(BACKGROUND_SHARES.values())
    n = min(len(samples[name]) * total / share for name, share in BACKGROUND_SHARES.items())
    counts = {name: int(n * share / total) for name, share in BACKGROUND_SHARES.items()}
    events = np.concatenate([samples[name][:count] for name, count in counts.items()])
    return events[rng.permutation(len(events))], counts


# ---------------------------------------------------------------- models
def trainer(args, epochs: int, batch: int, lr: float) -> Trainer:
    return Trainer(epochs=epochs, batch_size=batch, lr=lr, schedule="constant", val_fraction=0.0, patience=None,
                   progress=False)


def clr(args, features, loss: str, seed: int) -> CLR:
    """A CLR of ``args``' CPU-sized network (DarkCLR's optimizer: Adam at ``--lr``, constant)."""
    return CLR(features=features, loss=loss, anomaly=None if loss == "simclr" else "auto", dim=args.dim,
               out_features=args.out_features, layers=args.layers, heads=4, feedforward=args.feedforward,
               head_hidden=(args.out_features,), aggregate=args.aggregate, norm_weight=args.norm_weight,
               trainer=trainer(args, args.epochs, args.batch, args.lr),
               device=args.device, random_state=seed)


def nae_on_representations(args, seed: int) -> ReconstructionDetector:
    """DarkCLR's NAE (``darkclr_nae``) with the CPU-sized epochs, steps and chain of ``args``."""
    chain = Langevin(step=args.chain_step, noise=args.chain_noise, steps=args.chain_steps)
    detector = darkclr_nae(epochs=args.nae_epochs, steps=args.nae_steps, chain=chain, device=args.device,
                           random_state=seed)
    detector.autoencoder.set_params(progress=False, monitor_every=args.nae_steps)
    detector.autoencoder.trainer.set_params(progress=False)
    return detector


def scored(representation, scorer, train: np.ndarray, tests: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scores of each test sample by a ``RepresentationDetector`` on the trained ``representation``."""
    detector = RepresentationDetector(representation=representation, prefit=True, scorer=scorer).fit(train)
    return {name: detector.score(X) for name, X in tests.items()}


# --------------------------------------------------------------- metrics
def mean_std(values, digits: int = 3, floor: float | None = None) -> str:
    """``mean ± std``; infinite values (a rejection where no background passes) count as ``floor``,
    the bound the test size sets, and the mean is then a lower bound."""
    values = np.asarray(values, float)
    lost = ~np.isfinite(values)
    bounded = np.where(lost, floor, values)
    text = f"{bounded.mean():.{digits}f} ± {bounded.std():.{digits}f}"
    return text if not lost.any() else f"≥ {text} ({lost.sum()} of {len(values)} runs: no background left)"


def separation(background: np.ndarray, signal: np.ndarray, eps_s: float) -> tuple[float, float]:
    """AUC and 1/ε_B at ``eps_s`` of scores (higher = more signal-like)."""
    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    scores = np.r_[background, signal]
    return auc(y, scores), rejection_at_signal_efficiency(y, scores, eps_s)


def settings_line(args, what: str) -> str:
    return (f"{what}: transformer width {args.dim}, {args.layers} blocks of 4 heads, feed-forward {args.feedforward}, "
            f"representation {args.out_features} (head of one hidden layer), {args.aggregate} aggregation, norm-penalty weight {args.norm_weight:g} (DarkCLR), {args.epochs} epochs of batch {args.batch} "
            f"at lr {args.lr:g}, constant; CLR seeds {args.seed}..{args.seed + args.seeds - 1} × {args.scorer_seeds} "
            f"scorer seeds; mean ± std over all runs.")


# ----------------------------------------------------------------- tasks
def task_darkclr(args) -> tuple[str, list]:
    qcd = jet_sets(args.data, *QCD)
    dark = {stem: jet_sets(args.data, stem, options) for stem, (_, options) in DARK.items()}
    n = args.test
    train, cls_qcd, test_qcd = qcd[:min(args.train, len(qcd) - 2 * n)], qcd[-2 * n:-n], qcd[-n:]
    aachen_cls, dark["aachen"] = dark["aachen"][:-n][:n], dark["aachen"][-n:]
    tests = {"qcd": test_qcd, **{stem: X[:n] for stem, X in dark.items()}}
    scores: dict[str, dict[str, list]] = {}
    lct: dict[str, list] = {}
    distance: dict[str, list] = {}
    for seed in range(args.seed, args.seed + args.seeds):
        start = time.perf_counter()
        for name, loss in (("DarkCLR", "darkclr"), ("JetCLR", "simclr")):
            representation = clr(args, CLOUD, loss, seed).fit(train)
            z_qcd, z_aachen = representation.transform(test_qcd), representation.transform(tests["aachen"])
            lct.setdefault(name, []).append(linear_classifier_test(z_qcd, z_aachen))
            distance.setdefault(name, []).append(mmd(z_qcd, z_aachen))
            if name == "DarkCLR":
                _collect(scores, "DarkCLR s_CLR = ‖z‖", scored(representation, "norm", train, tests))
            for scorer_seed in range(args.scorer_seeds):
                _collect(scores, f"{name} s_NAE", scored(representation, nae_on_representations(args, scorer_seed),
                                                        train, tests))
        classifier = SetClassifier(dim=args.dim, layers=args.layers, feedforward=args.feedforward,
                                   trainer=Trainer(epochs=args.epochs, batch_size=args.batch, lr=1e-4, patience=None,
                                                   progress=False), device=args.device, random_state=seed)
        classifier.fit(np.concatenate([cls_qcd, aachen_cls]), np.r_[np.zeros(len(cls_qcd)), np.ones(len(aachen_cls))])
        _collect(scores, "supervised transformer (CLS)", {k: classifier.predict_proba(X) for k, X in tests.items()})
        log(f"  seed {seed}: {time.perf_counter() - start:.0f} s")
    published = {"DarkCLR s_NAE": ("0.76(1)", "59(1)"), "DarkCLR s_CLR = ‖z‖": ("ROC drops at ε_S ≈ 0.3", "—"),
                 "JetCLR s_NAE": ("below DarkCLR", "below DarkCLR"), "supervised transformer (CLS)": ("—", "80(1)")}
    main = [[name, mean_std(aucs(s, "aachen", 0.2)[0]), mean_std(aucs(s, "aachen", 0.2)[1], 1, n), *published[name]]
            for name, s in scores.items()]
    main += [["image NAE (seed 003 [1]); DVAE; INN", "see the autoencoder tables", "—", "0.76(1); 0.71; 0.73",
              "41(1); 36; 39"]]
    tab54 = {"supervised transformer (CLS)": ("80(1)", "28(2)", "22(2)", "30(2)", "28(2)"),
             "DarkCLR s_NAE": ("58(2)", "28(2)", "35(3)", "65(7)", "33(1)")}
    robust = [[name, *(f"{mean_std(aucs(scores[name], stem, 0.2)[1], 1, n)} [{published}]"
                       for stem, published in zip(DARK, tab54[name]))] for name in tab54]
    robust_auc = [[name, *(mean_std(aucs(scores[name], stem, 0.2)[0]) for stem in DARK)] for name in scores]
    space = [[name, mean_std(lct[name]), mean_std(distance[name], 4)] for name in lct]
    setup = (f"CLR trained on {len(train)} QCD jets (pT 150–300 GeV, 50 hardest constituents), tested on {n} other "
             f"QCD jets and {n} jets of each dark sample; the supervised transformer trained on {len(cls_qcd)} QCD and "
             f"{len(aachen_cls)} Aachen jets apart from both (seed: 100k jets each). " + settings_line(args, "CLR")
             + f" NAE on z: 128-64-32-16-8 → 3, spectral norm on the encoder, {args.nae_epochs} pre-training epochs, "
             f"{args.nae_steps} NAE steps of batch 128 at lr 1e-4, chains from the data of {args.chain_steps} steps "
             f"(λ {args.chain_step:g}, σ {args.chain_noise:g}) (seed: 200 + 100 epochs). The supervised transformer: "
             f"the same backbone, head one hidden layer of 512, {args.epochs} epochs at lr 1e-4 (seed: 300), best "
             "validation loss kept. Published values in [ ].")
    labels = [label for label, _ in DARK.values()]
    return setup, [
        (["score", "AUC", "1/ε_B (ε_S = 0.2)", "seed 003 AUC", "seed 003 1/ε_B"], main),
        (["1/ε_B (ε_S = 0.2) [seed 003 Tab. 5.4]", *labels], robust),
        (["AUC", *labels], robust_auc),
        (["representation", "LCT AUC (QCD vs Aachen)", "MMD² (QCD, Aachen)"], space),
    ]


def _collect(scores: dict, name: str, new: dict[str, np.ndarray]) -> None:
    for sample, values in new.items():
        scores.setdefault(name, {}).setdefault(sample, []).append(values)


def aucs(scores: dict[str, list], signal: str, eps_s: float) -> tuple[list[float], list[float]]:
    """AUCs and rejections at ``eps_s`` of ``signal`` against ``"qcd"``/``"background"`` over the runs."""
    background = scores["qcd"] if "qcd" in scores else scores["background"]
    pairs = [separation(b, s, eps_s) for b, s in zip(background, scores[signal])]
    return [a for a, _ in pairs], [r for _, r in pairs]


def task_anomclr(args) -> tuple[str, list]:
    rng = np.random.default_rng(0)
    background, counts = adc_background(args.data, rng)
    n = min(args.test, len(background) // 3)
    train, test = background[:min(args.train, len(background) - n)], background[-n:]
    tests = {"background": test, **{name: adc_sets(args.data, name) for name in ADC_SIGNALS}}
    scores: dict[str, dict[str, list]] = {}
    for seed in range(args.seed, args.seed + args.seeds):
        start = time.perf_counter()
        for name, loss in ADC_MODELS.items():
            representation = (RawSets(features=EVENT_FEATURES) if loss is None
                              else clr(args, EVENT_FEATURES, loss, seed)).fit(train)
            for scorer_seed in range(seed * args.scorer_seeds, (seed + 1) * args.scorer_seeds):  # AE-Raw: all differ
                scorer = anomclr_autoencoder(epochs=args.ae_epochs, device=args.device, random_state=scorer_seed)
                _collect(scores, name, scored(representation, scorer, train, tests))
        log(f"  seed {seed}: {time.perf_counter() - start:.0f} s")
    rows = []
    for process, (label, *published) in ADC_SIGNALS.items():
        per_model = {name: aucs(s, process, 0.3) for name, s in scores.items()}
        metrics = (("AUC", lambda m: mean_std(per_model[m][0])),
                   ("1/ε_B", lambda m: mean_std(per_model[m][1], 1, len(test))),
                   ("SI", lambda m: mean_std(0.3 * np.sqrt(per_model[m][1]), 2, 0.3 * np.sqrt(len(test)))))
        for (metric, value), paper in zip(metrics, published):
            rows.append([metric, f"{label} ({len(tests[process])})",
                         *(f"{value(m)} [{p}]" for m, p in zip(ADC_MODELS, paper))])
    mix = ", ".join(f"{name} {count}" for name, count in counts.items())
    setup = (f"Background: {mix} events through the `adc` card and the lepton trigger ({len(train)} to train the CLR "
             f"and the autoencoders, {len(test)} to test; seed: 10⁶ events of the published set, QCD included). "
             f"Signal events per test in the rows. " + settings_line(args, "CLR")
             + f" Scorer: `anomclr_autoencoder(epochs={args.ae_epochs})` (seed: 100 epochs of batch 4096); AE-Raw: the "
             "same on `RawSets` (pT / mean pT, η / 4, φ / π, one-hot type, 19 slots). Metrics at ε_S = 0.3; "
             "seed 003's values in [ ].")
    return setup, [(["metric", "signal (test events)", *ADC_MODELS], rows)]


def _throughput(fit: Callable[[], object], sets: np.ndarray, epochs: int) -> tuple[float, float]:
    start = time.perf_counter()
    fit()
    seconds = time.perf_counter() - start
    n_sets = len(sets) * epochs
    return n_sets / seconds, n_sets * float((sets[..., 0] > 0).sum(1).mean()) / seconds


def _repeated(sets: np.ndarray, n: int) -> np.ndarray:
    """``n`` sets: ``sets`` repeated (the bundled samples are smaller than a few batches)."""
    return np.resize(sets, (n, *sets.shape[1:]))


def task_cost(args) -> tuple[str, list]:
    jets = _repeated(point_clouds(load_bundled_jets("qcd-150-300"), n=50).values, 2048)
    events = _repeated(adc_layout(load_bundled_adc("wjets")), 2048)
    seed_sizes = {"jets": dict(dim=128, out_features=512, layers=4, feedforward=512, head_hidden=(512,)),
                  "events": dict(dim=160, out_features=160, layers=4, feedforward=160, head_hidden=(160,))}
    cpu = dict(dim=args.dim, out_features=args.out_features, layers=args.layers, feedforward=args.feedforward,
               head_hidden=(args.out_features,))
    rows = []
    for what, sets, features, loss in (("jets", jets, CLOUD, "darkclr"), ("events", events, EVENT_FEATURES, "anomclr+")):
        for size, network in (("seed", seed_sizes[what]), ("CPU (this benchmark)", cpu)):
            model = CLR(features=features, loss=loss, trainer=trainer(args, 1, 256, 5e-5), device=args.device,
                        random_state=0, **network)
            per_set, per_object = _throughput(lambda: model.fit(sets), sets, 1)
            rows.append([f"CLR {loss}, {what}", size, f"{len(sets)}", f"{per_set:.0f}", f"{per_object:.0f}"])
    classifier = SetClassifier(trainer=Trainer(epochs=1, batch_size=256, val_fraction=0.0, patience=None,
                                               progress=False), device=args.device, random_state=0)
    y = np.r_[np.zeros(len(jets) // 2), np.ones(len(jets) - len(jets) // 2)]
    per_set, per_object = _throughput(lambda: classifier.fit(jets, y), jets, 1)
    rows.append(["supervised transformer, jets", "seed", f"{len(jets)}", f"{per_set:.0f}", f"{per_object:.0f}"])
    setup = (f"One training epoch of batch 256 over 2048 sets, the bundled ones repeated (QCD jets of 150–300 GeV "
             f"as 50-constituent point clouds; W + jets ADC events), initialization included, {torch.get_num_threads()} torch threads, device {args.device}; a CLR "
             "step runs the network on three views of the batch (the sets, the positive and the anomaly view), the "
             "classifier on one. Objects/s counts real objects (pT > 0) only.")
    return setup, [(["model", "network", "sets", "sets/s", "objects/s"], rows)]


TASKS = {"darkclr": task_darkclr, "anomclr": task_anomclr, "cost": task_cost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tasks", nargs="+", choices=sorted(TASKS))
    parser.add_argument("--data", type=Path, default=Path("clrdata"), help="folder of the generated samples")
    parser.add_argument("--train", type=int, default=6000, help="background sets to train on (default 6000)")
    parser.add_argument("--test", type=int, default=1500, help="test sets per class (default 1500)")
    parser.add_argument("--dim", type=int, default=64, help="transformer width (default 64; seed 128 | 160)")
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks (default 2; seed 4)")
    parser.add_argument("--feedforward", type=int, default=256, help="feed-forward width (default 256; seed 512 | 160)")
    parser.add_argument("--out-features", type=int, default=256, help="representation size (default 256; seed 512 | 160)")
    parser.add_argument("--aggregate", choices=("sum", "mean"), default="sum", help="set aggregation (default sum)")
    parser.add_argument("--norm-weight", type=float, default=1.0, help="DarkCLR's norm penalty weight (default 1)")
    parser.add_argument("--epochs", type=int, default=10, help="CLR and classifier epochs (default 10; seed 150 | 500)")
    parser.add_argument("--batch", type=int, default=256, help="CLR batch (default and DarkCLR 256; AnomalyCLR 128)")
    parser.add_argument("--lr", type=float, default=5e-4, help="CLR learning rate (default 5e-4; seed 5e-5)")
    parser.add_argument("--nae-epochs", type=int, default=50, help="NAE pre-training epochs (default 50; seed 200)")
    parser.add_argument("--nae-steps", type=int, default=300, help="NAE steps (default 300)")
    parser.add_argument("--chain-steps", type=int, default=10, help="steps of each chain from the data (default 10)")
    parser.add_argument("--chain-step", type=float, default=1.0, help="chain step size λ (default 1)")
    parser.add_argument("--chain-noise", type=float, default=0.01, help="chain noise σ (default 0.01)")
    parser.add_argument("--ae-epochs", type=int, default=100, help="AnomalyCLR autoencoder epochs (default and seed 100)")
    parser.add_argument("--seeds", type=int, default=3, help="CLR runs (default 3; seed 5)")
    parser.add_argument("--scorer-seeds", type=int, default=2, help="scorer runs per CLR (default 2; seed 3)")
    parser.add_argument("--seed", type=int, default=0, help="first CLR seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", type=Path, help="write each task's section into this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_progress_bars(False)
    warn_if_busy()
    run_tasks(TASKS, TITLES.get, args)

if __name__ == "__main__":
    main()
