"""Calorimeter showers: CaloFlow-type models and maximum-likelihood energy calibration."""

from likely.calo.caloflow import CaloFlow, paper_flow_i, paper_flow_ii

__all__ = ["CaloFlow", "paper_flow_i", "paper_flow_ii"]
