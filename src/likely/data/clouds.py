"""Jet constituents as point clouds, and the augmentations contrastive learning uses on them.

:func:`point_clouds` gives the ``n`` hardest constituents of every jet as ``(pt, deta,
dphi)`` relative to the jet axis (the direction of the constituents' summed momentum),
padded with a mask: DarkCLR's input (seed 003 §2.4: 50 constituents, massless).

The augmentations are DarkCLR's (seed 003 §1.14, "physical" ones keep the jet's physics,
the "anomaly" one makes it unlike itself) and AnomalyCLR's smearings (§1.13), each a
vectorized function of a cloud and a NumPy random generator that returns a new cloud:

- :func:`rotate`: every jet rotated in (Δη, Δφ) about its axis by an angle ~ U[0, 2π);
- :func:`translate`: all of a jet's constituents shifted by one random (Δη, Δφ) offset,
  each component ~ U[−d, d] with ``d`` the largest distance between two of its constituents;
- :func:`smear`: Δη, Δφ ~ N(·, ``angle / pT``) and pT ~ N(pT, √(0.052 pT² + 1.502 pT)) GeV,
  the Delphes jet resolution AnomalyCLR uses (pT in GeV; the angular scale is a parameter);
- :func:`drop_constituents`: each constituent dropped with probability ``p`` (0.5), the
  others' pT scaled so the jet's pT sum is unchanged; a jet keeps at least its hardest one.
"""

from __future__ import annotations

import numpy as np

from likely.data.images import pt_eta_phi
from likely.data.particles import Particles

__all__ = ["drop_constituents", "point_clouds", "rotate", "smear", "translate"]

CLOUD = ("pt", "deta", "dphi")


def point_clouds(jets: Particles, n: int = 50) -> Particles:
    """The ``n`` hardest constituents of each jet as ``(pt, deta, dphi)`` about the jet axis, masked.

    ``jets``: constituents with ``pt, eta, phi`` or ``E, px, py, pz`` (GeV); per-jet
    columns, labels and weights are carried over.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    pt, eta, phi = (a.astype(np.float64) for a in pt_eta_phi(jets))
    px, py, pz = (np.sum(pt * f, axis=1) for f in (np.cos(phi), np.sin(phi), np.sinh(eta)))
    axis_eta = np.arcsinh(np.divide(pz, np.hypot(px, py), out=np.zeros_like(pz), where=np.hypot(px, py) > 0))
    deta = eta - axis_eta[:, None]
    dphi = (phi - np.arctan2(py, px)[:, None] + np.pi) % (2 * np.pi) - np.pi
    cloud = Particles(np.stack([pt, deta, dphi], axis=-1), jets.mask, CLOUD, columns=jets.columns,
                      label=jets.label, weight=jets.weight)
    return cloud.sorted_by("pt").truncated(n)


def _check_cloud(cloud: Particles) -> None:
    if not isinstance(cloud, Particles) or cloud.features != CLOUD:
        raise ValueError(f"cloud must be Particles with features {CLOUD} (see point_clouds); got "
                         f"{getattr(cloud, 'features', type(cloud).__name__)}")


def _with(cloud: Particles, pt: np.ndarray, deta: np.ndarray, dphi: np.ndarray, mask: np.ndarray | None = None):
    return cloud.with_values(np.stack([pt, deta, dphi], axis=-1), cloud.mask if mask is None else mask)


def rotate(cloud: Particles, rng: np.random.Generator) -> Particles:
    """Each jet rotated in (Δη, Δφ) about its axis by its own angle ~ U[0, 2π)."""
    _check_cloud(cloud)
    angle = rng.uniform(0.0, 2 * np.pi, (len(cloud), 1))
    cos, sin = np.cos(angle), np.sin(angle)
    deta, dphi = cloud.feature("deta"), cloud.feature("dphi")
    return _with(cloud, cloud.feature("pt"), cos * deta - sin * dphi, sin * deta + cos * dphi)


def _largest_distance(cloud: Particles, chunk: int = 1024) -> np.ndarray:
    """Per jet (N,): the largest (Δη, Δφ) distance between two of its constituents.

    All pairs of a ``chunk`` of jets at a time, so memory stays at chunk × P² distances.
    """
    reach = np.zeros(len(cloud), dtype=np.float32)
    for first in range(0, len(cloud), chunk):
        points, mask = cloud.values[first:first + chunk, :, 1:], cloud.mask[first:first + chunk]
        distance = np.linalg.norm(points[:, :, None] - points[:, None, :], axis=-1)
        pairs = mask[:, :, None] & mask[:, None, :]
        reach[first:first + chunk] = np.where(pairs, distance, 0.0).max(axis=(1, 2), initial=0.0)
    return reach


def translate(cloud: Particles, rng: np.random.Generator) -> Particles:
    """Each jet's constituents shifted together by (Δη, Δφ) offsets ~ U[−d, d], d its largest pair distance."""
    _check_cloud(cloud)
    reach = _largest_distance(cloud)[:, None]
    shift = rng.uniform(-1.0, 1.0, (len(cloud), 2)) * reach
    return _with(cloud, cloud.feature("pt"), cloud.feature("deta") + shift[:, :1], cloud.feature("dphi") + shift[:, 1:])


def _smeared(rng: np.random.Generator, pt: np.ndarray, angle: float, *angles: np.ndarray):
    """pT ~ N(pT, √(0.052 pT² + 1.502 pT)) (GeV, may come out < 0) and each of ``angles`` ~ N(·, ``angle`` / pT)."""
    if not angle >= 0:
        raise ValueError(f"angle must be >= 0; got {angle!r}")
    pt = pt.astype(np.float64)
    width = np.divide(angle, pt, out=np.zeros_like(pt), where=pt > 0)
    return rng.normal(pt, np.sqrt(0.052 * pt**2 + 1.502 * pt)), [rng.normal(a, width) for a in angles]


def smear(cloud: Particles, rng: np.random.Generator, *, angle: float = 0.1) -> Particles:
    """Δη, Δφ ~ N(·, ``angle`` / pT[GeV]) and pT ~ N(pT, √(0.052 pT² + 1.502 pT)), kept > 0."""
    _check_cloud(cloud)
    pt, (deta, dphi) = _smeared(rng, cloud.feature("pt"), angle, cloud.feature("deta"), cloud.feature("dphi"))
    return _with(cloud, np.abs(pt), deta, dphi)


def drop_constituents(cloud: Particles, rng: np.random.Generator, *, p: float = 0.5) -> Particles:
    """Each constituent dropped with probability ``p``; the rest rescaled to the jet's pT sum."""
    _check_cloud(cloud)
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1); got {p!r}")
    pt = cloud.feature("pt").astype(np.float64)
    kept = cloud.mask & (rng.random(cloud.mask.shape) >= p)
    hardest = pt.argmax(axis=1)
    kept[np.arange(len(cloud)), hardest] |= cloud.mask.any(axis=1)
    scale = np.divide(pt.sum(axis=1), (pt * kept).sum(axis=1), out=np.ones(len(cloud)), where=kept.any(axis=1))
    order = np.argsort(~kept, axis=1, kind="stable")  # kept constituents first, in their order
    values = np.where(kept[:, :, None], cloud.values, 0.0)
    values[:, :, 0] *= scale[:, None]
    values = np.take_along_axis(values, order[:, :, None], axis=1)
    return cloud.with_values(values, np.take_along_axis(kept, order, axis=1))
