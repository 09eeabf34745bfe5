"""A truth-particle file through the detector into a file of one representation, batch by batch.

:func:`run_detector` is what ``likely generate detector`` runs: it reads ``--batch`` events
of a truth :class:`~likely.data.Particles` file at a time, simulates them, keeps those that
pass the selection (H_T, optionally the lepton trigger) and writes event images, ADC objects
or reconstructed objects, with a JSON record of the run beside the output.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from likely import __version__
from likely._checks import check_choice, check_positive
from likely._io import atomic_path, check_can_create, open_hdf5, write_json
from likely.data.adc import write_adc
from likely.data.detector.card import DetectorCard
from likely.data.detector.represent import adc_objects, event_images, lepton_trigger
from likely.data.detector.simulate import simulate
from likely.data.event_images import append_event_images
from likely.data.particles import Particles, read_particles, write_particles

__all__ = ["REPRESENTATIONS", "run_detector"]

log = logging.getLogger(__name__)

REPRESENTATIONS = ("event-images", "adc", "particles")
#: seed 004's preselection: H_T of e, μ, γ and jets above 500 GeV
EVENT_IMAGE_HT_MIN = 500.0


def _card(card: DetectorCard | str | os.PathLike | None, mu: float | None, pileup: Particles | None) -> DetectorCard:
    """The card to run: the default, a TOML file or a card, with ``mu`` as its pile-up mean when given."""
    if card is None:
        card = DetectorCard.cms()
    elif isinstance(card, str) and not Path(card).suffix:  # a name: one of BUNDLED_CARDS
        card = DetectorCard.bundled(card)
    elif not isinstance(card, DetectorCard):
        card = DetectorCard.from_toml(card)
    if mu is not None:
        check_positive(mu, "mu", allow_zero=True)
        card = replace(card, pileup=replace(card.pileup, mean=float(mu)))
    if pileup is not None and card.pileup.mean == 0:
        raise ValueError("pileup events were given, but the pile-up mean is 0: give mu (--mu)")
    if pileup is None and card.pileup.mean > 0:
        raise ValueError(f"the pile-up mean is {card.pileup.mean:g}, but no minimum-bias events were given "
                         "(pileup, --pileup)")
    return card


def _count(path: Path) -> int:
    """Events in a truth particles file, after checking it is one."""
    read_particles(path, 0, 1)
    with open_hdf5(path, "likely particles file") as file:
        n = len(file["mask"])
    if n == 0:
        raise ValueError(f"{path} holds no events")
    return n


def run_detector(truth: str | os.PathLike, out: str | os.PathLike, *, to: str,
                 card: DetectorCard | str | os.PathLike | None = None, pool: int = 1, ht_min: float | None = None,
                 require_lepton: bool = False, pileup: str | os.PathLike | None = None, mu: float | None = None,
                 seed: int = 1, batch: int = 500, overwrite: bool = False, progress: bool = True) -> Path:
    """Simulate the events of the truth particles file ``truth`` and write them to ``out`` as ``to``.

    Parameters
    ----------
    to : {"event-images", "adc", "particles"}
        Seed-004 event images (:func:`~likely.data.event_images.write_event_images`), an ADC2021
        file (:func:`~likely.data.write_adc`), or the objects (pt, eta, phi, id; photons as
        id 5) with the columns ``ht`` and ``n_tracks`` as a particles file.
    card : DetectorCard, a bundled card's name (``"cms"``, ``"adc"``) or a TOML file, optional
        Default: the CMS-like card.
    pool : int
        Event images only: k × k sum pooling (5: 58 × 72 images).
    ht_min : float, optional
        Keep events with H_T above this (GeV); default 500 for event images (seed 004), else 0.
    require_lepton : bool
        Also require an electron or muon above 23 GeV (the ADC2021 trigger).
    pileup, mu : path of a truth particles file of minimum-bias events, float
        Overlay Poisson(``mu``) of them per event (``mu`` replaces the card's pile-up mean).
    seed, batch : int
        Seed of the run; events simulated at a time. The same seed and batch give the same file.
    overwrite, progress : bool
        Replace an existing ``out``; show a progress bar over the batches.

    Returns the path of the output; ``<out>.json`` records the card, the settings and the
    events in and out.
    """
    check_choice(to, "to", REPRESENTATIONS)
    check_positive(pool, "pool", integer=True)
    check_positive(batch, "batch", integer=True)
    check_positive(seed, "seed", integer=True, allow_zero=True)
    if pool != 1 and to != "event-images":
        raise ValueError(f"pool applies only to event images; got pool={pool} with to={to!r}")
    ht_min = (EVENT_IMAGE_HT_MIN if to == "event-images" else 0.0) if ht_min is None else ht_min
    check_positive(ht_min, "ht_min", allow_zero=True)
    truth, out = Path(truth), Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"output file {out} exists; pass overwrite=True (--force) to replace it")
    check_can_create(out)
    minimum_bias = None if pileup is None else read_particles(pileup)
    card = _card(card, mu, minimum_bias)
    n_events = _count(truth)
    record = {"format": "likely.detector-run", "truth": str(truth), "to": to, "pool": pool, "ht_min": float(ht_min),
              "lepton_trigger": bool(require_lepton), "pileup": None if pileup is None else str(pileup),
              "seed": int(seed), "batch": int(batch), "events_in": n_events, "card": card.to_dict(),
              "versions": {"likely": __version__}}
    runs = _batches(truth, n_events, card, minimum_bias, ht_min, require_lepton, seed, batch, progress)
    if to == "event-images":
        kept = _write_images(out, runs, pool, record)
    else:
        kept = _write_objects(out, runs, to, record)
    log.info("%s: %d of %d events passed the selection (%.1f %%)", out, kept, n_events, 100 * kept / n_events)
    return out


def _batches(truth: Path, n_events: int, card: DetectorCard, minimum_bias, ht_min: float, require_lepton: bool,
             seed: int, batch: int, progress: bool):
    """The selected events of each batch, as Reconstructions."""
    from likely.nn import batch_slices

    rng = np.random.default_rng(seed)
    for start, stop in batch_slices(n_events, batch, desc=f"detector {truth.name}", enabled=progress):
        reco = simulate(read_particles(truth, start, stop), card, pileup=minimum_bias, random_state=rng)
        keep = reco.ht > ht_min
        if require_lepton:
            keep &= lepton_trigger(reco)
        yield reco[keep]


def _finish(out: Path, record: dict[str, Any], kept: int) -> None:
    """Write the run's record beside ``out`` (before the output itself appears); refuse an empty selection."""
    n = record["events_in"]
    if kept == 0:
        trigger = " and the lepton trigger" if record["lepton_trigger"] else ""
        raise ValueError(f"no event of the {n} in {record['truth']} passed the selection (ht_min = "
                         f"{record['ht_min']:g} GeV{trigger}); nothing was written: lower ht_min")
    write_json(out.with_suffix(".json"), {**record, "events_out": kept, "efficiency": kept / n})


def _write_images(out: Path, runs, pool: int, record: dict[str, Any]) -> int:
    import h5py

    kept = 0
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as file:
        for reco in runs:
            append_event_images(file, event_images(reco, pool=pool))
            kept += len(reco)
        _finish(out, record, kept)
    return kept


def _write_objects(out: Path, runs, to: str, record: dict[str, Any]) -> int:
    parts = []
    for reco in runs:
        objects = adc_objects(reco, photons=to == "particles")
        columns = {**objects.columns, "ht": reco.ht, "n_tracks": reco.n_tracks}
        parts.append(Particles(objects.values, objects.mask, objects.features, columns=columns, label=objects.label))
    kept = sum(len(part) for part in parts)
    _finish(out, record, kept)
    objects = Particles.concat(parts)
    if to == "adc":
        write_adc(out, objects, overwrite=True)
    else:
        write_particles(out, objects, overwrite=True)
    return kept
