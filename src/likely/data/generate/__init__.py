"""Generators of real physics data: Pythia 8 + FastJet dijet events (LHC Olympics schema)."""

from likely.data.generate.dijet import (
    DIJET_COLUMNS,
    PROCESSES,
    generate_chunk,
    generate_dijet,
    load_chunk,
    pythia_settings,
    run_chunk,
)
from likely.data.generate.jets import cluster_jets, nsubjettiness

__all__ = [
    "DIJET_COLUMNS",
    "PROCESSES",
    "cluster_jets",
    "generate_chunk",
    "generate_dijet",
    "load_chunk",
    "nsubjettiness",
    "pythia_settings",
    "run_chunk",
]
