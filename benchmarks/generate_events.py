"""Whole-event generation: the rate of every process of ``likely generate events``, on 1 and 2 workers.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/generate_events.py --events 200                        # ~5 min on 2 cores
    .venv/bin/python benchmarks/generate_events.py --events 200 --write docs/benchmarks.md

For each process (QCD multijets, semi-visible jets, SUEP at 125 and 1000 GeV, minimum bias,
the ADC2021 backgrounds and signals) it generates ``--events`` events with no filter, once
with one worker (one chunk) and once with two (two chunks of half the size, in parallel), and
reports events per second (wall time: Pythia's start-up, the chunk files and the output file
included), the speed-up of the second worker and the mean number of particles written per
event. The rates of filtered samples follow from the filter efficiencies in the SUEP, ADC and
event-image sections.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import log, markdown_table, provenance, text_table, warn_if_busy, write_section

from likely.data.generate.events import EVENT_PROCESSES, EventSettings, generate_events

SECTION = "Whole-event generation: rate per process on 1 and 2 workers (benchmarks/generate_events.py)"
#: (label, process, parameters): every process once, SUEP at both ends of its mass range
SAMPLES = [(name, name, {}) for name in EVENT_PROCESSES if name != "suep"]
SAMPLES[2:2] = [("suep 125", "suep", {"mediator_mass": 125.0}), ("suep 1000", "suep", {"mediator_mass": 1000.0})]


def timed(settings: EventSettings, n_events: int, workers: int, seed: int, folder: Path) -> tuple[float, dict]:
    """(wall seconds, record) of generating ``n_events`` of ``settings`` in ``workers`` equal chunks."""
    out = folder / f"{settings.process}_{workers}.h5"
    start = time.perf_counter()
    generate_events(out, settings, n_events, chunk_size=-(-n_events // workers), workers=workers, seed=seed,
                    progress=False, overwrite=True)
    return time.perf_counter() - start, json.loads(out.with_suffix(".json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per sample and run (default 200)")
    parser.add_argument("--seed", type=int, default=9001, help="first chunk seed (default 9001)")
    parser.add_argument("--write", type=Path, default=None, help="write the result section into this markdown file")
    args = parser.parse_args()
    warn_if_busy()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, process, params in SAMPLES:
            settings = EventSettings(process, params)
            log(f"{name}: {args.events} events on 1 and 2 workers")
            one, record = timed(settings, args.events, 1, args.seed, Path(tmp))
            two, _ = timed(settings, args.events, 2, args.seed, Path(tmp))
            rows.append([name, f"{EVENT_PROCESSES[process].label}", f"{args.events / one:.1f}",
                         f"{args.events / two:.1f}", f"{one / two:.2f}", f"{record['mean_particles']:.0f}"])
    headers = ["process", "label", "events/s, 1 worker", "events/s, 2 workers", "speed-up", "particles/event"]
    print(text_table(headers, rows))
    if args.write:
        setup = (f"{args.events} events per process and run, no filter, |eta| < 5, seeds {args.seed}..; "
                 "wall time including Pythia start-up (about 1 s per chunk) and writing.")
        write_section(args.write, SECTION, "\n\n".join([provenance(), setup, markdown_table(headers, rows)]))
        log(f"wrote {args.write}")


if __name__ == "__main__":
    main()
