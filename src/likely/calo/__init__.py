"""Calorimeter showers: geometry, CaloFlow-type models, high-level features, evaluation."""

from likely.calo.evaluate import compare_high_level, high_level_features

__all__ = ["compare_high_level", "high_level_features"]
