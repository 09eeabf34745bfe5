"""Whole truth events: filters, the particles kept, their columns, determinism, resuming, the CLI.

Chunks are a few events each (a QCD event with MPI costs about 15 ms, an SVJ event 30 ms).
"""

import json

import numpy as np
import pytest

from likely.data import read_particles
from likely.data.generate.driver import work_dir
from likely.data.generate.events import (
    EVENT_COLUMNS, EVENT_PROCESSES, EventSettings, event_pythia_settings, generate_event_chunk, generate_events,
)
from likely.data.generate.pythia import TRUTH_FEATURES

pytestmark = pytest.mark.xdist_group("generate_events")

INVISIBLE = (12, 14, 16, 51, 53)


@pytest.fixture(scope="module")
def qcd():
    return generate_event_chunk(EventSettings("qcd", ht_min=300.0, eta_max=3.0), 8, seed=7)


@pytest.fixture(scope="module")
def svj():
    return generate_event_chunk(EventSettings("svj", {"mzprime": 2100.0}), 6, seed=8)


def _pt_eta(events):
    px, py, pz = (events.feature(name).astype(np.float64) for name in ("px", "py", "pz"))
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pt, np.arcsinh(pz / pt)


def test_events_hold_final_states_inside_eta_max_hardest_first(qcd):
    events, record = qcd
    assert events.features == TRUTH_FEATURES and set(EVENT_COLUMNS) <= set(events.columns)
    pt, eta = _pt_eta(events)
    assert np.all(np.abs(eta[events.mask]) < 3.0)
    pt[~events.mask] = -1
    assert np.all(np.diff(pt, axis=1)[events.mask[:, 1:]] <= 0)
    np.testing.assert_array_equal(events.counts, events.columns["n_particles"])
    assert record["selected"] == 8 and record["tried"] >= 8 and np.all(events.label == 0)
    charged = np.isin(np.abs(events.feature("pid")), (11, 13, 211, 321, 2212)) & events.mask
    assert np.all(np.abs(events.feature("charge")[charged]) == 1)


def test_ht_filter_is_met_and_counts_only_central_jets(qcd):
    events, _ = qcd
    ht = events.columns["ht"]
    assert np.all(ht >= 300.0)
    pt, eta = _pt_eta(events)
    visible = events.mask & ~np.isin(np.abs(events.feature("pid")), INVISIBLE)
    # jets are made of particles, so H_T never exceeds the scalar pT sum of the visible particles
    assert np.all(ht <= np.where(visible, pt, 0).sum(axis=1) + 1e-3)


def test_invisible_particles_make_the_truth_met(svj):
    events, _ = svj
    invisible = events.mask & np.isin(np.abs(events.feature("pid")), INVISIBLE)
    assert invisible.any(), "dark mesons with r_inv = 0.3 decay to invisible particles"
    px = np.where(invisible, events.feature("px"), 0).sum(axis=1)
    py = np.where(invisible, events.feature("py"), 0).sum(axis=1)
    # invisibles beyond |eta| < 5 are not written but count in met, so the two agree closely, not exactly
    written, met = np.hypot(px, py), events.columns["met"]
    assert np.all(met[invisible.any(axis=1)] > 0)
    assert np.median(np.abs(met - written) / np.maximum(met, 1.0)) < 0.05
    assert np.all(events.label == 1)


def test_lepton_filter_keeps_only_events_with_a_lepton():
    events, _ = generate_event_chunk(EventSettings("qcd", {"pthat_min": 50.0}, lepton_pt_min=5.0), 3, seed=3)
    pid = np.abs(events.feature("pid"))
    pt, eta = _pt_eta(events)
    lepton = events.mask & np.isin(pid, (11, 13)) & (np.abs(eta) < 2.5) & (pt > 5.0)
    assert np.all(lepton.any(axis=1))
    np.testing.assert_allclose(events.columns["lepton_pt"], np.where(lepton, pt, 0).max(axis=1), rtol=1e-5)


def test_same_seed_same_events_and_a_smaller_chunk_is_a_prefix(qcd):
    events, _ = qcd
    fewer, record = generate_event_chunk(EventSettings("qcd", ht_min=300.0, eta_max=3.0), 3, seed=7)
    width = fewer.values.shape[1]
    np.testing.assert_array_equal(fewer.values, events.values[:3, :width])
    assert not events.mask[:3, width:].any()
    assert record["settings"] == event_pythia_settings(EventSettings("qcd", ht_min=300.0, eta_max=3.0), 7)


def test_generate_events_writes_a_particles_file_and_resumes(tmp_path):
    out = tmp_path / "qcd.h5"
    settings = EventSettings("qcd", {"pthat_min": 100.0}, eta_max=2.5)
    generate_events(out, settings, 5, chunk_size=3, seed=2, progress=False)
    events = read_particles(out)
    record = json.loads(out.with_suffix(".json").read_text())
    assert len(events) == 5 and record["params"] == {"pthat_min": 100.0} and len(record["chunks"]) == 2
    chunk = next(work_dir(out).glob("chunk00001_*"))
    stamp = chunk.stat().st_mtime_ns
    out.unlink()
    generate_events(out, settings, 4, chunk_size=3, seed=2, progress=False)  # reuses and trims chunk 1
    assert chunk.stat().st_mtime_ns == stamp
    again = read_particles(out)
    np.testing.assert_array_equal(again.values, events[:4].values[:, :again.values.shape[1]])
    out.unlink()
    with pytest.raises(ValueError, match="other settings"):
        generate_events(out, EventSettings("qcd", {"pthat_min": 120.0}, eta_max=2.5), 4, chunk_size=3, seed=2,
                        progress=False)


@pytest.mark.parametrize("process, params, message", [
    ("higgs", {}, "process"),
    ("qcd", {"mzprime": 1000.0}, "mzprime"),
    ("qcd", {"pthat_min": -5.0}, "pthat_min"),
    ("svj", {"r_inv": 1.5}, "r_inv"),
    ("svj", {"m_dark_pion": 0.6}, "m_dark_pion"),
    ("svj", {"mzprime": "big"}, "mzprime"),
])
def test_bad_settings_name_the_argument(process, params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        EventSettings(process, params)


def test_bad_filters_name_the_argument():
    with pytest.raises(ValueError, match="ht_min"):
        EventSettings("qcd", ht_min=-1.0)
    with pytest.raises(ValueError, match="ht_min must be below 13000"):
        EventSettings("qcd", ht_min=20_000.0)
    with pytest.raises(ValueError, match="lepton_pt_min"):
        EventSettings("qcd", lepton_pt_min=7000.0)
    with pytest.raises(ValueError, match="eta_max"):
        EventSettings("qcd", eta_max=0.0)
    with pytest.raises(TypeError, match="EventSettings"):
        generate_events("x.h5", {"process": "qcd"}, 3)


def test_every_process_has_checked_defaults():
    for name, process in EVENT_PROCESSES.items():
        settings = EventSettings(name)
        assert settings.label == process.label and set(settings.params) == set(process.defaults)
        assert any("=" in line for line in process.lines(settings.params))


def test_cli_writes_svj_events_with_a_parameter(tmp_path):
    from likely.cli import main

    out = tmp_path / "svj.h5"
    assert main(["--quiet", "generate", "events", "--process", "svj", "--param", "mzprime=2100", "--param",
                 "r_inv=0.5", "--events", "2", "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["params"]["mzprime"] == 2100.0 and record["params"]["r_inv"] == 0.5
    assert len(read_particles(out)) == 2


@pytest.mark.parametrize("param, message", [
    ("mzprime", "expected NAME=VALUE"),
    ("mzprime=heavy", "must be a number"),
    ("charm=3", "has no parameter 'charm'"),
])
def test_cli_refuses_bad_parameters(tmp_path, capsys, param, message):
    from likely.cli import main

    with pytest.raises(SystemExit) as exit:
        main(["generate", "events", "--process", "svj", "--param", param, "--events", "2",
              "--out", str(tmp_path / "e.h5")])
    assert exit.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "e.h5").exists()
