"""The command line against hostile arguments, as a user meets it: one error line, no traceback.

Each case runs ``likely`` (in this process through :func:`likely.cli.main`, where a real
process matters in a subprocess) and checks the exit code (2: bad input, 1: the system
failed) and that stderr holds exactly one ``likely <command>: error: ...`` line naming the
culprit, with no Python traceback, and that nothing already on disk was lost.
"""

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from likely.cli import main

SHOWERS = ["generate", "showers", "--particle", "photon", "--energy", "10", "--events", "20", "--format",
           "calochallenge"]


def likely(*args: str, cwd: Path, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "likely", "-q", *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=preexec, timeout=240)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *names: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("likely ")]
    assert len(errors) == 1 and ": error: " in errors[0], result.stderr
    for name in names:
        assert name in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "text.h5").write_text("mjj,label\n3500,1\n")
    (tmp_path / "a_file").write_text("not a folder")
    return tmp_path


@pytest.fixture
def cli(files, monkeypatch, capsys):
    """``likely ARGS`` run in this process, in the ``files`` folder; an escaping exception fails the test."""
    monkeypatch.chdir(files)

    def run(*args: str) -> subprocess.CompletedProcess:
        try:
            code = main(["-q", *args])
        except SystemExit as exit:
            code = exit.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)
    return run


@pytest.mark.parametrize("args, culprit", [
    (["search", "run", "--data", "missing.h5", "--out", "run"], "missing.h5"),
    (["search", "run", "--data", "empty.h5", "--out", "run"], "empty.h5"),
    (["search", "run", "--data", "text.h5", "--out", "run"], "text.h5"),
    (["search", "score", "a_file", "--data", "text.h5", "--out", "s.npz"], "a_file"),
    (["search", "scan", "missing.toml"], "missing.toml"),
    (["search", "latent-map", "--models", "a=missing.h5", "b=text.h5", "--out", "run"], "missing.h5"),
    (["report", "missing_run"], "missing_run"),
    (["detect", "fm", "train", "--data", "empty.h5", "--out", "run"], "empty.h5"),
    (["detect", "fm", "score", "--run", "missing_run", "--data", "text.h5"], "missing_run"),
    (["detect", "ae", "train", "--data", "empty.h5", "--out", "run"], "empty.h5"),
    (["detect", "vae", "train", "--data", "text.h5", "--out", "run"], "text.h5"),
    (["detect", "dvae", "score", "missing_run", "--data", "text.h5"], "missing_run"),
    (["detect", "ae", "report", "missing_run", "--data", "text.h5"], "missing_run"),
    (["calo", "train", "--data", "text.h5", "--layers", "4", "--out", "run"], "text.h5"),
    (["calo", "score", "--run", "a_file", "--data", "text.h5", "--out", "s.npz"], "a_file"),
    (["generate", "detector", "text.h5", "--to", "adc", "--out", "o.h5"], "text.h5"),
    (["generate", "detector", "missing.h5", "--to", "adc", "--out", "o.h5"], "missing.h5"),
    (["generate", "detector", "empty.h5", "--to", "adc", "--out", "o.h5", "--card", "text.h5"], "text.h5"),
    (["data", "info", "missing.h5"], "missing.h5"),
    (["data", "info", "empty.h5"], "empty.h5"),
    (["data", "convert", "text.h5", "--out", "o.h5"], "text.h5"),
    (["data", "represent", "empty.h5", "--as", "jet-images", "--out", "o.h5"], "empty.h5"),
    (["data", "pool", "missing.h5", "--out", "o.h5"], "missing.h5"),
])
def test_unreadable_inputs_give_one_line_naming_them(files, cli, args, culprit):
    result = cli(*args)
    assert_one_line_error(result, 2, culprit)
    run = files / "run"
    assert not run.exists() or not any(run.iterdir()), "a refused command left files that block its rerun"


#: every command that writes, with ``{run}`` (a run directory) or ``{file}`` (an output file) for --out
WRITERS = [
    ["search", "run", "--toy", "1000", "--out", "{run}"],
    ["search", "score", "model", "--data", "text.h5", "--out", "{file}.npz"],
    ["search", "discover", "--toy", "1000", "--out", "{run}"],
    ["search", "latent-map", "--models", "a=text.h5", "b=text.h5", "--out", "{run}"],
    ["search", "tail", "--data", "text.h5", "--reference", "text.h5", "--t-cut", "4", "--out", "{run}"],
    ["generate", "dijet", "--process", "qcd", "--events", "10", "--out", "{file}.h5"],
    ["generate", "jets", "--process", "top", "--jets", "10", "--out", "{file}.h5"],
    [*SHOWERS, "--out", "{file}.h5"],
    ["generate", "detector", "text.h5", "--to", "event-images", "--out", "{file}.h5"],
    ["calo", "train", "--data", "text.h5", "--layers", "4", "--out", "{run}"],
    ["calo", "sample", "--run", "model", "--log-uniform", "1", "10", "--out", "{file}.h5"],
    ["calo", "score", "--run", "model", "--data", "text.h5", "--out", "{file}.npz"],
    ["calo", "calibrate", "--run", "model", "--data", "text.h5", "--out", "{run}"],
    ["calo", "evaluate", "--reference", "text.h5", "--generated", "text.h5", "--out", "{run}"],
    ["calo", "study", "--run", "model", "--background", "text.h5", "--generate", "10", "--out", "{run}"],
    ["detect", "fm", "train", "--data", "text.h5", "--out", "{run}"],
    ["detect", "ae", "train", "--data", "text.h5", "--out", "{run}"],
    ["detect", "dvae", "score", "model", "--data", "text.h5", "--out", "{file}.npz"],
    ["data", "convert", "text.h5", "--out", "{file}.h5"],
    ["data", "represent", "text.h5", "--as", "point-clouds", "--out", "{file}.h5"],
    ["data", "pool", "text.h5", "--out", "{file}.h5"],
]


def _with_out(args: list[str], run: str, file: str) -> list[str]:
    return [arg.format(run=run, file=file) for arg in args]


@pytest.mark.parametrize("args", WRITERS, ids=lambda args: " ".join(args[:2]))
def test_existing_output_is_kept_without_force(files, cli, args):
    (files / "full").mkdir()
    for name in ("full/results.json", "out.h5", "out.npz"):
        (files / name).write_text("precious")
    result = cli(*_with_out(args, run="full", file="out"))
    assert_one_line_error(result, 2, "--force")
    assert all((files / name).read_text() == "precious" for name in ("full/results.json", "out.h5", "out.npz"))
    assert sorted(path.name for path in files.iterdir()) == ["a_file", "empty.h5", "full", "out.h5", "out.npz",
                                                             "text.h5"]


@pytest.mark.parametrize("args", WRITERS, ids=lambda args: " ".join(args[:2]))
def test_output_under_a_file_is_refused(files, cli, args):
    result = cli(*_with_out(args, run="a_file/run", file="a_file/out"))
    assert_one_line_error(result, 2, "a_file")
    assert (files / "a_file").read_text() == "not a folder"


def test_a_file_as_run_directory_is_refused(files, cli):
    result = cli("search", "run", "--toy", "1000", "--out", "a_file")
    assert_one_line_error(result, 2, "a_file")
    assert (files / "a_file").read_text() == "not a folder"


def _file_size_limit(limit: int):
    """A child whose files cannot grow past ``limit`` bytes: writes fail as on a full disk (EFBIG)."""
    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


def test_full_disk_fails_in_one_line_and_keeps_the_old_file(files):
    assert likely(*SHOWERS, "--out", "showers.h5", cwd=files).returncode == 0
    before = (files / "showers.h5").read_bytes()
    result = likely(*SHOWERS, "--events", "2000", "--out", "showers.h5", "--force", cwd=files,
                    preexec=_file_size_limit(len(before) // 2))
    assert_one_line_error(result, 1, "too large")
    assert (files / "showers.h5").read_bytes() == before
    assert sorted(path.name for path in files.iterdir() if path.name.startswith(".")) == []


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs POSIX signals")
def test_interrupt_exits_130_without_traceback(files):
    # as from a terminal: SIGINT at its default, whatever the test runner's process ignores (pytest-xdist
    # workers ignore SIGINT, and a child inheriting that gets no KeyboardInterrupt at all)
    process = subprocess.Popen([sys.executable, "-m", "likely", "-q", *SHOWERS[:-4], "--events", "10000000",
                                "--chunk-size", "20", "--out", "big.h5"], cwd=files, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_until_running(files, process)
    process.send_signal(signal.SIGINT)
    try:
        stderr = process.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        # about 1 run in 10 the first Ctrl-C is lost and the generator runs on (seen in repeated runs of
        # this test; the cause is not found: no code of ours handles SIGINT, and CPython drops a
        # KeyboardInterrupt raised inside a finalizer); a user then presses Ctrl-C again, so does the test
        process.send_signal(signal.SIGINT)
        stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr, stderr
    assert not (files / "big.h5").exists()


def _wait_until_running(folder: Path, process: subprocess.Popen) -> None:
    """Block until the generator has saved its first chunk (imports are done, work is under way)."""
    deadline = time.monotonic() + 120
    while not any((folder / "big.h5.chunks").glob("chunk*.npz")):
        assert process.poll() is None and time.monotonic() < deadline, "the generator did not start"
        time.sleep(0.05)


def test_debug_shows_the_traceback(cli):
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        cli("--debug", "search", "run", "--data", "missing.h5", "--out", "run")
