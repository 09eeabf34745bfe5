"""Fit three density estimators to a known conditional density and write a report.

    python examples/density_toy.py --out runs/density-toy

The toy has an exactly known density, so the report can say how close each model got
(held-out mean log-likelihood gap to the truth, nats per dimension).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path


from likely._io import write_json, write_text
from likely.cli.rundir import positive_int, prepare_run_dir
from likely.data import conditional_gaussian_mixture
from likely.density import DensityEstimator, Flow, FlowMatching
from likely.nn import Trainer
from likely.plot import plot_conditional_marginals, plot_history, save_figure

log = logging.getLogger(__name__)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/density-toy"), help="run directory (default: runs/density-toy)")
    parser.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    parser.add_argument("--events", type=positive_int, default=20_000, help="training events (default: 20000)")
    parser.add_argument("--epochs", type=positive_int, default=30, help="maximum training epochs (default: 30)")
    parser.add_argument("--dim", type=positive_int, default=3, help="number of features (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def _models(args) -> dict[str, DensityEstimator]:
    trainer = Trainer(epochs=args.epochs, batch_size=512, lr=2e-3, progress=not args.quiet)
    common = {"trainer": trainer, "random_state": args.seed}
    return {
        "maf": Flow(kind="maf", transforms=4, hidden=(64, 64), **common),
        "coupling": Flow(kind="coupling", transforms=4, hidden=(64, 64), **common),
        "flow-matching": FlowMatching(hidden=(128, 128, 128), **common),
    }


def run(args) -> Path:
    out = prepare_run_dir(args.out, args.force)
    X, cond, _ = conditional_gaussian_mixture(args.events, args.dim, random_state=args.seed)
    X_test, cond_test, true_log_p = conditional_gaussian_mixture(
        max(args.events // 4, 1000), args.dim, random_state=args.seed + 1
    )
    models = _models(args)
    write_json(out / "config.json", {
        "command": "demo", "events": args.events, "epochs": args.epochs, "dim": args.dim,
        "seed": args.seed, "models": {name: repr(model) for name, model in models.items()},
    })
    results, samples = {}, {}
    for name, model in models.items():
        log.info("fitting %s", name)
        start = time.perf_counter()
        model.fit(X, cond)
        seconds = time.perf_counter() - start
        gap = float(true_log_p.mean() - model.log_prob(X_test, cond_test).mean()) / args.dim
        samples[name] = (model.sample(cond=cond_test, random_state=args.seed), cond_test)
        model.save(out / "models" / name)
        results[name] = {"fit_seconds": round(seconds, 2), "epochs": model.history_.epochs,
                         "gap_nats_per_dim": round(gap, 4)}
        log.info("%s: %.1f s, gap to true density %.4f nats/dim", name, seconds, gap)
    write_json(out / "results.json", {"true_mean_log_p": float(true_log_p.mean()), "models": results})
    save_figure(plot_conditional_marginals((X_test, cond_test), samples, cond_bins=[-1.0, -0.5, 0.5, 1.0]),
                out / "marginals.png")
    save_figure(plot_history({name: model.history_ for name, model in models.items()}), out / "training.png")
    write_text(out / "report.md", _report(args, results))
    log.info("report written to %s", out / "report.md")
    return out


def _report(args, results: dict) -> str:
    rows = "\n".join(
        f"| {name} | {r['gap_nats_per_dim']:.4f} | {r['epochs']} | {r['fit_seconds']:.1f} |"
        for name, r in results.items()
    )
    return f"""# likely demo: density estimation on a known conditional density

Training data: {args.events} events of a {args.dim}-D two-Gaussian mixture whose modes move
with a condition c ∈ [-1, 1] (`likely.data.conditional_gaussian_mixture`, seed {args.seed}).
The gap is the true minus the model's mean log-density on held-out events, per dimension
(0 is perfect; it is a KL divergence, so it is ≥ 0 up to the test set's statistics).

| model | gap (nats/dim) | epochs | fit time (s) |
|---|---|---|---|
{rows}

![generated vs reference marginals in slices of c](marginals.png)

![training curves](training.png)
"""


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    run(parse_args())
