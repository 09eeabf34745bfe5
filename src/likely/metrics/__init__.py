"""Performance metrics: ROC, AUC, SIC with a floor on background statistics, rejection
at fixed signal efficiency, bands over repeated runs and bootstrap uncertainties."""

from .curves import (
    auc,
    max_sic,
    rejection_at_signal_efficiency,
    roc_curve,
    sic_at_background_efficiency,
    sic_curve,
)
from .uncertainty import band, bootstrap

__all__ = [
    "auc",
    "band",
    "bootstrap",
    "max_sic",
    "rejection_at_signal_efficiency",
    "roc_curve",
    "sic_at_background_efficiency",
    "sic_curve",
]
