"""Flux+Mutability inference time per object: the binned (cached) path vs the paper's per-object path.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/fm_speed.py                       # print the table
    .venv/bin/python benchmarks/fm_speed.py --write docs/benchmarks.md
    .venv/bin/python benchmarks/fm_speed.py --events 5000 --epochs 1 --candidates 2000  # smoke run

Synthetic reference class with the LHC problem's dimensions: 15 features whose means and
widths move with one condition k ~ U(450, 800) ("leading-jet pT"), so the augmented space
has 30 dimensions; outliers are shifted by one standard deviation along a fixed random
direction. The model has the paper's sizes (cAE of table 7, MAF with 10 bijections,
reference clusters of 1500 points, HDBSCAN 1000 / 100); it is trained only briefly
(``--epochs``), since inference time does not depend on training. Reported: fit time,
the one-off time to build the binned path's reference clusters, inference ms per object
of both paths (CPU, ``--threads`` torch threads), and the AUC / TPR / TNR of both paths
on the same candidates.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section
from sklearn.metrics import roc_auc_score

from likely.autoencoders import ConditionalAutoencoder
from likely.density import Flow
from likely.detect import FluxMutability
from likely.nn import Trainer

SECTION = "Flux+Mutability inference speed (benchmarks/fm_speed.py, {kind} flow)"
FEATURES = 15


def make(n: int, rng: np.random.Generator, outlier: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Reference objects (or outliers) of the synthetic 15-feature problem, X (n, 15), k (n,)."""
    mixing = np.random.default_rng(123).normal(size=(FEATURES, FEATURES)) / np.sqrt(FEATURES)
    k = rng.uniform(450, 800, n)
    u = (k - 450) / 350
    mean = np.sin(np.outer(u, np.arange(1, FEATURES + 1)))
    X = mean + (0.5 + u)[:, None] * (rng.normal(size=(n, FEATURES)) @ mixing)
    if outlier:
        direction = np.random.default_rng(7).normal(size=FEATURES)
        X += (0.5 + u)[:, None] * direction / np.linalg.norm(direction)
    return X.astype(np.float32), k.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30000, help="training objects")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of the cAE and the flow")
    parser.add_argument("--bins", type=int, default=20, help="kinematic bins (reference clusters)")
    parser.add_argument("--candidates", type=int, default=10000, help="reference + outlier candidates, binned path")
    parser.add_argument("--per-object", type=int, default=40, help="candidates scored by the per-object path")
    parser.add_argument("--kind", choices=("maf", "coupling"), default="maf", help="flow kind (paper: maf)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", metavar="MARKDOWN", help="write the section into this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warn_if_busy()

    rng = np.random.default_rng(0)
    X, k = make(args.events, rng)
    half = args.candidates // 2
    (Xr, kr), (Xo, ko) = make(half, rng), make(half, rng, outlier=True)
    Xc, kc = np.vstack([Xr, Xo]), np.concatenate([kr, ko])
    inside = (kc >= k.min()) & (kc <= k.max())
    Xc, kc, labels = Xc[inside], kc[inside], np.r_[np.zeros(half), np.ones(half)][inside]

    trainer = Trainer(epochs=args.epochs, lr=1e-3, progress=False)
    fm = FluxMutability(
        autoencoder=ConditionalAutoencoder(trainer=trainer, device="cpu", random_state=0),
        flow=Flow(kind=args.kind, transforms=10, trainer=trainer, device="cpu", random_state=0),
        n_bins=args.bins, method="per_object", progress=False, device="cpu", random_state=0,
    )
    log(f"fitting on {args.events} objects, {args.epochs} epochs")
    start = time.perf_counter()
    fm.fit(X, k)
    fit_s = time.perf_counter() - start
    binned = {}
    for transport in (False, True):
        fm.set_params(method="binned", transport=transport)
        start = time.perf_counter()
        fm._references()
        build_s = time.perf_counter() - start
        log(f"binned path (transport={transport}) on {len(Xc)} candidates")
        start = time.perf_counter()
        scores, ranks = fm.score_and_rank(Xc, kc)
        binned[transport] = (1e3 * (time.perf_counter() - start) / len(Xc), build_s, ranks, scores)

    pick = np.r_[np.arange(args.per_object // 2), len(Xc) - 1 - np.arange(args.per_object // 2)]
    log(f"per-object path on {len(pick)} candidates")
    fm.set_params(method="per_object")
    start = time.perf_counter()
    scores_po, ranks_po = fm.score_and_rank(Xc[pick], kc[pick])
    per_object_ms = 1e3 * (time.perf_counter() - start) / len(pick)

    def quality(r, s, y):
        tpr = np.mean(r[y == 0] <= 0.95)
        tnr = np.mean(r[y == 1] > 0.95)
        return f"{roc_auc_score(y, s):.3f}", f"{100 * tpr:.1f} %", f"{100 * tnr:.1f} %"

    headers = ["path", "ms / object", "objects", "AUC (score)", "TPR @ 95 %", "TNR @ 95 %"]
    rows = []
    for transport, (ms, _, ranks, scores) in binned.items():
        name = f"binned, transport={transport}"
        rows.append([name, f"{ms:.3f}", f"{len(Xc)}", *quality(ranks, scores, labels)])
        rows.append([f"{name}, per-object's objects", "—", f"{len(pick)}",
                     *quality(ranks[pick], scores[pick], labels[pick])])
    rows.append(["per object (paper)", f"{per_object_ms:.1f}", f"{len(pick)}",
                 *quality(ranks_po, scores_po, labels[pick])])
    print(text_table(headers, rows))
    summary = (
        f"flow kind {args.kind}; fit {fit_s:.0f} s ({args.events} objects, {args.epochs} epochs each for the cAE and the flow); "
        f"{args.bins} reference clusters built once in {binned[False][1]:.0f} s "
        f"({binned[True][1]:.0f} s with transport); speed-up of the binned path "
        f"{per_object_ms / binned[False][0]:,.0f}x ({per_object_ms / binned[True][0]:,.0f}x with transport)"
    )
    print(summary)
    if args.write:
        body = "\n".join([
            provenance(),
            f"- Setup: synthetic 15-feature reference class given k ~ U(450, 800), augmented space of 30 "
            f"dimensions, paper sizes (cAE 60/45/30/15/8 -> 6, flow with 10 bijections, N = 1500, "
            f"HDBSCAN 1000 / 100, {fm.calibration_size} calibration points per bin), {args.threads} torch threads. "
            f"{summary}.",
            "- Quality numbers are for a briefly trained model on synthetic data, to compare the two "
            "paths, not the method's reach.",
            "",
            markdown_table(headers, rows),
        ])
        write_section(args.write, SECTION.format(kind=args.kind), body)
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
