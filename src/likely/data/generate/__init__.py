"""Generators of real physics data: Pythia 8 + FastJet dijet events (LHC Olympics schema) and
GFLASH-parametrized calorimeter showers (CaloGAN / CaloChallenge layouts)."""

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
from likely.data.generate.showers import SamplingMedium, Source, generate_showers, simulate_showers

__all__ = [
    "DIJET_COLUMNS",
    "PROCESSES",
    "SamplingMedium",
    "Source",
    "cluster_jets",
    "generate_chunk",
    "generate_dijet",
    "generate_showers",
    "load_chunk",
    "nsubjettiness",
    "pythia_settings",
    "run_chunk",
    "simulate_showers",
]
