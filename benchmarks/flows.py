"""Throughput of likely's flows, against a bare zuko loop measured in the same run.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/flows.py                      # full size, print the table
    .venv/bin/python benchmarks/flows.py --write docs/benchmarks.md
    .venv/bin/python benchmarks/flows.py --events 5000 --epochs 2   # smoke run

On N synthetic events (4 features given 1 condition: a correlated two-component
Gaussian mixture whose means move with the condition) it measures, on the CPU with
``--threads`` torch threads:

1. training throughput of ``Flow(kind="maf")`` with ``Trainer`` against a bare zuko
   loop building the same MAF (standardized inputs, AdamW + cosine schedule, the same
   80/20 split and a validation pass per epoch). Runs alternate (likely, zuko, zuko,
   likely, ...) after a warm-up, and each side's throughput is the median over all its
   epochs, from ``history_.seconds`` for likely and the same span (training + validation)
   for zuko;
2. ``log_prob`` throughput of the trained MAF (NumPy in and out) against zuko's
   ``flow(c).log_prob(x)`` on tensors in chunks of ``INFERENCE_BATCH``, standardization
   and its log-Jacobian included;
3. training, ``log_prob`` and sampling throughput of ``Flow(kind="coupling")`` and
   ``FlowMatching()``, and the MAF's sampling throughput (no baseline).

Overhead = baseline events/s / our events/s - 1; the target is at most 10 %.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import zuko
from _common import (
    fmt_percent,
    fmt_rate,
    log,
    markdown_table,
    overhead,
    provenance,
    rate,
    rates,
    text_table,
    warn_if_busy,
    write_section,
)
from zuko.transforms import MonotonicRQSTransform

from likely.density import Flow, FlowMatching
from likely.density.base import INFERENCE_BATCH
from likely.nn import Trainer

SECTION = "Flows (benchmarks/flows.py)"
FEATURES = 4
#: the architecture under test, as ``Flow`` keywords
MAF = {"transforms": 4, "hidden": (128, 128), "bins": 8, "tail_bound": 5.0}
BATCH_SIZE = 256
VAL_FRACTION = 0.2
#: validation chunk, as in ``Trainer._evaluate`` (max(batch_size, 4096))
VAL_BATCH = 4096
LR = 1e-3
#: events in the warm-up fits
WARMUP_EVENTS = 4096
#: largest acceptable overhead against the baseline, in %
TARGET = 10.0
HEADERS = ("model / operation", "events/s", "baseline events/s", "overhead", "target")


# ------------------------------------------------------------------------ data
def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` events: features (n, 4) and condition (n, 1), float32.

    The condition ``m`` is uniform on [3, 4]; the features are a 70/30 mixture of two
    correlated Gaussians whose means shift linearly with ``m``.
    """
    rng = np.random.default_rng(seed)
    m = rng.uniform(3.0, 4.0, size=(n, 1))
    corr = np.array(
        [[1.0, 0.6, 0.3, 0.0], [0.6, 1.0, 0.2, 0.1], [0.3, 0.2, 1.0, 0.4], [0.0, 0.1, 0.4, 1.0]]
    )
    noise = rng.standard_normal((n, FEATURES)) @ np.linalg.cholesky(corr).T
    second = rng.random((n, 1)) < 0.3
    first_mean = m * [1.0, -0.5, 0.2, 0.4]
    second_mean = m * [-1.0, 0.5, 0.3, -0.2] + [2.0, 0.0, -1.0, 0.5]
    mean = np.where(second, second_mean, first_mean)
    scale = np.where(second, 0.5, 1.0)
    return (mean + scale * noise).astype(np.float32), m.astype(np.float32)


def n_train(n_events: int) -> int:
    """Training events after the validation split (as ``Trainer`` rounds it)."""
    return n_events - int(round(VAL_FRACTION * n_events))


# -------------------------------------------------------------------- baseline
def zuko_maf(n_cond: int) -> zuko.flows.Flow:
    """The MAF that ``Flow(kind="maf", **MAF)`` builds, written directly with zuko."""
    bins = MAF["bins"]
    return zuko.flows.MAF(
        FEATURES,
        n_cond,
        transforms=MAF["transforms"],
        passes=None,
        univariate=partial(MonotonicRQSTransform, bound=MAF["tail_bound"]),
        shapes=[(bins,), (bins,), (bins - 1,)],
        hidden_features=MAF["hidden"],
    )


class BareMAF:
    """The baseline: the same MAF trained and evaluated with torch and zuko only."""

    def __init__(self, X: np.ndarray, cond: np.ndarray, seed: int) -> None:
        x, c = torch.from_numpy(X), torch.from_numpy(cond)
        self.x_mean, self.x_std = x.mean(0), x.std(0)
        self.c_mean, self.c_std = c.mean(0), c.std(0)
        self.log_jacobian = -self.x_std.log().sum()
        torch.manual_seed(seed)
        self.flow = zuko_maf(cond.shape[1])
        self.generator = torch.Generator().manual_seed(seed)

    def standardize(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x - self.x_mean) / self.x_std, (c - self.c_mean) / self.c_std

    def fit(self, X: np.ndarray, cond: np.ndarray, epochs: int) -> list[float]:
        """Train for ``epochs``; returns each epoch's training events/s."""
        x, c = self.standardize(torch.from_numpy(X), torch.from_numpy(cond))
        order = torch.randperm(len(x), generator=self.generator)
        n_val = len(x) - n_train(len(x))
        train, val = (x[order[n_val:]], c[order[n_val:]]), (x[order[:n_val]], c[order[:n_val]])
        optimizer = torch.optim.AdamW(self.flow.parameters(), lr=LR)
        steps = epochs * math.ceil(len(train[0]) / BATCH_SIZE)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        throughputs = []
        for _ in range(epochs):
            start = time.perf_counter()
            self._train_epoch(train, optimizer, scheduler)
            self._validate(val)
            throughputs.append(len(train[0]) / (time.perf_counter() - start))
        return throughputs

    def _train_epoch(self, train, optimizer, scheduler) -> None:
        self.flow.train()
        order = torch.randperm(len(train[0]), generator=self.generator)
        x, c = (t[order] for t in train)
        for start in range(0, len(x), BATCH_SIZE):
            stop = start + BATCH_SIZE
            loss = -self.flow(c[start:stop]).log_prob(x[start:stop]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()

    @torch.no_grad()
    def _validate(self, val) -> float:
        self.flow.eval()
        x, c = val
        total = sum(
            -self.flow(c[i : i + VAL_BATCH]).log_prob(x[i : i + VAL_BATCH]).sum()
            for i in range(0, len(x), VAL_BATCH)
        )
        return float(total) / len(x)

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Log-density in the original units, in chunks of ``INFERENCE_BATCH``."""
        self.flow.eval()
        out = torch.empty(len(x))
        for start in range(0, len(x), INFERENCE_BATCH):
            stop = start + INFERENCE_BATCH
            z, c_std = self.standardize(x[start:stop], c[start:stop])
            out[start:stop] = self.flow(c_std).log_prob(z) + self.log_jacobian
        return out


# ------------------------------------------------------------------------ ours
def trainer(epochs: int) -> Trainer:
    """The ``Trainer`` under test: fixed epochs, no early stopping, no progress bar."""
    return Trainer(
        epochs=epochs,
        batch_size=BATCH_SIZE,
        lr=LR,
        val_fraction=VAL_FRACTION,
        patience=None,
        progress=False,
    )


def fit_rates(model, X: np.ndarray, cond: np.ndarray) -> list[float]:
    """Fit a likely estimator; returns each epoch's training events/s (``history_.seconds``)."""
    model.fit(X, cond)
    return [n_train(len(X)) / seconds for seconds in model.history_.seconds]


# --------------------------------------------------------------------- results
@dataclass
class Row:
    """One line of the table: our throughput and, where there is one, the baseline's."""

    name: str
    ours: float
    baseline: float | None = None

    def cells(self) -> tuple[str, ...]:
        has_baseline = self.baseline is not None
        return (
            self.name,
            fmt_rate(self.ours),
            fmt_rate(self.baseline),
            fmt_percent(overhead(self.ours, self.baseline) if has_baseline else None),
            f"≤ {TARGET:g} %" if has_baseline else "—",
        )


# ------------------------------------------------------------------ benchmarks
def warm_up(X: np.ndarray, cond: np.ndarray, seed: int) -> None:
    """One short fit of each side, so neither pays first-call costs in the timed runs."""
    X, cond = X[:WARMUP_EVENTS], cond[:WARMUP_EVENTS]
    fit_rates(Flow(**MAF, trainer=trainer(1), device="cpu", random_state=seed), X, cond)
    BareMAF(X, cond, seed).fit(X, cond, epochs=1)


def compare_training(X, cond, args) -> tuple[list[Row], Flow, BareMAF]:
    """MAF training, likely vs zuko, alternating which side goes first (AB, BA, ...)."""
    epochs = {"likely": [], "zuko": []}
    for round_ in range(args.rounds):
        seed = args.seed + round_
        flow = Flow(**MAF, trainer=trainer(args.epochs), device="cpu", random_state=seed)
        baseline = BareMAF(X, cond, seed)
        runs = {
            "likely": partial(fit_rates, flow, X, cond),
            "zuko": partial(baseline.fit, X, cond, args.epochs),
        }
        for side in sorted(runs, reverse=round_ % 2 == 1):
            log(f"training maf ({side}), round {round_ + 1}/{args.rounds}")
            epochs[side] += runs[side]()
    ours, bare = (statistics.median(epochs[side]) for side in ("likely", "zuko"))
    return [Row("maf train (Trainer vs bare zuko loop)", ours, bare)], flow, baseline


def compare_log_prob(flow: Flow, baseline: BareMAF, X, cond, repeats: int) -> list[Row]:
    """MAF log_prob, likely (NumPy in/out) vs zuko (tensors), timings interleaved."""
    log("log_prob maf (likely vs zuko)")
    x, c = torch.from_numpy(X), torch.from_numpy(cond)
    calls = [lambda: flow.log_prob(X, cond), lambda: baseline.log_prob(x, c)]
    ours, bare = rates(calls, len(X), repeats)
    return [Row("maf log_prob (vs bare zuko)", ours, bare)]


def sample_row(name: str, model, cond: np.ndarray, repeats: int) -> Row:
    """Conditional sampling throughput: one draw per row of ``cond``."""
    log(f"sampling {name} ({len(cond):,} events)")
    throughput = rate(lambda: model.sample(cond=cond, random_state=0), len(cond), repeats)
    return Row(f"{name} sample ({len(cond):,} events)", throughput)


def estimator_rows(name: str, model, X, cond, n_infer: int, args) -> list[Row]:
    """Training, log_prob and sampling throughput of one likely estimator (no baseline)."""
    log(f"training {name}")
    train = statistics.median(fit_rates(model, X, cond))
    X_infer, cond_infer = X[:n_infer], cond[:n_infer]
    log(f"log_prob {name} ({n_infer:,} events)")
    logp = rate(lambda: model.log_prob(X_infer, cond_infer), n_infer, args.repeats)
    return [
        Row(f"{name} train", train),
        Row(f"{name} log_prob ({n_infer:,} events)", logp),
        sample_row(name, model, cond_infer, args.repeats),
    ]


def run(args: argparse.Namespace) -> list[Row]:
    """Every measurement, in table order."""
    X, cond = make_data(args.events, args.seed)
    warm_up(X, cond, args.seed)
    rows, maf, baseline = compare_training(X, cond, args)
    rows += compare_log_prob(maf, baseline, X, cond, args.repeats)
    n_sample = min(args.sample_events, args.events)
    rows.append(sample_row("maf", maf, cond[:n_sample], args.repeats))
    common = {"trainer": trainer(args.epochs), "device": "cpu", "random_state": args.seed}
    coupling = Flow(kind="coupling", **MAF, **common)
    rows += estimator_rows("coupling", coupling, X, cond, n_sample, args)
    n_fm = min(args.fm_events, args.events)
    flow_matching = FlowMatching(**common)
    rows += estimator_rows("flow matching (exact trace)", flow_matching, X, cond, n_fm, args)
    return rows


# ------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    counts = [
        ("--events", 100_000, "synthetic events N"),
        ("--epochs", 3, "epochs per training run"),
        ("--rounds", 2, "MAF training rounds per side, alternating which side goes first"),
        ("--repeats", 3, "timed calls per inference measurement (the median counts)"),
        ("--sample-events", 100_000, "events for flow sampling and coupling log_prob"),
        ("--fm-events", 10_000, "events for flow-matching log_prob and sampling"),
        ("--threads", 2, "torch threads (torch.set_num_threads)"),
    ]
    for flag, default, help_ in counts:
        help_ = f"{help_} (default: {default:_})"
        parser.add_argument(flag, type=_positive, default=default, help=help_)
    parser.add_argument("--seed", type=int, default=0, help="seed of data, init and shuffling")
    parser.add_argument("--write", metavar="PATH", help="put the table into this markdown file")
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def settings(args: argparse.Namespace) -> str:
    """What was measured, in one markdown bullet."""
    return (
        f"- Setup: {args.events:,} events, {FEATURES} features, 1 condition; MAF/coupling "
        f"{MAF['transforms']} transforms, hidden {MAF['hidden']}, {MAF['bins']} bins; batch "
        f"{BATCH_SIZE}, {args.epochs} epochs x {args.rounds} rounds per side; CPU. Overhead = "
        "baseline events/s / ours - 1."
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warn_if_busy()
    rows = [row.cells() for row in run(args)]
    header = f"{provenance()}\n{settings(args)}\n"
    print(header)
    print(text_table(HEADERS, rows))
    if args.write:
        write_section(args.write, SECTION, f"{header}\n{markdown_table(HEADERS, rows)}")
        log(f"wrote section '{SECTION}' of {args.write}")


if __name__ == "__main__":
    main()
