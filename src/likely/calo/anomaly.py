"""Seed 000's anomaly study: CaloFlow's likelihood vs a supervised classifier on χ → γγ showers.

Background: single-photon showers. Signal: showers of the two photons of an invisible χ
of total energy 50 GeV decaying at fixed displacements z (m from the detector centre;
the calorimeter's front face is at 1 m) for masses m_χ (GeV). Every shower is scored by

- the likelihood: ``-log p(shower | lambda E_dep)`` of a CaloFlow trained on photons
  (:class:`likely.detect.LikelihoodScorer`), and for a CaloFlow also seed 000's eq. (1),
  the same without the voxel-space Jacobian (method ``"likelihood eq. 1"``), and
- optionally supervised classifiers (seed 000 §IV C): an MLP 2 x 512 on
  (voxels / E_rec, E_rec) trained on photons vs χ showers of one mass with lifetime 1 ns
  and kinetic energy uniform in 1-100 GeV.

Performance is the significance improvement SIC = eps_S / sqrt(eps_B) as a function of the
cut; "max SIC" is its maximum over the cuts passed by at least ``min_background``
background showers (default 25, i.e. eps_B >= 25 / N_B; :func:`likely.metrics.sic_curve`).
Fixed-lifetime signals are the fixed-displacement samples mixed with seed 000's weights
w_i(m, E, τ) (:func:`likely.data.generate.showers.lifetime_weights`), applied as sample
weights (the exact mixture rather than a resampled one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from likely._checks import check_positive, check_showers
from likely.classify import default_two_sample_classifier
from likely.data.generate.showers import (
    SEED000_DISPLACEMENTS, SEED000_LIFETIMES, SEED000_MASSES, Source, lifetime_weights, simulate_showers,
)
from likely.metrics import max_sic, sic_vs_rejection
from likely.nn import batch_slices, progress_bar

__all__ = ["CHI_ENERGY", "AnomalyStudy", "run_anomaly_study", "simulate_signal_grid", "supervised_features",
           "train_supervised"]

log = logging.getLogger(__name__)

#: Total energy (GeV) of the χ in seed 000's fixed-displacement signal samples.
CHI_ENERGY = 50.0
#: The likelihood method's name in a study: -log p(shower | E_rec) in voxel space (CaloFlow.log_prob).
LIKELIHOOD = "likelihood"
#: Seed 000's eq. (1): -(log p_I + log p_II), without the voxel-space Jacobian of the layer
#: normalization, which rewards every noise-level voxel (see docs/calo-anomaly.md).
LIKELIHOOD_EQ1 = "likelihood eq. 1"
#: Showers per call of a scorer (bounds memory; the flows batch again inside).
SCORE_BATCH = 20_000

MeV = 1000.0


def simulate_signal_grid(n: int, masses: Sequence[float] = SEED000_MASSES,
                         displacements: Sequence[float] = SEED000_DISPLACEMENTS, energy: float = CHI_ENERGY,
                         geometry=None, random_state: int = 0, progress: bool = True,
                         ) -> dict[tuple[float, float], np.ndarray]:
    """``n`` χ → γγ showers (GeV, (n, n_voxels)) per (m_χ, z) with the GFLASH simulator.

    The χ has total energy ``energy`` (GeV) and decays at z (m). Point k of the grid uses
    the seed ``[random_state, k]``. Returns ``{(mass, z): showers}``.
    """
    check_positive(n, "n", integer=True)
    points = [(float(m), float(z)) for m in masses for z in displacements]
    grid = {}
    for k, (mass, z) in enumerate(progress_bar(points, desc="signal grid", enabled=progress)):
        source = Source(particle="chi", energy=energy, mass=mass, displacement=z)
        grid[mass, z] = simulate_showers(n, geometry, source, random_state=[random_state, k]).energies / MeV
    return grid


def supervised_features(showers: np.ndarray, e_rec: np.ndarray) -> np.ndarray:
    """Seed 000's classifier inputs (N, n_voxels + 1): voxels / E_rec and E_rec (GeV)."""
    e_rec = np.asarray(e_rec, dtype=np.float32)
    return np.concatenate([showers / e_rec[:, None], e_rec[:, None]], axis=1).astype(np.float32)


def train_supervised(background: Any, signal: Any, lambda_: float, classifier: Any = None,
                     random_state: int | None = 0):
    """Train ``classifier`` (default: MLP 2 x 512, 50 epochs) on photon (0) vs χ (1) showers (GeV).

    Inputs are :func:`supervised_features` with E_rec = ``lambda_`` E_dep, as for the
    likelihood; signal showers without deposited energy are dropped. Returns the fitted
    classifier.
    """
    background = check_showers(background, "background")
    signal = _deposited(signal, "signal", background.shape[1])
    showers = np.concatenate([background, signal])
    X = supervised_features(showers, lambda_ * showers.sum(axis=1))
    y = np.concatenate([np.zeros(len(background)), np.ones(len(signal))]).astype(np.int64)
    classifier = default_two_sample_classifier(random_state) if classifier is None else classifier
    return classifier.fit(X, y)


@dataclass
class AnomalyStudy:
    """Anomaly scores of background and every signal point, per method (higher = more anomalous).

    ``background[method]`` is (N_B,); ``signal[method][(mass, z)]`` is (n,). ``energy`` is
    the χ energy (GeV) used for the lifetime weights.
    """

    background: dict[str, np.ndarray]
    signal: dict[str, dict[tuple[float, float], np.ndarray]]
    energy: float = CHI_ENERGY
    min_background: int = 25
    lifetimes: tuple[float, ...] = SEED000_LIFETIMES
    masses: tuple[float, ...] = field(init=False)
    displacements: tuple[float, ...] = field(init=False)

    def __post_init__(self):
        points = next(iter(self.signal.values()))
        self.masses = tuple(sorted({m for m, _ in points}))
        self.displacements = tuple(sorted({z for _, z in points}))

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.background)

    def labelled(self, method: str, points: Sequence[tuple[float, float]], weights: Sequence[float] | None = None):
        """``(y, score, sample_weight)`` of the background and the union of signal ``points``.

        Point i's showers share a total weight ``weights[i]`` (default 1 each); background
        showers have weight 1, so eps_S is the weighted mixture's efficiency.
        """
        parts = [self.signal[method][p] for p in points]
        weights = np.ones(len(parts)) if weights is None else np.asarray(weights, dtype=np.float64)
        background = self.background[method]
        y = np.concatenate([np.zeros(len(background)), np.ones(sum(map(len, parts)))])
        score = np.concatenate([background, *parts])
        sample_weight = np.concatenate([np.ones(len(background)), *[np.full(len(p), w / len(p))
                                                                    for p, w in zip(parts, weights)]])
        return y, score, sample_weight

    def max_sic(self, method: str = LIKELIHOOD) -> np.ndarray:
        """Max SIC (len(masses), len(displacements)) per fixed-displacement point; NaN where absent."""
        table = np.full((len(self.masses), len(self.displacements)), np.nan)
        for (mass, z), _ in self.signal[method].items():
            y, score, _ = self.labelled(method, [(mass, z)])
            table[self.masses.index(mass), self.displacements.index(z)] = max_sic(
                y, score, min_background=self.min_background)
        return table

    def weights(self, mass: float, lifetime: float) -> np.ndarray:
        """Seed 000's w_i over this study's displacements for (m_χ, τ) at the χ energy."""
        return lifetime_weights(mass, self.energy, lifetime, self.displacements)

    def lifetime_curve(self, method: str, mass: float, lifetime: float) -> tuple[np.ndarray, np.ndarray]:
        """(1/eps_B, SIC) of the fixed-lifetime mixture of ``mass``'s displacement samples."""
        y, score, weight = self.lifetime_sample(method, mass, lifetime)
        return sic_vs_rejection(y, score, min_background=self.min_background, sample_weight=weight)

    def lifetime_sample(self, method: str, mass: float, lifetime: float):
        """``(y, score, sample_weight)`` of background and the (m_χ, τ) mixture."""
        missing = [z for z in self.displacements if (mass, z) not in self.signal[method]]
        if missing:
            raise ValueError(f"mass {mass} has no signal at z = {missing}: a lifetime mixture needs every z")
        points = [(mass, z) for z in self.displacements]
        return self.labelled(method, points, self.weights(mass, lifetime))

    def summary(self) -> dict[str, Any]:
        """JSON-ready results: max-SIC tables and the lifetime mixtures' max SIC per method."""
        out = {"masses": list(self.masses), "displacements": list(self.displacements),
               "lifetimes": list(self.lifetimes), "chi_energy_gev": self.energy,
               "min_background": self.min_background,
               "n_background": {m: int(len(s)) for m, s in self.background.items()},
               "n_signal": {f"{m}_{z}": int(len(s)) for (m, z), s in self.signal[self.methods[0]].items()},
               "max_sic": {}, "lifetime_max_sic": {}, "lifetime_weights": {}}
        complete = [m for m in self.masses if all((m, z) in self.signal[self.methods[0]] for z in self.displacements)]
        for mass in complete:
            out["lifetime_weights"][str(mass)] = {str(t): self.weights(mass, t).tolist() for t in self.lifetimes}
        for method in self.methods:
            out["max_sic"][method] = _nan_to_none(self.max_sic(method))
            out["lifetime_max_sic"][method] = {
                str(m): {str(t): _max(self.lifetime_curve(method, m, t)[1]) for t in self.lifetimes}
                for m in complete}
        return out


def run_anomaly_study(scorer: Any, background: Any, signals: Mapping[tuple[float, float], Any],
                      classifiers: Mapping[str, Any] | None = None, *, energy: float = CHI_ENERGY,
                      lifetimes: Sequence[float] = SEED000_LIFETIMES, min_background: int = 25,
                      progress: bool = True) -> AnomalyStudy:
    """Score held-out background showers and every signal point with the likelihood and classifiers.

    Parameters
    ----------
    scorer : LikelihoodScorer
        Fitted (``LikelihoodScorer.from_model(caloflow, lambda_)``); its lambda also gives
        the classifiers' E_rec.
    background : array (N_B, n_voxels)
        Held-out photon showers (GeV), not used in any training.
    signals : mapping (m_χ, z) -> array (n, n_voxels)
        Signal showers (GeV) per fixed-displacement point.
    classifiers : mapping name -> fitted classifier, optional
        ``predict_proba`` on :func:`supervised_features` is their anomaly score.
    energy : float
        χ energy (GeV) for the lifetime weights.
    lifetimes : sequence of float
        τ (ns) of the lifetime mixtures.
    min_background : int
        Floor on passing background showers for every SIC (see the module docstring).
    """
    check_positive(min_background, "min_background", integer=True, allow_zero=True)
    check_positive(energy, "energy")
    n_voxels = getattr(getattr(scorer, "model_", None), "n_voxels_", None)
    background = check_showers(background, "background", n_voxels=n_voxels)
    if not isinstance(signals, Mapping) or not signals:
        raise ValueError("signals is empty: give at least one (mass, z) -> showers")
    points = [(float(m), float(z)) for m, z in signals]
    arrays = [_deposited(s, f"signal (m={m}, z={z})", background.shape[1])
              for (m, z), s in zip(points, signals.values())]
    showers = np.concatenate([background, *arrays])
    scorers = [_likelihoods(scorer, showers)]
    if classifiers:
        features = supervised_features(showers, scorer.reconstruct_energy(showers))
        for name, classifier in classifiers.items():
            scorers.append(lambda rows, n=name, c=classifier: {n: c.predict_proba(features[rows])})
    scores = {name: s for fn in scorers for name, s in _batched(fn, len(showers), progress).items()}
    bounds = np.cumsum([len(background), *map(len, arrays)])
    study = AnomalyStudy(
        background={name: s[: bounds[0]] for name, s in scores.items()},
        signal={name: {p: s[a:b] for p, a, b in zip(points, bounds[:-1], bounds[1:])} for name, s in scores.items()},
        energy=float(energy), min_background=int(min_background), lifetimes=tuple(float(t) for t in lifetimes))
    log.info("scored %d background and %d signal showers (%d points) with %s", len(background),
             bounds[-1] - bounds[0], len(points), ", ".join(scores))
    return study


def _deposited(showers: Any, name: str, n_voxels: int) -> np.ndarray:
    """Validated showers without the ones that left no energy (photons that escaped unconverted)."""
    showers = check_showers(showers, name, n_voxels=n_voxels, allow_empty=True)
    kept = showers[showers.sum(axis=1) > 0]
    if not len(kept):
        raise ValueError(f"{name} has no shower with deposited energy ({len(showers)} given)")
    if len(kept) < len(showers):
        log.info("%s: dropped %d of %d showers without deposited energy", name, len(showers) - len(kept),
                 len(showers))
    return kept


def _likelihoods(scorer, showers: np.ndarray):
    """Batch scorer: the voxel-space likelihood and, for a CaloFlow, seed 000's eq. (1), from one pass."""
    names = {"voxels": LIKELIHOOD, "flows": LIKELIHOOD_EQ1}

    def both(rows):
        scores = scorer.scores(showers[rows])
        return {name: scores[space] for space, name in names.items() if space in scores}
    return both


def _batched(fn, n_rows: int, progress: bool) -> dict[str, np.ndarray]:
    """``fn(slice) -> {name: scores}`` over consecutive row batches, concatenated per name (N,) float64."""
    parts = [fn(slice(start, stop))
             for start, stop in batch_slices(n_rows, SCORE_BATCH, desc="scoring", enabled=progress)]
    return {name: np.concatenate([part[name] for part in parts]).astype(np.float64) for name in parts[0]}


def _max(values: np.ndarray) -> float | None:
    return float(values.max()) if values.size else None


def _nan_to_none(table: np.ndarray) -> list:
    return [[None if np.isnan(v) else float(v) for v in row] for row in table]
