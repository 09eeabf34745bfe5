"""Resonant anomaly detection: windows, signal injection and the method family."""

from likely.search.methods import (
    ANODE, CATHODE, DEFAULT_FEATURES, RANODE, SIGMA, CWoLa, IdealizedAD, ResonantMethod, Supervised,
)
from likely.search.sample import SearchSample, make_search_sample
from likely.search.windows import Window
from likely.search.curtains import CURTAINs

__all__ = [
    "ANODE", "CATHODE", "CWoLa", "DEFAULT_FEATURES", "IdealizedAD", "RANODE", "ResonantMethod",
    "SearchSample", "SIGMA", "Supervised", "Window", "make_search_sample",
]
__all__ += ["CURTAINs"]
