"""Helpers shared by the hand-run benchmarks in ``benchmarks/``.

Every benchmark prints a table and can write it, with the machine, date, commit and
command line, as one ``## ...`` section of ``docs/benchmarks.md`` (other sections are
kept as they are). Speed is measured as a throughput (events/s) and compared with a
baseline measured in the same run.
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

__all__ = [
    "TITLE",
    "log",
    "machine",
    "load",
    "warn_if_busy",
    "commit",
    "command_line",
    "utc_now",
    "provenance",
    "rate",
    "rates",
    "overhead",
    "fmt_rate",
    "fmt_percent",
    "text_table",
    "markdown_table",
    "write_section",
]

TITLE = "# Benchmarks"
INTRO = (
    "Numbers written by the hand-run scripts in `benchmarks/` (see each section's command "
    "line). Speeds are throughputs in events per second; each is compared with a named "
    "baseline measured in the same run on the same machine, so ratios are meaningful "
    "even where absolute numbers differ between machines."
)
REPO = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    """Progress message on stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ provenance
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line: platform, CPU model, core count, torch version and torch threads."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.platform()}, {_cpu_model()}, {os.cpu_count()} cores ({usable} usable), "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads"
    )


def load() -> str:
    """The system load averages (1, 5, 15 min); near the core count means a busy machine."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def warn_if_busy() -> None:
    """Warn on stderr when other processes already keep the CPUs busy."""
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load()} on {os.cpu_count()} cores; timings will be noisy")


def _git(*args: str) -> str:
    # --no-optional-locks: never touch the index, other people may be committing
    result = subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def commit() -> str:
    """Short hash of HEAD, with ``+dirty`` when the working tree has changes."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def command_line() -> str:
    """The command line that started this process, as typed (shell-quoted)."""
    return shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def provenance() -> str:
    """Markdown bullet list: machine, date, commit and command line."""
    return "\n".join(
        [
            f"- Machine: {machine()}",
            f"- Load average at the end (1/5/15 min): {load()} (other processes skew timings)",
            f"- Date: {utc_now()}",
            f"- Commit: `{commit()}`",
            f"- Command: `{command_line()}`",
        ]
    )


# --------------------------------------------------------------------- timing
def rates(fns: Sequence[Callable[[], object]], n_events: int, repeats: int = 3) -> list[float]:
    """Median throughput (events/s) of each of ``fns``, each call handling ``n_events``.

    Calls are interleaved, in alternating order (A B, B A, ...), so that drifts in the
    machine's load hit every function alike.
    """
    seconds: list[list[float]] = [[] for _ in fns]
    for repeat in range(repeats):
        order = range(len(fns)) if repeat % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            start = time.perf_counter()
            fns[i]()
            seconds[i].append(time.perf_counter() - start)
    return [n_events / statistics.median(times) for times in seconds]


def rate(fn: Callable[[], object], n_events: int, repeats: int = 3) -> float:
    """Median throughput (events/s) of ``repeats`` calls of ``fn``, each handling ``n_events``."""
    return rates([fn], n_events, repeats)[0]


def peak_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def overhead(ours: float, baseline: float) -> float:
    """Our overhead in %: how much longer we take than the baseline (throughputs in)."""
    return 100.0 * (baseline / ours - 1.0)


# ------------------------------------------------------------------ formatting
def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} %"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text table with aligned columns (first column left, others right)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        first, *rest = (str(cell) for cell in cells)
        aligned = (cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))
        return "  ".join([first.ljust(widths[0]), *aligned])

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """GitHub-flavoured markdown table (numbers right-aligned)."""
    align = [":--"] + ["--:"] * (len(headers) - 1)
    return "\n".join("| " + " | ".join(map(str, cells)) + " |" for cells in [headers, align, *rows])


# -------------------------------------------------------------------- writing
def write_section(path: str | os.PathLike, heading: str, body: str) -> None:
    """Put ``## heading`` + ``body`` into the markdown file ``path``.

    An existing section with the same heading is replaced (up to the next ``## ``
    heading); otherwise the section is appended. The rest of the file is untouched; a
    missing file is created with the title and an introduction.
    """
    path = Path(path)
    text = path.read_text() if path.exists() else f"{TITLE}\n\n{INTRO}\n"
    lines = text.splitlines()
    title = f"## {heading}"
    section = [title, "", *body.strip("\n").splitlines(), ""]
    if title in lines:
        start = lines.index(title)
        later = (i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
        stop = next(later, len(lines))
        lines[start:stop] = section
    else:
        lines += ([""] if lines and lines[-1] else []) + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")


def publish(path: str | os.PathLike | None, heading: str, setup: str, headers: Sequence[str],
            rows: Sequence[Sequence[str]], footer: str = "") -> None:
    """Print ``setup``, the table and ``footer``; with a ``path``, also write them as a section there."""
    print(setup)
    print(text_table(headers, rows))
    if footer:
        print(footer)
    if path:
        body = f"{provenance()}\n- Setup: {setup}\n\n{markdown_table(headers, rows)}\n"
        write_section(path, heading, body + (f"\n{footer}\n" if footer else ""))
        log(f"wrote {path}")


# ----------------------------------------------------------------------- tasks
def run_tasks(tasks: dict[str, Callable], titles: Callable[[str], str], args) -> None:
    """Run each of ``args.tasks`` (``tasks[name](args) -> (setup, [(headers, rows), ...])``), print its
    tables and, with ``args.write``, write them as the section ``titles(name)`` of that file."""
    for task in args.tasks:
        log(f"task {task}")
        start = time.perf_counter()
        setup, tables = tasks[task](args)
        setup += f" Wall time {(time.perf_counter() - start) / 60:.0f} min."
        print(f"{titles(task)}\n{setup}\n")
        for headers, rows in tables:
            print(text_table(headers, rows), end="\n\n")
        if args.write:
            body = "\n\n".join([provenance(), setup, *(markdown_table(h, r) for h, r in tables)])
            write_section(args.write, titles(task), body)
            log(f"wrote {args.write}")
