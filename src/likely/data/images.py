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
"""

from __future__ import annotations

import numpy as np

from likely.data.particles import Particles

__all__ = ["jet_images", "pt_eta_phi"]


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
