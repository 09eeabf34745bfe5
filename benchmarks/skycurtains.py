"""SkyCURTAINs (flow-matching transport) on the synthetic stellar stream and on the bundled dijets.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/skycurtains.py --write docs/benchmarks.md

Stream: ``generate_stream`` (synthetic, not Gaia: docs/generate.md) with the proper motion
``mu_lambda`` as the sliding variable and the paper's features (phi, lambda, g, bp_rp,
mu_phi); SR 1 mas/yr wide around the stream, 1 mas/yr sidebands; SkyCURTAINs trains its
transport on the sidebands, moves sideband stars into the SR and classifies SR stars
against them (5 folds: every SR star is scored by a model that did not train on it). The
cut keeps the ``--keep`` highest-scoring SR stars; purity = stream stars among them,
efficiency = kept stream stars / stream stars in the SR. The paper's GD-1 numbers (Gaia
DR2, 21 patches, after a Hough line filter we do not apply) are beside ours.

Collider: the bundled Pythia sample (likely.data.samples), 3.3-3.7 TeV window, max SIC on
the held-out test set, with CURTAINs (the same classifier, F4F transport) as reference.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch
from _common import log, publish, warn_if_busy

from likely.classify import Ensemble, TreeClassifier
from likely.data.generate import generate_stream
from likely.data.samples import load_bundled_dijets
from likely.density import FlowMatching
from likely.metrics import max_sic
from likely.nn import Trainer
from likely.search import CURTAINs, SkyCURTAINs, Window, make_search_sample

STREAM_FEATURES = ("phi", "lambda", "g", "bp_rp", "mu_phi")
STREAM_WINDOW = Window(-4.0, -3.0, sideband_width=1.0, variable="mu_lambda")
#: SkyCURTAINs' GD-1 result (arXiv:2405.12131): purity and signal efficiency after the Hough filter
PAPER = (0.754, 0.379)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", type=int, default=100_000, help="field stars in the patch")
    parser.add_argument("--stream", type=int, default=100, help="stream stars in the patch")
    parser.add_argument("--keep", type=int, default=50, help="SR stars kept by the cut")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--inject", type=int, default=300, help="signal events injected into the bundled dijets")
    parser.add_argument("--write", type=Path, help="write the tables into this markdown file")
    return parser.parse_args()


def velocity(seed: int) -> FlowMatching:
    """The velocity field: 3 x 128 SiLU MLP, up to 60 epochs with patience 10."""
    return FlowMatching(hidden=(128, 128, 128), atol=1e-4, rtol=1e-4,
                        trainer=Trainer(epochs=60, patience=10, progress=False), random_state=seed)


def trees(members: int = 4) -> Ensemble:
    return Ensemble(TreeClassifier(), n_members=members)


def stream_run(args, seed: int) -> dict:
    """Purity and efficiency of the cut on one generated patch (seed = patch and method seed)."""
    patch = generate_stream(args.field, args.stream, random_state=seed)
    method = SkyCURTAINs(features=STREAM_FEATURES, network=velocity(seed), classifier=trees(), n_folds=5,
                         random_state=seed).fit(patch, STREAM_WINDOW)
    in_sr = STREAM_WINDOW.in_sr(patch)
    labels, scores = patch.label[in_sr], method.data_scores_[in_sr]
    kept = np.argsort(scores)[::-1][:args.keep]
    n_stream_sr = int(labels.sum())
    row = {"sr": int(in_sr.sum()), "stream_sr": n_stream_sr, "purity": labels[kept].mean(),
           "efficiency": labels[kept].sum() / n_stream_sr, "epochs": method.history_.epochs}
    log(f"stream seed {seed}: {row}")
    return row


def collider_run(args, seed: int) -> tuple[float, float, float]:
    """(SkyCURTAINs max SIC, CURTAINs max SIC, S/B in the SR) on the bundled dijets."""
    background, signal = load_bundled_dijets()
    window = Window(3.3, 3.7, sideband_width=0.2)
    sample = make_search_sample(background, signal, args.inject, window=window, random_state=seed)
    sics = []
    for method in (SkyCURTAINs(network=velocity(seed), classifier=trees(), random_state=seed),
                   CURTAINs(classifier=trees(), random_state=seed)):
        method.fit(sample.data, window)
        sics.append(max_sic(sample.test.label, method.score(sample.test)))
        log(f"{type(method).__name__} seed {seed}: max SIC {sics[-1]:.2f}")
    return sics[0], sics[1], sample.summary(window)["s_over_b"]


def _mean_spread(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} [{values.min():.3f}, {values.max():.3f}]"


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(1)
    warn_if_busy()
    runs = [stream_run(args, seed) for seed in range(args.seeds)]
    sr, stream_sr = np.mean([r["sr"] for r in runs]), np.mean([r["stream_sr"] for r in runs])
    headers = ["sample", "stars in SR (stream)", f"purity, {args.keep} highest-scoring SR stars",
               "efficiency (of SR stream stars)"]
    rows = [[f"synthetic patch (ours), seeds 0-{args.seeds - 1}: mean [min, max]", f"{sr:.0f} ({stream_sr:.0f})",
             _mean_spread([r["purity"] for r in runs]), _mean_spread([r["efficiency"] for r in runs])],
            ["GD-1 in Gaia DR2 (paper, after its Hough filter)", "-", f"{PAPER[0]:.3f}", f"{PAPER[1]:.3f}"]]
    setup = (f"`generate_stream({args.field}, {args.stream})` per seed (synthetic, not Gaia), sliding variable "
             f"mu_lambda, SR {STREAM_WINDOW.low} to {STREAM_WINDOW.high} mas/yr, 1 mas/yr sidebands, features "
             f"{', '.join(STREAM_FEATURES)}; SkyCURTAINs per window, velocity field 3 x 128 (<= 60 epochs), "
             "4 boosted trees, 5 folds (out-of-fold scores of the SR stars).")
    footer = (f"Not comparable one to one: ours is a synthetic patch with S/B = {stream_sr / (sr - stream_sr):.3f} "
              "in the SR; the paper's are real Gaia patches at their own S/B, and its numbers come after a "
              "Hough-transform line filter on the selected stars, which we do not apply.")
    publish(args.write, "SkyCURTAINs on a synthetic stellar stream (benchmarks/skycurtains.py)",
            setup, headers, rows, footer)

    collider = np.array([collider_run(args, seed) for seed in range(args.seeds)])
    headers = ["method", "max SIC (seed 0 / 1 / ...)", "mean"]
    rows = [[name, " / ".join(f"{v:.2f}" for v in collider[:, i]), f"{collider[:, i].mean():.2f}"]
            for i, name in enumerate(["SkyCURTAINs (flow-matching transport)", "CURTAINs (F4F transport)"])]
    setup = (f"Bundled Pythia dijets ({args.inject} signal events injected, S/B in 3.3-3.7 TeV "
             f"{collider[:, 2].mean():.3f}), SR 3.3-3.7 TeV with 0.2 TeV sidebands, seeds 0-{args.seeds - 1}, "
             "4 boosted trees; SkyCURTAINs' velocity field as above, CURTAINs with its default models.")
    publish(args.write, "SkyCURTAINs on the bundled dijets (benchmarks/skycurtains.py)", setup, headers, rows)


if __name__ == "__main__":
    main()
