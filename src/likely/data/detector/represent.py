"""What a :class:`~likely.data.detector.Reconstruction` becomes: event images, ADC objects, the lepton trigger.

Event images (seed 004, digest §A1–A2) are three channels on one η–φ grid of
``ETA_PIXELS`` × ``PHI_PIXELS`` pixels: η from −``ETA_EDGE`` to +``ETA_EDGE`` in steps of
``PIXEL`` = 0.0174 (ETA_EDGE = 286 × 0.0174 / 2 = 2.4882), φ from −π to π in steps of
2π/360. Pixel ``(r, c)`` covers η ∈ [−ETA_EDGE + r·PIXEL, −ETA_EDGE + (r + 1)·PIXEL) and
φ ∈ [−π + c·2π/360, −π + (c + 1)·2π/360).
"""

from __future__ import annotations

import numpy as np

from likely.data.adc import FEATURES as ADC_FEATURES
from likely.data.detector.simulate import Reconstruction
from likely.data.event_images import EventImages
from likely.data.particles import Particles

__all__ = ["ADC_IDS", "ETA_EDGE", "ETA_PIXELS", "PHI_PIXELS", "PIXEL", "adc_objects", "event_images",
           "lepton_trigger"]

ETA_PIXELS, PHI_PIXELS, PIXEL = 286, 360, 0.0174
ETA_EDGE = ETA_PIXELS * PIXEL / 2
PHI_PIXEL = 2 * np.pi / PHI_PIXELS
#: the ADC2021 classes of the objects (photons, 5, are not an ADC class: adc_layout leaves them out)
ADC_IDS = {"met": 1, "electrons": 2, "muons": 3, "jets": 4, "photons": 5}


def _check_reco(reco) -> None:
    if not isinstance(reco, Reconstruction):
        raise TypeError(f"reco must be a Reconstruction; got {type(reco).__name__}")


def _flat(sets: Particles, *names: str) -> tuple[np.ndarray, ...]:
    """The event index and the features ``names`` of every real particle of ``sets``."""
    flat = sets.values[sets.mask].astype(np.float64)
    return (np.nonzero(sets.mask)[0], *(flat[:, sets.features.index(name)] for name in names))


def _pixels(eta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image row and column of each (η, φ); rows outside the image fall outside [0, ETA_PIXELS)."""
    row = np.floor((eta + ETA_EDGE) / PIXEL).astype(np.int64)
    column = np.floor((phi + np.pi) / PHI_PIXEL).astype(np.int64) % PHI_PIXELS
    return row, column


def _whole(value: float, name: str) -> int:
    """``value`` as a whole number of pixels; a cell that is not one cannot be drawn on the image grid."""
    k = round(value)
    if k < 1 or abs(value - k) > 1e-6:
        raise ValueError(f"{name} must make cells of a whole number of image pixels ({PIXEL} in eta, "
                         f"2pi/{PHI_PIXELS} in phi); its cells are {value:.6g} pixels")
    return k


def _spread(cells: Particles, calo, name: str) -> tuple[np.ndarray, ...]:
    """Each cell of ``cells`` spread evenly over the image pixels it covers: (event, row, column, energy)."""
    k_eta = _whole(calo.eta_cell / PIXEL, f"card.{name}.eta_cell")
    k_phi = _whole(PHI_PIXELS / calo.phi_cells, f"card.{name}.phi_cells")
    event, eta, phi, energy = _flat(cells, "eta", "phi", "E")
    # the cell's lower edges, from its centre (half a cell from them, so the floor is safe)
    first_row = np.floor(eta / calo.eta_cell).astype(np.int64) * k_eta + ETA_PIXELS // 2
    first_column = np.floor((phi + np.pi) / calo.phi_cell).astype(np.int64) % calo.phi_cells * k_phi
    d_row, d_column = (d.ravel() for d in np.meshgrid(np.arange(k_eta), np.arange(k_phi), indexing="ij"))
    rows = (first_row[:, None] + d_row).ravel()
    columns = (first_column[:, None] + d_column).ravel()
    return (np.repeat(event, k_eta * k_phi), rows, columns, np.repeat(energy / (k_eta * k_phi), k_eta * k_phi))


def event_images(reco: Reconstruction, *, pool: int = 1) -> EventImages:
    """Seed-004 event images of ``reco``: (N, 3, 286, 360) float32, or k × k sums with ``pool=k``.

    Channels (``CHANNELS``): ``trk`` the pT (GeV) of the tracks not from pile-up, ``ecal``
    and ``hcal`` the cell energies (GeV), each cell spread evenly over the pixels it covers
    (an HCAL cell of 0.087 × 5°: 5 × 5 pixels of 1/25 of its energy). Objects outside
    |η| < 2.4882 fall outside the image. With ``pool=k`` the pixels are summed in k × k
    blocks as :func:`likely.data.event_images.sum_pool` sums them (edges padded as
    TensorFlow's ``'SAME'``), binned directly at the coarse size (k = 5: 58 × 72).
    """
    _check_reco(reco)
    if isinstance(pool, bool) or not isinstance(pool, int | np.integer) or pool < 1:
        raise ValueError(f"pool must be a positive integer; got {pool!r}")
    card = reco.card
    track_event, pt, eta, phi, pileup = _flat(reco.tracks, "pt", "eta", "phi", "is_pileup")
    own = pileup == 0
    parts = [(track_event[own], *_pixels(eta[own], phi[own]), pt[own]),
             _spread(reco.ecal, card.ecal, "ecal"), _spread(reco.hcal, card.hcal, "hcal")]
    return EventImages(_binned(parts, len(reco), pool), reco.n_tracks.copy(), reco.label)


def _binned(parts, n: int, k: int) -> np.ndarray:
    """Sum the (event, row, column, value) entries of each channel into (n, channels, ⌈286/k⌉, ⌈360/k⌉)."""
    pad = [-size % k // 2 for size in (ETA_PIXELS, PHI_PIXELS)]
    height, width = (-(-size // k) for size in (ETA_PIXELS, PHI_PIXELS))
    keys, values = [], []
    for channel, (event, row, column, value) in enumerate(parts):
        inside = (row >= 0) & (row < ETA_PIXELS)
        r, c = (row[inside] + pad[0]) // k, (column[inside] + pad[1]) // k
        keys.append(((event[inside] * len(parts) + channel) * height + r) * width + c)
        values.append(value[inside])
    cells, where = np.unique(np.concatenate(keys), return_inverse=True)
    images = np.zeros(n * len(parts) * height * width, dtype=np.float32)
    images[cells] = np.bincount(where.ravel(), weights=np.concatenate(values), minlength=len(cells))
    return images.reshape(n, len(parts), height, width)


def adc_objects(reco: Reconstruction, *, photons: bool = False) -> Particles:
    """The objects of each event with features ``(pt, eta, phi, id)`` in the ADC2021 classes (``ADC_IDS``).

    The missing pT (class 1, η = 0) comes first, then electrons (2), muons (3) and jets (4),
    each hardest first; ``photons=True`` adds the photons as class 5, which is not an ADC class
    (:func:`likely.data.adc_layout` leaves it out). Labels and columns are the truth's.
    """
    _check_reco(reco)
    n = len(reco)
    parts = [(np.arange(n), reco.met, np.zeros(n), reco.met_phi, ADC_IDS["met"])]
    kinds = ("electrons", "muons", "jets") + (("photons",) if photons else ())
    parts += [(*_flat(getattr(reco, kind), "pt", "eta", "phi"), ADC_IDS[kind]) for kind in kinds]
    event = np.concatenate([part[0] for part in parts])
    flat = np.concatenate([np.stack([pt, eta, phi, np.full(len(pt), code)], axis=1) for _, pt, eta, phi, code in parts])
    order = np.argsort(event, kind="stable")
    return Particles.from_counts(flat[order], np.bincount(event, minlength=n), ADC_FEATURES, label=reco.label,
                                 columns=reco.columns)


def lepton_trigger(reco: Reconstruction, pt_min: float = 23.0) -> np.ndarray:
    """(N,) bool: events with at least one electron or muon above ``pt_min`` GeV (the ADC2021 trigger)."""
    _check_reco(reco)
    if isinstance(pt_min, bool) or not isinstance(pt_min, int | float) or not pt_min >= 0:
        raise ValueError(f"pt_min must be a number >= 0 (GeV); got {pt_min!r}")
    passed = [((sets.feature("pt") > pt_min) & sets.mask).any(axis=1) for sets in (reco.electrons, reco.muons)]
    return passed[0] | passed[1]
