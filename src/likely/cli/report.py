"""``likely report DIR``: figures and a Markdown report from a run directory's results."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from likely._io import write_text
from likely.plot import plot_score_distributions, plot_sculpting, plot_sic, save_figure

__all__ = ["add_parser", "write_search_report"]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("report", help="(re)write the report of a run directory")
    parser.add_argument("run_dir", type=Path, help="a directory written by 'likely search run'")
    parser.set_defaults(run=lambda args: write_search_report(args.run_dir))


def write_search_report(run_dir: Path) -> Path:
    """Read results.json + scores.npz in ``run_dir``; write sic.png, scores.png, report.md."""
    results_path = run_dir / "results.json"
    if not results_path.is_file():
        raise FileNotFoundError(f"{results_path} not found: is {run_dir} a 'likely search run' directory?")
    results = json.loads(results_path.read_text())
    curves, spectra = defaultdict(list), {}
    with np.load(run_dir / "scores.npz") as arrays:
        for i, run in enumerate(results["runs"]):
            curves[run["method"]].append((arrays[f"labels_{i}"], arrays[f"score_{i}"]))
            spectra.setdefault(run["method"], (arrays[f"background_mjj_{i}"], arrays[f"background_score_{i}"]))
    save_figure(plot_sic(curves), run_dir / "sic.png")
    save_figure(plot_sculpting(spectra, results["window"]), run_dir / "sculpting.png")
    first = {name: runs[0] for name, runs in curves.items()}
    labels = next(iter(first.values()))[0]
    save_figure(plot_score_distributions(labels, {name: s for name, (_, s) in first.items()}), run_dir / "scores.png")
    return write_text(run_dir / "report.md", _markdown(results))


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
    if len(values) == 1:
        return f"{values[0]:.3g}"
    low, median, high = np.nanquantile(values, [0.16, 0.5, 0.84])
    return f"{median:.3g} [{low:.3g}, {high:.3g}]"
