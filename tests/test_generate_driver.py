"""The chunked, resumable driver shared by the generators, on a toy generator (no Pythia)."""

import json

import numpy as np
import pytest

from likely.data.generate import ChunkedGenerator, DijetSettings, generate_in_chunks, plan_run
from likely.data.generate.driver import load_chunk, save_chunk, work_dir

calls = []


def toy_chunk(path, n, seed):
    """Chunk ``seed``: ``n`` draws of NumPy seed ``seed``."""
    calls.append(seed)
    record = {"file": path.name, "seed": seed, "n": n, "seconds": 0.0}
    save_chunk(path, {"x": np.random.default_rng(seed).normal(size=n)}, record)
    return record


def toy_generator(out, tag="a", trim=None):
    written = {}

    def write(path, columns):
        written.update(columns)
        path.write_bytes(b"toy")

    generator = ChunkedGenerator(
        name="toy draws", count="n", chunk_name=lambda k: f"chunk{k}.npz", run_chunk=toy_chunk,
        chunk_args=lambda k, path, size: (path, size, 100 + k),
        matches=lambda k, record, size: record["seed"] == 100 + k and tag == "a",
        write=write, summary=lambda columns, records: {"total": float(columns["x"].sum()), "unit": "GeV"},
        chunk_keys=("file", "n"), versions={"toy": "1"}, trim=trim,
    )
    return generator, written


def _trim(columns, record, size):
    return {"x": columns["x"][:size]}, {**record, "n": size}


def test_chunks_concatenate_in_order_and_the_record_lists_them(tmp_path):
    calls.clear()
    out = tmp_path / "toy.h5"
    generator, written = toy_generator(out)
    assert generate_in_chunks(generator, plan_run(out, 7, 3, 1, False), progress=False) == out
    assert calls == [100, 101, 102]
    expected = np.concatenate([np.random.default_rng(100 + k).normal(size=n) for k, n in enumerate((3, 3, 1))])
    np.testing.assert_array_equal(written["x"], expected)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["chunks"] == [{"file": "chunk0.npz", "n": 3}, {"file": "chunk1.npz", "n": 3},
                                {"file": "chunk2.npz", "n": 1}]
    assert record["total"] == pytest.approx(expected.sum()) and record["unit"] == "GeV"
    assert record["versions"]["toy"] == "1" and "likely" in record["versions"]


def test_resume_reuses_matching_chunks_trims_longer_ones_and_refuses_others(tmp_path):
    out = tmp_path / "toy.h5"
    generate_in_chunks(toy_generator(out)[0], plan_run(out, 7, 3, 1, False), progress=False)
    (work_dir(out) / "chunk1.npz").unlink()
    calls.clear()
    generator, written = toy_generator(out, trim=_trim)
    generate_in_chunks(generator, plan_run(out, 5, 3, 1, True), progress=False)
    assert calls == [101]  # chunk 0 reused; chunk 1 remade with 2 draws
    np.testing.assert_array_equal(written["x"][3:], np.random.default_rng(101).normal(size=2))
    calls.clear()
    generator, written = toy_generator(out, trim=_trim)
    generate_in_chunks(generator, plan_run(out, 4, 3, 1, True), progress=False)
    assert calls == []  # chunk 1 holds 2 draws: its first one is reused
    assert len(written["x"]) == 4
    calls.clear()
    generate_in_chunks(toy_generator(out)[0], plan_run(out, 4, 3, 1, True), progress=False)
    assert calls == [101]  # without trim only a chunk of the exact size is reused
    out.unlink()
    with pytest.raises(ValueError, match="made with other settings"):
        generate_in_chunks(toy_generator(out, tag="b")[0], plan_run(out, 4, 3, 1, False), progress=False)
    calls.clear()
    generate_in_chunks(toy_generator(out, tag="b")[0], plan_run(out, 4, 3, 1, True), progress=False)
    assert calls == [100, 101]  # overwrite regenerates them


def test_plan_run_checks_sizes_and_the_output(tmp_path):
    plan = plan_run(tmp_path / "a.h5", 2500, 1000, 2, False)
    assert plan.sizes == (1000, 1000, 500) and plan.n_events == 2500 and plan.chunk_size == 1000
    assert plan_run(tmp_path / "a.h5", 4, 1000, 1, False).sizes == (4,)
    with pytest.raises(ValueError, match="chunk_size must be > 0"):
        plan_run(tmp_path / "a.h5", 5, 0, 1, False)
    with pytest.raises(TypeError, match="n_events must be an integer"):
        plan_run(tmp_path / "a.h5", 2.5, 1, 1, False)
    with pytest.raises(ValueError, match="ending in .h5"):
        plan_run(tmp_path / "a.csv", 5, 1, 1, False)
    (tmp_path / "b.h5").write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        plan_run(tmp_path / "b.h5", 5, 1, 1, False)
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(FileExistsError, match="is a directory"):
        plan_run(tmp_path / "d.h5", 5, 1, 1, True)


def test_chunk_files_round_trip(tmp_path):
    save_chunk(tmp_path / "c.npz", {"a": np.arange(3), "b": np.ones(2)}, {"seed": [1, 2]})
    columns, record = load_chunk(tmp_path / "c.npz")
    assert record == {"seed": [1, 2]} and sorted(columns) == ["a", "b"]
    np.testing.assert_array_equal(columns["a"], np.arange(3))


def test_dijet_settings_are_validated_frozen_and_recorded():
    settings = DijetSettings("zprime", leading_pt_min=450, leading_pt_max=800, subleading_pt_min=200)
    assert settings.label == 1 and settings.cuts == {"leading_pt_min": 450.0, "leading_pt_max": 800.0,
                                                     "subleading_pt_min": 200.0}
    assert isinstance(settings.leading_pt_min, float) and settings.physics["mzprime"] == 1300.0
    assert DijetSettings().cuts == {"leading_pt_min": 1200.0, "leading_pt_max": None, "subleading_pt_min": 20.0}
    with pytest.raises(AttributeError):
        settings.process = "qcd"
    with pytest.raises(ValueError, match="process must be one of"):
        DijetSettings("ttbar")
    with pytest.raises(TypeError, match="mx must be a number"):
        DijetSettings("wprime", mx="500")
    with pytest.raises(ValueError, match="pthat_min = 700 GeV would cut"):
        DijetSettings("qcd", leading_pt_min=450.0)


def test_dijet_settings_make_the_pythia_lines():
    from likely.data.generate import pythia_settings

    lines = pythia_settings(DijetSettings("wprime", mwprime=3000.0, mx=300.0, my=150.0), 7)
    assert "34:m0 = 3000." in lines and "Random:seed = 7" in lines and "HardQCD:all = on" not in lines
    assert "PhaseSpace:pTHatMin = 400.0" in pythia_settings(DijetSettings(pthat_min=400, leading_pt_min=450), 1)
    with pytest.raises(ValueError, match="seed must be in"):
        pythia_settings(DijetSettings(), 0)
