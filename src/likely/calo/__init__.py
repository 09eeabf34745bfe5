"""Calorimeter showers: CaloFlow-type models and maximum-likelihood energy calibration."""

from likely.calo.calibration import EnergyRegressor, bias_resolution, maximize_batched, maximum_likelihood_energy
from likely.calo.caloflow import CaloFlow, paper_flow_i, paper_flow_ii

__all__ = [
    "CaloFlow",
    "EnergyRegressor",
    "bias_resolution",
    "maximize_batched",
    "maximum_likelihood_energy",
    "paper_flow_i",
    "paper_flow_ii",
]
