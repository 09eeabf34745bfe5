"""CaloFlow on GFLASH photon showers: fidelity, speed, memory and energy calibration.

Run by hand from the repository root, e.g.::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/caloflow.py --write docs/benchmarks.md
    .venv/bin/python benchmarks/caloflow.py --n-train 5000 --epochs 5 5      # a quick look

Simulates photon showers (uniform 1-100 GeV, seed-000 geometry) with the GFLASH
simulator, trains CaloFlow on some (or loads a trained one, ``--model``) and measures on
held-out showers:

- the classifier two-sample test of generated vs simulated showers (AUC on low-level
  and high-level inputs; issue target <= 0.60, CaloINN on CaloChallenge photons 0.601)
  and the separation power of the high-level features, for each readout threshold
  (``--thresholds``, applied to both samples; CaloINN reads out above 2 keV);
- sampling and likelihood throughput (showers/s), the whole process's peak memory and
  CaloFlow's own (a fresh process that only loads the model, samples and scores);
- maximum-likelihood energy calibration vs a direct regression network: bias and
  resolution of E_pred / E_true in bins of E_true.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from _common import log, markdown_table, peak_mib, publish, rate, warn_if_busy

from likely.calo import CaloFlow, EnergyRegressor, bias_resolution, maximum_likelihood_energy, paper_flow_i, paper_flow_ii
from likely.calo.evaluate import evaluate_showers
from likely.data.generate.showers import Source, simulate_showers
from likely.data.geometry import seed000_geometry
from likely.data.showers import Showers
from likely.nn import Trainer

GEV = 1000.0  # MeV per GeV: simulated showers are in MeV, CaloFlow works in GeV


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=30_000, help="training showers (default: 30000)")
    parser.add_argument("--n-test", type=int, default=10_000, help="held-out showers (default: 10000)")
    parser.add_argument("--n-calibrate", type=int, default=2_000, help="showers calibrated (default: 2000)")
    parser.add_argument("--flow-ii", choices=("maf", "coupling"), default="coupling",
                        help="Flow-II kind (default: coupling, which samples in one pass on a CPU)")
    parser.add_argument("--epochs", type=int, nargs=2, default=(75, 100), metavar=("I", "II"),
                        help="epochs of Flow-I and Flow-II (default: the paper's 75 100)")
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate of both flows (default: the paper's 1e-4)")
    parser.add_argument("--model", type=Path, help="load this trained CaloFlow instead of training one")
    parser.add_argument("--save", type=Path, help="save the trained CaloFlow here")
    parser.add_argument("--device", default="cpu", help="torch device of the flows (default: cpu)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=(0.0, 0.01), metavar="MEV",
                        help="readout thresholds of the evaluation, MeV (default: 0 and 10 keV)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", type=Path, help="write the tables into this markdown file")
    return parser.parse_args()


def simulate(n: int, seed: int) -> Showers:
    log(f"simulating {n} photon showers")
    return simulate_showers(n, source=Source(particle="photon", energy=(1.0, 100.0)), random_state=seed)


def train(showers: Showers, args) -> CaloFlow:
    flows = [paper_flow_i(Trainer(epochs=args.epochs[0], batch_size=200, lr=args.lr)),
             paper_flow_ii(Trainer(epochs=args.epochs[1], batch_size=200, lr=args.lr), kind=args.flow_ii)]
    model = CaloFlow(layer_sizes=seed000_geometry().layer_sizes, flow_i=flows[0], flow_ii=flows[1], device=args.device, random_state=args.seed)
    return model.fit(showers.energies / GEV, showers.incident_energies / GEV)


def training_summary(model: CaloFlow) -> str:
    """Epochs run (best one) and summed epoch wall time of both flows, from their saved histories."""
    parts, seconds = [], 0.0
    for name, flow in (("Flow-I", model.flow_i_), ("Flow-II", model.flow_ii_)):
        history = flow.history_
        parts.append(f"{name} {history.epochs} epochs (best {history.best_epoch + 1})")
        seconds += sum(history.seconds)
    return f"{seconds / 60:.1f} min; " + ", ".join(parts)


def _inference_peak(path: Path, device: str, showers: np.ndarray, e_inc: np.ndarray) -> float:
    """In a fresh process: load the model, sample one shower per ``e_inc`` and score ``showers``."""
    model = CaloFlow.load(path, device=device)
    model.sample(e_inc, random_state=0)
    model.log_prob(showers, e_inc)
    # VmHWM, not ru_maxrss: Linux carries the forking parent's peak into ru_maxrss across exec
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def inference_peak_mib(model: CaloFlow, device: str, showers: np.ndarray, e_inc: np.ndarray) -> float:
    """CaloFlow's own peak memory (MiB) for sampling and scoring, apart from the simulator's."""
    with tempfile.TemporaryDirectory() as folder, \
            ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        path = Path(folder) / "model"
        model.save(path)
        return pool.submit(_inference_peak, path, device, showers, e_inc).result()


def fidelity_rows(result: dict, threshold: float) -> list[list[str]]:
    """Table rows of one :func:`evaluate_showers` result at readout ``threshold`` (MeV)."""
    tag = f"readout > {1000 * threshold:g} keV"
    separation = result["separation_power"]
    worst = max(separation, key=separation.get)
    return [
        [f"classifier test AUC, low level (voxels / E_inc, log E_inc), {tag}", f"{result['low_level']['auc']:.3f}"],
        [f"classifier test AUC, high level, {tag}", f"{result['high_level']['auc']:.3f}"],
        [f"weights w = C/(1-C), 1 % / 50 % / 99 % (low level), {tag}",
         " / ".join(f"{w:.2f}" for w in result["low_level"]["weight_quantiles"])],
        [f"separation power, median / max over high-level features, {tag}",
         f"{np.median(list(separation.values())):.4f} / {separation[worst]:.4f} ({worst})"],
    ]


def calibration_rows(model: CaloFlow, train_showers: Showers, test: Showers, n: int, seed: int) -> list[list[str]]:
    """Bias and resolution of the maximum-likelihood and the regression estimates per E_true bin."""
    showers, e_true = test.energies[:n] / GEV, test.incident_energies[:n] / GEV
    log(f"maximum-likelihood energies of {n} showers")
    e_ml = maximum_likelihood_energy(model, showers, random_state=seed)
    log("training the regression baseline")
    regressor = EnergyRegressor(trainer=Trainer(progress=False), device=model.device, random_state=seed)
    e_reg = regressor.fit(train_showers.energies / GEV, train_showers.incident_energies / GEV).predict(showers)
    edges = np.geomspace(1.0, 100.0, 6)
    ml, reg = bias_resolution(e_true, e_ml, edges), bias_resolution(e_true, e_reg, edges)
    return [[f"{lo:.1f}-{hi:.1f}", str(count), f"{100 * b1:+.1f} %", f"{100 * r1:.1f} %",
             f"{100 * b2:+.1f} %", f"{100 * r2:.1f} %"]
            for lo, hi, count, b1, r1, b2, r2 in zip(edges[:-1], edges[1:], ml["count"], ml["bias"],
                                                     ml["resolution"], reg["bias"], reg["resolution"])]


def main() -> None:
    args = parse_args()
    warn_if_busy()
    train_showers = simulate(args.n_train, args.seed)
    test = simulate(args.n_test, args.seed + 1)
    if args.model:
        model = CaloFlow.load(args.model, device=args.device)
    else:
        model = train(train_showers, args)
        if args.save:
            model.save(args.save)
    e_test = test.incident_energies / GEV
    log("sampling")
    generated = model.sample(e_test, random_state=args.seed)
    sample_rate = rate(lambda: model.sample(e_test[:1000], random_state=args.seed), 1000)
    likelihood_rate = rate(lambda: model.log_prob(test.energies[:5000] / GEV, e_test[:5000]), 5000)
    log("classifier tests")
    generated = Showers(generated * GEV, test.incident_energies, test.layer_sizes)
    fidelity = [row for threshold in args.thresholds
                for row in fidelity_rows(evaluate_showers(test, generated, seed000_geometry(), threshold=threshold,
                                                          random_state=args.seed), threshold)]
    calibration = calibration_rows(model, train_showers, test, args.n_calibrate, args.seed)
    process_peak = peak_mib()
    log("CaloFlow's own memory in a fresh process")
    own_peak = inference_peak_mib(model, args.device, test.energies[:5000] / GEV, e_test[:5000])

    flow_ii = "loaded" if args.model else f"{args.flow_ii}, epochs {args.epochs[0]}/{args.epochs[1]}, batch 200, lr {args.lr:g}"
    setup = (f"photons uniform in 1-100 GeV, seed-000 geometry (504 voxels), GFLASH simulator; "
             f"{args.n_train} training and {args.n_test} held-out showers; CaloFlow with the paper's "
             f"flow sizes, Flow-II {flow_ii}; device {args.device}")
    rows = [
        *fidelity,
        ["training time (sum of epochs)", training_summary(model)],
        ["sampling, showers/s", f"{sample_rate:,.1f}"],
        ["log-likelihood, showers/s", f"{likelihood_rate:,.0f}"],
        ["peak resident memory of the process (simulation, training, evaluation)", f"{process_peak:,.0f} MiB"],
        [f"peak resident memory of a process that loads CaloFlow, samples and scores {min(args.n_test, 5000)} showers",
         f"{own_peak:,.0f} MiB"],
    ]
    footer = ("Energy calibration on held-out showers (response R = E_pred / E_true; bias = median R - 1, "
              "resolution = half the 16-84 % range of R / median):\n\n"
              + markdown_table(["E_true (GeV)", "showers", "ML bias", "ML resolution", "regression bias",
                                "regression resolution"], calibration))
    publish(args.write, "CaloFlow on GFLASH photon showers (benchmarks/caloflow.py)", setup,
            ["quantity", "value"], rows, footer)


if __name__ == "__main__":
    main()
