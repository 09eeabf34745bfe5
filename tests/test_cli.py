"""The ``likely`` command: the demo end to end, run-directory safety, errors."""

import json
import runpy
from pathlib import Path

import pytest

from likely.cli import main
from likely.data.lhco import read_lhco

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


def _poisoned_features_file(tmp_path):
    """The bundled background and signal in one labelled file, with mj1 = NaN and pxj1 = inf in two events."""
    import numpy as np
    import pandas as pd

    from likely.data.lhco import read_lhco_raw
    from likely.data.samples import bundled_dijet_paths

    background, signal = (read_lhco_raw(path) for path in bundled_dijet_paths())
    table = pd.concat([background.assign(label=0.0), signal.assign(label=1.0)], ignore_index=True).astype(np.float32)
    table.loc[3, "mj1"], table.loc[4, "pxj1"] = np.nan, np.inf
    path = tmp_path / "poisoned.h5"
    table.to_hdf(path, key="df")
    return path, len(table)


def test_search_run_reports_dropped_events_and_strict_refuses(tmp_path, capsys):
    data, n = _poisoned_features_file(tmp_path)
    out = tmp_path / "run"
    assert main(["-q", "search", "run", "--data", str(data), "--method", "cwola", "--inject", "200",
                 "--out", str(out)]) == 0
    record = json.loads((out / "results.json").read_text())["input"]
    assert record["n_read"] == n and record["columns"]["mj1"] == 1 and record["columns"]["pxj1"] == 1
    assert record["n_dropped"] == read_lhco(data, return_invalid=True)[1].n_dropped >= 2  # the sample has NaN τ21 too
    assert f"**{record['n_dropped']} dropped** for NaN/inf" in (out / "report.md").read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "search", "run", "--data", str(data), "--strict", "--out", str(tmp_path / "strict")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"poisoned.h5: {record['n_dropped']} of {n}" in error and len(error.strip().splitlines()) == 1
