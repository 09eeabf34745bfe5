"""Calorimeter showers: geometries, CaloFlow-type models, maximum-likelihood energy
calibration, high-level features and their evaluation."""

from likely.calo.anomaly import AnomalyStudy, run_anomaly_study, simulate_signal_grid, supervised_features, train_supervised
from likely.calo.calibration import EnergyRegressor, bias_resolution, maximize_batched, maximum_likelihood_energy
from likely.calo.caloflow import CaloFlow, paper_flow_i, paper_flow_ii
from likely.calo.evaluate import compare_high_level, evaluate_showers, high_level_features, shower_features
from likely.data.geometry import CartesianGeometry, CylindricalGeometry, Geometry, seed000_geometry

__all__ = [
    "AnomalyStudy",
    "CaloFlow",
    "CartesianGeometry",
    "CylindricalGeometry",
    "EnergyRegressor",
    "Geometry",
    "bias_resolution",
    "compare_high_level",
    "evaluate_showers",
    "high_level_features",
    "maximize_batched",
    "maximum_likelihood_energy",
    "paper_flow_i",
    "paper_flow_ii",
    "run_anomaly_study",
    "seed000_geometry",
    "shower_features",
    "simulate_signal_grid",
    "supervised_features",
    "train_supervised",
]
