"""Jet tools: anti-kT clustering and N-subjettiness, vectorized over jets.

Used by the dijet generator and by the reader of the raw LHC Olympics event files, so that
both compute the features-file columns with the same code (:func:`jet_columns`).

FastJet does the clustering (its multi-event interface takes all events of a batch in one
call); everything else is NumPy over flat constituent arrays, without a Python loop over
particles or jets.

N-subjettiness (Thaler & Van Tilburg) with β = 1 and the normalized measure::

    τ_N = Σ_i pT_i · min_k ΔR(i, a_k) / (Σ_i pT_i · R0)

where the axes a_1..a_N are the exclusive-kT subjets of the jet's constituents (kT
algorithm with a very large radius, E-scheme, run back to N jets: fastjet-contrib's
``KT_Axes``) and ΔR is measured in rapidity and azimuth, as in FastJet. A jet with at most
N constituents has τ_N = 0 (each constituent is its own axis). Exclusive-kT axes are not
minimized, so τ_{N+1} ≤ τ_N holds for most jets but is not guaranteed (about 5 % of QCD
jets have τ3 > τ2).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "JET_PT_MIN", "JET_R", "cluster_jets", "exclusive_kt_axes", "first_jets", "jet_columns", "massless_momenta",
    "nsubjettiness", "phi", "rapidity",
]

#: the LHC Olympics jets: anti-kT with R = 1.0, every jet above 20 GeV
JET_R = 1.0
JET_PT_MIN = 20.0

#: FastJet's largest allowed jet radius (``JetDefinition::max_allowable_R``), used for the
#: kT reclustering that finds the N-subjettiness axes (as fastjet-contrib's ``KT_Axes``).
KT_AXES_R = 1000.0


def rapidity(px, py, pz, E) -> np.ndarray:
    """Rapidity, computed the way FastJet does (stable for massless and near-beam particles)."""
    px, py, pz, E = (np.asarray(v, dtype=np.float64) for v in (px, py, pz, E))
    pt2 = px * px + py * py
    m2 = np.maximum((E + np.abs(pz)) * (E - np.abs(pz)) - pt2, 0.0)
    e_plus_pz = E + np.abs(pz)
    with np.errstate(divide="ignore"):
        rap = 0.5 * np.log((pt2 + m2) / (e_plus_pz * e_plus_pz))
    return np.where(pz > 0, -rap, rap)


def phi(px, py) -> np.ndarray:
    """Azimuth in [0, 2π), as FastJet defines it."""
    angle = np.arctan2(np.asarray(py, dtype=np.float64), np.asarray(px, dtype=np.float64))
    return np.where(angle < 0, angle + 2 * np.pi, angle)


def _jagged(px, py, pz, E, counts):
    import awkward as ak

    flat = ak.zip({"px": px, "py": py, "pz": pz, "E": E}, depth_limit=1)
    return ak.unflatten(flat, np.asarray(counts, dtype=np.int64))


def _flat(array) -> tuple[np.ndarray, ...]:
    """(px, py, pz, E, counts) of a jagged FastJet output."""
    import awkward as ak

    counts = ak.to_numpy(ak.num(array, axis=1)).astype(np.int64)
    flat = ak.flatten(array)
    return (*(ak.to_numpy(flat[f]).astype(np.float64) for f in ("px", "py", "pz", "E")), counts)


def cluster_jets(px, py, pz, E, counts, *, R: float = 1.0, pt_min: float = 20.0):
    """Anti-kT jets of many events at once, sorted by pT (descending) within each event.

    Parameters
    ----------
    px, py, pz, E : array (n_particles,)
        The particles of all events, event after event.
    counts : array of int (n_events,)
        Particles per event.

    Returns
    -------
    jets : dict of arrays (n_jets,)
        ``px py pz E pt`` of all jets, event after event, hardest first.
    jet_counts : array (n_events,)
        Jets per event.
    constituents : array (n_constituents,), offsets : array (n_jets + 1,)
        Indices (into the flat particle arrays) of each jet's constituents:
        jet j owns ``constituents[offsets[j]:offsets[j + 1]]``.
    """
    import awkward as ak
    import fastjet

    counts = np.asarray(counts, dtype=np.int64)
    sequence = fastjet.ClusterSequence(
        _jagged(px, py, pz, E, counts), fastjet.JetDefinition(fastjet.antikt_algorithm, R)
    )
    jx, jy, jz, je, jet_counts = _flat(sequence.inclusive_jets(min_pt=pt_min))
    index = sequence.constituent_index(min_pt=pt_min)  # event -> jet -> particle index
    n_per_jet = ak.to_numpy(ak.flatten(ak.num(index, axis=2))).astype(np.int64)
    local = ak.to_numpy(ak.flatten(index, axis=None)).astype(np.int64)
    if len(n_per_jet) != len(jx) or not np.array_equal(
        ak.to_numpy(ak.num(index, axis=1)), jet_counts
    ):
        raise RuntimeError("FastJet returned jets and constituents that do not match")

    # constituent indices are per event: shift them to the flat particle arrays
    event_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    jet_event = np.repeat(np.arange(len(counts)), jet_counts)
    local += np.repeat(event_start[jet_event], n_per_jet)

    # sort jets by pT within each event (stable, so equal pTs keep FastJet's order)
    pt = np.hypot(jx, jy)
    order = np.lexsort((-pt, jet_event))
    offsets = np.concatenate([[0], np.cumsum(n_per_jet)])
    starts, sizes = offsets[:-1][order], n_per_jet[order]
    constituents = local[_ranges(starts, sizes)]
    jets = {"px": jx[order], "py": jy[order], "pz": jz[order], "E": je[order], "pt": pt[order]}
    return jets, jet_counts, constituents, np.concatenate([[0], np.cumsum(sizes)])


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start, start + size)`` for each pair, without a loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return np.arange(total, dtype=np.int64) + shifts


def exclusive_kt_axes(px, py, pz, E, counts, n_max: int = 3) -> list[tuple[np.ndarray, ...]]:
    """Exclusive-kT subjets of each jet's constituents, for N = 1..n_max.

    Returns, for each N, ``(px, py, pz, E, n_axes)``: the axes of all jets concatenated,
    and how many each jet has (``min(N, constituents)``).
    """
    import fastjet

    sequence = fastjet.ClusterSequence(
        _jagged(px, py, pz, E, counts), fastjet.JetDefinition(fastjet.kt_algorithm, KT_AXES_R)
    )
    with warnings.catch_warnings():
        # fastjet's Python layer warns about exclusive jets for every algorithm, kT included
        warnings.filterwarnings("ignore", message="dcut and exclusive jets", category=UserWarning)
        return [_flat(sequence.exclusive_jets_up_to(n)) for n in range(1, n_max + 1)]


def nsubjettiness(px, py, pz, E, counts, *, n_max: int = 3, R0: float = 1.0) -> np.ndarray:
    """τ_1..τ_n_max (β = 1, exclusive-kT axes, normalized by Σ pT · R0) of many jets.

    Parameters
    ----------
    px, py, pz, E : array (n_constituents,)
        Constituents of all jets, jet after jet.
    counts : array of int (n_jets,)
        Constituents per jet (each at least 1).

    Returns
    -------
    tau : array (n_jets, n_max), float64
        ``tau[:, N - 1]`` is τ_N. A one-constituent jet has τ_N = 0 for all N (so τ21 is
        NaN); the function never divides by zero itself.
    """
    px, py, pz, E = (np.ascontiguousarray(v, dtype=np.float64) for v in (px, py, pz, E))
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 1 or (counts < 1).any():
        raise ValueError("counts must be a 1-D array of positive constituent counts per jet")
    if not len(px) == len(py) == len(pz) == len(E) == counts.sum():
        raise ValueError(f"constituent arrays must all have counts.sum() = {counts.sum()} entries")
    n_jets = len(counts)
    tau = np.zeros((n_jets, n_max))
    if n_jets == 0:
        return tau
    jet = np.repeat(np.arange(n_jets), counts)
    pt, rap, azimuth = np.hypot(px, py), rapidity(px, py, pz, E), phi(px, py)
    norm = np.bincount(jet, weights=pt, minlength=n_jets) * R0
    for n, (ax, ay, az, ae, n_axes) in enumerate(
        exclusive_kt_axes(px, py, pz, E, counts, n_max), 1
    ):
        # axes padded to (n_jets, n): a missing axis (jet with fewer constituents) is at
        # infinite distance, so the minimum runs over the jet's real axes only
        slot = np.arange(len(ax)) - np.repeat(np.cumsum(n_axes) - n_axes, n_axes)
        row = np.repeat(np.arange(n_jets), n_axes)
        axis_rap = np.full((n_jets, n), np.inf)
        axis_phi = np.zeros((n_jets, n))
        axis_rap[row, slot] = rapidity(ax, ay, az, ae)
        axis_phi[row, slot] = phi(ax, ay)
        d_rap = rap[:, None] - axis_rap[jet]
        d_phi = np.abs(azimuth[:, None] - axis_phi[jet])
        d_phi = np.minimum(d_phi, 2 * np.pi - d_phi)
        with np.errstate(invalid="ignore"):
            distance = np.sqrt(d_rap * d_rap + d_phi * d_phi).min(axis=1)
        distance = np.where(pt > 0, distance, 0.0)  # a pT = 0 particle has no rapidity
        tau[:, n - 1] = np.bincount(jet, weights=pt * distance, minlength=n_jets)
    norm = norm[:, None]
    return np.where(norm > 0, tau / np.where(norm > 0, norm, 1.0), 0.0)


def massless_momenta(pt, eta, phi_) -> tuple[np.ndarray, ...]:
    """(px, py, pz, E) in GeV of massless particles given pT (GeV), pseudorapidity and azimuth."""
    pt, eta, phi_ = (np.asarray(v, dtype=np.float64) for v in (pt, eta, phi_))
    return pt * np.cos(phi_), pt * np.sin(phi_), pt * np.sinh(eta), pt * np.cosh(eta)


def first_jets(jet_counts: np.ndarray) -> np.ndarray:
    """Index (into the flat jet arrays of :func:`cluster_jets`) of each event's hardest jet."""
    jet_counts = np.asarray(jet_counts, dtype=np.int64)
    return np.cumsum(jet_counts) - jet_counts


def jet_columns(px, py, pz, E, jets, constituents, offsets, chosen, *, R0: float = JET_R) -> np.ndarray:
    """The LHC Olympics features of the jets ``chosen`` out of a :func:`cluster_jets` result.

    Parameters
    ----------
    px, py, pz, E : array (n_particles,)
        The particles that were clustered (GeV).
    jets, constituents, offsets
        What :func:`cluster_jets` returned for them.
    chosen : array of int (n,)
        Indices of the jets wanted, into the flat jet arrays.
    R0 : float
        The jet radius that normalizes N-subjettiness.

    Returns
    -------
    ndarray (n, 7), float64
        Per jet: px, py, pz, mass (GeV, √max(E² − |p|², 0)) and τ1, τ2, τ3 (β = 1,
        exclusive-kT axes, :func:`nsubjettiness`): one row of a features file's jet columns.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    sizes = offsets[chosen + 1] - offsets[chosen]
    members = constituents[_ranges(offsets[chosen], sizes)]
    tau = nsubjettiness(px[members], py[members], pz[members], E[members], sizes, n_max=3, R0=R0)
    jx, jy, jz, je = (jets[f][chosen] for f in ("px", "py", "pz", "E"))
    mass = np.sqrt(np.maximum(je * je - jx * jx - jy * jy - jz * jz, 0.0))
    return np.column_stack([jx, jy, jz, mass, tau])
