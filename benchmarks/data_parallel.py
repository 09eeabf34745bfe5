"""Data-parallel training (likely.nn.data_parallel): wall time of a flow fit on one process and on several.

Run by hand from the repository root on an idle machine, e.g.::

    .venv/bin/python benchmarks/data_parallel.py --events 200000 --write docs/benchmarks.md

It fits the same conditional MAF (the shape of the resonant searches' densities: 4 features
given one condition, batch ``--batch``, ``--epochs`` epochs, no early stopping) on ``--events`` toy events
(``likely.data.conditional_gaussian_mixture``) once in this process with all ``--threads``
torch threads, and once per ``--processes`` value with the threads shared equally among the
processes, and reports the wall time per epoch (process start-up and initialization
included) and the final training loss of each, which data-parallel training must leave
unchanged up to summation order.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section

from likely.data import conditional_gaussian_mixture
from likely.density import Flow
from likely.nn import Trainer, data_parallel

SECTION = "Data-parallel training of a flow (benchmarks/data_parallel.py)"


def fit(events: int, epochs: int, batch: int) -> tuple[float, float]:
    """Fit the flow; (seconds, final training loss). Module level: it runs in every process."""
    X, cond, _ = conditional_gaussian_mixture(events, dim=4, random_state=0)
    trainer = Trainer(epochs=epochs, batch_size=batch, val_fraction=0.0, patience=None, progress=False)
    flow = Flow(kind="maf", transforms=4, hidden=(64, 64), trainer=trainer, device="cpu", random_state=0)
    start = time.perf_counter()
    flow.fit(X, cond=cond)
    return time.perf_counter() - start, flow.history_.train_loss[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="training events (default 200000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (default 3)")
    parser.add_argument("--batch", type=int, default=1024, help="global batch size (default 1024)")
    parser.add_argument("--processes", type=int, nargs="+", default=[2], help="group sizes to time (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in all (default 2)")
    parser.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warn_if_busy()
    rows = []
    for processes in (1, *args.processes):
        log(f"{processes} process(es)")
        start = time.perf_counter()
        if processes == 1:
            fit_seconds, loss = fit(args.events, args.epochs, args.batch)
        else:
            fit_seconds, loss = data_parallel(fit, args.events, args.epochs, args.batch, processes=processes)
        wall = time.perf_counter() - start
        rows.append([f"{processes}", f"{max(1, args.threads // processes)}", f"{fit_seconds / args.epochs:.1f}",
                     f"{wall:.1f}", f"{loss:.6f}"])
    headers = ["processes", "threads each", "s per epoch (fit)", "wall s (all)", "final train loss"]
    setup = (f"Conditional MAF (4 transforms, hidden 64-64) on {args.events} toy events, {args.epochs} epochs of global "
             f"batch {args.batch}, {args.threads} torch threads in all; gloo backend on CPU processes.")
    print(setup + "\n\n" + text_table(headers, rows))
    if args.write:
        write_section(args.write, SECTION, "\n\n".join([provenance(), setup, markdown_table(headers, rows)]))
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
