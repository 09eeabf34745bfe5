"""Geometries: voxel layout, indexing, binning conservation, the CaloChallenge XML reader."""

import math

import numpy as np
import pytest

from likely.calo import CartesianGeometry, CylindricalGeometry, seed000_geometry

XML = """<Bins>
  <Bin pid="22" etaMin="20" etaMax="25" name="photon">
    <Layer id="0" r_edges="0,5,10,30" n_bin_alpha="1" />
    <Layer id="2" r_edges="0,2,4,8" n_bin_alpha="4" />
    <Layer id="1" r_edges="0" n_bin_alpha="1" />
  </Bin>
  <Bin pid="11" name="electron">
    <Layer id="0" r_edges="0,50" n_bin_alpha="1" />
  </Bin>
</Bins>
"""


@pytest.fixture
def xml_path(tmp_path):
    path = tmp_path / "binning.xml"
    path.write_text(XML)
    return path


def test_seed000_layout_matches_table_1():
    g = seed000_geometry()
    assert g.layer_shapes == ((3, 96), (12, 12), (12, 6))
    assert g.layer_sizes == (288, 144, 72) and g.n_voxels == 504
    assert np.allclose(np.diff(g.layer_edges), [90, 347, 43]) and g.depth == 480
    assert g.extent == (-240, 240, -240, 240) and g.z_front == 1000
    # voxel (phi row 1, eta col 48) of layer 0 is at x = 2.5 mm, y = 0 mm (centre of 160 mm row)
    assert g.voxel_index(2.5, 0.0, 45.0) == 1 * 96 + 48
    assert np.allclose(g.voxel_centres(0)[1 * 96 + 48], [2.5, 0.0])
    # layer 2: 12 phi rows of 40 mm, 6 eta columns of 80 mm
    assert g.voxel_index(-239.0, 239.0, 479.0) == 288 + 144 + 11 * 6 + 0
    assert np.all(g.voxel_index([0, 0, 241, 0], [0, 0, 0, -241], [-0.1, 480.0, 10, 10]) == -1)


def test_bin_conserves_energy_inside_and_drops_outside():
    g = seed000_geometry()
    rng = np.random.default_rng(0)
    n = 20_000
    x, y = rng.uniform(-300, 300, (2, n))
    depth = rng.uniform(-20, 500, n)
    energy = rng.exponential(1.0, n)
    shower = rng.integers(0, 7, n)
    out = g.bin(x, y, depth, energy, shower, n_showers=8)
    inside = (np.abs(x) < 240) & (np.abs(y) < 240) & (depth >= 0) & (depth < 480)
    expected = np.bincount(shower[inside], weights=energy[inside], minlength=8)
    assert out.shape == (8, 504)
    np.testing.assert_allclose(out.sum(axis=1), expected, rtol=1e-12)
    assert out[7].sum() == 0
    # each voxel gets exactly the points whose index it is
    idx = g.voxel_index(x, y, depth)
    assert np.isclose(out[:, idx[0]].sum(), energy[idx == idx[0]].sum()) or idx[0] < 0


def test_bin_rejects_bad_shower_indices():
    g = seed000_geometry()
    with pytest.raises(ValueError, match="shower indices"):
        g.bin([0.0], [0.0], [1.0], [1.0], [3], n_showers=2)
    with pytest.raises(ValueError, match="points"):
        g.bin([0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0], [0])


def test_cartesian_validation():
    with pytest.raises(ValueError, match="one entry per layer"):
        CartesianGeometry([(2, 2)], [(1, 1), (1, 1)], [1])
    with pytest.raises(ValueError, match="positive layer thicknesses"):
        CartesianGeometry([(2, 2)], [(1, 1)], [0])


def test_xml_reader(xml_path):
    g = CylindricalGeometry.from_xml(xml_path, "photon", depths=[10, 20, 30])
    # layers sorted by id: 0 (3 rings), 1 (no voxels), 2 (4 alpha x 3 r)
    assert g.layer_sizes == (3, 0, 12) and g.n_voxels == 15
    assert np.allclose(g.layer_edges, [0, 10, 30, 60])
    # layer 2 point at r = 3 (second ring), alpha = +0.1 (third of four bins from -pi)
    r, a = 3.0, 0.1
    assert g.voxel_index(r * math.cos(a), r * math.sin(a), 45.0) == 3 + 2 * 3 + 1
    assert g.voxel_index(1.0, 0.0, 20.0) == -1  # layer 1 has no voxels
    assert g.voxel_index(31.0, 0.0, 5.0) == -1  # beyond the last ring
    c = g.voxel_centres(2)
    assert c.shape == (12, 2) and np.isclose(np.hypot(*c[2 * 3 + 1]), 3.0)
    assert np.allclose(g.voxel_centres(0), 0.0)
    assert CylindricalGeometry.from_xml(xml_path, "22", total_depth=90).depth == 90
    assert CylindricalGeometry.from_xml(xml_path, "electron").layer_sizes == (1,)


def test_xml_errors(xml_path, tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        CylindricalGeometry.from_xml(xml_path)
    with pytest.raises(FileNotFoundError):
        CylindricalGeometry.from_xml(tmp_path / "missing.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text("<Bins><Bin name='p'><Layer id='0' r_edges='0,a'/></Bin></Bins>")
    with pytest.raises(ValueError, match="r_edges"):
        CylindricalGeometry.from_xml(bad)
    with pytest.raises(ValueError, match="start at 0"):
        CylindricalGeometry([[1, 2]], [1], [1])


def test_cylindrical_bin_conserves_energy(xml_path):
    g = CylindricalGeometry.from_xml(xml_path, "photon", depths=[10, 20, 30])
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 8, (2, 5000))
    depth = rng.uniform(0, 60, 5000)
    e = rng.random(5000)
    inside = g.voxel_index(x, y, depth) >= 0
    r = np.hypot(x, y)
    expected_inside = ((depth < 10) & (r < 30)) | ((depth >= 30) & (r < 8))
    assert np.array_equal(inside, expected_inside)
    np.testing.assert_allclose(g.bin(x, y, depth, e).sum(), e[inside].sum(), rtol=1e-12)


def test_entry_points():
    g = seed000_geometry()
    origin = np.array([[0, 0, 330.0], [0, 0, 1040.0], [0, 0, 330.0], [0, 0, 330.0]])
    d = np.array([[0.1, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.1]])
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    entry, hits = g.entry(origin, d)
    assert hits.tolist() == [True, True, False, False]
    np.testing.assert_allclose(entry[0], [67.0, 0.0, 0.0], atol=1e-9)  # 670 mm * 0.1
    np.testing.assert_allclose(entry[1], [0.0, 0.0, 40.0])
