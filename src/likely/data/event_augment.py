"""AnomalyCLR's event-level augmentations of ADC2021 multi-object events (seed 003 §1.13, §2.5).

The events are :class:`~likely.data.Particles` with features ``(pt, eta, phi, id)`` as
:func:`likely.data.read_adc` gives them (pT in GeV; id 1 MET, 2 electron, 3 muon, 4 jet),
one MET per event. Each augmentation is a vectorized function ``f(events, rng, **settings)``
of a NumPy random generator that returns new events, 19 objects wide in the ADC order (MET,
electrons, muons, jets, each hardest first, at most 4 / 4 / 10, padding last), columns,
labels and weights carried over. Objects beyond the ADC slots are dropped first, the softest
of their type, as :func:`~likely.data.adc_layout` drops them.

Physical augmentations (the positive pair; :func:`physical` applies both):

- :func:`rotate_events`: all φ (MET's too) turned by one angle ~ U[0, 2π) per event;
- :func:`smear_events`: every object's (MET's too) pT ~ N(pT, √(0.052 pT² + 1.502 pT)),
  clipped at 0, and η, φ ~ N(·, ``angle`` / pT), the Delphes jet resolution of
  :func:`likely.data.clouds.smear`; MET's η stays 0 and MET is smeared like an object, not
  recomputed from the smeared objects.

Anomaly augmentations (the anomaly pair; :func:`anomaly` picks one per event, uniformly).
Each keeps the ADC selection of events that pass it: the trigger (an e or μ with pT > 23
GeV within acceptance), every object within its type's |η| acceptance (e 3.0, μ 2.1, jet 4.0)
and above its pT threshold (e, μ 3 GeV, jet 15 GeV):

- :func:`shift_multiplicity`: adds 0 … (free slots) electrons, muons and jets (at least one
  object in all if a slot is free), each at η ~ U(acceptance), φ ~ U(−π, π], pT ~ U[its
  threshold, the event's hardest e, μ or jet]; their pT vectors are taken from the MET;
- :func:`split_objects`: splits e, μ or jets into two of their type, pT f·p and (1 − f)·p,
  collinear in φ (so every scalar and vector pT sum and the MET stay), the split-off piece's
  η smeared by ``spread``; both pieces stay above threshold, and the hardest triggering
  lepton keeps more than 23 GeV;
- :func:`scale_pt`: the pTs of the MET, of the objects, or of both (one of three, uniformly)
  multiplied by one factor ~ U[1, ``window``] per event (window 5: "up to 5× the original"),
  which never lowers a pT, so the trigger holds.
"""

from __future__ import annotations

import numpy as np

from likely.data.adc import ADC_SLOTS, FEATURES, N_SLOTS, adc_layout
from likely.data.clouds import _smeared
from likely.data.particles import Particles

__all__ = ["anomaly", "physical", "rotate_events", "scale_pt", "shift_multiplicity", "smear_events",
           "split_objects"]

PT, ETA, PHI, ID = range(4)
MET, ELECTRON, MUON, JET = 1, 2, 3, 4
KINDS = np.array(list(ADC_SLOTS))
#: slots of each kind (1, 4, 4, 10)
CAPACITY = np.array([count for _, count in ADC_SLOTS.values()])
#: per slot (19,): its kind, the first slot of that kind, the pT threshold (GeV), the |η| acceptance
KIND = np.repeat(KINDS, CAPACITY)
FIRST = np.repeat([first for first, _ in ADC_SLOTS.values()], CAPACITY)
PT_MIN = np.select([KIND == JET, KIND != MET], [15.0, 3.0], 0.0)
ETA_MAX = np.select([KIND == ELECTRON, KIND == MUON, KIND == JET], [3.0, 2.1, 4.0], 0.0)
#: per slot: the largest float32 |η| strictly inside the acceptance, where new η are kept
INSIDE = np.nextafter(ETA_MAX.astype(np.float32), np.float32(0)).astype(np.float64)
TRIGGER_PT = 23.0


def _slots(events: Particles) -> np.ndarray:
    """The checked ``events`` in their ADC slots (N, 19, 4), float64."""
    if not isinstance(events, Particles) or events.features != FEATURES:
        raise ValueError(f"events must be Particles with features {FEATURES} (see likely.data.read_adc); got "
                         f"{getattr(events, 'features', type(events).__name__)}")
    ids = events.feature("id")
    wrong = sorted(set(np.unique(ids[events.mask]).tolist()) - set(KINDS.tolist()))
    if wrong:
        raise ValueError(f"events: object ids must be {KINDS.tolist()} (MET, e, μ, jet); found {wrong[:5]}")
    mets = ((ids == MET) & events.mask).sum(axis=1)
    if np.any(mets != 1):
        event = int(np.flatnonzero(mets != 1)[0])
        raise ValueError(f"events must have one MET (id 1) each; event {event} has {mets[event]}")
    return adc_layout(events).astype(np.float64)


def _objects(slots: np.ndarray) -> Particles:
    return Particles.from_padded(slots, slots[..., ID] > 0, FEATURES)


def _events(events: Particles, slots: np.ndarray) -> Particles:
    """``events`` with the objects of ``slots`` (N, 19, 4), each kind re-ordered by pT, padding last."""
    ordered = _objects(adc_layout(_objects(slots)))
    return events.with_values(ordered.values, ordered.mask)


def _wrapped(phi: np.ndarray) -> np.ndarray:
    """φ in (−π, π]."""
    return np.pi - np.mod(np.pi - phi, 2 * np.pi)


def _per_kind(flags: np.ndarray) -> np.ndarray:
    """(N, 4): how many slots of each kind (MET, e, μ, jet) are flagged in ``flags`` (N, 19)."""
    return (flags[:, :, None] & (KIND[:, None] == KINDS)).sum(axis=1)


def _numbers(rng: np.random.Generator, most: np.ndarray) -> np.ndarray:
    """(N, 4) numbers ~ U{0 … ``most``} each, at least one in a row whose ``most`` allows one."""
    numbers = rng.integers(0, most + 1)
    none = (numbers.sum(axis=1) == 0) & (most.sum(axis=1) > 0)
    kind = np.argmax(np.where(most > 0, rng.random(most.shape), -1.0), axis=1)
    numbers[none, kind[none]] = 1
    return numbers


def _trigger_lepton(slots: np.ndarray) -> np.ndarray:
    """(N, 19) bool: each event's hardest e or μ with pT > 23 GeV within acceptance (none if it has none)."""
    pt = slots[..., PT]
    fires = np.isin(slots[..., ID], (ELECTRON, MUON)) & (pt > TRIGGER_PT) & (np.abs(slots[..., ETA]) < ETA_MAX)
    hardest = np.argmax(np.where(fires, pt, -1.0), axis=1)
    return fires & (np.arange(N_SLOTS) == hardest[:, None])


def _take_from_met(slots: np.ndarray, added: np.ndarray) -> None:
    """Subtract the pT vectors of the objects ``added`` (N, 19) from each event's MET, in place."""
    vectors = slots[..., PT] * np.exp(1j * slots[..., PHI])
    met = vectors[:, 0] - np.sum(vectors, axis=1, where=added)
    slots[:, 0, PT], slots[:, 0, PHI] = np.abs(met), np.angle(met)


# ------------------------------------------------------------------ physical
def rotate_events(events: Particles, rng: np.random.Generator) -> Particles:
    """Every φ of an event (MET's too) turned by the event's angle ~ U[0, 2π), wrapped to (−π, π]."""
    slots = _slots(events)
    slots[..., PHI] = _wrapped(slots[..., PHI] + rng.uniform(0.0, 2 * np.pi, (len(slots), 1)))
    return _events(events, slots)


def smear_events(events: Particles, rng: np.random.Generator, *, angle: float = 0.1) -> Particles:
    """pT ~ N(pT, √(0.052 pT² + 1.502 pT)) clipped at 0 and η, φ ~ N(·, ``angle`` / pT), pT in GeV.

    MET is smeared like the objects (its η stays 0), not recomputed; ``angle`` in GeV · rad.
    """
    slots = _slots(events)
    pt, (eta, phi) = _smeared(rng, slots[..., PT], angle, slots[..., ETA], slots[..., PHI])
    slots[..., PT] = np.maximum(pt, 0.0)
    slots[..., ETA] = np.where(KIND == MET, 0.0, eta)
    slots[..., PHI] = _wrapped(phi)
    return _events(events, slots)


def physical(events: Particles, rng: np.random.Generator, *, angle: float = 0.1) -> Particles:
    """Both physical augmentations: :func:`rotate_events`, then :func:`smear_events` with ``angle``."""
    return smear_events(rotate_events(events, rng), rng, angle=angle)


# ------------------------------------------------------------------- anomaly
def shift_multiplicity(events: Particles, rng: np.random.Generator) -> Particles:
    """Up to the free slots of electrons, muons and jets added at random, their pT vectors taken from the MET.

    Each new object: η ~ U(−a, a) (a its type's acceptance), φ ~ U(−π, π], pT ~ U[its type's
    threshold, the event's hardest e, μ or jet pT]; at least one object per event with a free slot.
    """
    slots = _slots(events)
    present = _per_kind(slots[..., ID] > 0)
    numbers = _numbers(rng, CAPACITY - present)  # MET's slot is never free
    rank = np.arange(N_SLOTS) - FIRST
    start = present[:, KIND - 1]
    added = (rank >= start) & (rank < start + numbers[:, KIND - 1])
    hardest = np.max(np.where(KIND > MET, slots[..., PT], 0.0), axis=1, keepdims=True)
    shape = slots.shape[:2]
    fresh = np.stack([rng.uniform(PT_MIN, np.maximum(hardest, PT_MIN), shape), rng.uniform(-INSIDE, INSIDE, shape),
                      np.pi - rng.uniform(0.0, 2 * np.pi, shape), np.broadcast_to(KIND, shape)], axis=-1)
    slots[added] = fresh[added]
    _take_from_met(slots, added)
    return _events(events, slots)


def split_objects(events: Particles, rng: np.random.Generator, *, spread: float = 0.1) -> Particles:
    """Up to the free slots of e, μ and jets split in two of their type, pT f·p and (1 − f)·p, MET unchanged.

    The pieces share φ (every pT sum stays); the split-off one's η ~ N(η, ``spread``), kept
    within acceptance. f ~ U keeps both pieces above their type's threshold, and the hardest
    triggering lepton above 23 GeV; objects too soft for that are not split. At least one
    split per event that has a splittable object and a free slot of its type.
    """
    if not spread >= 0:
        raise ValueError(f"spread must be >= 0; got {spread!r}")
    slots = _slots(events)
    pt = slots[..., PT]
    keep = np.where(_trigger_lepton(slots), np.nextafter(np.float32(TRIGGER_PT), np.float32(np.inf)), PT_MIN)
    splittable = (KIND > MET) & (slots[..., ID] > 0) & (pt >= keep + PT_MIN)
    present = _per_kind(slots[..., ID] > 0)
    numbers = _numbers(rng, np.minimum(CAPACITY - present, _per_kind(splittable)))
    # a random order of each kind's splittable objects: their rank within the kind
    key = KIND + np.where(splittable, 0.5 * rng.random(pt.shape), 0.9)
    rank = np.argsort(np.argsort(key, axis=1), axis=1) - FIRST
    event, slot = np.nonzero(splittable & (rank < numbers[:, KIND - 1]))
    target = FIRST[slot] + present[event, KIND[slot] - 1] + rank[event, slot]
    share = rng.uniform(keep[event, slot] / pt[event, slot], 1 - PT_MIN[slot] / pt[event, slot])
    piece = slots[event, slot]
    piece[:, PT] *= 1 - share
    piece[:, ETA] = np.clip(rng.normal(piece[:, ETA], spread), -INSIDE[slot], INSIDE[slot])
    slots[event, slot, PT] *= share
    slots[event, target] = piece
    return _events(events, slots)


def scale_pt(events: Particles, rng: np.random.Generator, *, window: float = 5.0) -> Particles:
    """The pTs of the MET, the objects or both (uniformly one of three) times one factor ~ U[1, ``window``] per event."""
    if not 1 < window < np.inf:
        raise ValueError(f"window must be a finite number > 1; got {window!r}")
    slots = _slots(events)
    n = len(slots)
    factor = rng.uniform(1.0, window, (n, 1))
    which = rng.integers(0, 3, (n, 1))  # 0 MET, 1 objects, 2 both
    scaled = np.where(KIND == MET, which != 1, which != 0)
    slots[..., PT] *= np.where(scaled, factor, 1.0)
    return _events(events, slots)


ANOMALIES = (shift_multiplicity, split_objects, scale_pt)


def anomaly(events: Particles, rng: np.random.Generator) -> Particles:
    """One of :func:`shift_multiplicity`, :func:`split_objects`, :func:`scale_pt` per event, uniformly, default settings."""
    _slots(events)  # checked whole, so an error names the caller's event numbers
    choice = rng.integers(0, len(ANOMALIES), len(events))
    values = np.zeros((len(events), N_SLOTS, len(FEATURES)), dtype=np.float32)
    mask = np.zeros((len(events), N_SLOTS), dtype=bool)
    for index, augment in enumerate(ANOMALIES):
        chosen = choice == index
        part = augment(events[chosen], rng)
        values[chosen], mask[chosen] = part.values, part.mask
    return events.with_values(values, mask)
