"""Generators of real physics data: Pythia 8 + FastJet dijet events (LHC Olympics schema), jets with
their constituents (top tagging, dark jets; :mod:`likely.data.generate.jet_samples`) and
GFLASH-parametrized calorimeter showers (CaloGAN / CaloChallenge layouts), both run by the one
chunked, resumable driver of :mod:`likely.data.generate.driver`; and a synthetic Gaia-like sky
patch with a stellar stream (:mod:`likely.data.generate.stream`, NumPy only, made in one go)."""

from likely.data.generate.dijet import (
    DIJET_COLUMNS,
    PROCESSES,
    DijetSettings,
    generate_chunk,
    generate_dijet,
    load_chunk,
    pythia_settings,
    run_chunk,
)
from likely.data.generate.driver import ChunkedGenerator, generate_in_chunks, plan_run
from likely.data.generate.jet_samples import DARK_PRESETS, JET_COLUMNS, JetSettings, generate_jets
from likely.data.jets import cluster_jets, nsubjettiness
from likely.data.generate.slices import mix_slices, slice_shares
from likely.data.generate.showers import SamplingMedium, Source, generate_showers, simulate_showers
from likely.data.generate.stream import STREAM_COLUMNS, StreamSettings, generate_stream

__all__ = [
    "DARK_PRESETS",
    "DIJET_COLUMNS",
    "JET_COLUMNS",
    "PROCESSES",
    "STREAM_COLUMNS",
    "ChunkedGenerator",
    "DijetSettings",
    "JetSettings",
    "SamplingMedium",
    "Source",
    "StreamSettings",
    "cluster_jets",
    "generate_chunk",
    "generate_dijet",
    "generate_in_chunks",
    "generate_jets",
    "generate_showers",
    "generate_stream",
    "load_chunk",
    "mix_slices",
    "nsubjettiness",
    "plan_run",
    "pythia_settings",
    "run_chunk",
    "simulate_showers",
    "slice_shares",
]
