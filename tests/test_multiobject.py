"""The ADC2021 processes: each initializes and makes events, their truth content, the lepton filter, bad masses.

Truth partons come from raw Pythia batches made with the very lines a chunk records; final
states from :func:`generate_event_chunk`. Each Pythia initialization costs about a second,
the events a few ms each.
"""

import json

import awkward as ak
import numpy as np
import pytest

from likely.data import read_particles
from likely.data.generate.events import EVENT_PROCESSES, EventSettings, event_pythia_settings, generate_event_chunk
from likely.data.generate.multiobject import ADC_PROCESSES
from likely.data.generate.pythia import last_copies, start_pythia

pytestmark = pytest.mark.xdist_group("multiobject")

LABELS = {"wjets": 0, "zjets": 0, "ttbar": 0, "leptoquark": 1, "ato4l": 1, "h0tautau": 1, "hplus": 1}
NEUTRINOS = (12, 14, 16)


@pytest.fixture(scope="module")
def chunks():
    """Six events of every process, all final-state particles kept (|eta| < 10)."""
    return {p.name: generate_event_chunk(EventSettings(p.name, eta_max=10.0), 6, seed=11) for p in ADC_PROCESSES}


def _batch(name: str, n: int, params=None):
    """``n`` raw Pythia events (failed ones dropped) made with the lines of ``name``'s chunks."""
    pythia = start_pythia(event_pythia_settings(EventSettings(name, params or {}), 5))
    return ak.drop_none(pythia.nextBatch(n, "none"), axis=0)


def _masses(batch, pid: int) -> tuple[np.ndarray, np.ndarray]:
    """Event index and mass (GeV) of the last copies of ``pid`` (and its antiparticle)."""
    event, _, p = last_copies(batch, (pid,))
    return event, np.sqrt(np.maximum(p[:, 0] ** 2 - (p[:, 1:] ** 2).sum(axis=1), 0.0))


def _decays(batch, pid: int) -> set[tuple[int, ...]]:
    """The distinct decays of the last copies of ``pid``: sorted |ids| of their daughters."""
    flat = ak.flatten(batch["prt"])
    counts = ak.to_numpy(ak.num(batch["prt"], axis=1))
    offset = np.repeat(np.cumsum(counts) - counts, counts)
    ids = np.abs(ak.to_numpy(flat["id"]))
    first, last = (ak.to_numpy(flat[name]) for name in ("daughter1", "daughter2"))
    start, stop = offset + first, offset + np.maximum(first, last)
    rows = np.flatnonzero((ids == pid) & (first > 0) & (ids[np.minimum(start, len(ids) - 1)] != pid))
    return {tuple(sorted(ids[start[r]:stop[r] + 1].tolist())) for r in rows}


def _count(events, ids) -> np.ndarray:
    """Per event, the final-state particles with |pid| in ``ids``."""
    return (events.mask & np.isin(np.abs(events.feature("pid")), ids)).sum(axis=1)


def test_adc_processes_are_registered_with_their_labels():
    assert {p.name: p.label for p in ADC_PROCESSES} == LABELS
    for process in ADC_PROCESSES:
        assert EVENT_PROCESSES[process.name] is process


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_process_makes_labelled_events_with_its_lines(chunks, name):
    events, record = chunks[name]
    assert len(events) == 6 and np.all(events.label == LABELS[name])
    assert record["selected"] == 6 and record["failed"] == 0
    lines = EVENT_PROCESSES[name].lines(EventSettings(name).params)
    assert set(lines) <= set(record["settings"])
    assert np.all(events.counts > 10), "every event has a shower and an underlying event"


def test_w_bosons_decay_to_a_lepton_and_its_neutrino(chunks):
    batch = _batch("wjets", 20)
    assert _decays(batch, 24) == {(11, 12), (13, 14), (15, 16)}
    assert len(np.unique(_masses(batch, 24)[0])) == len(batch["prt"])
    events, _ = chunks["wjets"]
    assert np.all(_count(events, NEUTRINOS) >= 1) and np.all(events.columns["met"] > 0)


def test_z_bosons_are_above_the_mass_cut_and_decay_to_lepton_pairs():
    batch = _batch("zjets", 20, {"mll_min": 60.0})
    event, mass = _masses(batch, 23)
    assert len(np.unique(event)) == len(batch["prt"]) and np.all(mass >= 60.0)
    assert _decays(batch, 23) <= {(11, 11), (13, 13), (15, 15)} and len(_decays(batch, 23)) >= 2


@pytest.mark.parametrize("m_lq", [80.0, 120.0])
def test_leptoquarks_have_their_mass_and_decay_to_b_tau(m_lq):
    batch = _batch("leptoquark", 15, {"m_lq": m_lq})
    event, mass = _masses(batch, 42)
    assert len(np.unique(event)) == len(batch["prt"]) and np.median(np.abs(mass - m_lq)) < 0.5
    assert _decays(batch, 42) == {(5, 15)}, "Pythia's default LQ decays to u e"


def test_a_decays_to_two_off_shell_z_and_four_leptons(chunks):
    batch = _batch("ato4l", 15)
    a_event, a_mass = _masses(batch, 35)
    z_event, z_mass = _masses(batch, 23)
    assert np.median(np.abs(a_mass - 50.0)) < 0.5
    assert _decays(batch, 35) == {(23, 23)} and _decays(batch, 23) <= {(11, 11), (13, 13)}
    # both Z are far off shell, above Pythia's 10 GeV floor, and share the A's mass
    assert np.all(np.bincount(z_event) == 2) and np.all(z_mass >= 10.0)
    assert np.all(np.bincount(z_event, weights=z_mass) <= a_mass[np.argsort(a_event)] + 1e-6)
    events, _ = chunks["ato4l"]
    assert np.mean(_count(events, (11, 13)) >= 4) >= 0.9


@pytest.mark.parametrize("name, pid, decay", [("h0tautau", 35, (15, 15)), ("hplus", 37, (15, 16))])
def test_scalars_have_their_mass_and_decay_to_taus(name, pid, decay):
    batch = _batch(name, 15)
    event, mass = _masses(batch, pid)
    assert len(np.unique(event)) == len(batch["prt"]) and np.median(np.abs(mass - 60.0)) < 0.5
    assert _decays(batch, pid) == {decay}


def test_lepton_filter_keeps_only_events_with_a_hard_central_lepton():
    events, record = generate_event_chunk(EventSettings("ato4l", lepton_pt_min=23.0), 4, seed=2)
    pt = np.hypot(events.feature("px"), events.feature("py"))
    eta = np.arcsinh(events.feature("pz") / np.maximum(pt, 1e-9))
    lepton = events.mask & np.isin(np.abs(events.feature("pid")), (11, 13)) & (np.abs(eta) < 2.5) & (pt >= 23.0)
    assert np.all(lepton.any(axis=1)) and np.all(events.columns["lepton_pt"] >= 23.0)
    assert record["tried"] > record["selected"], "about 30 % of A -> 4l events have such a lepton"


@pytest.mark.parametrize("name, params, message", [
    ("leptoquark", {"m_lq": -80.0}, "m_lq"),
    ("leptoquark", {"m_lq": 6.0}, "m_lq must exceed m_b"),
    ("ato4l", {"m_a": 40.0}, "m_a must exceed m_Z / 2"),
    ("ato4l", {"m_a": 0.0}, "m_a"),
    ("h0tautau", {"m_h0": 3.0}, "m_h0"),
    ("hplus", {"m_hplus": 1.0}, "m_hplus"),
    ("wjets", {"pthat_min": -1.0}, "pthat_min"),
    ("zjets", {"mll_min": 2.0}, "mll_min"),
    ("ttbar", {"m_top": 170.0}, "m_top"),
])
def test_bad_parameters_name_the_argument(name, params, message):
    with pytest.raises(ValueError, match=message):
        EventSettings(name, params)


def test_cli_writes_filtered_ato4l_events(tmp_path):
    from likely.cli import main

    out = tmp_path / "a.h5"
    assert main(["--quiet", "generate", "events", "--process", "ato4l", "--lepton-pt-min", "20", "--events", "3",
                 "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    events = read_particles(out)
    assert record["process"] == "ato4l" and record["params"] == {"m_a": 50.0} and record["label"] == 1
    assert len(events) == 3 and np.all(events.columns["lepton_pt"] >= 20.0)
