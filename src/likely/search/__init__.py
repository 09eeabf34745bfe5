"""Resonant anomaly detection: windows, signal injection, the method family, studies, scans and
discovery on unlabelled data; the ABCD tail search."""

from likely.search.abcd import ABCD, abcd, tail_search
from likely.search.curtains import CURTAINs, CURTAINsTransport, PairTransport, TransportMethod
from likely.search.decorrelation import Decorrelator
from likely.search.discover import Discovery, WindowTest, discover
from likely.search.methods import (
    ANODE, CATHODE, DEFAULT_FEATURES, RANODE, SIGMA, BackgroundDensityMixin, ClassifyAgainstSamples, CWoLa,
    IdealizedAD, ResonantMethod, Supervised,
)
from likely.search.sample import SearchSample, make_search_sample
from likely.search.scan import ScanError, run_scan
from likely.search.skycurtains import FlowMatchingTransport, SkyCURTAINs
from likely.search.scan_config import ScanConfig, read_scan_config
from likely.search.study import METHODS, make_method, register_method, run_study
from likely.search.windows import Window

__all__ = [
    "ABCD", "ANODE", "BackgroundDensityMixin", "CATHODE", "CURTAINs", "CURTAINsTransport", "CWoLa", "ClassifyAgainstSamples", "DEFAULT_FEATURES", "Decorrelator",
    "Discovery", "FlowMatchingTransport",
    "IdealizedAD", "METHODS", "PairTransport", "RANODE", "ResonantMethod", "SIGMA", "ScanConfig", "ScanError", "SearchSample", "SkyCURTAINs",
    "Supervised", "TransportMethod", "Window", "WindowTest", "abcd", "discover", "make_method", "make_search_sample", "read_scan_config", "register_method", "run_scan",
    "run_study", "tail_search",
]
