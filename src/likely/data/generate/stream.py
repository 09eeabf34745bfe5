"""A synthetic Gaia-like sky patch with a thin stellar stream (SkyCURTAINs' test case, made up).

No survey data can be downloaded here, so this stands in for a Gaia DR2 patch as
SkyCURTAINs (arXiv:2405.12131) used it: sky position, proper motions, colour and magnitude
of field stars, and a GD-1-like stream across the patch. It is a toy with the structure
that matters to the search, not a model of the Galaxy:

- **field stars** lie at distances from a thin-disk-like and a halo-like population; their
  proper motion is their tangential velocity (the Sun's reflex motion plus a dispersion)
  divided by the distance, and their magnitude the absolute magnitude of a main-sequence
  colour relation plus the distance modulus. So near stars move fast and look bright,
  distant ones move slowly and look faint, and the colour–magnitude distribution changes
  with proper motion, as the paper's sidebands show (its Fig. 6);
- **stream stars** lie at one distance along a narrow track in the sky, share one proper
  motion with a small spread, and follow an old, metal-poor isochrone-like sequence;
- both pass the survey's magnitude limit.

Columns (float32): ``phi``, ``lambda`` (sky angles of the patch, degrees), ``mu_phi``,
``mu_lambda`` (proper motions, mas/yr), ``bp_rp`` (colour G_BP - G_RP, mag), ``g`` (G
magnitude); label 1 for stream stars.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from likely._checks import check_positive
from likely.data.events import EventSet

__all__ = ["STREAM_COLUMNS", "StreamSettings", "generate_stream"]

#: the columns of the sample, in order
STREAM_COLUMNS = ("phi", "lambda", "mu_phi", "mu_lambda", "bp_rp", "g")

#: km/s per (kpc x mas/yr): v_tan = 4.74 * d * mu
KMS_PER_KPC_MAS_YR = 4.74


@dataclass(frozen=True)
class StreamSettings:
    """The sky patch, the field population and the stream. Angles in degrees, distances in kpc,
    velocities in km/s, proper motions in mas/yr, magnitudes in mag.

    Field stars: a fraction ``disk_fraction`` at distances ``~ Gamma(2, disk_scale)`` (most
    within a few kpc), colour ``N(disk_color, color_spread)``, velocity dispersion
    ``disk_dispersion``; the rest (halo) at distances log-uniform in ``halo_distance``,
    colour ``N(halo_color, color_spread)``, dispersion ``halo_dispersion``. Every field star
    moves with the Sun's reflex velocity ``reflex`` (in the (phi, lambda) directions) plus
    its dispersion; absolute magnitude ``M_G = ms_zero + ms_slope (bp_rp - 0.6) + N(0,
    ms_spread)``. Positions are uniform in the patch ``[-half_width, half_width]^2`` with a
    density gradient ``1 + gradient * lambda / half_width`` (towards the disk).

    Stream stars: at ``stream_distance`` (Gaussian spread ``stream_depth``), ``phi`` uniform
    across the patch, ``lambda = track_offset + track_curvature * phi^2 + N(0,
    track_width)``; proper motions ``N(stream_pm, stream_pm_spread)``; absolute magnitudes
    ``M_G = turnoff_mag - Exp(luminosity_scale)`` below the turn-off and above it with
    probability ``giant_fraction`` (``turnoff_mag - U(0, 4)``), colour on the sequence
    ``turnoff_color + ms_color_slope (M_G - turnoff_mag)`` (main sequence, fainter =
    redder) or ``turnoff_color + giant_color_slope (turnoff_mag - M_G)`` (giant branch),
    plus ``N(0, isochrone_width)``.

    Every star is kept only if ``bright_limit < g < faint_limit`` (Gaia's G < 20.2 as in
    the paper's sample; bright stars are cut too).
    """

    half_width: float = 5.0
    gradient: float = 0.3
    disk_fraction: float = 0.7
    disk_scale: float = 0.8
    halo_distance: tuple[float, float] = (2.0, 30.0)
    disk_color: float = 1.1
    halo_color: float = 0.85
    color_spread: float = 0.25
    disk_dispersion: float = 35.0
    halo_dispersion: float = 110.0
    reflex: tuple[float, float] = (-180.0, -90.0)
    ms_zero: float = 4.0
    ms_slope: float = 4.0
    ms_spread: float = 0.6
    stream_distance: float = 8.0
    stream_depth: float = 0.2
    track_offset: float = 0.5
    track_curvature: float = 0.02
    track_width: float = 0.2
    stream_pm: tuple[float, float] = (-12.0, -3.5)
    stream_pm_spread: float = 0.3
    turnoff_mag: float = 3.8
    turnoff_color: float = 0.62
    luminosity_scale: float = 1.5
    giant_fraction: float = 0.1
    ms_color_slope: float = 0.17
    giant_color_slope: float = 0.12
    isochrone_width: float = 0.03
    bright_limit: float = 10.0
    faint_limit: float = 20.2

    def to_dict(self) -> dict:
        return asdict(self)


def generate_stream(n_field: int, n_stream: int, settings: StreamSettings | None = None, *,
                    random_state: int | None = None) -> EventSet:
    """``n_field`` field stars and ``n_stream`` stream stars (label 1) of a sky patch, shuffled.

    Counts are of stars that pass the magnitude limits. Columns: :data:`STREAM_COLUMNS`.
    """
    check_positive(n_field, "n_field", integer=True)
    check_positive(n_stream, "n_stream", integer=True, allow_zero=True)
    settings = settings or StreamSettings()
    rng = np.random.default_rng(random_state)
    field = _kept(lambda n: _field_stars(n, settings, rng), n_field, settings)
    stream = _kept(lambda n: _stream_stars(n, settings, rng), n_stream, settings)
    columns = {name: np.concatenate([field[name], stream[name]]) for name in STREAM_COLUMNS}
    label = np.concatenate([np.zeros(n_field, np.int8), np.ones(n_stream, np.int8)])
    return EventSet(columns, label=label).shuffle(rng)


def _kept(draw, n: int, settings: StreamSettings) -> dict[str, np.ndarray]:
    """``n`` stars from ``draw`` that pass the magnitude limits (drawn in rounds)."""
    parts, kept = [], 0
    while kept < n:
        stars = draw(max(2 * (n - kept), 1000))
        ok = (stars["g"] > settings.bright_limit) & (stars["g"] < settings.faint_limit)
        parts.append({name: values[ok] for name, values in stars.items()})
        kept += int(ok.sum())
    return {name: np.concatenate([p[name] for p in parts])[:n] for name in STREAM_COLUMNS}


def _field_stars(n: int, s: StreamSettings, rng: np.random.Generator) -> dict[str, np.ndarray]:
    disk = rng.random(n) < s.disk_fraction
    low, high = np.log(s.halo_distance)
    distance = np.where(disk, rng.gamma(2.0, s.disk_scale, n), np.exp(rng.uniform(low, high, n)))
    distance = np.maximum(distance, 0.05)
    color = rng.normal(np.where(disk, s.disk_color, s.halo_color), s.color_spread)
    absolute = s.ms_zero + s.ms_slope * (color - 0.6) + rng.normal(0.0, s.ms_spread, n)
    dispersion = np.where(disk, s.disk_dispersion, s.halo_dispersion)[:, None]
    velocity = np.asarray(s.reflex) + dispersion * rng.normal(size=(n, 2))
    pm = velocity / (KMS_PER_KPC_MAS_YR * distance[:, None])
    phi = rng.uniform(-s.half_width, s.half_width, n)
    lam = _with_gradient(n, s, rng)
    return _columns(phi, lam, pm, color, absolute, distance)


def _with_gradient(n: int, s: StreamSettings, rng: np.random.Generator) -> np.ndarray:
    """``lambda`` with density ``1 + gradient * u`` on ``u = lambda / half_width`` in [-1, 1] (inverse CDF)."""
    g, q = s.gradient, rng.random(n)
    if g == 0:
        return s.half_width * (2 * q - 1)
    u = (-1 + np.sqrt((1 - g) ** 2 + 4 * g * q)) / g  # solves (u + 1) + g (u^2 - 1) / 2 = 2 q
    return s.half_width * u


def _stream_stars(n: int, s: StreamSettings, rng: np.random.Generator) -> dict[str, np.ndarray]:
    phi = rng.uniform(-s.half_width, s.half_width, n)
    lam = s.track_offset + s.track_curvature * phi**2 + rng.normal(0.0, s.track_width, n)
    distance = rng.normal(s.stream_distance, s.stream_depth, n)
    pm = np.asarray(s.stream_pm) + s.stream_pm_spread * rng.normal(size=(n, 2))
    giant = rng.random(n) < s.giant_fraction
    absolute = np.where(giant, s.turnoff_mag - rng.uniform(0.0, 4.0, n),
                        s.turnoff_mag + rng.exponential(s.luminosity_scale, n))
    offset = absolute - s.turnoff_mag
    color = s.turnoff_color + np.where(giant, -s.giant_color_slope * offset, s.ms_color_slope * offset)
    color = color + rng.normal(0.0, s.isochrone_width, n)
    return _columns(phi, lam, pm, color, absolute, distance)


def _columns(phi, lam, pm, color, absolute, distance) -> dict[str, np.ndarray]:
    g = absolute + 5 * np.log10(distance) + 10  # distance modulus of d kpc
    return {"phi": phi, "lambda": lam, "mu_phi": pm[:, 0], "mu_lambda": pm[:, 1], "bp_rp": color, "g": g}
