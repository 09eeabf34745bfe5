"""Event containers, readers and writers of the public formats, generators, bundled samples."""

from likely.data.events import EventSet
from likely.data.adc import adc_layout, read_adc, write_adc
from likely.data.event_images import EventImages, read_event_images, write_event_images
from likely.data.images import jet_images
from likely.data.image_inputs import read_images
from likely.data.jetclass import read_jetclass
from likely.data.jetnet import read_jetnet
from likely.data.lhco import derive_features, read_lhco, read_lhco_raw, write_lhco
from likely.data.lhco_events import cluster_lhco_events, cluster_lhco_file, read_lhco_events, write_lhco_events
from likely.data.particles import Particles, read_particles, write_particles
from likely.data.showers import (
    MEV_PER_GEV,
    Showers,
    read_calochallenge,
    read_calogan,
    read_showers,
    write_calochallenge,
    write_calogan,
    write_showers,
)
from likely.data.toptagging import read_top_tagging
from likely.data.table import read_table, write_table
from likely.data.toy import conditional_gaussian_mixture, resonant_toy

__all__ = [
    "EventSet", "conditional_gaussian_mixture", "derive_features", "read_lhco", "read_lhco_raw",
    "read_table", "resonant_toy", "write_lhco", "write_table",
    "cluster_lhco_events", "cluster_lhco_file", "read_lhco_events", "write_lhco_events",
    "EventImages", "Particles", "adc_layout", "read_adc", "write_adc", "jet_images", "read_event_images", "read_images", "read_jetclass", "read_jetnet", "read_particles", "read_top_tagging", "write_event_images", "write_particles",
    "MEV_PER_GEV", "Showers", "read_calochallenge", "read_calogan", "read_showers", "write_calochallenge",
    "write_calogan", "write_showers",
]
