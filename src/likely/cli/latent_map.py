"""``likely search latent-map``: map known models in a latent space and ask which ones a query resembles."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from likely._io import write_json, write_text
from likely.cli.rundir import add_strict, check_run_dir, on_invalid, positive_int, prepare_run_dir, read_events
from likely.data import EventSet
from likely.nn import Trainer
from likely.search import LatentMap
from likely.search.latent_map import MAP_FEATURES

log = logging.getLogger(__name__)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "latent-map", help="place models in a 2-d latent space; rank them by similarity to a query's events",
        description="Train an encoder of sets of events with a contrastive loss on the events of every model "
                    "file (sets of one model close, of different models at least a margin apart), draw the "
                    "models in the latent plane and rank them by the energy distance of their latent points to "
                    "those of --query (docs/search.md, 'Which known models does an excess resemble?'; "
                    "arXiv:2407.20315).")
    parser.add_argument("--models", nargs="+", required=True, metavar="[NAME=]FILE",
                        help="LHC Olympics features files, one model each (e.g. the QCD background and signals); "
                             "the model is named NAME, or the file's name without its suffixes")
    parser.add_argument("--query", type=Path, nargs="+", metavar="FILE",
                        help="features files of the events to compare with the models (e.g. an excess's selection)")
    parser.add_argument("--features", nargs="+", default=list(MAP_FEATURES),
                        help=f"features per event (default: {' '.join(MAP_FEATURES)})")
    parser.add_argument("--max-events", type=positive_int, default=20_000,
                        help="events read per model at most, at random (default: 20000)")
    parser.add_argument("--set-size", type=positive_int, default=10, help="events per encoder input (default: 10)")
    parser.add_argument("--latent-dim", type=positive_int, default=2, help="latent dimensions (default: 2)")
    parser.add_argument("--sets-per-model", type=positive_int, default=2000,
                        help="training sets per model (default: 2000)")
    parser.add_argument("--epochs", type=positive_int, default=30, help="training epochs at most (default: 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--force", action="store_true", help="overwrite the results of an existing run directory")
    add_strict(parser)
    parser.set_defaults(run=run_latent_map)


def model_files(specs: list[str]) -> dict[str, Path]:
    """``NAME=FILE`` or ``FILE`` entries of --models as {name: path}; names must differ."""
    files: dict[str, Path] = {}
    for spec in specs:
        name, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
        name = name or Path(path).name.split(".")[0]
        if name in files:
            raise ValueError(f"--models names the model {name!r} twice; give each file a NAME=FILE name")
        files[name] = Path(path)
    if len(files) < 2:
        raise ValueError(f"--models needs at least 2 model files; got {len(files)}")
    return files


def run_latent_map(args) -> Path:
    check_run_dir(args.out, args.force)
    files = model_files(args.models)
    rng = np.random.default_rng(args.seed)
    zoo = {name: _read(path, args, rng) for name, path in files.items()}
    query = _read(args.query, args, rng) if args.query else None
    out = prepare_run_dir(args.out, args.force)
    write_json(out / "config.json", {key: (str(v) if isinstance(v, Path) else v) for key, v in vars(args).items()
                                     if key not in ("run", "quiet", "force")}
               | {"command": "search latent-map", "query": [str(p) for p in args.query or []]})
    latent_map = LatentMap(features=args.features, set_size=args.set_size, latent_dim=args.latent_dim,
                           sets_per_model=args.sets_per_model, random_state=args.seed,
                           trainer=Trainer(epochs=args.epochs, patience=5, progress=not args.quiet))
    latent_map.fit(zoo)
    latent_map.save(out / "model")
    resemblance = latent_map.rank(query) if query is not None else None
    results = map_summary(latent_map, {name: len(events) for name, events in zoo.items()})
    results["files"] = {name: str(path) for name, path in files.items()}
    results["query"] = None if resemblance is None else resemblance.as_dict() | {"n_events": len(query)}
    write_json(out / "results.json", results)
    if latent_map.latent_dim >= 2:
        from likely.plot import plot_latent_map, save_figure

        save_figure(plot_latent_map(latent_map, resemblance), out / "latent_map.png")
    write_text(out / "report.md", latent_map_report(results))
    log.info("report written to %s", out / "report.md")
    return out


def _read(paths, args, rng: np.random.Generator) -> EventSet:
    """The map's features of ``paths`` (one path or a list), at most --max-events of them at random."""
    events, _ = read_events(paths if isinstance(paths, list) else [paths], on_invalid(args), features=args.features)
    if len(events) > args.max_events:
        events = events[np.sort(rng.choice(len(events), args.max_events, replace=False))]
    return events


def map_summary(latent_map: LatentMap, n_events: dict[str, int]) -> dict:
    """results.json of a map: each model's events, centroid and covariance, and the model-to-model distances."""
    models = [{"name": name, "n_events": n_events[name], "centroid": centre.tolist(),
               "covariance": covariance.tolist(), "reference_sets": len(latent_map.reference_latents_[name])}
              for name, centre, covariance in zip(latent_map.models_, latent_map.centroids_,
                                                  latent_map.covariances_, strict=True)]
    return {"models": models, "distances": latent_map.distances().tolist(), "set_size": latent_map.set_size,
            "features": latent_map.feature_names_, "epochs": latent_map.history_.epochs}


def latent_map_report(results: dict) -> str:
    """report.md of a latent-map run (``results``: its results.json)."""
    names = [model["name"] for model in results["models"]]
    lines = [
        "# Latent map of models (likely search latent-map)", "",
        f"{len(names)} models, encoded as sets of {results['set_size']} events of the features "
        f"{', '.join(results['features'])}; distances are energy distances between the models' latent points "
        "(latent units; about 0 for indistinguishable models).", "",
    ]
    query = results["query"]
    if query:
        lines += [f"## Which known models does the query resemble? ({query['n_events']} events, "
                  f"{query['n_sets']} sets)", "", "| rank | model | distance |", "|---|---|---|"]
        lines += [f"| {i} | {row['model']} | {row['distance']:.3f} |" for i, row in enumerate(query["ranking"], 1)]
        lines.append("")
    lines += ["![latent map](latent_map.png)", "", "## Distances between the models", "",
              "| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{d:.3f}" for d in row) + " |"
              for name, row in zip(names, results["distances"], strict=True)]
    return "\n".join(lines) + "\n"
