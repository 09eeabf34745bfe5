"""Calorimeter geometries, CaloFlow-type models, shower features, evaluation and calibration."""

from likely.calo.geometry import CartesianGeometry, CylindricalGeometry, Geometry, seed000_geometry

__all__ = ["CartesianGeometry", "CylindricalGeometry", "Geometry", "seed000_geometry"]
