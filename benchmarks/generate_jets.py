"""Jets with constituents: generation rate and physics checks of the top-tagging and dark-jet samples.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/generate_jets.py --jets 2000                     # ~6 min on one core
    .venv/bin/python benchmarks/generate_jets.py --jets 2000 --write docs/benchmarks.md

It generates ``--jets`` jets of each sample (top and QCD in 550–650 GeV; the Aachen dark jets,
its r_inv = 0.2 variation and QCD in 150–300 GeV) with ``likely.data.generate.generate_jets``
and reports

1. the speed: jets per second per worker (wall time, Pythia initialization and writing
   included) and the fraction of generated events that give a jet;
2. top vs QCD: the top-jet mass peak and the W peak below it (modes of 5 GeV histograms in
   140–210 and 60–100 GeV; the physics puts them at m_t ≈ 173 and m_W ≈ 80 GeV, minus what
   leaves the jet), the QCD mass median, and the AUCs of τ32 and of the mass alone;
3. dark vs QCD: mean constituent multiplicity and mass, their AUCs, and the median pT of
   the matched dark quark, which grows with r_inv (more of the quark leaves the jet unseen).

The top-tagging and Aachen samples of seed 003 were made with MadGraph + Pythia 8.2 +
Delphes; these have no detector, so masses are sharper and multiplicities higher than there.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section
from sklearn.metrics import roc_auc_score

from likely.data import read_particles
from likely.data.generate import JetSettings, generate_jets

SECTION = "Jet generator: top tagging and dark jets (benchmarks/generate_jets.py)"
SAMPLES = {
    "top": JetSettings("top"),
    "qcd 550-650": JetSettings("qcd"),
    "dark aachen": JetSettings.preset("aachen"),
    "dark aachen r_inv 0.2": JetSettings.preset("aachen-rinv0.2"),
    "qcd 150-300": JetSettings("qcd", pt_min=150.0, pt_max=300.0),
}


def _mode(values: np.ndarray, low: float, high: float, width: float = 5.0) -> float:
    counts, edges = np.histogram(values, bins=np.arange(low, high + width, width))
    return float(edges[np.argmax(counts)] + width / 2)


def _auc(signal: np.ndarray, background: np.ndarray) -> float:
    """AUC of a score that is larger for the signal (values below 0.5 mean the other way round)."""
    labels = np.r_[np.ones(len(signal)), np.zeros(len(background))]
    return float(roc_auc_score(labels, np.r_[signal, background]))


def generate(n_jets: int, workers: int, seed: int, folder: Path) -> tuple[dict, list[list[str]]]:
    jets, rows = {}, []
    for name, settings in SAMPLES.items():
        out = folder / f"{name.replace(' ', '_')}.h5"
        log(f"generating {n_jets} {name} jets")
        start = time.perf_counter()
        generate_jets(out, settings, n_jets, chunk_size=max(1, -(-n_jets // workers)), workers=workers, seed=seed,
                      progress=False)
        seconds = time.perf_counter() - start
        record = json.loads(out.with_suffix(".json").read_text())
        jets[name] = read_particles(out)
        rows.append([name, f"{n_jets}", f"{record['tried']}", f"{100 * record['efficiency']:.1f} %",
                     f"{seconds:.1f}", f"{n_jets / seconds / workers:.1f}"])
    return jets, rows


def top_rows(jets: dict) -> list[list[str]]:
    top, qcd = jets["top"].columns, jets["qcd 550-650"].columns
    tau32 = lambda c: c["tau3"] / c["tau2"]  # noqa: E731
    return [
        ["top-jet mass peak (GeV)", f"{_mode(top['mass'], 140, 210):.1f}", "m_t = 172.5 (generator)"],
        ["W peak in top jets (GeV)", f"{_mode(top['mass'], 60, 100):.1f}", "m_W = 80.4"],
        ["QCD jet mass median (GeV)", f"{np.median(qcd['mass']):.1f}", "falling spectrum"],
        ["AUC of -τ32, top vs QCD", f"{_auc(-tau32(top), -tau32(qcd)):.3f}", "—"],
        ["AUC of the mass, top vs QCD", f"{_auc(top['mass'], qcd['mass']):.3f}", "—"],
    ]


def dark_rows(jets: dict) -> list[list[str]]:
    qcd = jets["qcd 150-300"].columns
    rows = [["QCD 150-300", f"{qcd['n_constituents'].mean():.1f}", f"{qcd['mass'].mean():.1f}", "—", "—", "—"]]
    for name in ("dark aachen", "dark aachen r_inv 0.2"):
        dark = jets[name].columns
        rows.append([name, f"{dark['n_constituents'].mean():.1f}", f"{dark['mass'].mean():.1f}",
                     f"{_auc(dark['n_constituents'], qcd['n_constituents']):.3f}",
                     f"{_auc(dark['mass'], qcd['mass']):.3f}", f"{np.median(dark['truth_pt']):.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jets", type=int, default=2000, help="jets per sample (default 2000)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=101, help="first chunk seed (default 101)")
    parser.add_argument("--write", type=Path, default=None, help="write the result section into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    with tempfile.TemporaryDirectory() as tmp:
        jets, speed = generate(args.jets, args.workers, args.seed, Path(tmp))
    speed_headers = ["sample", "jets", "events tried", "events giving a jet", "wall s", "jets/s/worker"]
    top_headers = ["top vs QCD, 550-650 GeV", "ours", "expected"]
    dark_headers = ["sample", "mean constituents", "mean mass (GeV)", "AUC multiplicity", "AUC mass",
                    "median pT(q_d) (GeV)"]
    tables = [(speed_headers, speed), (top_headers, top_rows(jets)), (dark_headers, dark_rows(jets))]
    for headers, rows in tables:
        print(text_table(headers, rows), end="\n\n")
    if args.write:
        body = "\n\n".join([provenance(), f"Workers: {args.workers}; seeds {args.seed}..; no detector simulation.",
                            *(markdown_table(h, r) for h, r in tables)])
        write_section(args.write, SECTION if args.workers == 1 else f"{SECTION}, {args.workers} workers", body)
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
