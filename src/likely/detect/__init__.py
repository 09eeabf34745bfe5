"""One-class / unsupervised anomaly detectors: one contract (:class:`Detector`) — ``fit`` on
the reference class, ``score`` (higher = more anomalous), explicit thresholds — and one
shared test suite (:func:`check_detector`) run over every registered detector."""

from likely.detect.base import DETECTORS, OUT_OF_RANGE, ConditionRange, Detector, resolve_quantile
from likely.detect.checks import check_detector
from likely.detect.flux_mutability import FluxMutability
from likely.detect.likelihood import LikelihoodScorer
from likely.detect.reconstruction import ReconstructionDetector
from likely.detect.representation import RepresentationDetector, anomclr_autoencoder, darkclr_nae

__all__ = [
    "DETECTORS",
    "OUT_OF_RANGE",
    "ConditionRange",
    "Detector",
    "FluxMutability",
    "LikelihoodScorer",
    "ReconstructionDetector",
    "RepresentationDetector",
    "anomclr_autoencoder",
    "check_detector",
    "darkclr_nae",
    "resolve_quantile",
]
