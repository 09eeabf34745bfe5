"""The Pythia 8 + FastJet dijet generator against the reference sample shared/data/lhco-pythia.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/generate_dijet.py --events 1000       # ~45 s per 1000 QCD events
    .venv/bin/python benchmarks/generate_dijet.py --events 5000 --workers 2
    .venv/bin/python benchmarks/generate_dijet.py --events 1000 --write docs/benchmarks.md
    .venv/bin/python benchmarks/generate_dijet.py --events 4000 --signal-events 500 --parton-veto --write docs/benchmarks.md

It generates ``--events`` QCD and ``--signal-events`` W′ events with the default settings
(pTHatMin = 700 GeV; m(W′), mX, mY = 3500, 500, 100 GeV) and seeds that the reference does
not use, then

1. compares the 10/25/50/75/90 % quantiles of mjj, mj1 (lighter jet), Δmj and τ21 of both
   jets with the reference. The tolerance is statistical: at each of our quantiles x_q the
   reference's CDF F_ref(x_q) must lie within 4σ of q, σ = sqrt(q (1 − q) / N) being the
   binomial error of a quantile of N events (the reference's own error is negligible). With
   50 such checks per run, 4σ keeps the chance of a false alarm below 1 %; deviations
   are printed in units of σ. A two-sample Kolmogorov–Smirnov p-value per feature is
   printed as well;
2. reports the speed: selected events per second per worker (wall time of the whole run,
   Pythia initialization and writing included) and generated events per second;
3. reports the fraction of QCD events with 3.3 < mjj < 3.7 TeV (LHC Olympics R&D: 12.1 %,
   the reference: 12.6 %) and the signal's acceptance in that window (reference 0.687).

With ``--parton-veto`` the events are made with :func:`likely.data.generate.pythia.parton_ht_veto`
(the reference was made without it), so the quantile comparison tests that the veto leaves the
selected sample unchanged; its result goes to a section of its own.

The reference sample is the same recipe (Pythia 8.317, same settings), so agreement is
expected within statistics; the generator also reproduces the reference's first events
exactly from its recorded seeds (tests/test_generate_dijet.py).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section
from scipy import stats

from likely.data.generate import DijetSettings, generate_dijet
from likely.data.lhco import read_lhco

SECTION = "Dijet generator (benchmarks/generate_dijet.py)"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "lhco-pythia"
FILES = {
    "qcd": "background_pt700_part1.features.h5",
    "wprime": "signal_wprime3500_x500_y100.features.h5",
}
FEATURES = ("mjj", "mj1", "delta_mj", "tau21_j1", "tau21_j2")
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
WINDOW = (3.3, 3.7)  # TeV, the unit of read_lhco's mjj
PUBLISHED_WINDOW_FRACTION = 0.121
TOLERANCE_SIGMA = 4.0


def _features(events) -> dict[str, np.ndarray]:
    return {name: np.asarray(events[name], dtype=np.float64) for name in FEATURES}


def compare(ours: dict, reference: dict) -> tuple[list[list[str]], bool]:
    rows, ok_all = [], True
    for name in FEATURES:
        x, ref = ours[name], reference[name]
        x, ref = x[np.isfinite(x)], np.sort(ref[np.isfinite(ref)])
        levels = np.quantile(x, QUANTILES)
        reached = np.searchsorted(ref, levels, side="right") / len(ref)
        sigma = np.sqrt(np.array(QUANTILES) * (1 - np.array(QUANTILES)) / len(x))
        ok = bool(np.all(np.abs(reached - QUANTILES) <= TOLERANCE_SIGMA * sigma))
        ok_all &= ok
        ref_levels = np.quantile(ref, QUANTILES)
        rows.append(
            [
                name,
                " / ".join(f"{v:.3g}" for v in levels),
                " / ".join(f"{v:.3g}" for v in ref_levels),
                f"{np.max(np.abs(reached - QUANTILES) / sigma):.1f}",
                f"{stats.ks_2samp(x, ref).pvalue:.2f}",
                "ok" if ok else "FAIL",
            ]
        )
    return rows, ok_all


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1000, help="QCD events to generate (default 1000)"
    )
    parser.add_argument(
        "--signal-events", type=int, default=None, help="signal events (default: --events)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: events / workers")
    parser.add_argument(
        "--seed", type=int, default=1, help="first chunk seed (the reference used 1000+ and 5000)"
    )
    parser.add_argument("--parton-veto", action="store_true", help="generate with the parton-level H_T veto")
    parser.add_argument(
        "--write", type=Path, default=None, help="write the result section into this markdown file"
    )
    args = parser.parse_args()
    if not REFERENCE.is_dir():
        raise SystemExit(f"reference sample not found: {REFERENCE}")
    warn_if_busy()
    n_signal = args.events if args.signal_events is None else args.signal_events

    results, speed_rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for process, n in (("qcd", args.events), ("wprime", n_signal)):
            chunk = args.chunk_size or max(1, -(-n // args.workers))
            out = Path(tmp) / f"{process}.h5"
            log(f"generating {n} {process} events with {args.workers} worker(s)")
            start = time.perf_counter()
            generate_dijet(
                out,
                DijetSettings(process, parton_veto=args.parton_veto),
                n,
                chunk_size=chunk,
                workers=args.workers,
                seed=args.seed,
                progress=False,
            )
            seconds = time.perf_counter() - start
            record = json.loads(out.with_suffix(".json").read_text())
            events = read_lhco(out)
            results[process] = (_features(events), record)
            speed_rows.append(
                [
                    process,
                    f"{n}",
                    f"{record['tried']}",
                    f"{100 * record['efficiency']:.2f} %",
                    f"{seconds:.1f}",
                    f"{n / seconds / args.workers:.1f}",
                    f"{record['tried'] / seconds / args.workers:.0f}",
                ]
            )

    reference = {p: _features(read_lhco(REFERENCE / f)) for p, f in FILES.items()}
    tables, verdict = [], True
    for process in ("qcd", "wprime"):
        rows, ok = compare(results[process][0], reference[process])
        verdict &= ok
        tables.append((process, rows))

    lo, hi = WINDOW
    window_rows = []
    for process in ("qcd", "wprime"):
        ours = results[process][0]["mjj"]
        ref = reference[process]["mjj"]
        frac = np.mean((ours > lo) & (ours < hi))
        err = np.sqrt(frac * (1 - frac) / len(ours))
        ref_frac = np.mean((ref > lo) & (ref < hi))
        published = (
            f"{100 * PUBLISHED_WINDOW_FRACTION:.1f} %"
            if process == "qcd"
            else "77.2 % (with Delphes)"
        )
        window_rows.append(
            [process, f"{100 * frac:.1f} ± {100 * err:.1f} %", f"{100 * ref_frac:.1f} %", published]
        )

    speed_headers = [
        "process",
        "selected",
        "tried",
        "efficiency",
        "wall s",
        "selected ev/s/worker",
        "generated ev/s/worker",
    ]
    quantile_headers = ["feature", "ours q10/25/50/75/90", "reference", "max abs(ΔF)/σ", "KS p", ""]
    window_headers = ["process", f"fraction in {lo}-{hi} TeV (ours)", "reference", "LHCO R&D"]
    print(text_table(speed_headers, speed_rows))
    for process, rows in tables:
        print(
            f"\n{process}: quantiles vs the reference (tolerance: |F_ref(x_q) - q| <= "
            f"{TOLERANCE_SIGMA:g} sqrt(q(1-q)/N))"
        )
        print(text_table(quantile_headers, rows))
    print()
    print(text_table(window_headers, window_rows))
    print(f"\nquantiles within tolerance: {'yes' if verdict else 'NO'}")

    if args.write:
        body = "\n\n".join(
            [
                provenance(),
                f"Workers: {args.workers}, CPU cores: {os.cpu_count()}.",
                markdown_table(speed_headers, speed_rows),
                *(
                    f"{p} quantiles against shared/data/lhco-pythia:\n\n"
                    + markdown_table(quantile_headers, rows)
                    for p, rows in tables
                ),
                markdown_table(window_headers, window_rows),
            ]
        )
        section = f"{SECTION}, with the parton-level veto" if args.parton_veto else SECTION
        write_section(args.write, section, body)
        log(f"wrote section {section!r} to {args.write}")


if __name__ == "__main__":
    main()
