"""Performance metrics: ROC, AUC, SIC with a floor on background statistics, rejection
at fixed signal efficiency, bands over repeated runs and bootstrap uncertainties, the
result of a classifier two-sample test (the test itself, which trains a classifier, is
:func:`likely.classify.classifier_two_sample_test`) and the separation power of
histograms, the energy distance and the MMD of two samples. NumPy only: importing this package does not import torch."""

from .curves import (
    auc,
    background_efficiency_at_signal_efficiency,
    max_sic,
    rejection_at_signal_efficiency,
    roc_curve,
    sic_at_background_efficiency,
    sic_curve,
    sic_vs_rejection,
)
from .distances import energy_distance, mmd
from .histograms import common_bins, separation_power
from .two_sample import ClassifierTestResult
from .uncertainty import band, bootstrap

__all__ = [
    "ClassifierTestResult",
    "auc",
    "background_efficiency_at_signal_efficiency",
    "band",
    "bootstrap",
    "common_bins",
    "energy_distance",
    "max_sic",
    "mmd",
    "rejection_at_signal_efficiency",
    "roc_curve",
    "separation_power",
    "sic_at_background_efficiency",
    "sic_curve",
    "sic_vs_rejection",
]
