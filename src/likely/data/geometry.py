"""Calorimeter geometries: voxel layouts that turn energy deposits at points into voxel energies.

Coordinates (all lengths in mm): ``x`` and ``y`` are transverse to the calorimeter axis and
measured from it; ``depth`` is the distance behind the front face along the axis (the
particle direction). Two layouts share one interface (:class:`Geometry`):

* :class:`CartesianGeometry`: layers of rectangular voxels, for example the seed-000
  three-layer LAr sampling calorimeter (:func:`seed000_geometry`, Table I of
  arXiv:2312.11618 / CaloGAN), a 480 mm cube whose front face sits at z = 1 m;
* :class:`CylindricalGeometry`: layers of (alpha, r) bins around the axis, read from a
  CaloChallenge binning XML (:meth:`CylindricalGeometry.from_xml`).

Voxels are numbered layer by layer; inside a layer, row-major over (rows, columns):
(phi, eta) for the Cartesian layers, as CaloGAN's ``layer_i`` arrays (N, n_phi, n_eta),
and (alpha, r) with r running fastest for the cylindrical ones, as CaloChallenge files.

:meth:`Geometry.bin` sums deposits into voxels. Every deposit inside a voxel is kept exactly
(bin sums equal the input sums); deposits outside the acceptance (beyond the transverse
extent, in front of the front face, behind the back face, or in a layer without voxels)
are dropped, which is how lateral and longitudinal leakage arise.
"""

from __future__ import annotations

import abc
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from likely._checks import check_positive

__all__ = [
    "CartesianGeometry",
    "CylindricalGeometry",
    "Geometry",
    "seed000_geometry",
]


class Geometry(abc.ABC):
    """Common interface: layers along the axis, voxels within each layer.

    Subclasses set ``layer_shapes`` (rows, cols) per layer, ``layer_edges`` (n_layers + 1,)
    depth boundaries in mm, ``z_front`` (mm, position of the front face on the global axis)
    and implement ``_local_index(layer, x, y)`` and ``_local_centres(layer)``.
    """

    layer_shapes: tuple[tuple[int, int], ...]
    layer_edges: np.ndarray
    z_front: float

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Number of voxels in each layer."""
        return tuple(rows * cols for rows, cols in self.layer_shapes)

    @property
    def n_layers(self) -> int:
        return len(self.layer_shapes)

    @property
    def n_voxels(self) -> int:
        return int(sum(self.layer_sizes))

    @property
    def depth(self) -> float:
        """Total depth in mm (front face to back face)."""
        return float(self.layer_edges[-1])

    @property
    def layer_offsets(self) -> np.ndarray:
        """Index of each layer's first voxel, plus ``n_voxels`` at the end: (n_layers + 1,)."""
        return np.concatenate([[0], np.cumsum(self.layer_sizes)]).astype(np.int64)

    def layer_slice(self, layer: int) -> slice:
        """Columns of layer ``layer`` in an (N, n_voxels) array."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer must be in [0, {self.n_layers - 1}]; got {layer}")
        start, stop = self.layer_offsets[layer : layer + 2]
        return slice(int(start), int(stop))

    def voxel_centres(self, layer: int) -> np.ndarray:
        """(x, y) centres in mm of the voxels of ``layer`` in voxel order: (size, 2)."""
        self.layer_slice(layer)  # validates
        return self._local_centres(layer)

    def voxel_index(self, x, y, depth) -> np.ndarray:
        """Global voxel index of each point (int64, same shape), −1 outside the acceptance."""
        x, y, depth = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, y, depth)))
        shape = x.shape
        x, y, depth = x.ravel(), y.ravel(), depth.ravel()
        layer = np.searchsorted(self.layer_edges, depth, side="right") - 1
        layer[(depth < 0) | (depth >= self.depth)] = -1
        index = np.full(x.shape, -1, dtype=np.int64)
        offsets = self.layer_offsets
        for k in range(self.n_layers):  # a loop over layers, not over points
            mask = layer == k
            if not mask.any() or self.layer_sizes[k] == 0:
                continue
            local = self._local_index(k, x[mask], y[mask])
            index[mask] = np.where(local >= 0, local + offsets[k], -1)
        return index.reshape(shape)

    def bin(self, x, y, depth, energy, shower=None, n_showers: int | None = None) -> np.ndarray:
        """Sum point deposits into voxels.

        Parameters
        ----------
        x, y, depth : array-like (S,)
            Deposit positions in mm (transverse from the axis; depth behind the front face).
        energy : array-like (S,)
            Deposited energies (any unit; the result has the same unit).
        shower : array-like of int (S,), optional
            Which shower each deposit belongs to, in [0, n_showers); all 0 if omitted.
        n_showers : int, optional
            Number of showers (rows of the result); default ``shower.max() + 1``.

        Returns
        -------
        ndarray (n_showers, n_voxels) float64. Row sums equal the summed energy of each
        shower's deposits inside the acceptance; the rest is dropped.
        """
        energy = np.asarray(energy, dtype=np.float64).ravel()
        shower = np.zeros(energy.shape, np.int64) if shower is None else np.asarray(shower).ravel()
        if shower.shape != energy.shape:
            raise ValueError(f"shower has shape {shower.shape}, energy has {energy.shape}")
        if n_showers is None:
            n_showers = int(shower.max()) + 1 if shower.size else 0
        if shower.size and (shower.min() < 0 or shower.max() >= n_showers):
            raise ValueError(f"shower indices must lie in [0, {n_showers}); got {shower.min()}..{shower.max()}")
        index = self.voxel_index(np.ravel(x), np.ravel(y), np.ravel(depth))
        if index.shape != energy.shape:
            raise ValueError(f"x, y, depth have {index.size} points, energy has {energy.size}")
        inside = index >= 0
        flat = shower[inside].astype(np.int64) * self.n_voxels + index[inside]
        sums = np.bincount(flat, weights=energy[inside], minlength=n_showers * self.n_voxels)
        return sums.reshape(n_showers, self.n_voxels)

    @property
    @abc.abstractmethod
    def extent(self) -> tuple[float, float, float, float]:
        """Transverse bounding box (x_min, x_max, y_min, y_max) in mm."""

    @abc.abstractmethod
    def _local_index(self, layer: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index within ``layer`` of each point, −1 outside it."""

    @abc.abstractmethod
    def _local_centres(self, layer: int) -> np.ndarray:
        """(x, y) voxel centres of ``layer``: (size, 2)."""

    def entry(self, origin, direction) -> tuple[np.ndarray, np.ndarray]:
        """Where straight lines enter the calorimeter's bounding box.

        ``origin`` (n, 3) in mm with the third column the global z (the front face is at
        ``z_front``), ``direction`` (n, 3) unit vectors. Returns (entry point (n, 3) in
        calorimeter coordinates (x, y, depth), hits (n,) bool); a line that starts inside
        the box enters at its origin, one that misses the box or points away has hits False.
        """
        origin = np.asarray(origin, dtype=np.float64).copy()
        direction = np.asarray(direction, dtype=np.float64)
        origin[:, 2] -= self.z_front
        x0, x1, y0, y1 = self.extent
        low = np.array([x0, y0, 0.0])
        high = np.array([x1, y1, self.depth])
        with np.errstate(divide="ignore", invalid="ignore"):
            t_low = (low - origin) / direction
            t_high = (high - origin) / direction
        t_near = np.where(direction == 0, np.where((origin >= low) & (origin <= high), -np.inf, np.inf),
                          np.minimum(t_low, t_high))
        t_far = np.where(direction == 0, np.where((origin >= low) & (origin <= high), np.inf, -np.inf),
                         np.maximum(t_low, t_high))
        t_in = np.maximum(t_near.max(axis=1), 0.0)
        t_out = t_far.min(axis=1)
        hits = t_out > t_in
        return origin + t_in[:, None] * direction, hits


def _edges(depths: Sequence[float], name: str) -> np.ndarray:
    depths = np.asarray(depths, dtype=np.float64)
    if depths.ndim != 1 or depths.size == 0 or not np.all(np.isfinite(depths)) or np.any(depths <= 0):
        raise ValueError(f"{name} must be a non-empty list of positive layer thicknesses in mm; got {depths}")
    return np.concatenate([[0.0], np.cumsum(depths)])


class CartesianGeometry(Geometry):
    """Layers of rectangular voxels centred on the axis.

    Parameters
    ----------
    shapes : sequence of (n_rows, n_cols)
        Voxels per layer along y (rows, φ in CaloGAN) and x (columns, η in CaloGAN).
    sizes : sequence of (row_size, col_size)
        Voxel size in mm along y and x.
    depths : sequence of float
        Layer thicknesses in mm, front to back.
    z_front : float
        Global z of the front face in mm.
    """

    def __init__(self, shapes, sizes, depths, z_front: float = 0.0):
        if not (len(shapes) == len(sizes) == len(depths)):
            raise ValueError(
                f"shapes, sizes and depths need one entry per layer; got {len(shapes)}, {len(sizes)}, {len(depths)}"
            )
        self.layer_shapes = tuple((int(r), int(c)) for r, c in shapes)
        self.voxel_sizes = tuple((float(a), float(b)) for a, b in sizes)
        for shape, size in zip(self.layer_shapes, self.voxel_sizes, strict=True):
            if min(shape) < 1 or min(size) <= 0:
                raise ValueError(f"each layer needs >= 1 voxel of positive size; got shape {shape}, size {size}")
        self.layer_edges = _edges(depths, "depths")
        self.z_front = float(z_front)

    def __repr__(self) -> str:
        return (f"CartesianGeometry(shapes={list(self.layer_shapes)}, sizes={list(self.voxel_sizes)}, "
                f"depths={np.diff(self.layer_edges).tolist()}, z_front={self.z_front:g})")

    @property
    def extent(self):
        half_x = max(c * s for (_, c), (_, s) in zip(self.layer_shapes, self.voxel_sizes, strict=True)) / 2
        half_y = max(r * s for (r, _), (s, _) in zip(self.layer_shapes, self.voxel_sizes, strict=True)) / 2
        return -half_x, half_x, -half_y, half_y

    def _local_index(self, layer, x, y):
        (rows, cols), (dy, dx) = self.layer_shapes[layer], self.voxel_sizes[layer]
        ix = np.floor(x / dx + cols / 2).astype(np.int64)
        iy = np.floor(y / dy + rows / 2).astype(np.int64)
        inside = (ix >= 0) & (ix < cols) & (iy >= 0) & (iy < rows)
        return np.where(inside, iy * cols + ix, -1)

    def _local_centres(self, layer):
        (rows, cols), (dy, dx) = self.layer_shapes[layer], self.voxel_sizes[layer]
        yc = (np.arange(rows) - rows / 2 + 0.5) * dy
        xc = (np.arange(cols) - cols / 2 + 0.5) * dx
        yy, xx = np.meshgrid(yc, xc, indexing="ij")
        return np.column_stack([xx.ravel(), yy.ravel()])


def seed000_geometry() -> CartesianGeometry:
    """The three-layer LAr sampling calorimeter of seed 000 (Table I; the CaloGAN layout).

    A 480 mm cube with its front face at z = 1 m. Layer 0: 90 mm deep, 3 (φ) × 96 (η)
    voxels of 160 × 5 mm; layer 1: 347 mm, 12 × 12 of 40 × 40 mm; layer 2: 43 mm,
    12 (φ) × 6 (η) of 40 × 80 mm. η runs along x (the beam axis), φ along y.
    """
    return CartesianGeometry(
        shapes=[(3, 96), (12, 12), (12, 6)],
        sizes=[(160.0, 5.0), (40.0, 40.0), (40.0, 80.0)],
        depths=[90.0, 347.0, 43.0],
        z_front=1000.0,
    )


class CylindricalGeometry(Geometry):
    """Layers of (alpha, r) voxels around the axis (the CaloChallenge layout).

    Parameters
    ----------
    r_edges : sequence of sequences of float
        Radial bin edges in mm per layer, starting at 0; a layer with a single edge has no voxels.
    n_alpha : sequence of int
        Number of equal angular bins per layer, alpha = atan2(y, x) in [−π, π).
    depths : sequence of float
        Layer thicknesses in mm.
    z_front : float
        Global z of the front face in mm.
    """

    def __init__(self, r_edges, n_alpha, depths, z_front: float = 0.0):
        if not (len(r_edges) == len(n_alpha) == len(depths)):
            raise ValueError(
                f"r_edges, n_alpha and depths need one entry per layer; got {len(r_edges)}, {len(n_alpha)}, {len(depths)}"
            )
        self.r_edges = tuple(np.asarray(e, dtype=np.float64) for e in r_edges)
        self.n_alpha = tuple(int(a) for a in n_alpha)
        for k, (edges, alpha) in enumerate(zip(self.r_edges, self.n_alpha, strict=True)):
            if edges.ndim != 1 or edges.size == 0 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
                raise ValueError(f"r_edges of layer {k} must start at 0 and increase; got {edges.tolist()}")
            if alpha < 1:
                raise ValueError(f"n_alpha of layer {k} must be >= 1; got {alpha}")
        self.layer_shapes = tuple(
            (a, len(e) - 1) if len(e) > 1 else (0, 0) for e, a in zip(self.r_edges, self.n_alpha, strict=True)
        )
        self.layer_edges = _edges(depths, "depths")
        self.z_front = float(z_front)

    def __repr__(self) -> str:
        return f"CylindricalGeometry(layers={self.n_layers}, n_voxels={self.n_voxels}, depth={self.depth:g} mm)"

    @classmethod
    def from_xml(cls, path: str | os.PathLike, particle: str | None = None, *,
                 depths: Sequence[float] | float | None = None, total_depth: float = 480.0,
                 z_front: float = 0.0) -> CylindricalGeometry:
        """Read a CaloChallenge binning XML (``<Bins><Bin name=... pid=...><Layer id r_edges n_bin_alpha/>``).

        ``particle`` picks the ``Bin`` by its ``name`` or ``pid`` (required when the file has
        several). The XML carries no layer depths: pass ``depths`` (mm, one per layer or one
        for all), else ``total_depth`` mm is split equally over the layers.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"binning XML {path} does not exist")
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as error:
            raise ValueError(f"{path} is not valid XML: {error}") from None
        bins = [b for b in root.iter() if b.tag == "Bin" and b.find("Layer") is not None]
        if particle is not None:
            bins = [b for b in bins if particle in (b.get("name"), b.get("pid"))]
        if len(bins) != 1:
            names = [(b.get("name"), b.get("pid")) for b in root.iter("Bin") if b.find("Layer") is not None]
            raise ValueError(
                f"{path}: expected exactly one <Bin> with layers for particle={particle!r}; found {names}"
            )
        layers = sorted(bins[0].findall("Layer"), key=lambda layer: int(layer.get("id")))
        try:
            r_edges = [[float(v) for v in layer.get("r_edges").split(",")] for layer in layers]
            n_alpha = [int(layer.get("n_bin_alpha", "1")) for layer in layers]
        except (AttributeError, ValueError) as error:
            raise ValueError(f"{path}: a <Layer> lacks a valid r_edges or n_bin_alpha ({error})") from None
        n = len(layers)
        if depths is None:
            check_positive(total_depth, "total_depth")
            depths = [total_depth / n] * n
        elif np.ndim(depths) == 0:
            depths = [float(depths)] * n
        return cls(r_edges, n_alpha, depths, z_front=z_front)

    @property
    def extent(self):
        r_max = max(float(e[-1]) for e in self.r_edges)
        return -r_max, r_max, -r_max, r_max

    def _local_index(self, layer, x, y):
        edges, n_alpha = self.r_edges[layer], self.n_alpha[layer]
        n_r = len(edges) - 1
        ir = np.searchsorted(edges, np.hypot(x, y), side="right") - 1
        alpha = np.arctan2(y, x)
        ia = np.minimum(np.floor((alpha + math.pi) / (2 * math.pi) * n_alpha).astype(np.int64), n_alpha - 1)
        return np.where((ir >= 0) & (ir < n_r), ia * n_r + ir, -1)

    def _local_centres(self, layer):
        edges, n_alpha = self.r_edges[layer], self.n_alpha[layer]
        if len(edges) < 2:
            return np.zeros((0, 2))
        rc = (edges[:-1] + edges[1:]) / 2
        if n_alpha == 1:
            rc = np.zeros_like(rc)  # a full ring's centre of gravity is the axis
        ac = -math.pi + (np.arange(n_alpha) + 0.5) * 2 * math.pi / n_alpha
        aa, rr = np.meshgrid(ac, rc, indexing="ij")
        return np.column_stack([(rr * np.cos(aa)).ravel(), (rr * np.sin(aa)).ravel()])
