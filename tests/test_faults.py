"""Faults a long job meets: a SIGKILL part-way (generation, a scan, training), a disk that fills up.

Each test runs the work in a child process, hurts it for real (``SIGKILL``, a file-size
limit that makes writes fail like a full disk), then checks what a user relies on: the
rerun finishes with the result an unhurt run gives, files written before are intact, and
no half-written temporaries are left behind.
"""

import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from likely.data.showers import read_calochallenge
from likely.nn.checkpoint import load_safely

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and resource limits")
SHOWERS = ["-m", "likely", "-q", "generate", "showers", "--particle", "photon", "--energy-range", "1", "50",
           "--format", "calochallenge", "--chunk-size", "25", "--seed", "3"]


def temporaries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob(".*.tmp"))


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """``python args`` in ``cwd``, in a process group of its own (so its workers can be killed with it)."""
    return subprocess.Popen([sys.executable, *args], cwd=cwd, start_new_session=True)


def kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    """SIGKILL ``process`` and its worker processes at a random moment of the 0.2 s after ``ready()`` holds.

    The random delay lands the kill anywhere: between steps, inside a save, in a worker.
    """
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "the job did not get far enough to be killed"
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.2))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def python(*args: str, cwd: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    """Run ``python args`` in ``cwd``; with ``limit_bytes`` no file it writes may grow past that (EFBIG)."""
    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_files if limit_bytes else None)


def test_killed_generation_resumes_to_the_file_an_unkilled_run_writes(tmp_path):
    assert python(*SHOWERS, "--events", "1000", "--out", "reference.h5", cwd=tmp_path).returncode == 0
    chunks = tmp_path / "killed.h5.chunks"
    kill_when(start(*SHOWERS, "--events", "1000", "--out", "killed.h5", cwd=tmp_path), lambda: len(list(chunks.glob("chunk*.npz"))) >= 2)
    assert not (tmp_path / "killed.h5").exists()
    (chunks / ".chunk00031.npz.x1y2.tmp").write_bytes(b"half a chunk")  # what a kill inside a save leaves

    rerun = python(*SHOWERS, "--events", "1000", "--out", "killed.h5", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    reference, resumed = read_calochallenge(tmp_path / "reference.h5"), read_calochallenge(tmp_path / "killed.h5")
    np.testing.assert_array_equal(resumed.energies, reference.energies)
    np.testing.assert_array_equal(resumed.incident_energies, reference.incident_energies)
    assert temporaries(tmp_path) == []


SCAN = 'methods = ["iad"]\nseeds = 3\n[data]\ntoy = 4000\n[injection]\nsignal = [150]\n[windows]\nsr = [[3.3, 3.7]]\n'


def test_killed_scan_keeps_finished_jobs_and_runs_each_job_once(tmp_path):
    (tmp_path / "tiny.toml").write_text(SCAN)
    command = ["-m", "likely", "-q", "search", "scan", "tiny.toml", "--workers", "1", "--out", "scan"]
    jobs = tmp_path / "scan" / "jobs"
    kill_when(start(*command, cwd=tmp_path), lambda: any(jobs.glob("*/result.json")))
    finished = {path.parent.name: path.stat().st_mtime_ns for path in jobs.glob("*/result.json")}
    assert 1 <= len(finished) < 3

    rerun = python(*command, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    ids = [job["id"] for job in json.loads((tmp_path / "scan" / "results.json").read_text())["jobs"]]
    assert sorted(ids) == [f"iad_n150_seed{seed}_sr3.3-3.7" for seed in range(3)]
    assert {name: (jobs / name / "result.json").stat().st_mtime_ns for name in finished} == finished
    assert temporaries(tmp_path) == []


TRAIN = textwrap.dedent("""
    import sys, torch
    from likely.nn import Trainer
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(2000, 8)
    y = x @ torch.randn(8, 1)
    model = torch.nn.Sequential(torch.nn.Linear(8, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1))
    loss = lambda a, b: ((model(a) - b) ** 2).mean()
    history = Trainer(epochs=int(sys.argv[1]), batch_size=100, patience=None, checkpoint="fit.pt",
                      progress=False).fit(model, loss, (x, y), random_state=1)
    torch.save(model.state_dict(), "model.pt")
""")


def test_killed_training_resumes_from_an_intact_checkpoint(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    checkpoint = tmp_path / "fit.pt"
    kill_when(start("train.py", "200", cwd=tmp_path), lambda: checkpoint.is_file() and len(load_safely(checkpoint)["history"]["train_loss"]) >= 2)
    epochs_done = len(load_safely(checkpoint)["history"]["train_loss"])
    assert 2 <= epochs_done < 200

    rerun = python("train.py", "200", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert len(load_safely(checkpoint)["history"]["train_loss"]) == 200
    assert torch.load(tmp_path / "model.pt", weights_only=True)
    assert temporaries(tmp_path) == []


SAVE_FLOW = textwrap.dedent("""
    import sys, numpy as np
    from likely.density import Flow
    from likely.nn import Trainer
    X = np.random.default_rng(0).normal(size=(300, 2)).astype("f4")
    flow = Flow(transforms=2, hidden=(int(sys.argv[1]),) * 2, trainer=Trainer(epochs=1, progress=False),
                random_state=0).fit(X)
    flow.save("flow")
""")


def test_full_disk_while_saving_a_model_keeps_the_old_folder(tmp_path):
    (tmp_path / "save.py").write_text(SAVE_FLOW)
    assert python("save.py", "8", cwd=tmp_path).returncode == 0
    before = {path.name: path.read_bytes() for path in (tmp_path / "flow").iterdir()}
    small = max(len(content) for content in before.values())

    failed = python("save.py", "512", cwd=tmp_path, limit_bytes=2 * small)  # the bigger model does not fit
    assert failed.returncode != 0 and "too large" in failed.stderr.lower(), failed.stderr
    assert {path.name: path.read_bytes() for path in (tmp_path / "flow").iterdir()} == before
    assert temporaries(tmp_path) == []
