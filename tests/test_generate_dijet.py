"""Pythia 8 + FastJet dijet generator: determinism, N-subjettiness, trigger, resuming, output.

Everything here generates tens of events (a QCD event passing the trigger costs about 45 ms,
a signal event about 4 ms), so the module runs in well under a minute on one core.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from likely.cli import main
from likely.data.generate import DIJET_COLUMNS, DijetSettings, generate_chunk, generate_dijet, nsubjettiness
from likely.data.generate import dijet as dijet_module
from likely.data.generate.dijet import TRIGGER_PT_MIN, load_chunk, work_dir

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "lhco-pythia"

# all tests share the generated samples below: keep them on one xdist worker
pytestmark = pytest.mark.xdist_group("generate_dijet")


@pytest.fixture(scope="module")
def qcd():
    return generate_chunk(DijetSettings("qcd"), 25, seed=11)


@pytest.fixture(scope="module")
def signal():
    return generate_chunk(DijetSettings("wprime"), 50, seed=21)


def _jet(columns, j):
    return {
        what: columns[f"{what}j{j}"] for what in ("px", "py", "pz", "m", "tau1", "tau2", "tau3")
    }


def _mjj(columns):
    total = np.zeros((len(columns["pxj1"]), 4))
    for j in (1, 2):
        p = np.stack([columns[f"pxj{j}"], columns[f"pyj{j}"], columns[f"pzj{j}"]], axis=1)
        e = np.sqrt((p**2).sum(axis=1) + columns[f"mj{j}"] ** 2)
        total += np.column_stack([p, e])
    return np.sqrt(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(axis=1))


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_events_and_different_seed_different_ones():
    first, record = generate_chunk(DijetSettings("wprime"), 8, seed=3)
    again, record_again = generate_chunk(DijetSettings("wprime"), 8, seed=3)
    other, _ = generate_chunk(DijetSettings("wprime"), 8, seed=4)
    shorter, record_short = generate_chunk(DijetSettings("wprime"), 5, seed=3)
    for name in DIJET_COLUMNS:
        np.testing.assert_array_equal(first[name], again[name])
        np.testing.assert_array_equal(first[name][:5], shorter[name])  # a smaller chunk is a prefix
        assert not np.array_equal(first[name], other[name]), name
    assert record["tried"] == record_again["tried"] >= 8
    assert record_short["tried"] == first["attempt"][4]
    assert (
        record["settings"] == record_again["settings"] and "Random:seed = 3" in record["settings"]
    )


def test_prefilter_never_changes_the_selection():
    fast, fast_record = generate_chunk(DijetSettings("qcd"), 6, seed=5)
    slow, slow_record = generate_chunk(DijetSettings("qcd"), 6, seed=5, prefilter=False)
    for name in [*DIJET_COLUMNS, "attempt"]:
        np.testing.assert_array_equal(fast[name], slow[name])
    assert fast_record["tried"] == slow_record["tried"]


# ------------------------------------------------------------------ N-subjettiness
def _rap(p):
    _, _, pz, e = p
    return 0.5 * math.log((e + pz) / (e - pz))


def _dr(a, b):
    dphi = abs(math.atan2(a[1], a[0]) - math.atan2(b[1], b[0]))
    dphi = min(dphi, 2 * math.pi - dphi)
    return math.hypot(_rap(a) - _rap(b), dphi)


def _slow_tau(particles, n, r0=1.0):
    """τ_n by the book: exclusive kT clustering by hand (E-scheme), then loops over particles."""
    axes = [tuple(p) for p in particles]
    while len(axes) > n:  # with R -> infinity the kT beam distance never wins
        _, i, j = min(
            (min(a[0] ** 2 + a[1] ** 2, b[0] ** 2 + b[1] ** 2) * _dr(a, b) ** 2, i, j)
            for i, a in enumerate(axes)
            for j, b in enumerate(axes)
            if i < j
        )
        merged = tuple(x + y for x, y in zip(axes[i], axes[j], strict=True))
        axes = [a for k, a in enumerate(axes) if k not in (i, j)] + [merged]
    pts = [math.hypot(p[0], p[1]) for p in particles]
    numerator = sum(pt * min(_dr(p, a) for a in axes) for pt, p in zip(pts, particles, strict=True))
    return numerator / (sum(pts) * r0)


def _toy_jets(rng, sizes, phi_center=0.05):
    """Jets of massless and pion-mass particles around (rapidity 1.2, phi_center)."""
    counts = np.asarray(sizes)
    n = counts.sum()
    pt = rng.exponential(30.0, n) + 0.5
    eta = rng.normal(1.2, 0.3, n)
    phi = rng.normal(phi_center, 0.3, n)  # straddles phi = 0 = 2 pi
    mass = rng.choice([0.0, 0.1396], n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + mass**2), counts


def test_vectorized_nsubjettiness_equals_a_slow_reference(rng):
    px, py, pz, E, counts = _toy_jets(rng, [1, 2, 3, 4, 7, 25, 40])
    tau = nsubjettiness(px, py, pz, E, counts, n_max=3)
    starts = np.cumsum(counts) - counts
    for jet, (start, size) in enumerate(zip(starts, counts, strict=True)):
        particles = list(zip(*(v[start : start + size] for v in (px, py, pz, E)), strict=True))
        for n in (1, 2, 3):
            expected = _slow_tau(particles, n)
            assert tau[jet, n - 1] == pytest.approx(expected, rel=1e-9, abs=1e-12), (jet, n)
    # a jet with at most N constituents has tau_N = 0 exactly
    assert np.all(tau[0] == 0) and np.all(tau[1, 1:] == 0) and tau[2, 2] == 0
    assert np.all(tau[3:] > 0)


def test_nsubjettiness_agrees_with_fastjet_contrib(rng):
    import fastjet

    from likely.data.jets import KT_AXES_R, _jagged

    px, py, pz, E, counts = _toy_jets(rng, rng.integers(1, 60, size=200), phi_center=3.0)
    sequence = fastjet.ClusterSequence(
        _jagged(px, py, pz, E, counts), fastjet.JetDefinition(fastjet.kt_algorithm, KT_AXES_R)
    )
    if not hasattr(sequence, "njettiness"):
        pytest.skip("this fastjet has no N-subjettiness binding")
    contrib = np.asarray(
        sequence.njettiness(
            measure_definition="NormalizedMeasure",
            axes_definition="KT_Axes",
            njets=[1, 2, 3],
            beta=1.0,
            R0=1.0,
        )
    ).reshape(len(counts), 3)
    np.testing.assert_allclose(
        nsubjettiness(px, py, pz, E, counts), contrib, rtol=1e-10, atol=1e-13
    )


def test_generated_taus_are_physical(qcd, signal):
    ordered = total = 0
    for columns, _ in (qcd, signal):
        for j in (1, 2):
            jet = _jet(columns, j)
            tau = np.stack([jet["tau1"], jet["tau2"], jet["tau3"]], axis=1)
            assert np.isfinite(tau).all() and (tau >= 0).all() and (tau < 1.5).all()
            assert (tau[:, 0] > 0).mean() > 0.9  # tau1 = 0 only for one-particle jets
            ordered += np.count_nonzero((tau[:, 2] <= tau[:, 1]) & (tau[:, 1] <= tau[:, 0]))
            total += len(tau)
    # exclusive-kT axes are not minimized, so tau3 <= tau2 <= tau1 is typical but not
    # guaranteed: about 5 % of jets break it in the 280k-event reference sample
    assert ordered / total > 0.8
    # signal jets are two- and three-pronged: tau21 lower than in QCD
    signal_tau21 = np.median(signal[0]["tau2j1"] / signal[0]["tau1j1"])
    qcd_tau21 = np.median(qcd[0]["tau2j1"] / qcd[0]["tau1j1"])
    assert signal_tau21 < qcd_tau21


# ------------------------------------------------------------------ selection and physics
def test_trigger_and_jet_order(qcd, signal):
    for columns, record in (qcd, signal):
        pt1 = np.hypot(columns["pxj1"], columns["pyj1"])
        pt2 = np.hypot(columns["pxj2"], columns["pyj2"])
        assert (pt1 > TRIGGER_PT_MIN).all()
        assert (pt1 >= pt2).all() and (pt2 > 20.0).all()
        assert (columns["mj1"] >= 0).all() and (columns["mj2"] >= 0).all()
        assert record["selected"] == len(pt1) and record["tried"] >= record["selected"]
        assert record["sigma_mb"] > 0
    # QCD at pTHatMin = 700 GeV passes the trigger about 5 % of the time, the signal about 70 %
    assert qcd[1]["selected"] / qcd[1]["tried"] < 0.2 < signal[1]["selected"] / signal[1]["tried"]


def test_signal_mjj_peaks_near_the_wprime_mass(signal):
    mjj = _mjj(signal[0])
    assert 3000 < np.median(mjj) < 3800
    # one jet near mY = 100 GeV, the other near mX = 500 GeV in most events
    light = np.minimum(signal[0]["mj1"], signal[0]["mj2"])
    heavy = np.maximum(signal[0]["mj1"], signal[0]["mj2"])
    assert np.mean((light > 60) & (light < 160)) > 0.5
    assert np.mean((heavy > 350) & (heavy < 600)) > 0.4


def test_signal_masses_are_configurable():
    columns, record = generate_chunk(DijetSettings("wprime", mwprime=3000.0, mx=300.0, my=150.0), 20, seed=8)
    assert "34:m0 = 3000." in record["settings"]
    assert np.median(_mjj(columns)) == pytest.approx(3000, abs=400)


def test_a_forced_wprime_width_widens_the_mjj_peak():
    narrow = DijetSettings("wprime", mwprime=3000.0, mx=300.0, my=150.0)
    wide = DijetSettings("wprime", mwprime=3000.0, mx=300.0, my=150.0, wprime_width=900.0)
    (narrow_columns, _), (wide_columns, record) = (generate_chunk(s, 60, seed=9) for s in (narrow, wide))
    assert "34:mWidth = 900." in record["settings"] and "34:doForceWidth = on" in record["settings"]
    iqr = [np.subtract(*np.percentile(_mjj(c), [75, 25])) for c in (narrow_columns, wide_columns)]
    assert iqr[1] > 1.8 * iqr[0]
    with pytest.raises(ValueError, match="wprime_width"):
        DijetSettings("wprime", wprime_width=-1.0)


# ------------------------------------------------------------------ driver: resume, output
@pytest.fixture
def count_chunks(monkeypatch):
    calls = []

    def counting(path, process, n_events, seed, *args, **kwargs):
        calls.append(seed)
        return run_chunk(path, process, n_events, seed, *args, **kwargs)

    run_chunk = dijet_module.run_chunk
    monkeypatch.setattr(dijet_module, "run_chunk", counting)
    return calls


def test_resume_skips_finished_chunks(tmp_path, count_chunks):
    out = tmp_path / "signal.h5"
    generate_dijet(out, DijetSettings("wprime"), 12, chunk_size=5, seed=40, progress=False)
    assert count_chunks == [40, 41, 42]  # chunks of 5, 5 and 2 events
    first = load_chunk(work_dir(out) / "chunk00001_seed41.npz")[0]

    # a killed run: chunk 1 missing, no output yet; the rerun makes only chunk 1
    out.unlink()
    (work_dir(out) / "chunk00001_seed41.npz").unlink()
    count_chunks.clear()
    generate_dijet(out, DijetSettings("wprime"), 12, chunk_size=5, seed=40, progress=False)
    assert count_chunks == [41]
    np.testing.assert_array_equal(
        load_chunk(work_dir(out) / "chunk00001_seed41.npz")[0]["pxj1"], first["pxj1"]
    )

    # more events: only the short last chunk is remade; fewer events: nothing is generated
    count_chunks.clear()
    generate_dijet(out, DijetSettings("wprime"), 15, chunk_size=5, seed=40, progress=False, overwrite=True)
    assert count_chunks == [42]
    count_chunks.clear()
    generate_dijet(out, DijetSettings("wprime"), 7, chunk_size=5, seed=40, progress=False, overwrite=True)
    assert count_chunks == []
    record = json.loads(out.with_suffix(".json").read_text())
    assert [c["selected"] for c in record["chunks"]] == [5, 2]


def test_output_reads_back_with_its_record(tmp_path):
    from likely.data.lhco import read_lhco

    out = tmp_path / "qcd.h5"
    generate_dijet(out, DijetSettings("qcd"), 6, chunk_size=4, seed=70, progress=False)
    events = read_lhco(out, features=("mjj", "mj1", "tau21_j1"), on_invalid="keep")
    assert len(events) == 6 and (events.label == 0).all()
    chunks = [load_chunk(work_dir(out) / f"chunk{k:05d}_seed{70 + k}.npz")[0] for k in (0, 1)]
    direct = {
        name: np.concatenate([chunks[0][name][:4], chunks[1][name][:2]]) for name in DIJET_COLUMNS
    }
    np.testing.assert_allclose(events["mjj"], _mjj(direct) / 1000, rtol=1e-5)  # TeV
    np.testing.assert_allclose(
        events["mj1"], np.minimum(direct["mj1"], direct["mj2"]) / 1000, rtol=1e-5
    )
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["n_background"] == 6 and record["n_signal"] == 0
    assert [c["seed"] for c in record["chunks"]] == [70, 71]
    assert [c["selected"] for c in record["chunks"]] == [4, 2]
    for chunk in record["chunks"]:
        assert chunk["tried"] >= chunk["selected"] and chunk["sigma_mb"] > 0 and chunk["label"] == 0
        assert (
            "HardQCD:all = on" in chunk["settings"]
            and f"Random:seed = {chunk['seed']}" in chunk["settings"]
        )


def test_workers_give_the_same_events_as_one_process(tmp_path):
    serial, parallel = tmp_path / "serial.h5", tmp_path / "parallel.h5"
    generate_dijet(serial, DijetSettings("wprime"), 6, chunk_size=3, seed=90, progress=False)
    generate_dijet(parallel, DijetSettings("wprime"), 6, chunk_size=3, seed=90, workers=2, progress=False)
    for k, seed in enumerate((90, 91)):
        a = load_chunk(work_dir(serial) / f"chunk{k:05d}_seed{seed}.npz")[0]
        b = load_chunk(work_dir(parallel) / f"chunk{k:05d}_seed{seed}.npz")[0]
        for name in DIJET_COLUMNS:
            np.testing.assert_array_equal(a[name], b[name])


def test_command_line(tmp_path):
    out = tmp_path / "sig.h5"
    argv = [
        "-q",
        "generate",
        "dijet",
        "--process",
        "wprime",
        "--events",
        "4",
        "--out",
        str(out),
        "--chunk-size",
        "2",
        "--seed",
        "7",
        "--mwprime",
        "3000",
    ]
    assert main(argv) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["n_signal"] == 4 and record["mwprime"] == 3000.0
    assert [c["seed"] for c in record["chunks"]] == [7, 8]


# ------------------------------------------------------------------ errors
def _generate(out, process="qcd", n_events=10, **kwargs):
    """generate_dijet with the physics keywords gathered into its DijetSettings."""
    physics = {name: kwargs.pop(name) for name in list(kwargs) if name in DijetSettings.__dataclass_fields__}
    return generate_dijet(out, DijetSettings(process, **physics), n_events, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"process": "ttbar"}, ValueError, "process must be one of"),
        ({"n_events": 0}, ValueError, "n_events must be > 0"),
        ({"n_events": 2.5}, TypeError, "n_events must be an integer"),
        ({"chunk_size": -1}, ValueError, "chunk_size must be > 0"),
        ({"workers": 0}, ValueError, "workers must be > 0"),
        ({"seed": 0}, ValueError, "seed must be in [1,"),
        (
            {"seed": 900_000_000, "n_events": 20, "chunk_size": 10},
            ValueError,
            "seed must be in [1, 899999999]",
        ),
        ({"pthat_min": -5.0}, ValueError, "pthat_min must be > 0"),
        ({"pthat_min": 5000.0}, ValueError, "pthat_min = 5000 GeV would cut"),
        ({"process": "wprime", "mx": 2000.0, "my": 900.0}, ValueError, "mx + my must be below"),
        ({"process": "wprime", "my": 0.0}, ValueError, "my must be > 0"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=None) as info:
        _generate(tmp_path / "out.h5", **kwargs)
    assert message in str(info.value)
    assert not work_dir(tmp_path / "out.h5").exists()


def test_output_and_work_folder_are_protected(tmp_path, capsys):
    out = tmp_path / "events.h5"
    with pytest.raises(ValueError, match="must be an HDF5 file name ending in .h5"):
        generate_dijet(tmp_path / "events.csv", DijetSettings("qcd"), 5)
    out.write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        generate_dijet(out, DijetSettings("qcd"), 5)
    assert out.read_text() == "precious"

    # chunks made with other settings are not silently mixed in or thrown away
    other = tmp_path / "other.h5"
    generate_dijet(other, DijetSettings("wprime"), 2, chunk_size=2, seed=30, progress=False)
    other.unlink()
    with pytest.raises(ValueError, match="made with other settings"):
        generate_dijet(other, DijetSettings("wprime", mx=400.0), 2, chunk_size=2, seed=30, progress=False)

    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "-q",
                "generate",
                "dijet",
                "--process",
                "qcd",
                "--events",
                "5",
                "--out",
                str(other),
                "--mx",
                "300",
            ]
        )
    assert exit_info.value.code == 2
    assert "--mwprime, --mx, --my and --wprime-width apply only to --process wprime" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "-q",
                "generate",
                "dijet",
                "--process",
                "wprime",
                "--events",
                "-3",
                "--out",
                str(other),
            ]
        )
    assert "--events: must be > 0" in capsys.readouterr().err


# ------------------------------------------------------------------ the reference sample
@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="reference sample shared/data/lhco-pythia not present"
)
@pytest.mark.parametrize(
    ("process", "name", "n"),
    [("wprime", "signal_wprime3500_x500_y100", 30), ("qcd", "background_pt700_part1", 8)],
)
def test_reproduces_the_reference_sample(process, name, n):
    """The reference was made with the same recipe: its first chunk's seed gives its first rows."""
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    record = json.loads((REFERENCE / f"{name}.features.json").read_text())["chunks"][0]
    seed = int(
        next(line for line in record["settings"] if line.startswith("Random:seed")).split("=")[1]
    )
    columns, ours = generate_chunk(DijetSettings(process), n, seed=seed)
    assert ours["settings"] == record["settings"]
    reference = pandas.read_hdf(REFERENCE / f"{name}.features.h5")
    for column in DIJET_COLUMNS:
        np.testing.assert_allclose(
            columns[column].astype(np.float32),
            reference[column].to_numpy()[:n],
            rtol=1e-5,
            atol=1e-6,
            err_msg=column,
        )


# ------------------------------------------------------------------ Z' -> t tbar and jet cuts (F+M)
FM_CUTS = {"leading_pt_min": 450.0, "leading_pt_max": 800.0, "subleading_pt_min": 200.0}


def test_zprime_to_top_pairs_with_the_flux_mutability_cuts():
    columns, record = generate_chunk(DijetSettings("zprime", **FM_CUTS), 20, seed=5)
    pt1, pt2 = np.hypot(columns["pxj1"], columns["pyj1"]), np.hypot(columns["pxj2"], columns["pyj2"])
    assert ((pt1 > 450) & (pt1 < 800)).all() and (pt2 > 200).all() and (pt2 <= pt1).all()
    assert record["cuts"] == FM_CUTS and record["label"] == 1
    assert "32:onIfAny = 6" in record["settings"] and "32:m0 = 1300." in record["settings"]
    # boosted tops: the leading jet's mass sits near the top mass
    assert 140 < np.median(columns["mj1"]) < 210


def test_cuts_are_recorded_and_guard_resuming(tmp_path):
    out = tmp_path / "z.h5"
    generate_dijet(out, DijetSettings("zprime", mzprime=1200.0, **FM_CUTS), 4, chunk_size=4, seed=3, progress=False)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["mzprime"] == 1200.0 and record["selection"]["leading_jet_pt_max"] == 800.0
    # a rerun with other cuts must not reuse the chunks made with these
    out.unlink()
    with pytest.raises(ValueError, match="made with other settings"):
        generate_dijet(out, DijetSettings("zprime", mzprime=1200.0, **{**FM_CUTS, "leading_pt_max": 700.0}), 4,
                       chunk_size=4, seed=3, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"leading_pt_min": 800.0, "leading_pt_max": 450.0}, "leading_pt_max must exceed leading_pt_min"),
        ({"subleading_pt_min": -1.0}, "subleading_pt_min must be > 0"),
        ({"process": "zprime", "mzprime": 300.0}, "mzprime must exceed 2 m_top"),
        ({"pthat_min": 900.0, "leading_pt_min": 450.0}, "pthat_min = 900 GeV would cut"),
    ],
)
def test_bad_cuts_are_named(tmp_path, kwargs, message):
    with pytest.raises(ValueError) as info:
        _generate(tmp_path / "out.h5", **kwargs)
    assert message in str(info.value)


def test_command_line_zprime_options(tmp_path, capsys):
    out = tmp_path / "z.h5"
    argv = ["-q", "generate", "dijet", "--process", "zprime", "--events", "2", "--out", str(out), "--seed", "9",
            "--leading-pt-min", "450", "--leading-pt-max", "800", "--subleading-pt-min", "200"]
    assert main(argv) == 0
    assert json.loads(out.with_suffix(".json").read_text())["selection"]["subleading_jet_pt_min"] == 200.0
    with pytest.raises(SystemExit):
        main(["-q", "generate", "dijet", "--process", "qcd", "--events", "2", "--out", str(tmp_path / "q.h5"),
              "--mzprime", "1000"])
    assert "--mzprime applies only to --process zprime" in capsys.readouterr().err
