"""Jet images as in the top-tagging studies, from jet constituents.

The preprocessing of "QCD or What?" (Heimel et al., arXiv:1808.08979) and the
top-tagging comparison (Kasieczka et al., arXiv:1902.09914), used by the normalized
autoencoder of seed 003 (§2.3 of its digest), one vectorized step at a time for all jets:

1. **Centre** every constituent on the jet's pT-weighted centroid in (η, φ) (φ taken
   relative to the hardest constituent first, so jets across φ = ±π are not split).
2. **Rotate** about the centroid so the principal axis of the pT-weighted (Δη, Δφ)
   distribution points to 12 o'clock (along +Δφ, the image's vertical axis).
3. **Flip** each axis so the half of the image with more pT is on the left (Δη < 0) and
   at the bottom (Δφ < 0): the highest-pT region lies lower left.
4. **Pixelate**: ``pixels × pixels`` pixels of ``pixel_size = (Δη, Δφ)`` (default 40 × 40 of
   0.029 × 0.035) centred on the centroid; a pixel's intensity is the pT sum of its
   constituents (constituents outside the image are dropped).
5. **Normalize** by the pT sum of the image (so each image sums to 1), optionally
   **smooth** with a Gaussian of ``sigma`` pixels (seed 003: σ_G = 1) and **remap**
   intensities ``x → x**power`` (seed 003's pT → pTⁿ, n = 0.2).

Image arrays are ``(N, pixels, pixels)`` float32 indexed ``[jet, η bin, φ bin]``, η
increasing along axis 1 and φ along axis 2.

:func:`write_jet_images` (or :func:`append_jet_images`, batch by batch) stores
:class:`JetImages` as HDF5 and :func:`read_jet_images` reads them back::

    images   (N, H, W) float32, gzip      label   (N,), optional
    attrs    format = "likely.jet-images", version = 1, and the options of jet_images that
             made the images (pixels, pixel_size, normalize; sigma, power where set)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from likely._io import atomic_path, check_overwrite, names_the_file, open_hdf5
from likely.data.particles import Particles

__all__ = ["JetImages", "append_jet_images", "jet_images", "pt_eta_phi", "read_jet_images", "write_jet_images"]

FORMAT, VERSION = "likely.jet-images", 1
#: the keywords of :func:`jet_images` a file records
OPTIONS = ("pixels", "pixel_size", "normalize", "sigma", "power")
#: float32 values per HDF5 chunk (256 KiB)
CHUNK_VALUES = 2**16


def pt_eta_phi(particles: Particles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constituent pT, η, φ (N, P) each, from ``pt, eta, phi`` features or ``E, px, py, pz``.

    Padding has pT = 0 (and η = φ = 0).
    """
    names = set(particles.features)
    if {"pt", "eta", "phi"} <= names:
        return particles.feature("pt"), particles.feature("eta"), particles.feature("phi")
    if {"px", "py", "pz"} <= names:
        px, py, pz = (particles.feature(name).astype(np.float64) for name in ("px", "py", "pz"))
        pt = np.hypot(px, py)
        eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
        return pt.astype(np.float32), eta.astype(np.float32), np.arctan2(py, px).astype(np.float32)
    raise ValueError(f"particles need features pt, eta, phi or px, py, pz for images; got {list(particles.features)}")


def _wrap(phi: np.ndarray) -> np.ndarray:
    return (phi + np.pi) % (2 * np.pi) - np.pi


def _weighted_mean(values: np.ndarray, weight: np.ndarray, total: np.ndarray) -> np.ndarray:
    return (values * weight).sum(axis=1) / total


def aligned_coordinates(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1–3: every constituent's (Δη, Δφ) (N, P) after centring, rotation and flips.

    ``pt``, ``eta``, ``phi``: (N, P) float, padding with pT = 0.
    """
    pt = pt.astype(np.float64)
    total = np.maximum(pt.sum(axis=1), np.finfo(np.float64).tiny)
    hardest = np.take_along_axis(phi, pt.argmax(axis=1)[:, None], axis=1)
    dphi = _wrap(phi - hardest).astype(np.float64)
    deta = eta.astype(np.float64)
    deta = deta - _weighted_mean(deta, pt, total)[:, None]
    dphi = dphi - _weighted_mean(dphi, pt, total)[:, None]
    # principal axis of the pT-weighted second moments, turned onto +Δφ
    s_ee, s_pp, s_ep = (_weighted_mean(a * b, pt, total) for a, b in ((deta, deta), (dphi, dphi), (deta, dphi)))
    axis = 0.5 * np.arctan2(2 * s_ep, s_ee - s_pp)  # angle of the major axis from +Δη
    turn = (np.pi / 2 - axis)[:, None]
    cos, sin = np.cos(turn), np.sin(turn)
    deta, dphi = cos * deta - sin * dphi, sin * deta + cos * dphi
    return _harder_half_negative(pt, deta), _harder_half_negative(pt, dphi)


def _harder_half_negative(pt: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` (N, P) mirrored where the constituents at ``x > 0`` carry more pT than those at ``x < 0``."""
    mirror = (pt * (x > 0)).sum(axis=1, keepdims=True) > (pt * (x < 0)).sum(axis=1, keepdims=True)
    return np.where(mirror, -x, x)


def jet_images(particles: Particles, *, pixels: int = 40, pixel_size: tuple[float, float] = (0.029, 0.035),
               normalize: bool = True, sigma: float | None = None, power: float | None = None) -> np.ndarray:
    """Preprocessed jet images (N, pixels, pixels) float32 of the constituents (module docstring).

    Parameters
    ----------
    particles : Particles
        Jet constituents with features ``pt, eta, phi`` or ``E, px, py, pz`` (GeV).
    pixels : int
        Pixels per side (default 40).
    pixel_size : (float, float)
        Pixel width in η and in φ (default 0.029, 0.035).
    normalize : bool
        Divide each image by its pT sum (default); otherwise intensities are in GeV and an
        image sums to the pT of the constituents inside it.
    sigma : float or None
        Gaussian smoothing width in pixels (``scipy.ndimage.gaussian_filter``; none by default).
    power : float or None
        Remap intensities ``x → x**power`` after normalizing and smoothing (none by default).
    """
    if not isinstance(particles, Particles):
        raise TypeError(f"particles must be a Particles; got {type(particles).__name__}")
    if not isinstance(pixels, (int, np.integer)) or pixels < 1:
        raise ValueError(f"pixels must be a positive integer; got {pixels!r}")
    size = np.asarray(pixel_size, dtype=np.float64)
    if size.shape != (2,) or not np.all(size > 0):
        raise ValueError(f"pixel_size must be two positive widths (eta, phi); got {pixel_size!r}")
    if sigma is not None and not sigma > 0:
        raise ValueError(f"sigma must be > 0 pixels or None; got {sigma!r}")
    if power is not None and not power > 0:
        raise ValueError(f"power must be > 0 or None; got {power!r}")
    pt, eta, phi = pt_eta_phi(particles)
    deta, dphi = aligned_coordinates(pt, eta, phi)
    i = np.floor(deta / size[0] + pixels / 2).astype(np.int64)
    j = np.floor(dphi / size[1] + pixels / 2).astype(np.int64)
    inside = (i >= 0) & (i < pixels) & (j >= 0) & (j < pixels) & (pt > 0)
    jet = np.broadcast_to(np.arange(len(pt))[:, None], pt.shape)
    flat = (jet * pixels + i) * pixels + j
    images = np.bincount(flat[inside], weights=pt[inside].astype(np.float64), minlength=len(pt) * pixels ** 2)
    images = images.reshape(len(pt), pixels, pixels)
    if normalize:
        images /= np.maximum(images.sum(axis=(1, 2), keepdims=True), np.finfo(np.float64).tiny)
    if sigma is not None:
        from scipy.ndimage import gaussian_filter

        images = gaussian_filter(images, sigma=(0, sigma, sigma), mode="constant")
    if power is not None:
        images = images ** power
    return images.astype(np.float32)


@dataclass(frozen=True)
class JetImages:
    """Jet images ``images`` (N, H, W) float32, optional ``label`` (N,), and the ``options`` of
    :func:`jet_images` that made them (keys in ``OPTIONS``; None where not set)."""

    images: np.ndarray
    label: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.ndim != 3:
            raise ValueError(f"images must have shape (N, H, W); got {self.images.shape}")
        if self.label is not None and self.label.shape != (len(self.images),):
            raise ValueError(f"label must have shape ({len(self.images)},); got {self.label.shape}")
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise ValueError(f"options must be keywords of jet_images {OPTIONS}; got {unknown}")

    def __len__(self) -> int:
        return len(self.images)


def write_jet_images(path: str | os.PathLike, images: JetImages, *, overwrite: bool = False) -> Path:
    """Write ``images`` (layout in the module docstring) atomically; returns ``path``.

    An existing file raises ``FileExistsError`` unless ``overwrite``; a failed write leaves it intact.
    """
    import h5py

    path = check_overwrite(path, overwrite)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        append_jet_images(file, images)
    return path


def append_jet_images(file, images: JetImages) -> None:
    """Add ``images`` to the open HDF5 ``file`` (h5py, writable), creating the layout on the first call.

    Every batch must have the same image shape and options, and labels in all or none.
    """
    if not isinstance(images, JetImages):
        raise TypeError(f"images must be JetImages; got {type(images).__name__}")
    arrays = {"images": images.images.astype(np.float32)}
    if images.label is not None:
        arrays["label"] = images.label
    options = {name: value for name, value in images.options.items() if value is not None}
    if "images" not in file:
        file.attrs.update(format=FORMAT, version=VERSION, **options)
        rows = max(1, CHUNK_VALUES // arrays["images"][0].size)  # chunks of about 256 KiB
        for name, array in arrays.items():
            file.create_dataset(name, data=array, maxshape=(None, *array.shape[1:]),
                                chunks=(rows if array.ndim > 1 else CHUNK_VALUES, *array.shape[1:]), compression="gzip")
        return
    if set(arrays) != set(file) or file["images"].shape[1:] != arrays["images"].shape[1:] or \
            _options(file.attrs) != _options(options):
        raise ValueError(f"images of shape {arrays['images'].shape[1:]} with {sorted(arrays)} and options "
                         f"{_options(options)} cannot be added to a file of shape {file['images'].shape[1:]} with "
                         f"{sorted(file)} and options {_options(file.attrs)}")
    for name, array in arrays.items():
        dataset = file[name]
        dataset.resize(len(dataset) + len(array), axis=0)
        dataset[len(dataset) - len(array):] = array


def _options(attrs) -> dict[str, Any]:
    """The :data:`OPTIONS` recorded in ``attrs`` as plain Python values (None where absent)."""
    def plain(value):
        value = np.asarray(value)
        return tuple(value.tolist()) if value.ndim else value.item()

    return {name: plain(attrs[name]) if name in attrs else None for name in OPTIONS}


@names_the_file
def read_jet_images(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> JetImages:
    """The images ``start:stop`` of a file :func:`write_jet_images` wrote, with their labels and options."""
    rows = slice(start, stop)
    with open_hdf5(path, "likely jet-images file") as file:
        if file.attrs.get("format") != FORMAT:
            raise ValueError(f"{path} is not a likely jet-images file (its 'format' attribute is "
                             f"{file.attrs.get('format')!r}, not {FORMAT!r})")
        if int(file.attrs.get("version", -1)) > VERSION:
            raise ValueError(f"{path} has jet-images format version {file.attrs['version']}; this likely reads "
                             f"up to {VERSION}")
        label = file["label"][rows] if "label" in file else None
        return JetImages(file["images"][rows], label, _options(file.attrs))
