"""Performance metrics: ROC, AUC, SIC with a floor on background statistics, rejection
at fixed signal efficiency, bands over repeated runs and bootstrap uncertainties, the
classifier two-sample test of generated vs reference samples and the separation power
of histograms."""

from .curves import (
    auc,
    max_sic,
    rejection_at_signal_efficiency,
    roc_curve,
    sic_at_background_efficiency,
    sic_curve,
    sic_vs_rejection,
)
from .histograms import common_bins, separation_power
from .two_sample import ClassifierTestResult, classifier_two_sample_test, default_two_sample_classifier
from .uncertainty import band, bootstrap

__all__ = [
    "ClassifierTestResult",
    "auc",
    "band",
    "bootstrap",
    "classifier_two_sample_test",
    "common_bins",
    "default_two_sample_classifier",
    "max_sic",
    "rejection_at_signal_efficiency",
    "roc_curve",
    "separation_power",
    "sic_at_background_efficiency",
    "sic_curve",
    "sic_vs_rejection",
]
