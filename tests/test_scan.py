"""``likely search scan``: config validation, Dask jobs, resume, config changes, failures, report."""

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from likely.classify import TreeClassifier
from likely.cli import main
from likely.cli.report import write_scan_report
from likely.cli.search import load_events
from likely.density import FlowMatching
from likely.nn import Trainer
from likely.search import SIGMA
from likely.search.scan import ScanError, injected_counts, make_jobs, run_job, run_scan
from likely.search.scan_config import ScanConfig, read_scan_config
from likely.search.study import METHODS

CONFIG = {
    "data": {"toy": 5000},
    "methods": ["iad", "cwola"],
    "seeds": 2,
    "injection": {"signal": [0, 200]},
    "windows": {"sr": [[3.3, 3.7], [3.2, 3.6]]},
}


def fast(name, seed):
    """The method with one small boosted-tree classifier (the defaults train 10 x 200 trees)."""
    return METHODS[name](classifier=TreeClassifier(max_iter=10), random_state=seed)


def tiny_sigma(name, seed):
    model = FlowMatching(hidden=(16, 16), trainer=Trainer(epochs=2, progress=False), random_state=seed)
    return SIGMA(density=model, classifier=TreeClassifier(max_iter=10, random_state=seed), random_state=seed)


def broken_cwola(name, seed):
    if name == "cwola":
        raise RuntimeError("planted failure")
    return fast(name, seed)


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client

    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as local:
        yield local


@pytest.fixture(scope="module")
def events():
    return load_events(toy=5000, n_signal=200)


@pytest.fixture(scope="module")
def scan(tmp_path_factory, client, events):
    out = tmp_path_factory.mktemp("scan") / "scan"
    run_scan(ScanConfig.from_mapping(CONFIG), *events, out, client=client, factory=fast, progress=False)
    return out


def _copy(scan, tmp_path):
    return shutil.copytree(scan, tmp_path / "scan")


def _mtimes(out):
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "jobs").glob("*/result.json")}


# --- configs ---------------------------------------------------------------------------------

def test_sliding_windows_and_seed_count_are_expanded():
    config = ScanConfig.from_mapping({**CONFIG, "seeds": 3, "windows": {
        "sliding": {"start": 3.0, "stop": 4.0, "width": 0.4, "step": 0.2}, "sideband_width": 0.3}})
    assert config.seeds == (0, 1, 2)
    assert config.windows == ((3.0, 3.4), (3.2, 3.6), (3.4, 3.8), (3.6, 4.0))
    jobs = make_jobs(config, {"n0": 0, "n200": 200})
    assert len(jobs) == 2 * 2 * 3 * 4 and len({job.id for job in jobs}) == len(jobs)
    assert jobs[0].window.sideband_width == 0.3


def test_toml_config_is_read_with_files_relative_to_it(tmp_path):
    path = tmp_path / "scan.toml"
    path.write_text('methods = ["cathode"]\nseeds = [4, 7]\n[data]\nfiles = ["bkg.h5", "sig.h5"]\n'
                    '[injection]\ns_over_b = [0.005]\nreference_window = [3.4, 3.6]\n[windows]\nsr = [[3.3, 3.7]]\n')
    config = read_scan_config(path)
    assert config.data == {"files": [str(tmp_path / "bkg.h5"), str(tmp_path / "sig.h5")]}
    assert config.seeds == (4, 7) and config.injection == "s_over_b" and config.reference_window == (3.4, 3.6)


def test_example_config_is_valid():
    config = read_scan_config(Path(__file__).parents[1] / "examples" / "scan.toml")
    assert config.data == {"bundled": True} and config.windows == ((3.1, 3.5), (3.3, 3.7), (3.5, 3.9))
    assert len(make_jobs(config, {"n0": 0, "n150": 150, "n350": 350})) == 36


@pytest.mark.parametrize("change, message", [
    ({"methods": ["iad", "magic"]}, "'methods': unknown method 'magic'"),
    ({"methods": []}, "'methods' must be a non-empty list"),
    ({"seeds": 0}, "'seeds' must be > 0"),
    ({"seeds": [1, 1]}, "'seeds' has duplicates"),
    ({"seeds": 2.5}, "'seeds' must be a count (integer) or a list"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"data": {"toy": 10, "bundled": True}}, "exactly one of 'data.files', 'data.bundled', 'data.toy'"),
    ({"data": {"toy": "many"}}, "'data.toy' must be an integer"),
    ({"injection": {"signal": [-5]}}, "'injection.signal' must be >= 0"),
    ({"injection": {"signal": [100], "reference_window": [3, 4]}}, "only applies to 'injection.s_over_b'"),
    ({"injection": {"s_over_b": [0.1], "significance": [2]}}, "exactly one of"),
    ({"injection": {}}, "exactly one of 'injection.signal', 'injection.s_over_b'"),
    ({"windows": {"sr": [[3.7, 3.3]]}}, "'windows.sr' needs low < high"),
    ({"windows": {"sr": [3.3, 3.7]}}, "'windows.sr' must be a [low, high] pair"),
    ({"windows": {"sliding": {"start": 3, "stop": 4, "width": 0.4}}}, "missing key 'windows.sliding.step'"),
    ({"windows": {"sliding": {"start": 3, "stop": 4, "width": 0.4, "step": 0}}}, "'windows.sliding.step' must be > 0"),
    ({"windows": {"sliding": {"start": 3, "stop": 3.2, "width": 0.4, "step": 0.1}}}, "is above stop"),
])
def test_bad_config_is_refused_naming_the_key(change, message):
    with pytest.raises((TypeError, ValueError)) as error:
        ScanConfig.from_mapping({**CONFIG, **change})
    assert message in str(error.value)


def test_bad_toml_names_the_file(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("methods = [\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "search", "scan", str(path)])
    assert exit_info.value.code == 2 and f"scan config {path} is not valid TOML" in capsys.readouterr().err


def test_s_over_b_becomes_the_expected_signal_count(events):
    config = ScanConfig.from_mapping({**CONFIG, "injection": {"s_over_b": [0.1, 0.3]}})
    counts = injected_counts(config, *events)
    background, signal = events
    sr = lambda e: ((e.column("mjj") >= 3.3) & (e.column("mjj") < 3.7)).mean()  # noqa: E731
    expected = 0.1 * (5000 - 1500 - 1000) * sr(background) / sr(signal)
    assert list(counts) == ["sb0.1", "sb0.3"] and abs(counts["sb0.1"] - expected) <= 0.5
    assert abs(counts["sb0.3"] - 3 * expected) <= 1.5


def test_significance_becomes_the_expected_signal_count(events):
    config = ScanConfig.from_mapping({**CONFIG, "injection": {"significance": [2.0]}})
    counts = injected_counts(config, *events)
    background, signal = events
    sr = lambda e: ((e.column("mjj") >= 3.3) & (e.column("mjj") < 3.7)).mean()  # noqa: E731
    expected = 2.0 * np.sqrt((5000 - 1500 - 1000) * sr(background)) / sr(signal)
    assert list(counts) == ["z2"] and abs(counts["z2"] - expected) <= 0.5


# --- running, resuming -----------------------------------------------------------------------

def test_scan_writes_every_job_and_the_aggregate(scan):
    results = json.loads((scan / "results.json").read_text())
    assert len(results["jobs"]) == 16 and results["failed"] == []
    assert json.loads((scan / "config.json").read_text()) == results["config"]
    assert results["config"]["n_signal"] == {"n0": 0, "n200": 200}
    for job in results["jobs"]:
        assert (scan / "jobs" / job["id"] / "arrays.npz").is_file()
        # a planted signal is found in the window holding it; no signal, no separation
        if job["job"]["injection"] == "n200" and job["job"]["window"] == [3.3, 3.7]:
            assert job["auc"] > 0.85, job["id"]
        if job["job"]["injection"] == "n0":
            assert job["signal_in_sr"] == 0


def test_a_job_sample_depends_on_injection_and_seed_only(scan):
    def extra_background(job_id):
        with np.load(scan / "jobs" / job_id / "arrays.npz") as arrays:
            return arrays["background_mjj"]

    first = extra_background("iad_n0_seed0_sr3.3-3.7")
    for same in ("cwola_n0_seed0_sr3.3-3.7", "iad_n200_seed0_sr3.2-3.6"):
        np.testing.assert_array_equal(extra_background(same), first)
    assert not np.array_equal(extra_background("iad_n0_seed1_sr3.3-3.7"), first)
    results = json.loads((scan / "results.json").read_text())
    by_id = {job["id"]: job for job in results["jobs"]}
    # methods of one (injection, seed, window) see the same injected data
    assert by_id["iad_n200_seed1_sr3.2-3.6"]["signal_in_sr"] == by_id["cwola_n200_seed1_sr3.2-3.6"]["signal_in_sr"]


def test_sigma_fits_one_density_per_injection_and_seed_for_all_windows(tmp_path, client, events):
    config = ScanConfig.from_mapping({**CONFIG, "methods": ["sigma"], "seeds": 1, "injection": {"signal": [200]}})
    results = run_scan(config, *events, tmp_path / "scan", client=client, factory=tiny_sigma, progress=False)
    jobs = results["jobs"]
    assert len(jobs) == 2 and jobs[0]["density_fit_seconds"] == jobs[1]["density_fit_seconds"] > 0
    for job in make_jobs(config, injected_counts(config, *events)):  # the same as a density fitted per window
        alone = run_job(*events, job, tiny_sigma)
        shared = np.load(tmp_path / "scan" / "jobs" / job.id / "arrays.npz")["score"]
        np.testing.assert_allclose(shared, alone["score"], atol=1e-6)


def test_rerun_runs_only_missing_jobs(scan, tmp_path, client, events, caplog):
    out = _copy(scan, tmp_path)
    before = _mtimes(out)
    (out / "jobs" / "cwola_n200_seed1_sr3.2-3.6" / "result.json").unlink()
    with caplog.at_level(logging.INFO, logger="likely.search.scan"):
        results = run_scan(ScanConfig.from_mapping(CONFIG), *events, out, client=client, factory=fast,
                           progress=False)
    assert "16 jobs, 15 finished earlier, 1 to run" in caplog.text
    after = _mtimes(out)
    assert {k for k in after if after[k] != before.get(k)} == {"cwola_n200_seed1_sr3.2-3.6"}
    assert len(results["jobs"]) == 16


def test_changed_config_is_refused_without_force(scan, tmp_path, client, events):
    out = _copy(scan, tmp_path)
    before = _mtimes(out)
    fewer_seeds = ScanConfig.from_mapping({**CONFIG, "seeds": [0]})
    with pytest.raises(FileExistsError, match=r"another config \(changed: seeds\).*--force"):
        run_scan(fewer_seeds, *events, out, client=client, factory=fast, progress=False)
    results = run_scan(fewer_seeds, *events, out, client=client, factory=fast, progress=False, force=True)
    assert len(results["jobs"]) == 8 and _mtimes(out) == before  # unchanged jobs kept, nothing rerun
    assert json.loads((out / "config.json").read_text())["seeds"] == [0]


def test_non_scan_directory_is_refused(tmp_path, events):
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="holds no scan"):
        run_scan(ScanConfig.from_mapping(CONFIG), *events, tmp_path, factory=fast, progress=False)


def test_window_without_events_is_refused_before_running(tmp_path, events):
    config = ScanConfig.from_mapping({**CONFIG, "windows": {"sr": [[1.0, 2.0]]}})
    with pytest.raises(ValueError, match="no background events in the signal region"):
        run_scan(config, *events, tmp_path / "out", factory=fast, progress=False)
    assert not (tmp_path / "out").exists()


def test_failed_job_keeps_the_others_and_is_retried(tmp_path, client, events):
    config = ScanConfig.from_mapping({**CONFIG, "seeds": [0], "injection": {"signal": [200]},
                                      "windows": {"sr": [[3.3, 3.7]]}})
    out = tmp_path / "scan"
    with pytest.raises(ScanError, match="1 of 2 jobs failed.*planted failure"):
        run_scan(config, *events, out, client=client, factory=broken_cwola, progress=False)
    assert json.loads((out / "results.json").read_text())["failed"] == ["cwola_n200_seed0_sr3.3-3.7"]
    kept = _mtimes(out)
    assert list(kept) == ["iad_n200_seed0_sr3.3-3.7"]
    results = run_scan(config, *events, out, client=client, factory=fast, progress=False)
    assert results["failed"] == [] and len(results["jobs"]) == 2
    assert _mtimes(out)["iad_n200_seed0_sr3.3-3.7"] == kept["iad_n200_seed0_sr3.3-3.7"]


# --- reports, the command on a local cluster of processes --------------------------------------

def test_report_of_a_scan(scan, tmp_path):
    out = _copy(scan, tmp_path)
    results = json.loads((out / "results.json").read_text())
    results["jobs"] = [job for job in results["jobs"] if job["seed"] == 0]  # a scan of one seed
    (out / "results.json").write_text(json.dumps(results))
    assert main(["-q", "report", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert report.count("### 3.") == 2 and "| method | n0 (S/B 0 %) | n200 (S/B" in report
    by_id = {job["id"]: job for job in results["jobs"]}
    assert f"| cwola | {by_id['cwola_n0_seed0_sr3.2-3.6']['max_sic']:.3g} |" in report
    for name in ("max_sic_vs_s_over_b.png", "max_sic_vs_window.png", "plots/sic_n200_sr3.3-3.7.png",
                 "plots/sculpting_n0_sr3.2-3.6.png", "plots/scores_n200_sr3.2-3.6.png"):
        assert (out / name).stat().st_size > 0, name


def test_report_of_a_sliding_scan_shows_the_signal_window(scan, tmp_path):
    out = _copy(scan, tmp_path)
    results = json.loads((out / "results.json").read_text())
    results["config"]["windows"]["sliding"] = {"start": 3.2, "stop": 3.7, "width": 0.4, "step": 0.1}
    results["jobs"] = [job for job in results["jobs"] if job["job"]["injection"] == "n200"]  # fewer plots
    (out / "results.json").write_text(json.dumps(results))
    write_scan_report(out)
    assert "### 3.3 ≤ mjj < 3.7 TeV" in (out / "report.md").read_text()
    assert not (out / "plots" / "sic_n200_sr3.2-3.6.png").exists()


@pytest.mark.slow
def test_scan_command_on_local_worker_processes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the scan goes to runs/tiny
    config = tmp_path / "tiny.toml"
    config.write_text('methods = ["iad"]\nseeds = 1\n[data]\ntoy = 4000\n[injection]\nsignal = [150]\n'
                      '[windows]\nsr = [[3.3, 3.7]]\n')
    assert main(["-q", "search", "scan", str(config), "--workers", "1"]) == 0
    out = tmp_path / "runs" / "tiny"
    (job,) = json.loads((out / "results.json").read_text())["jobs"]
    assert job["id"] == "iad_n150_seed0_sr3.3-3.7" and job["auc"] > 0.8
    assert (out / "report.md").is_file() and (out / "max_sic_vs_s_over_b.png").is_file()


def test_scan_command_on_a_remote_scheduler_by_address(tmp_path, monkeypatch):
    """``--scheduler ADDRESS``: a scheduler and a worker started apart from the command, as on a cluster."""
    import subprocess
    import sys
    import time

    monkeypatch.chdir(tmp_path)
    address_file = tmp_path / "scheduler.json"
    options = ["--scheduler-file", str(address_file)]
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", *options, "--port", "0",
                                  "--dashboard-address", ":0", "--no-show"], stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(300):
            if address_file.is_file() and address_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", *options, "--nworkers", "1",
                                   "--nthreads", "1", "--no-dashboard"], stderr=subprocess.DEVNULL)
        config = tmp_path / "tiny.toml"
        config.write_text('methods = ["iad"]\nseeds = 1\n[data]\ntoy = 4000\n[injection]\nsignal = [150]\n'
                          '[windows]\nsr = [[3.3, 3.7]]\n')
        assert main(["-q", "search", "scan", str(config), "--scheduler", address]) == 0
        (job,) = json.loads((tmp_path / "runs" / "tiny" / "results.json").read_text())["jobs"]
        assert job["id"] == "iad_n150_seed0_sr3.3-3.7" and job["auc"] > 0.8
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
