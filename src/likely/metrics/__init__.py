"""Performance metrics: ROC, AUC, SIC with a floor on background statistics, rejection
at fixed signal efficiency, bands over repeated runs and bootstrap uncertainties;
separation power of histograms."""

from .curves import (
    auc,
    max_sic,
    rejection_at_signal_efficiency,
    roc_curve,
    sic_at_background_efficiency,
    sic_curve,
)
from .histograms import common_bins, separation_power
from .uncertainty import band, bootstrap

__all__ = [
    "auc",
    "band",
    "bootstrap",
    "common_bins",
    "max_sic",
    "rejection_at_signal_efficiency",
    "roc_curve",
    "separation_power",
    "sic_at_background_efficiency",
    "sic_curve",
]
