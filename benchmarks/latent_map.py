"""Latent map of dijet models (arXiv:2407.20315): where the models land, and which ones black boxes resemble.

Run by hand from the repository root after making the zoo (about 3 minutes on one core)::

    Z=/tmp/lm-zoo; g() { likely -q generate dijet --chunk-size 500 "$@"; }
    g --process wprime --mwprime 3000 --mx 500 --my 100 --events 3000 --seed 31000 --out $Z/wp3000_x500_y100.h5
    g --process wprime --mwprime 4000 --mx 500 --my 100 --events 3000 --seed 41000 --out $Z/wp4000_x500_y100.h5
    g --process wprime --mwprime 3500 --mx 500 --my 100 --events 3000 --seed 35000 --out $Z/wp3500_x500_y100_twin.h5
    g --process wprime --mwprime 3500 --mx 300 --my 300 --events 3000 --seed 36000 --out $Z/wp3500_x300_y300.h5
    g --process zprime --mzprime 3500 --events 3000 --seed 37000 --out $Z/zp3500.h5
    g --process wprime --mwprime 3500 --mx 500 --my 100 --events 1000 --seed 51000 --out $Z/box_wp3500_x500_y100.h5
    g --process wprime --mwprime 3700 --mx 500 --my 100 --events 1000 --seed 52000 --out $Z/box_wp3700_x500_y100.h5
    g --process zprime --mzprime 3500 --events 1000 --seed 53000 --out $Z/box_zp3500.h5
    .venv/bin/python benchmarks/latent_map.py --zoo /tmp/lm-zoo --write docs/benchmarks.md

The zoo: the QCD background and the W' (3.5 TeV, X 500, Y 100 GeV) signal of the reference sample
(``../shared/data/lhco-pythia``, 3000 events each, at random), W' at 3.0 and 4.0 TeV, W' 3.5 TeV with
X = Y = 300 GeV, Z' (3.5 TeV) -> tt̄, and a *twin*: the reference W' point generated again with
other seeds (indistinguishable physics: it should land on the reference W'). Black boxes, never
trained on: new samples of the W' 3.5 TeV point and of the Z', a W' at 3.7 TeV (between grid
points), held-out QCD events, and an "excess": W' box and held-out QCD events in 3.3-3.7 TeV, 1:1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from _common import log, publish, warn_if_busy
from search_quality import REFERENCE

from likely.data import EventSet
from likely.data.lhco import read_lhco
from likely.nn import Trainer, set_progress_bars
from likely.search import LatentMap, Window
from likely.search.latent_map import MAP_FEATURES

GENERATED = ("wp3000_x500_y100", "wp4000_x500_y100", "wp3500_x500_y100_twin", "wp3500_x300_y300", "zp3500")
#: black box -> the models it was made as (an acceptable first rank), "" if none is in the zoo
BOXES = {"box_wp3500_x500_y100": ("wp3500_x500_y100", "wp3500_x500_y100_twin"),
         "box_zp3500": ("zp3500",), "box_wp3700_x500_y100": (), "box_qcd": ("qcd",),
         "excess_wp3500_qcd_sr": ("wp3500_x500_y100", "wp3500_x500_y100_twin", "qcd")}
SIGNAL_REGION = Window(3.3, 3.7)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", type=Path, required=True, help="folder of the generated models and boxes")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the reference sample")
    parser.add_argument("--events", type=int, default=3000, help="events per model (default: 3000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default: 0 1 2)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--plot", type=Path, help="write the map of the first seed, with the W' box, here (.png)")
    parser.add_argument("--write", help="write the tables as sections of this markdown file")
    return parser.parse_args()


def make_zoo(args) -> tuple[dict[str, EventSet], dict[str, EventSet]]:
    """(models, black boxes): the map's features of every sample."""
    background, signal = (events.array(list(MAP_FEATURES)) for events in load_reference_features(args.reference))
    rng = np.random.default_rng(0)
    background, signal = background[rng.permutation(len(background))], signal[rng.permutation(len(signal))]
    n = args.events
    models = {"qcd": background[:n], "wp3500_x500_y100": signal[:n]}
    models |= {name: read(args.zoo / f"{name}.h5")[:n] for name in GENERATED}
    boxes = {name: read(args.zoo / f"{name}.h5") for name in BOXES if name.startswith("box_") and name != "box_qcd"}
    boxes["box_qcd"] = background[n:n + 1000]
    signal_sr, background_sr = in_sr(boxes["box_wp3500_x500_y100"]), in_sr(background[n + 1000:])
    k = min(len(signal_sr), len(background_sr), 500)
    boxes["excess_wp3500_qcd_sr"] = np.concatenate([signal_sr[:k], background_sr[:k]])
    return models, boxes


def in_sr(X: np.ndarray) -> np.ndarray:
    """The events of ``X`` (mjj in column 0) in the signal region."""
    return X[SIGNAL_REGION.in_sr(EventSet({"mjj": X[:, 0]}))]


def load_reference_features(folder: Path) -> tuple[EventSet, EventSet]:
    return (read_lhco(folder / "background_pt700_part1.features.h5", features=MAP_FEATURES),
            read_lhco(folder / "signal_wprime3500_x500_y100.features.h5", features=MAP_FEATURES))


def read(path: Path) -> np.ndarray:
    return read_lhco(path, features=MAP_FEATURES).array(list(MAP_FEATURES))


def fit(models: dict, seed: int, epochs: int) -> tuple[LatentMap, float]:
    start = time.perf_counter()
    latent_map = LatentMap(random_state=seed, device="cpu",
                           trainer=Trainer(epochs=epochs, patience=5, progress=False)).fit(models)
    return latent_map, time.perf_counter() - start


def spread(values) -> str:
    values = list(values)
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def model_table(maps, args) -> None:
    names = maps[0][0].models_
    others = [m.distances() + np.diag(np.full(len(names), np.inf)) for m, _ in maps]  # a model is not its own neighbour
    rows = []
    for i, name in enumerate(names):
        nearest = [int(d[i].argmin()) for d in others]
        most = max(set(nearest), key=nearest.count)
        distance = [d[i].min() for d in others]
        centre = maps[0][0].centroids_[i]
        rows.append([name, f"({centre[0]:+.2f}, {centre[1]:+.2f})", f"{names[most]} ({nearest.count(most)}/{len(maps)})",
                     spread(distance)])
    seconds = spread(s for _, s in maps)
    publish(args.write, "Latent map of dijet models: the map (benchmarks/latent_map.py)",
            f"{len(names)} models x {args.events} events ({', '.join(MAP_FEATURES)}); LatentMap defaults (sets of 10 "
            f"events, 2-d latent, MLP (384, 512, 256, 128), margin 1, 2000 sets per model, 25 % held out), "
            f"<= {args.epochs} epochs, seeds {args.seeds}; training {seconds} s per map on 1 CPU thread. "
            "Paper (arXiv:2407.20315): indistinguishable models overlap, different ones land apart (no number to "
            "compare with: its models are MSSM, DM-mediator and Dark Machines samples)",
            ["model", "centroid (seed 0)", "nearest other model (seeds)", "energy distance to the nearest"], rows,
            footer="Energy distance between latent clouds of held-out sets, latent units (margin 1); about 0 for "
                   "one distribution. The twin is the reference W' point generated again with other seeds.")


def box_table(maps, boxes, args) -> None:
    rows = []
    for box, truth in BOXES.items():
        rankings = [m.rank(boxes[box]) for m, _ in maps]
        firsts = [r.best for r in rankings]
        first = max(set(firsts), key=firsts.count)
        right = sum(name in truth for name in firsts) if truth else None
        second = [r.distances[1] for r in rankings]
        rows.append([box, " / ".join(truth) or "none in the zoo", f"{first} ({firsts.count(first)}/{len(maps)})",
                     spread(r.distances[0] for r in rankings), spread(second),
                     "—" if right is None else f"{right}/{len(maps)}", str(len(boxes[box]))])
    publish(args.write, "Latent map of dijet models: which models do black boxes resemble? (benchmarks/latent_map.py)",
            f"the maps of the previous section; each box ranked by LatentMap.rank (energy distance of its latent "
            f"sets to each model's held-out sets), seeds {args.seeds}",
            ["black box", "made as", "first (seeds)", "distance to first", "distance to second", "first is right",
             "events"], rows,
            footer="The excess is the W' box and held-out QCD events in 3.3-3.7 TeV, 1:1: a mixture, so its first "
                   "model is whichever component it is closer to.")


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    set_progress_bars(False)
    warn_if_busy()
    args = parse_args()
    models, boxes = make_zoo(args)
    maps = []
    for seed in args.seeds:
        log(f"fitting the map, seed {seed}")
        maps.append(fit(models, seed, args.epochs))
    model_table(maps, args)
    box_table(maps, boxes, args)
    if args.plot:
        from likely.plot import plot_latent_map, save_figure

        latent_map = maps[0][0]
        save_figure(plot_latent_map(latent_map, latent_map.rank(boxes["box_zp3500"]), "Z' box"), args.plot)
        log(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
