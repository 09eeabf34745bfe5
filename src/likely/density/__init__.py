"""Conditional density estimators with one interface: fit / log_prob / sample / save / load."""

from likely.density.base import DensityEstimator
from likely.density.flow import Flow
from likely.density.flow_matching import FlowMatching

__all__ = ["DensityEstimator", "Flow", "FlowMatching"]
