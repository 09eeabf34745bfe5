"""Judging generated showers: high-level features and their separation power.

The observables follow the CaloChallenge evaluation and seed 003 (section 4.4, appendix
A.1): layer energies, E_tot/E_inc, the energy-weighted centre and width of each layer in
eta and phi, layer sparsity, the brightest voxel's share of its layer, and the
longitudinal shower depth and its width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from likely._checks import check_array, check_energies, check_positive, check_showers
from likely.classify import classifier_two_sample_test
from likely.data import EventSet
from likely.data.geometry import Geometry
from likely.data.showers import Showers
from likely.metrics.histograms import separation_power

__all__ = ["compare_high_level", "evaluate_showers", "high_level_features", "read_out", "shower_features"]


def high_level_features(
    showers: Any,
    e_inc: Any,
    layer_sizes: Sequence[int],
    eta: Any,
    phi: Any,
    threshold: float = 0.0,
) -> EventSet:
    """High-level observables of each shower, one column each.

    Parameters
    ----------
    showers : array-like (N, V)
        Voxel energies (any energy unit, the same as ``e_inc``), layers one after the
        other in the order of ``layer_sizes``.
    e_inc : array-like (N,)
        Incident energies.
    layer_sizes : sequence of int
        Voxels per layer; they sum to V.
    eta, phi : array-like (V,)
        Coordinates of each voxel's centre (e.g. mm on the front face, or the detector's
        eta and phi); centres and widths come out in these units.
    threshold : float
        A voxel counts as empty at or below this energy (sparsity).

    Returns
    -------
    EventSet with, for each layer ``l``: ``e_layer_l``, ``eta_center_l``,
    ``eta_width_l``, ``phi_center_l``, ``phi_width_l`` (NaN for an empty layer),
    ``sparsity_l`` (fraction of empty voxels), ``brightest_l`` (largest voxel / layer
    energy, NaN if empty); and ``e_ratio`` = E_tot / E_inc, ``shower_depth`` =
    sum_l l E_l / E_tot and ``shower_depth_width`` (seed 003, eq. A.1).
    """
    showers, e_inc, layers, coordinates = _checked(showers, e_inc, layer_sizes, eta, phi)
    columns: dict[str, np.ndarray] = {}
    layer_energy = np.stack([showers[:, part].sum(axis=1) for part in layers], axis=1)
    for index, part in enumerate(layers):
        voxels, energy = showers[:, part], layer_energy[:, index]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = voxels / energy[:, None]
            columns[f"e_layer_{index}"] = energy
            for name, values in coordinates.items():
                center = share @ values[part]
                spread = share @ values[part] ** 2 - center**2
                columns[f"{name}_center_{index}"] = center
                columns[f"{name}_width_{index}"] = np.sqrt(np.clip(spread, 0.0, None))
            columns[f"sparsity_{index}"] = (voxels <= threshold).mean(axis=1)
            columns[f"brightest_{index}"] = voxels.max(axis=1) / energy
    total = layer_energy.sum(axis=1)
    depth_index = np.arange(len(layers), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = layer_energy @ depth_index / total
        depth_spread = layer_energy @ depth_index**2 / total - depth**2
    columns["e_ratio"] = total / e_inc
    columns["shower_depth"] = depth
    columns["shower_depth_width"] = np.sqrt(np.clip(depth_spread, 0.0, None))
    return EventSet(columns)


def shower_features(showers: Showers, geometry: Geometry, threshold: float = 0.0) -> EventSet:
    """:func:`high_level_features` of ``showers`` on ``geometry``: eta along x, phi along y (mm).

    Energies stay in the showers' unit (MeV), so ``e_ratio`` is E_tot / E_inc as stored.
    """
    if tuple(showers.layer_sizes) != tuple(geometry.layer_sizes):
        raise ValueError(f"showers have layers {showers.layer_sizes}, the geometry {tuple(geometry.layer_sizes)}")
    centres = np.concatenate([geometry.voxel_centres(layer) for layer in range(geometry.n_layers)])
    return high_level_features(showers.energies, showers.incident_energies, geometry.layer_sizes,
                               eta=centres[:, 0], phi=centres[:, 1], threshold=threshold)


def compare_high_level(reference: EventSet, generated: EventSet, bins: int = 50) -> dict[str, float]:
    """Separation power of each shared high-level feature, generated vs reference.

    Binning per feature: ``bins`` equal-width bins between the reference's 0.1 % and
    99.9 % quantiles (robust to a generator's outliers, which then fall outside).
    """
    check_positive(bins, "bins", integer=True)
    shared = [name for name in reference.names if name in generated.names]
    if not shared:
        raise ValueError("reference and generated have no feature in common")
    result = {}
    for name in shared:
        ref, gen = reference.column(name), generated.column(name)
        ref_finite = ref[np.isfinite(ref)]
        if ref_finite.size == 0 or not np.isfinite(gen).any():
            continue  # undefined everywhere (e.g. a layer that is always empty)
        low, high = np.quantile(ref_finite, [0.001, 0.999])
        edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
        try:
            result[name] = separation_power(ref, gen, edges)
        except ValueError:  # every generated value outside the reference's range
            result[name] = 1.0
    return result


def evaluate_showers(reference: Showers, generated: Showers, geometry: Geometry, *, threshold: float = 0.0,
                     classifier: Any = None, bins: int = 50, random_state: int | None = None) -> dict:
    """Both community checks of ``generated`` against ``reference`` showers.

    ``threshold`` (MeV, like the showers) is a readout threshold applied to both samples
    first: voxels at or below it are set to 0 for every feature and test (CaloINN reads
    out above 2 keV on CaloChallenge DS1; 0 keeps every deposit).

    Returns a dict with ``separation_power`` (per high-level feature, see
    :func:`compare_high_level`) and the classifier two-sample tests
    (:func:`likely.classify.classifier_two_sample_test`): ``low_level`` on the voxel
    energies divided by E_inc plus log E_inc (the CaloChallenge's input), ``high_level`` on
    the features (undefined ones, of empty layers, set to 0). Each test gives ``auc`` and
    the 1 %, 50 % and 99 % quantiles of the generated events' weights w = C / (1 - C).
    The features themselves come back as ``features`` (reference, generated) for plots.
    """
    check_positive(threshold, "threshold", allow_zero=True)
    reference, generated = (read_out(showers, threshold) for showers in (reference, generated))
    features = [shower_features(showers, geometry) for showers in (reference, generated)]
    inputs = {
        "low_level": [np.column_stack([s.energies / s.incident_energies[:, None], np.log(s.incident_energies)])
                      for s in (reference, generated)],
        "high_level": [np.nan_to_num(f.array(), nan=0.0) for f in features],
    }
    tests = {}
    for name, (ref, gen) in inputs.items():
        result = classifier_two_sample_test(gen, ref, classifier=classifier, random_state=random_state)
        tests[name] = {"auc": result.auc,
                       "weight_quantiles": np.quantile(result.generated_weights, [0.01, 0.5, 0.99]).tolist()}
    return {"separation_power": compare_high_level(*features, bins=bins), **tests, "features": tuple(features)}


def read_out(showers: Showers, threshold: float) -> Showers:
    """``showers`` with every voxel at or below ``threshold`` (MeV) set to 0 (a new set)."""
    energies = np.where(showers.energies > threshold, showers.energies, 0.0)
    return Showers(energies, showers.incident_energies, showers.layer_sizes, showers.layer_shapes, showers.label)


def _checked(showers, e_inc, layer_sizes, eta, phi):
    """Validated float64 inputs, the layers' column slices and the coordinate arrays."""
    sizes = [int(size) for size in layer_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"layer_sizes must be positive voxel counts; got {list(layer_sizes)}")
    n_voxels = sum(sizes)
    showers = check_showers(showers, n_voxels=n_voxels, allow_empty=True).astype(np.float64)
    e_inc = check_energies(e_inc, len(showers)).astype(np.float64)
    coordinates = {"eta": check_array(eta, "eta", ndim=1, dtype=np.float64),
                   "phi": check_array(phi, "phi", ndim=1, dtype=np.float64)}
    for name, values in coordinates.items():
        if len(values) != n_voxels:
            raise ValueError(f"{name} must give the centre of each of the {n_voxels} voxels; got {len(values)}")
    bounds = np.cumsum([0, *sizes])
    return showers, e_inc, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])], coordinates
