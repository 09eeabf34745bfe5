"""The GFLASH shower generator: speed on one worker and agreement with its parametrization.

Run by hand from the repository root, e.g.::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/generate_showers.py                # ~1 min
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/generate_showers.py --write docs/benchmarks.md

1. Speed: showers/s of ``simulate_showers`` in this process (one worker) for seed-000 photons
   (1–100 GeV uniform), electrons (same) and χ → γγ signal (mχ = 0.5 GeV, z = 1.08 m,
   E = 50 GeV), with spots/s and the peak resident memory of these runs. Baseline, measured
   in the same run: binning the same number of uniformly placed spots into the geometry
   (``Geometry.bin`` alone, in the simulator's batch size), the part of the work that any
   spot-based simulator has to do.
2. Files: ``generate_showers`` end to end (chunks, HDF5 writing) with 1 and ``--workers``
   worker processes, as ``likely generate showers --workers`` runs it.
3. Moments: for electrons at 10 and 100 GeV in an unbounded medium, the ensemble's
   energy-weighted mean depth vs the average-profile fit α/β = T α/(α−1) (notes/gflash.md
   §3.2), each shower's mean depth vs its own α/β, σ/E vs c/√E, and the energy fraction within
   1 and 3.5 Molière radii vs what the implemented radial parameters predict and vs the
   note's §9 values (0.90 and 0.986 at 10 GeV; 0.90 and 0.987 at 100 GeV).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import log, markdown_table, peak_mib, provenance, text_table, warn_if_busy, write_section

from likely.calo import seed000_geometry
from likely.data.generate.showers import (
    MAX_SPOTS_PER_BATCH,
    SamplingMedium,
    Source,
    average_profile,
    generate_showers,
    longitudinal_parameters,
    radial_parameters,
    shower_spots,
    simulate_showers,
)

SECTION = "Shower generator (benchmarks/generate_showers.py)"
NOTE_CONTAINMENT = {10.0: (0.90, 0.986), 100.0: (0.90, 0.987)}
SOURCES = {
    "photon 1-100 GeV": Source("photon", energy=(1.0, 100.0)),
    "electron 1-100 GeV": Source("electron", energy=(1.0, 100.0)),
    "chi m=0.5 z=1.08 E=50": Source("chi", energy=50.0, mass=0.5, displacement=1.08),
}


def _bin_seconds(geometry, n: int, spots: int, batch: int = MAX_SPOTS_PER_BATCH) -> float:
    """Seconds to bin ``spots`` uniformly placed spots of ``n`` showers, in the simulator's batch size."""
    rng = np.random.default_rng(2)
    seconds = 0.0
    per_batch = max(1, round(n * batch / spots))
    for first in range(0, n, per_batch):
        m = min(per_batch, n - first)
        k = spots * m // n
        x, y = rng.uniform(-240, 240, (2, k))
        depth = rng.uniform(0, 480, k)
        shower = np.sort(rng.integers(0, m, k))
        start = time.perf_counter()
        geometry.bin(x, y, depth, np.ones(k), shower, n_showers=m)
        seconds += time.perf_counter() - start
    return seconds


def speed(n: int) -> list[list[str]]:
    geometry, medium = seed000_geometry(), SamplingMedium()
    rows = []
    for name, source in SOURCES.items():
        simulate_showers(20, geometry, source, random_state=0)  # warm-up
        start = time.perf_counter()
        showers = simulate_showers(n, geometry, source, random_state=1)
        seconds = time.perf_counter() - start
        mean_e = showers.incident_energies.mean() / 1000.0
        spots = n * (10.3 / medium.resolution) * mean_e**0.959  # nominal count, ignores the ≥1-per-step extras
        bin_rate = n / _bin_seconds(geometry, n, int(spots))
        rate = n / seconds
        rows.append([name, f"{rate:.0f}", f"{spots / seconds / 1e6:.2f}", f"{bin_rate:.0f}", f"{rate / bin_rate:.2f}"])
        log(f"{name}: {rate:.0f} showers/s")
    return rows


def moments(n: int) -> list[list[str]]:
    medium = SamplingMedium()
    rows = []
    for energy in (10.0, 100.0):
        rng = np.random.default_rng(3)
        start = np.zeros((n, 3))
        direction = np.tile([0.0, 0.0, 1.0], (n, 1))
        s = shower_spots(np.full(n, energy), start, direction, np.zeros(n, bool), medium, rng)
        w, e = s["shower"], s["energy"]
        total = np.bincount(w, e, n)
        mean_t = np.bincount(w, e * s["t"], n) / total
        T, a = average_profile(energy, medium)
        alpha_med = np.exp(longitudinal_parameters(energy, medium)["mean_ln_alpha"])
        scale = (alpha_med / (alpha_med - 1)) / (s["alpha"] / s["beta"])
        tau = (np.floor(s["t"] / 0.1) + 0.5) * 0.1 * scale[w]
        rc, rt, p = radial_parameters(tau, energy, medium)
        row = [
            f"{energy:g}",
            f"{np.average(s['t'], weights=e):.3f}",
            f"{float(T * a / (a - 1)):.3f}",
            f"{np.mean(mean_t / (s['alpha'] / s['beta'])):.4f}",
            f"{total.std() / total.mean():.4f}",
            f"{medium.resolution / np.sqrt(energy):.4f}",
        ]
        for radius, note in zip((1.0, 3.5), NOTE_CONTAINMENT[energy], strict=True):
            expected = p * radius**2 / (radius**2 + rc**2) + (1 - p) * radius**2 / (radius**2 + rt**2)
            row.append(f"{np.average(s['r'] < radius, weights=e):.4f} / "
                       f"{np.average(expected, weights=e):.4f} / {note}")
        rows.append(row)
        log(f"moments at {energy:g} GeV done")
    return rows


def files(n: int, max_workers: int) -> list[list[str]]:
    """Showers/s of ``generate_showers`` writing seed-000 photons to HDF5 with 1..max_workers workers."""
    rows, single = [], None
    for workers in sorted({1, max_workers}):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            generate_showers(Path(folder) / "photons.h5", n, source=Source("photon", energy=(1.0, 100.0)),
                             chunk_size=max(n // 8, 1), workers=workers, seed=0, progress=False)
            rate = n / (time.perf_counter() - start)
        single = single or rate
        rows.append([str(workers), f"{rate:,.0f}", f"{rate / single:.2f}"])
        log(f"{workers} worker(s): {rate:,.0f} showers/s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--showers", type=int, default=2000, help="showers per speed measurement")
    parser.add_argument("--file-showers", type=int, default=20_000, help="showers per file-writing measurement")
    parser.add_argument("--workers", type=int, default=2, help="worker processes to compare with one (default: 2)")
    parser.add_argument("--moment-showers", type=int, default=300, help="showers per moment check")
    parser.add_argument("--write", metavar="FILE", help="write the tables into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    speed_headers = ["source", "showers/s", "M spots/s", "bin-only showers/s (baseline)", "ratio to baseline"]
    speed_rows = speed(args.showers)
    peak = peak_mib()  # before the unbatched moment checks
    file_headers = ["workers", "showers/s", "speed-up"]
    file_rows = files(args.file_showers, args.workers)
    moment_headers = [
        "E (GeV)", "⟨t⟩ ensemble (X0)", "⟨t⟩ average-profile fit (X0)", "mean of ⟨t⟩ᵢ / (αᵢ/βᵢ)",
        "σ_E/E", "c/√E", "f(r < 1 R_M): spots / parametrization / note",
        "f(r < 3.5 R_M): spots / parametrization / note",
    ]
    moment_rows = moments(args.moment_showers)
    print(text_table(speed_headers, speed_rows))
    print()
    print(text_table(file_headers, file_rows))
    print()
    print(text_table(moment_headers, moment_rows))
    print(f"\npeak resident memory of the speed runs: {peak:.0f} MB")
    if args.write:
        body = "\n\n".join([
            provenance(),
            f"Speed on one worker ({args.showers} showers per source, seed-000 geometry, c = 10 %):",
            markdown_table(speed_headers, speed_rows),
            f"`likely generate showers` end to end ({args.file_showers:,} photons, 1-100 GeV, to a "
            "CaloChallenge HDF5 file in eight chunks):",
            markdown_table(file_headers, file_rows),
            f"Moments of {args.moment_showers} electron showers per energy (unbounded medium) against "
            "the parametrization the generator implements (notes/gflash.md):",
            markdown_table(moment_headers, moment_rows),
            f"Peak resident memory of the speed runs: {peak:.0f} MB.",
        ])
        write_section(args.write, SECTION, body)


if __name__ == "__main__":
    main()
