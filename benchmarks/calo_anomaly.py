"""Seed 000's anomaly study end to end: simulate, train a photon CaloFlow, run ``likely calo study``.

Run by hand from the repository root, e.g.::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calo_anomaly.py --workdir runs/calo_anomaly   # ~30 min, 1 core
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calo_anomaly.py --workdir runs/calo_anomaly \\
        --write docs/benchmarks.md

1. Simulates (GFLASH, seed-000 calorimeter) ``--n-train`` training and ``--n-test``
   held-out photon showers, E_inc uniform in 1-100 GeV (seed 000: 100k each).
2. Trains a CaloFlow small enough for one CPU core: seed 000's Flow-I (MAF 6 x (64, 64)) and
   a coupling Flow-II with ``--flow-ii-transforms`` transforms of hidden ``--flow-ii-hidden``
   (seed 000: MAF 8 x (378,), 36.5 M parameters, 75 + 100 epochs on a GPU), and writes it as a
   ``likely calo train`` run directory. An existing run in the work directory is reused;
   ``--model FILE`` uses a CaloFlow trained elsewhere instead (e.g. by benchmarks/caloflow.py).
3. Runs ``likely calo study`` (the user's command): ``--n-signal`` χ → γγ showers per
   (m_χ, z) at E_χ = 50 GeV, seed 000's two supervised classifiers (m_χ = 0.005 and 5 GeV,
   τ = 1 ns, kinetic energy uniform 1-100 GeV, ``--supervised-n`` χ showers each against
   the training photons).

Prints (and with ``--write`` puts into docs/benchmarks.md) the max-SIC heatmaps of the
likelihood and of each classifier, the lifetime mixtures' max SIC and the wall time of
each stage. Quality, not speed, is the point: compare with seed 000's figs. 3, 6 and 8.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from _common import log, markdown_table, publish, warn_if_busy

from likely._io import write_json
from likely.calo import CaloFlow, paper_flow_i
from likely.cli import main as likely_main
from likely.data.generate.showers import Source, generate_showers
from likely.data.showers import read_showers
from likely.density import Flow
from likely.detect import LikelihoodScorer
from likely.nn import Trainer

SECTION = "CaloFlow likelihood anomaly detection, seed 000 (benchmarks/calo_anomaly.py)"


def _photons(path: Path, n: int, seed: int) -> Path:
    if not path.exists():
        generate_showers(path, n, source=Source("photon", energy=(1.0, 100.0)), fmt="calochallenge",
                         chunk_size=2000, seed=seed, progress=False)
    return path


def _scorer(args) -> LikelihoodScorer:
    """An unfitted scorer: of the CaloFlow in ``--model``, or of a CPU-sized one to train."""
    if args.model:
        return LikelihoodScorer(model=CaloFlow.load(args.model, device="cpu"), prefit=True)
    trainers = [Trainer(epochs=e, batch_size=200, lr=args.lr, progress=False) for e in args.epochs]
    flow_ii = Flow(kind="coupling", transforms=args.flow_ii_transforms, hidden=(args.flow_ii_hidden,), bins=8,
                   tail_bound=5.0, preprocessing="standardize", trainer=trainers[1])
    model = CaloFlow(flow_i=paper_flow_i(trainers[0]), flow_ii=flow_ii, device="cpu", random_state=args.seed)
    return LikelihoodScorer(model=model)


def _train(args, data: Path, run: Path) -> dict:
    """A 'likely calo train'-style run directory with a CPU-sized CaloFlow; returns its results."""
    if (run / "model").is_dir():
        log(f"reusing the CaloFlow in {run}")
        return json.loads((run / "results.json").read_text())
    showers, e_inc = read_showers(data)
    start = time.perf_counter()
    scorer = _scorer(args).fit(showers, e_inc)  # a loaded model only gets its lambda here
    seconds = time.perf_counter() - start
    run.mkdir(parents=True, exist_ok=True)
    scorer.model_.save(run / "model")
    n_params = sum(p.numel() for flow in (scorer.model_.flow_i_, scorer.model_.flow_ii_)
                   for p in flow.model_.parameters())
    flow_ii = scorer.model_.flow_ii_
    write_json(run / "config.json", {"command": "benchmarks/calo_anomaly.py", "data": str(data),
                                     "model": None if args.model is None else str(args.model),
                                     "n_showers": len(showers), "layers": [288, 144, 72], "flow_ii": flow_ii.kind,
                                     "flow_ii_transforms": flow_ii.transforms, "flow_ii_hidden": list(flow_ii.hidden),
                                     "epochs": [len(flow.history_.train_loss) for flow in
                                                (scorer.model_.flow_i_, flow_ii)],
                                     "batch_size": 200, "lr": args.lr, "seed": args.seed})
    results = {"lambda": scorer.lambda_, "e_inc_range": scorer.model_.e_inc_range_,
               "seconds": None if args.model else seconds, "parameters": int(n_params),
               "final_val_loss": {name: flow.history_.as_dict().get("val_loss", [None])[-1] for name, flow in
                                  (("flow_i", scorer.model_.flow_i_), ("flow_ii", scorer.model_.flow_ii_))}}
    write_json(run / "results.json", results)
    return results


def _describe(run: Path, trained: dict) -> str:
    """The CaloFlow of ``run`` in words, from its config.json."""
    config = json.loads((run / "config.json").read_text())
    source = f"loaded from {config['model']}:" if config.get("model") else "seed 000's Flow-I (MAF 6 x (64, 64)) +"
    hidden = ", ".join(map(str, config["flow_ii_hidden"]))
    epochs = " + ".join(map(str, config["epochs"]))
    how = "trained elsewhere" if config.get("model") else f"batch 200, lr {config['lr']:g} cosine, one CPU thread"
    return (f"{source} {config['flow_ii']} Flow-II {config['flow_ii_transforms']} x ({hidden}), "
            f"{trained['parameters']:,} parameters, {epochs} epochs, {how}")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("runs/calo_anomaly"))
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-test", type=int, default=20_000)
    parser.add_argument("--n-signal", type=int, default=2_000, help="showers per (m_chi, z)")
    parser.add_argument("--supervised-n", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, nargs=2, default=(15, 15), metavar=("I", "II"))
    parser.add_argument("--flow-ii-transforms", type=int, default=4)
    parser.add_argument("--flow-ii-hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--model", type=Path, help="use this trained CaloFlow (CaloFlow.save) instead of training one")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", metavar="FILE", help="put the section into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    times = {}
    start = time.perf_counter()
    train = _photons(work / "photons_train.h5", args.n_train, args.seed + 1)
    test = _photons(work / "photons_test.h5", args.n_test, args.seed + 2)
    times["simulate photons"] = time.perf_counter() - start
    log("training the CaloFlow")
    trained = _train(args, train, work / "caloflow")
    if trained["seconds"] is not None:
        times["train CaloFlow"] = trained["seconds"]
    log("running likely calo study")
    start = time.perf_counter()
    study = work / "study"
    code = likely_main(["-q", "calo", "study", "--run", str(work / "caloflow"), "--background", str(test),
                        "--generate", str(args.n_signal), "--supervised-n", str(args.supervised_n),
                        "--seed", str(args.seed), "--out", str(study), "--force"])
    if code != 0:
        raise SystemExit(f"likely calo study failed with exit code {code}")
    times["likely calo study (simulate signal, train classifiers, score, plot)"] = time.perf_counter() - start
    results = json.loads((study / "results.json").read_text())

    zs = results["displacements"]
    headers = ["method", "m_chi [GeV]"] + [f"z={z:g}" for z in zs]
    rows = [[method, f"{m:g}", *map(_fmt, row)] for method, table in results["max_sic"].items()
            for m, row in zip(results["masses"], table)]
    mixtures = results["lifetime_max_sic"]
    methods = list(mixtures)
    lifetime_rows = [[f"{float(m):g}", f"{t:g}", *(_fmt(mixtures[k][m][str(t)]) for k in methods)]
                     for m in mixtures[methods[0]] for t in results["lifetimes"]]

    cap = (results["n_background"]["likelihood"] / results["min_background"]) ** 0.5
    setup = (f"photons E_inc uniform 1-100 GeV: {args.n_train:,} for training (80/20 train/validation), "
             f"{args.n_test:,} held out as background; {args.n_signal:,} chi -> gamma gamma showers per "
             f"(m_chi, z) at E_chi = 50 GeV; CaloFlow: {_describe(work / 'caloflow', trained)} "
             f"(seed 000: 36.5 M parameters, 75 + 100 epochs, 100k showers); classifiers: MLP 2 x 512 on "
             f"(voxels/E_rec, E_rec), {args.supervised_n:,} chi (tau = 1 ns, kinetic 1-100 GeV) vs the "
             f"{args.n_train:,} training photons, up to 50 epochs. Max SIC = max of eps_S/sqrt(eps_B) over cuts "
             f"passed by >= {results['min_background']} background showers, so it cannot exceed "
             f"sqrt({results['n_background']['likelihood']:,}/{results['min_background']}) = {cap:.1f}.")
    footer = "\n".join([
        "Max SIC of the fixed-lifetime mixtures (seed-000 weights w_i at E_chi = 50 GeV):", "",
        markdown_table(["m_chi [GeV]", "tau [ns]", *methods], lifetime_rows), "",
        f"Wall time per stage ({torch.get_num_threads()} torch threads): " + "; ".join(f"{k} {v / 60:.1f} min" for k, v in times.items()) + ".",
    ])
    publish(args.write, SECTION, setup, headers, rows, footer)


if __name__ == "__main__":
    main()
