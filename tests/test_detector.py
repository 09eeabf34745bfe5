"""The parametric detector: the card, exact deposits, efficiencies, pulls, missing pT, images, ADC objects.

Truth events are built by hand (no Pythia); a "perfect" card (no smearing, every efficiency
1) makes the exact answers exact.
"""

import copy
from pathlib import Path

import numpy as np
import pytest

from likely.data import Particles, adc_layout
from likely.data.detector import DetectorCard, adc_objects, event_images, lepton_trigger, simulate
from likely.data.detector.represent import ETA_EDGE, PHI_PIXEL, PIXEL
from likely.data.event_images import sum_pool
from likely.data.generate.pythia import TRUTH_FEATURES

CMS_TOML = Path(__file__).resolve().parents[1] / "src/likely/data/detector/cards/cms.toml"


def particle(pt, eta, phi, pid, charge=0.0, mass=0.0):
    """One truth particle row (E, px, py, pz, pid, charge)."""
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return [np.sqrt(px**2 + py**2 + pz**2 + mass**2), px, py, pz, pid, charge]


def events(*rows_per_event):
    """Truth Particles, one event per list of particle rows."""
    flat = [row for rows in rows_per_event for row in rows]
    return Particles.from_counts(np.array(flat).reshape(-1, 6), [len(rows) for rows in rows_per_event],
                                 TRUTH_FEATURES)


def card_with(base=None, **changes):
    """The CMS card (or ``base``) with ``changes`` given as ``section__field=value`` (``__`` for a dot)."""
    data = copy.deepcopy((base or DetectorCard.cms()).to_dict())
    for path, value in changes.items():
        *sections, name = path.split("__")
        table = data
        for section in sections:
            table = table[section]
        table[name] = value
    return DetectorCard.from_dict(data)


def perfect(**changes):
    """No smearing, every efficiency 1; ``changes`` as in :func:`card_with`."""
    ones = {f"{kind}__efficiency__values": [[1.0]] for kind in ("electrons", "photons", "muons")}
    zeros = {f"{kind}__resolution__{term}": [0.0] * n for kind, n in (("ecal", 2), ("hcal", 1))
             for term in ("stochastic", "noise", "constant")}
    return card_with(
        tracker__efficiency__values=[[1.0, 1.0], [1.0, 1.0]], tracker__resolution__a=[0.0] * 3,
        tracker__resolution__b=[0.0] * 3, muons__resolution__a=[0.0] * 3, muons__resolution__b=[0.0] * 3,
        jets__resolution_a=0.0, jets__resolution_b=0.0,
        **{name.replace("values", "eta"): [] for name in ones}, **ones, **zeros, **changes)


def flat(sets, name):
    """Feature ``name`` of every real particle of ``sets``."""
    return sets.feature(name)[sets.mask].astype(np.float64)


# ------------------------------------------------------------------ the card
def test_the_cms_card_is_the_bundled_file_and_round_trips():
    card = DetectorCard.cms()
    assert card == DetectorCard.from_toml(CMS_TOML) == DetectorCard.from_dict(card.to_dict())
    assert (card.ecal.eta_cell, card.ecal.phi_cells, card.hcal.eta_cell, card.hcal.phi_cells) == (0.0174, 360, 0.087,
                                                                                                    72)
    assert card.tracker.eta_max == 2.5 and card.jets.radius == 0.4 and card.pileup.mean == 0.0


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("pt_min = 0.1\n", ""), "missing field(s) tracker.pt_min"),
    (lambda t: t.replace("[ecal]\n", "[ecal]\ncolour = 1\n"), "unknown field(s) ecal.colour"),
    (lambda t: t.replace("radius = 0.4", 'radius = "0.4"'), "jets.radius must be a number"),
    (lambda t: t.replace("phi_cells = 72", "phi_cells = 72.0"), "hcal.phi_cells must be an integer"),
    (lambda t: t.replace("[[0.70, 0.95], [0.60, 0.85]]", "[[1.70, 0.95], [0.60, 0.85]]"),
     "tracker.efficiency.values must lie in [0, 1]"),
    (lambda t: t.replace("[[0.70, 0.95], [0.60, 0.85]]", "[[0.70, 0.95]]"), "tracker.efficiency.values must be 2 rows"),
    (lambda t: t.replace("[[0.70, 0.95], [0.60, 0.85]]", "[[0.70, 0.95], [0.6]]"), "tracker.efficiency.values must be"),
    (lambda t: t.replace("a = [0.01, 0.015, 0.025]", "a = [0.01, 0.015]"), "tracker.resolution.a must have 3"),
    (lambda t: t.replace("eta = [0.5, 1.5]", "eta = [1.5, 0.5]", 1), "tracker.resolution.eta must increase"),
    (lambda t: t.replace("nothing = [13]", "nothing = [13, 22]"), "ecal_only, nothing and split must not share"),
    (lambda t: t.replace('"photons", "jets"]', '"photons", "taus"]'), "met.objects must name"),
    (lambda t: t.replace("[pileup]\n", ""), "missing field(s) pileup"),
    (lambda t: t + "\n[pileup.extra]\nx = 1\n", "unknown field(s) pileup.extra"),
])
def test_a_bad_card_names_the_file_and_the_field(tmp_path, edit, message):
    path = tmp_path / "bad.toml"
    path.write_text(edit(CMS_TOML.read_text()))
    with pytest.raises(ValueError) as error:
        DetectorCard.from_toml(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_the_adc_card_is_the_cms_card_with_the_challenge_thresholds():
    adc = DetectorCard.bundled("adc")
    expected = card_with(name=adc.name, electrons__pt_min=3.0, muons__pt_min=3.0, muons__eta_max=2.1,
                         jets__pt_min=15.0)
    assert adc == expected and adc != DetectorCard.cms()
    with pytest.raises(ValueError, match="bundled cards"):
        DetectorCard.bundled("atlas")


def test_the_docs_show_the_default_card_as_it_is():
    doc = (CMS_TOML.parents[5] / "docs" / "detector.md").read_text()
    assert f"```toml\n{CMS_TOML.read_text()}```" in doc


def test_a_missing_or_non_toml_card_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no detector card"):
        DetectorCard.from_toml(tmp_path / "missing.toml")
    (tmp_path / "text.toml").write_text("this is = not toml =")
    with pytest.raises(ValueError, match="text.toml: not a TOML file"):
        DetectorCard.from_toml(tmp_path / "text.toml")


# --------------------------------------------------------- exact deposits
def test_a_photon_lands_in_exactly_one_ecal_cell_with_its_energy():
    card = perfect()
    eta, phi = 0.4321, -1.2345
    reco = simulate(events([particle(40.0, eta, phi, 22)]), card, random_state=0)
    assert reco.ecal.counts.tolist() == [1] and reco.hcal.counts.tolist() == [0]
    cell_eta, cell_phi, energy = reco.ecal.values[0, 0]
    assert energy == np.float32(40.0 * np.cosh(eta))
    assert abs(cell_eta - eta) <= 0.0174 / 2 and abs(cell_phi - phi) <= np.pi / 360
    assert flat(reco.photons, "pt").tolist() == [pytest.approx(40.0)] and reco.jets.counts.tolist() == [0]
    image = event_images(reco).images[0, 1]
    row, column = int((eta + ETA_EDGE) // PIXEL), int((phi + np.pi) // PHI_PIXEL)
    assert np.count_nonzero(image) == 1 and image[row, column] == energy


def test_hcal_cells_spread_over_5_by_5_pixels_keep_their_energy():
    truth = events([particle(30.0, 0.3, 0.2, 130), particle(20.0, -1.1, 2.9, 2112, mass=0.94)])
    reco = simulate(truth, perfect(), random_state=0)
    energies = flat(reco.hcal, "E")
    assert len(energies) == 2 and reco.ecal.counts.tolist() == [0]
    for pool in (1, 5):
        image = event_images(reco, pool=pool).images[0, 2]
        assert image.sum() == pytest.approx(energies.sum(), rel=1e-6)
    fine = event_images(reco).images[0, 2]
    assert np.count_nonzero(fine) == 50
    np.testing.assert_allclose(np.sort(fine[fine > 0]), np.repeat(np.sort(energies) / 25, 25), rtol=1e-6)


def busy_events(n=6, seed=0):
    """``n`` events of 300 random particles: photons, charged and neutral pions, kaons, neutrinos."""
    rng = np.random.default_rng(seed)
    pids = rng.choice([22, 211, -211, 130, 2112, 11, 13, 12], size=(n, 300))
    rows = [[particle(rng.exponential(8.0) + 0.2, rng.uniform(-3.2, 3.2), rng.uniform(-np.pi, np.pi), pid,
                      np.sign(pid) * (abs(pid) in (211, 11, 13)) * (-1 if abs(pid) in (11, 13) else 1), 0.14)
             for pid in event] for event in pids]
    return events(*rows)


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_pooled_images_are_the_sum_pool_of_the_fine_images(k):
    reco = simulate(busy_events(), random_state=1)
    fine, pooled = event_images(reco), event_images(reco, pool=k)
    assert pooled.images.shape == (6, 3, -(-286 // k), -(-360 // k)) and fine.images.any()
    np.testing.assert_allclose(pooled.images, sum_pool(fine.images, k), rtol=1e-6, atol=1e-5)  # float32 rounding
    np.testing.assert_array_equal(pooled.n_tracks, fine.n_tracks)


def test_known_tracks_give_n_tracks_and_the_tracker_image():
    event = [particle(5.0, 0.1, 0.0, 211, 1.0), particle(3.0, -2.0, 1.0, -211, -1.0), particle(8.0, 1.0, 2.0, 11, -1),
             particle(2.0, 2.49, 3.0, 321, 1.0),       # tracked, but outside the image (|eta| > 2.4882)
             particle(9.0, 0.5, -1.0, 130),            # neutral
             particle(4.0, 2.7, 0.5, 211, 1.0),        # outside the tracker
             particle(0.05, 0.0, 0.5, 211, 1.0),       # below 0.1 GeV
             particle(50.0, 0.0, 0.5, 1000024, 1.0)]   # invisible (|pid| >= pid_min)
    reco = simulate(events(event, []), perfect(), random_state=0)
    assert reco.n_tracks.tolist() == [4, 0] and reco.tracks.counts.tolist() == [4, 0]
    np.testing.assert_allclose(np.sort(flat(reco.tracks, "pt")), [2.0, 3.0, 5.0, 8.0], rtol=1e-6)
    images = event_images(reco)
    assert images.n_tracks.tolist() == [4, 0] and images.images[0, 0].sum() == pytest.approx(16.0)


@pytest.mark.parametrize("kind, pid, charge", [("tracks", 211, 1.0), ("electrons", 11, -1.0), ("muons", 13, -1.0),
                                               ("photons", 22, 0.0)])
def test_efficiency_zero_removes_everything_and_one_keeps_everything(kind, pid, charge):
    rng = np.random.default_rng(3)
    truth = events(*[[particle(p, e, f, pid, charge)] for p, e, f in
                     zip(rng.uniform(25, 80, 200), rng.uniform(-2.3, 2.3, 200), rng.uniform(-3, 3, 200))])
    section = "tracker" if kind == "tracks" else kind
    base = perfect()
    shape = np.shape(getattr(base, section).efficiency.values)
    for value in (0.0, 1.0):
        card = card_with(base, **{f"{section}__efficiency__values": np.full(shape, value).tolist()})
        found = getattr(simulate(truth, card, random_state=1), kind)
        assert found.counts.sum() == value * 200


@pytest.mark.parametrize("what", ["tracks", "ecal", "hcal", "jets", "muons"])
def test_pulls_of_the_smearing_have_unit_width(what):
    """(measured - true) / sigma over 4000 single-particle events: mean 0 and width 1 within 0.05 (about 3 sigma)."""
    pid, charge = {"tracks": (211, 1.0), "ecal": (22, 0.0), "hcal": (130, 0.0), "jets": (130, 0.0),
                   "muons": (13, -1.0)}[what]
    rng = np.random.default_rng(0)
    pt, eta = rng.uniform(100, 300, 4000), rng.uniform(-1.4, 1.4, 4000)  # jets far above their 20 GeV cut
    truth = events(*[[particle(p, e, f, pid, charge)] for p, e, f in zip(pt, eta, rng.uniform(-3, 3, 4000))])
    card = card_with(**{f"{kind}__efficiency__values": np.ones_like(getattr(DetectorCard.cms(), kind).efficiency.values)
                        .tolist() for kind in ("tracker", "muons")})
    reco = simulate(truth, card, random_state=2)
    found = getattr(reco, what)
    assert found.counts.tolist() == [1] * 4000
    energy = pt * np.cosh(eta)
    if what in ("ecal", "hcal"):
        measured, sigma = flat(found, "E"), getattr(card, what).resolution.sigma(np.abs(eta), energy)
        truth_value = energy
    elif what == "jets":
        measured, truth_value, sigma = flat(found, "pt"), pt, pt * card.jets.relative(pt)
    else:
        resolution = card.tracker.resolution if what == "tracks" else card.muons.resolution
        measured, truth_value, sigma = flat(found, "pt"), pt, pt * resolution.relative(np.abs(eta), pt)
    pulls = (measured - truth_value) / sigma
    assert abs(pulls.mean()) < 0.05 and abs(pulls.std() - 1) < 0.05


def test_missing_pt_is_the_invisible_pt_when_everything_else_is_measured_perfectly():
    truth = events([particle(100.0, 0.2, 0.3, 130), particle(60.0, -0.5, 0.3 + np.pi, 14),
                    particle(40.0, 1.5, 0.3 + np.pi, 4900101), particle(30.0, 0.7, 1.0, 11, -1.0),
                    particle(30.0, -0.4, 1.0 + np.pi, 51)])
    reco = simulate(truth, perfect(), random_state=0)
    invisible_x = 60 * np.cos(0.3 + np.pi) + 40 * np.cos(0.3 + np.pi) + 30 * np.cos(1.0 + np.pi)
    invisible_y = 60 * np.sin(0.3 + np.pi) + 40 * np.sin(0.3 + np.pi) + 30 * np.sin(1.0 + np.pi)
    assert reco.met[0] == pytest.approx(np.hypot(invisible_x, invisible_y), rel=1e-6)
    assert reco.met_phi[0] == pytest.approx(np.arctan2(invisible_y, invisible_x), abs=1e-6)
    assert reco.jets.counts.tolist() == [1] and reco.electrons.counts.tolist() == [1]
    assert reco.ht[0] == pytest.approx(130.0, rel=1e-6)


def test_an_electron_near_a_hadron_is_not_isolated_and_goes_into_the_jet():
    alone = [particle(50.0, 0.0, 0.0, 11, -1.0)]
    crowded = [particle(50.0, 0.0, 0.0, 11, -1.0), particle(10.0, 0.2, 0.1, 211, 1.0)]  # I_rel = 0.2 > 0.12
    reco = simulate(events(alone, crowded), perfect(), random_state=0)
    assert reco.electrons.counts.tolist() == [1, 0] and reco.jets.counts.tolist() == [0, 1]
    assert flat(reco.jets, "pt")[0] == pytest.approx(np.hypot(50 + 10 * np.cos(0.1), 10 * np.sin(0.1)), rel=1e-6)


def test_pileup_is_overlaid_poisson_and_its_tracks_are_flagged():
    hard = events(*[[particle(200.0, 0.1, 0.0, 130)]] * 3000)
    minimum_bias = events([particle(2.0, 0.2, 0.1, 211, 1.0), particle(1.0, -0.3, 2.0, 130)],  # the pi+ is in the jet
                          [particle(1.5, 1.0, -2.0, -211, -1.0)])
    reco = simulate(hard, perfect(pileup__mean=2.5), pileup=minimum_bias, random_state=4)
    assert reco.n_tracks.sum() == 0 and np.all(flat(reco.tracks, "is_pileup") == 1)
    assert reco.tracks.counts.mean() == pytest.approx(2.5, abs=0.1)  # every min-bias event has one track
    assert (reco.hcal.counts > 1).any()  # the calorimeters keep pile-up
    np.testing.assert_allclose(flat(reco.jets, "pt"), 200.0, rtol=1e-6)  # charged pile-up left out of the jets
    assert not event_images(reco[:100], pool=5).images[:, 0].any()
    with pytest.raises(ValueError, match="pile-up|pileup"):
        simulate(hard, perfect(), pileup=minimum_bias)
    with pytest.raises(ValueError, match="pileup"):
        simulate(hard, perfect(pileup__mean=1.0))


def test_the_same_seed_gives_the_same_reconstruction():
    truth = busy_events(3)
    first, again, other = (simulate(truth, random_state=seed) for seed in (7, 7, 8))
    for name in ("tracks", "ecal", "hcal", "electrons", "muons", "photons", "jets"):
        np.testing.assert_array_equal(getattr(first, name).values, getattr(again, name).values)
    np.testing.assert_array_equal(first.met, again.met)
    assert not np.array_equal(first.ecal.values, other.ecal.values)


def test_every_output_has_a_row_per_event_and_keeps_the_labels():
    truth = busy_events(4)
    truth = Particles(truth.values, truth.mask, truth.features, label=[0, 1, 0, 1], columns={"mass": [1, 2, 3, 4]})
    reco = simulate(truth, random_state=0)
    assert all(len(getattr(reco, name)) == 4 for name in ("tracks", "ecal", "hcal", "jets", "met", "ht", "n_tracks"))
    chosen = reco[np.array([False, True, False, True])]
    assert chosen.label.tolist() == [1, 1] and chosen.columns["mass"].tolist() == [2, 4]
    np.testing.assert_array_equal(chosen.jets.values, reco.jets.values[[1, 3]])


def test_bad_truth_is_refused():
    with pytest.raises(TypeError, match="truth must be Particles"):
        simulate(np.zeros((2, 3, 6)))
    with pytest.raises(ValueError, match="truth must have the truth features"):
        simulate(Particles(np.ones((1, 2, 3)), np.ones((1, 2), bool), ("pt", "eta", "phi")))
    bad = events([particle(10.0, 0.0, 0.0, 22)])
    bad.values[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        simulate(bad)
    with pytest.raises(TypeError, match="card must be a DetectorCard"):
        simulate(events([]), card={"name": "x"})


# ---------------------------------------------------- what reco becomes
def test_adc_objects_fill_the_challenge_slots_and_the_trigger_needs_a_lepton():
    truth = events([particle(30.0, 0.5, 1.0, 11, -1.0), particle(80.0, -0.2, -2.0, 130), particle(45.0, 1.0, 2.5, 13, 1)],
                   [particle(15.0, 0.5, 1.0, 11, -1.0), particle(80.0, -0.2, -2.0, 130)])
    reco = simulate(truth, perfect(), random_state=0)
    objects = adc_objects(reco)
    ids = objects.feature("id")[objects.mask]
    assert ids.tolist() == [1, 2, 3, 4, 1, 2, 4]
    slots = adc_layout(objects)
    assert slots[0, 0, 3] == 1 and slots[0, 1, 3] == 2 and slots[0, 5, 3] == 3 and slots[0, 9, 3] == 4
    assert slots[0, 0, 0] == pytest.approx(reco.met[0]) and slots[1, 5, 3] == 0
    assert lepton_trigger(reco).tolist() == [True, False] and lepton_trigger(reco, 10.0).tolist() == [True, True]
    with_photons = adc_objects(simulate(events([particle(50.0, 0.1, 0.1, 22)]), perfect()), photons=True)
    assert with_photons.feature("id")[with_photons.mask].tolist() == [1, 5]


def test_images_need_cells_of_whole_pixels():
    reco = simulate(events([particle(20.0, 0.0, 0.0, 130)]), perfect(hcal__eta_cell=0.1))
    with pytest.raises(ValueError, match="card.hcal.eta_cell must make cells of a whole number"):
        event_images(reco)
    with pytest.raises(ValueError, match="pool"):
        event_images(reco, pool=0)
