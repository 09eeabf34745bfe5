"""``likely report DIR``: figures and a Markdown report from a run directory's results."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from likely._io import write_text
from likely.cli.rundir import input_line
from likely.plot import (
    plot_max_sic_vs_s_over_b, plot_max_sic_vs_window, plot_score_distributions, plot_sculpting, plot_sic,
    save_figure,
)
from likely.search.study import ARRAYS

__all__ = ["add_parser", "write_scan_report", "write_search_report"]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("report", help="(re)write the report of a run directory")
    parser.add_argument("run_dir", type=Path, help="a directory written by 'likely search run' or 'search scan'")
    parser.set_defaults(run=lambda args: write_search_report(args.run_dir))


def write_search_report(run_dir: Path) -> Path:
    """Read results.json + scores.npz in ``run_dir``; write sic.png, scores.png, report.md.

    A scan directory (``likely search scan``) gets :func:`write_scan_report` instead.
    """
    results_path = run_dir / "results.json"
    if not results_path.is_file():
        raise FileNotFoundError(f"{results_path} not found: is {run_dir} a 'likely search run' or finished 'search scan' directory?")
    results = json.loads(results_path.read_text())
    if "jobs" in results:
        return write_scan_report(run_dir)
    with np.load(run_dir / "scores.npz") as arrays:
        runs = [(run["method"], {name: arrays[f"{name}_{i}"] for name in ARRAYS})
                for i, run in enumerate(results["runs"])]
    _plot_runs(runs, results["window"], run_dir)
    return write_text(run_dir / "report.md", _markdown(results))


def _plot_runs(runs: list[tuple[str, dict]], window, folder: Path, suffix: str = "") -> None:
    """sic, sculpting and scores plots of ``runs``: (method, its :data:`ARRAYS`) of one injection."""
    curves, spectra = defaultdict(list), {}
    for method, arrays in runs:
        curves[method].append((arrays["labels"], arrays["score"]))
        spectra.setdefault(method, (arrays["background_mjj"], arrays["background_score"]))
    save_figure(plot_sic(curves), folder / f"sic{suffix}.png")
    save_figure(plot_sculpting(spectra, window), folder / f"sculpting{suffix}.png")
    first = {name: runs[0] for name, runs in curves.items()}
    labels = next(iter(first.values()))[0]
    save_figure(plot_score_distributions(labels, {name: s for name, (_, s) in first.items()}),
                folder / f"scores{suffix}.png")


def _markdown(results: dict) -> str:
    low, high = results["window"]
    by_method = defaultdict(list)
    for run in results["runs"]:
        by_method[run["method"]].append(run)
    rows = "\n".join(
        f"| {name} | {_median_band([r['max_sic'] for r in runs])} | {_median_band([r['auc'] for r in runs])} "
        f"| {np.mean([r['fit_seconds'] for r in runs]):.1f} |"
        for name, runs in by_method.items()
    )
    sample = results["sample"][0]
    return f"""# Resonant anomaly search

Signal region {low:g} ≤ mjj < {high:g} TeV; {results['n_signal']} signal events injected, giving
S = {sample['signal_in_sr']}, B = {sample['background_in_sr']} in the signal region
(S/B = {100 * sample['s_over_b']:.3f} %, S/√B = {sample['significance']:.2f}; first seed).
{input_line(results.get("input"))}

| method | max SIC | AUC | fit time (s) |
|---|---|---|---|
{rows}

Max SIC uses cuts passed by at least 25 test background events (ε_B known to 20 %);
with several seeds the table shows the median and the 16–84 % range.

![SIC curves](sic.png)

![score distributions](scores.png)

Sculpting check: the `mjj` spectrum of an independent background sample, before and after
cuts on each method's score (first seed). A cut that carves a bump into the background
near the signal region would fake a signal.

![mjj after cuts](sculpting.png)
"""


def _median_band(values: list[float]) -> str:
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return "–" if len(values) == 0 else "nan"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    low, median, high = np.nanquantile(values, [0.16, 0.5, 0.84])
    return f"{median:.3g} [{low:.3g}, {high:.3g}]"


def write_scan_report(scan_dir: Path) -> Path:
    """Summary plots and report.md of a ``likely search scan`` directory.

    max_sic_vs_s_over_b.png (one panel per reported window), max_sic_vs_window.png (with
    several windows, one panel per injection) and, in ``plots/``, the SIC, score and
    sculpting plots of each injection in each reported window. Reported windows: every
    window of an explicit list; for sliding windows, the one holding the most injected signal.
    """
    results = json.loads((scan_dir / "results.json").read_text())
    jobs, config = results["jobs"], results["config"]
    if not jobs:
        raise ValueError(f"{scan_dir / 'results.json'} holds no finished job")
    windows = _reported_windows(jobs, sliding=config["windows"]["sliding"] is not None)
    panels = {_window_title(w): _points(jobs, "s_over_b", lambda j, w=w: _window(j) == w) for w in windows}
    save_figure(plot_max_sic_vs_s_over_b(panels), scan_dir / "max_sic_vs_s_over_b.png")
    all_windows = sorted({_window(j) for j in jobs})
    if len(all_windows) > 1:
        injections = dict.fromkeys(j["job"]["injection"] for j in jobs)
        by_injection = {name: _points(jobs, "centre", lambda j, n=name: j["job"]["injection"] == n) for name in injections}
        save_figure(plot_max_sic_vs_window(by_injection), scan_dir / "max_sic_vs_window.png")
    for window in windows:
        groups = defaultdict(list)
        for job in jobs:
            if _window(job) == window:
                with np.load(scan_dir / "jobs" / job["id"] / "arrays.npz") as arrays:
                    groups[job["job"]["injection"]].append((job["job"]["method"], dict(arrays)))
        for injection, runs in groups.items():
            _plot_runs(runs, window, scan_dir / "plots", f"_{injection}_sr{window[0]:g}-{window[1]:g}")
    return write_text(scan_dir / "report.md", _scan_markdown(results, windows, len(all_windows) > 1))


def _window(job: dict) -> tuple[float, float]:
    return tuple(job["job"]["window"])


def _window_title(window) -> str:
    return f"{window[0]:g} ≤ mjj < {window[1]:g} TeV"


def _reported_windows(jobs: list[dict], sliding: bool) -> list[tuple[float, float]]:
    windows = list(dict.fromkeys(_window(j) for j in jobs))
    if not sliding:
        return windows
    signal = defaultdict(float)
    for job in jobs:
        signal[_window(job)] += job["signal_in_sr"]
    return [max(windows, key=lambda w: signal[w])]


def _points(jobs: list[dict], x: str, keep) -> dict[str, dict[float, list[float]]]:
    """Method -> {x: max SIC per seed}; x is the median S/B of an injection, or the window centre."""
    groups = defaultdict(list)
    for job in filter(keep, jobs):
        groups[job["job"]["method"], job["job"]["injection"], _window(job)].append(job)
    points = defaultdict(dict)
    for (method, _, window), runs in groups.items():
        at = float(np.median([r["s_over_b"] for r in runs])) if x == "s_over_b" else sum(window) / 2
        points[method][at] = [r["max_sic"] for r in runs]
    return dict(points)


def _scan_markdown(results: dict, windows: list, several_windows: bool) -> str:
    config, jobs = results["config"], results["jobs"]
    injections = list(dict.fromkeys(j["job"]["injection"] for j in jobs))
    tables = []
    for window in windows:
        chosen = [j for j in jobs if _window(j) == window]
        s_over_b = {name: np.median([j["s_over_b"] for j in chosen if j["job"]["injection"] == name])
                    for name in injections}
        header = " | ".join(f"{name} (S/B {100 * s_over_b[name]:.3g} %)" for name in injections)
        rows = "\n".join(
            f"| {method} | " + " | ".join(
                _median_band([j["max_sic"] for j in chosen if j["job"]["method"] == method
                              and j["job"]["injection"] == name]) for name in injections) + " |"
            for method in config["methods"]
        )
        links = " ".join(f"[{name}](plots/sic_{name}_sr{window[0]:g}-{window[1]:g}.png)" for name in injections)
        tables.append(f"### {_window_title(window)}\n\n| method | {header} |\n|---{'|---' * len(injections)}|\n"
                      f"{rows}\n\nSIC curves per injection: {links} (scores and sculpting plots beside them).\n")
    failed = f"\n**{len(results['failed'])} job(s) failed**: {', '.join(results['failed'])}.\n" if results["failed"] else ""
    window_plot = "\n![max SIC vs window centre](max_sic_vs_window.png)\n" if several_windows else ""
    sliding = config["windows"]["sliding"]
    where = (f"sliding windows from {sliding['start']:g} to {sliding['stop']:g} TeV (width {sliding['width']:g}, "
             f"step {sliding['step']:g}); the table shows the one holding the most injected signal"
             if sliding else f"{len(windows)} window(s)")
    counts = ", ".join(f"{name}: {n}" for name, n in config["n_signal"].items())
    data = config["data"]
    source = ("the bundled sample" if "bundled" in data else
              f"the toy ({data['toy']} background events)" if "toy" in data else ", ".join(data["files"]))
    return f"""# Resonant anomaly scan

Data: {source}; methods {', '.join(config['methods'])}; seeds {config['seeds']}; {where};
injected signal events per injection: {counts}. {len(jobs)} jobs finished.
{input_line(results.get("input"))}
{failed}
## Max SIC per method and injection

Median [16 %, 84 %] over seeds; max SIC uses cuts passed by at least 25 test background events
(NaN where the test set has too few). S/B is the median over seeds in that window.

{chr(10).join(tables)}
![max SIC vs S/B](max_sic_vs_s_over_b.png)
{window_plot}"""
