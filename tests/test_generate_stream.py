"""The synthetic sky patch with a stellar stream: its structure, the table file and the command."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from likely.cli import main
from likely.data import EventSet, read_table, write_table
from likely.data.generate import STREAM_COLUMNS, StreamSettings, generate_stream


@pytest.fixture(scope="module")
def patch():
    return generate_stream(20_000, 2_000, random_state=0)


def test_counts_columns_and_limits(patch):
    assert patch.names == list(STREAM_COLUMNS) and len(patch) == 22_000 and patch.label.sum() == 2_000
    g = patch.column("g")
    assert g.min() > 10.0 and g.max() < 20.2
    assert np.abs(patch.array(["phi", "lambda"])).max() <= 5.0 + 1.0  # the stream's track may poke out by its width
    assert patch.label[:2_000].sum() < 2_000  # shuffled


def test_the_stream_is_where_its_settings_put_it(patch):
    """Means within 4 standard errors of the settings; the track's width its 0.2 degrees within 10 %."""
    s, stream = StreamSettings(), patch[patch.label == 1]
    n = len(stream)
    for column, value in zip(("mu_phi", "mu_lambda"), s.stream_pm):
        assert abs(stream.column(column).mean() - value) < 4 * s.stream_pm_spread / np.sqrt(n)
    phi = stream.column("phi")
    track = stream.column("lambda") - s.track_offset - s.track_curvature * phi**2
    assert abs(track.mean()) < 4 * s.track_width / np.sqrt(n) and abs(track.std() / s.track_width - 1) < 0.1
    main_sequence = stream.column("g") - (5 * np.log10(s.stream_distance) + 10) > s.turnoff_mag + 0.5
    colour = s.turnoff_color + s.ms_color_slope * (stream.column("g") - 5 * np.log10(s.stream_distance) - 10
                                                   - s.turnoff_mag)
    # the isochrone: colour follows magnitude to its width plus the stream's depth (0.2 kpc ~ 0.05 mag)
    assert np.std((stream.column("bp_rp") - colour)[main_sequence]) < 0.05


def test_field_stars_change_with_proper_motion(patch):
    """Near stars move fast and look bright: |mu| and g anticorrelate, and the colour-magnitude
    distribution shifts with mu_lambda (the background the search must carry between sidebands)."""
    field = patch[patch.label == 0]
    speed = np.hypot(field.column("mu_phi"), field.column("mu_lambda"))
    assert spearmanr(speed, field.column("g")).statistic < -0.3
    slow, fast = field.column("mu_lambda") > -5, field.column("mu_lambda") < -20
    assert np.median(field.column("g")[slow]) - np.median(field.column("g")[fast]) > 1.0


def test_same_seed_same_patch_and_bad_counts():
    a, b = generate_stream(500, 20, random_state=4), generate_stream(500, 20, random_state=4)
    np.testing.assert_array_equal(a.array(), b.array())
    assert not np.array_equal(a.array(), generate_stream(500, 20, random_state=5).array())
    with pytest.raises(ValueError, match="n_field"):
        generate_stream(0, 10)
    with pytest.raises(ValueError, match="n_stream"):
        generate_stream(10, -1)


def test_table_round_trip(tmp_path):
    events = generate_stream(300, 10, random_state=1)
    path = write_table(tmp_path / "patch.h5", events)
    back = read_table(path)
    assert back.names == events.names
    np.testing.assert_array_equal(back.array(), events.array())
    np.testing.assert_array_equal(back.label, events.label)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_table(path, events)
    with pytest.raises(ValueError, match="'label'"):
        write_table(tmp_path / "bad.h5", EventSet({"label": [1.0]}))
    with pytest.raises(FileNotFoundError, match="no table file"):
        read_table(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not HDF5")
    with pytest.raises(ValueError, match="is not a readable events table"):
        read_table(tmp_path / "text.h5")


def test_command_writes_the_generator_output(tmp_path):
    out = tmp_path / "patch.h5"
    assert main(["-q", "generate", "stream", "--field", "400", "--stream", "30", "--seed", "7", "--out", str(out)]) == 0
    expected = generate_stream(400, 30, random_state=7)
    np.testing.assert_array_equal(read_table(out).array(), expected.array())
    with pytest.raises(SystemExit) as error:
        main(["-q", "generate", "stream", "--field", "400", "--stream", "-1", "--out", str(tmp_path / "x.h5")])
    assert error.value.code == 2
