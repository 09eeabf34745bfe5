"""Background fidelity in the signal region: how well each generator mimics SR background.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/search_background.py --write docs/benchmarks.md

No signal is injected. Each background model is trained the way its method trains it
(MAFs as CATHODE's flow on the sidebands; flow matching as SIGMA's, on all data) and sampled in the
3.3-3.7 TeV signal region at masses drawn like the data's; a boosted-tree classifier
then tries to tell the SR data from the samples (5-fold, out-of-fold predictions,
classes weighted equally). AUC 0.5 = indistinguishable: the classifier of a
CATHODE-type method then has only the signal left to learn. The same test on SR data
vs an independent background sample gives the statistical floor.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import log, publish, warn_if_busy
from search_quality import REFERENCE, load_reference
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_predict

from likely.density import Flow, FlowMatching
from likely.metrics import auc
from likely.nn import Trainer
from likely.search import CATHODE, SIGMA, Window, make_search_sample
from likely.search.methods import DEFAULT_FEATURES, default_flow, default_flow_matching

WINDOW = Window(3.3, 3.7)

#: background models to compare: name -> (method class, model factory of the seed)
MODELS: dict[str, tuple[type, Callable[[int], object]]] = {
    "MAF, standardize, lr 1e-3, patience 10": (
        CATHODE, lambda seed: Flow(kind="maf", transforms=6, trainer=Trainer(patience=10), random_state=seed)),
    "MAF, standardize, lr 2e-4, patience 20 (ANODE, R-ANODE default)": (CATHODE, default_flow),
    "MAF, logit, lr 2e-4, patience 20 (CATHODE default)": (CATHODE, lambda seed: default_flow(seed, "logit")),
    "flow matching, standardize, patience 10": (
        SIGMA, lambda seed: FlowMatching(trainer=Trainer(patience=10), random_state=seed)),
    "flow matching, logit, 100 epochs (SIGMA default)": (SIGMA, default_flow_matching),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    return parser.parse_args()


def two_sample_auc(first: np.ndarray, second: np.ndarray, seed: int) -> float:
    """Out-of-fold AUC of a boosted-tree classifier separating two samples (equal class weights)."""
    X = np.concatenate([first, second])
    y = np.r_[np.ones(len(first)), np.zeros(len(second))]
    weight = np.where(y == 1, len(y) / (2 * len(first)), len(y) / (2 * len(second)))
    classifier = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed)
    proba = cross_val_predict(classifier, X, y, cv=5, method="predict_proba", params={"sample_weight": weight})
    return auc(y, proba[:, 1], sample_weight=weight)


def sr_samples(method_class: type, model, data, seed: int) -> tuple[np.ndarray, float]:
    """The method's background samples in the SR (as many as SR data events) and the fit time."""
    start = time.perf_counter()
    method = method_class(density=model, oversampling=1.0, random_state=seed)
    method.window_, method.features_ = WINDOW, list(method.features)
    method.fit_background(data)
    m_sr = WINDOW.signal_region(data).column(WINDOW.variable)
    samples = method.sample_background(method.signal_region_masses(m_sr, len(m_sr)))
    return samples, time.perf_counter() - start


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    warn_if_busy()
    background, signal = load_reference(args.reference)
    sample = make_search_sample(background, signal, 0, window=WINDOW, random_state=args.seed)
    features = list(DEFAULT_FEATURES)
    sr_data = WINDOW.signal_region(sample.data).array(features)
    floor = two_sample_auc(sr_data, WINDOW.signal_region(sample.extra_background).array(features), args.seed)
    rows = [["independent background sample (floor)", f"{floor:.3f}", "—"]]
    for name in args.models:
        method_class, factory = MODELS[name]
        samples, seconds = sr_samples(method_class, factory(args.seed), sample.data, args.seed)
        rows.append([name, f"{two_sample_auc(sr_data, samples, args.seed):.3f}", f"{seconds:.0f}"])
        log(f"{name}: AUC {rows[-1][1]}")
    headers = ["SR background model", "AUC data vs model", "train + sample (s)"]
    setup = (f"Reference background only, SR 3.3-3.7 TeV ({len(sr_data)} data events), seed {args.seed}; "
             "SIGMA's samples use its velocity interpolation between 3.2 and 3.8 TeV.")
    publish(args.write, "Background fidelity in the signal region (benchmarks/search_background.py)",
            setup, headers, rows)


if __name__ == "__main__":
    main()
