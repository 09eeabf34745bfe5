"""Resonant anomaly detection: windows, signal injection, the method family, studies, scans and
discovery on unlabelled data; the ABCD tail search; the latent map of known models an excess is compared with."""

from likely.search.abcd import ABCD, abcd, abcd_at, tail_search
from likely.search.curtains import CURTAINs, CURTAINsTransport, PairTransport, TransportMethod
from likely.search.decorrelation import Decorrelator
from likely.search.discover import Discovery, WindowTest, discover
from likely.search.latent_map import LatentMap, Resemblance
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
    "IdealizedAD", "LatentMap", "METHODS", "PairTransport", "RANODE", "ResonantMethod", "Resemblance", "SIGMA", "ScanConfig", "ScanError", "SearchSample", "SkyCURTAINs",
    "Supervised", "TransportMethod", "Window", "WindowTest", "abcd", "abcd_at", "discover", "make_method", "make_search_sample", "read_scan_config", "register_method", "run_scan",
    "run_study", "tail_search",
]
