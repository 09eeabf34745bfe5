"""The ``likely`` command: the demo end to end, run-directory safety, errors."""

import json
import runpy
from pathlib import Path

import pytest

from likely.cli import main

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_density_example_writes_report_plots_and_models(tmp_path):
    out = tmp_path / "density"
    example = runpy.run_path(str(EXAMPLES / "density_toy.py"))
    example["run"](example["parse_args"](["-q", "--out", str(out), "--events", "1500", "--epochs", "2", "--dim", "2"]))
    results = json.loads((out / "results.json").read_text())
    assert set(results["models"]) == {"maf", "coupling", "flow-matching"}
    for entry in results["models"].values():
        assert entry["epochs"] == 2 and entry["gap_nats_per_dim"] == entry["gap_nats_per_dim"]  # not NaN
    for name in ("report.md", "config.json", "marginals.png", "training.png", "models/maf/manifest.json"):
        assert (out / name).stat().st_size > 0, name
    assert "| maf |" in (out / "report.md").read_text()


def test_existing_run_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text("precious")
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "search", "run", "--toy", "1000", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "results.json").read_text() == "precious"


def test_bad_argument_is_reported(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "search", "run", "--toy", "0", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "--toy: must be > 0" in capsys.readouterr().err


@pytest.mark.slow
def test_search_run_and_report(tmp_path):
    out = tmp_path / "search"
    args = ["-q", "search", "run", "--toy", "20000", "--method", "cwola", "--inject", "400", "--out", str(out)]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    (run,) = results["runs"]
    assert run["method"] == "cwola" and run["auc"] > 0.8
    for name in ("report.md", "sic.png", "scores.png", "sculpting.png", "scores.npz", "config.json"):
        assert (out / name).stat().st_size > 0, name
    (out / "report.md").unlink()
    assert main(["-q", "report", str(out)]) == 0
    assert "| cwola |" in (out / "report.md").read_text()


def test_report_of_a_non_run_directory_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path)])
    assert "results.json" in capsys.readouterr().err
