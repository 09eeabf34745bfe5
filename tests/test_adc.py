"""ADC2021 multi-object events: the published 19-slot layout, read, rebuilt and written."""

import h5py
import numpy as np
import pytest

from likely.data import Particles
from likely.data.adc import adc_layout, read_adc, write_adc


def slots_file(path, n=4, seed=0):
    """A file laid out like background_for_training.h5: MET, 4 e, 4 mu, 10 jets, zero padded."""
    rng = np.random.default_rng(seed)
    slots = np.zeros((n, 19, 4))
    slots[:, 0] = np.stack([rng.uniform(5, 50, n), np.zeros(n), rng.uniform(-3, 3, n), np.ones(n)], 1)
    for first, count, kind in ((1, 4, 2), (5, 4, 3), (9, 10, 4)):
        for event in range(n):
            k = rng.integers(0, count + 1)
            pt = np.sort(rng.uniform(3, 300, k))[::-1]
            slots[event, first:first + k] = np.stack([pt, rng.uniform(-2, 2, k), rng.uniform(-3, 3, k),
                                                      np.full(k, kind)], 1)
    with h5py.File(path, "w") as file:
        file["Particles"] = slots
        file["Particles_Names"] = [b"Pt", b"Eta", b"Phi", b"Class"]
        file["Particles_Classes"] = [b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"]
    return slots


def test_objects_are_read_and_put_back_into_their_slots(tmp_path):
    slots = slots_file(tmp_path / "background_for_training.h5")
    objects = read_adc(tmp_path / "background_for_training.h5", label=0)
    assert objects.features == ("pt", "eta", "phi", "id")
    np.testing.assert_array_equal(objects.counts, (slots[:, :, 3] > 0).sum(1))
    np.testing.assert_allclose(adc_layout(objects), slots, rtol=1e-6)
    write_adc(tmp_path / "again.h5", objects)
    np.testing.assert_allclose(read_adc(tmp_path / "again.h5").values, objects.values)


def test_the_layout_keeps_the_hardest_of_each_type():
    muons = np.stack([np.arange(1.0, 7.0), np.zeros(6), np.zeros(6), np.full(6, 3.0)], 1)  # 6 muons
    objects = Particles.from_counts(muons, [6], ("pt", "eta", "phi", "id"))
    slots = adc_layout(objects)
    np.testing.assert_array_equal(slots[0, 5:9, 0], [6, 5, 4, 3])
    assert not slots[0, :5].any() and not slots[0, 9:].any()


def test_other_files_and_unknown_classes_are_refused(tmp_path):
    with h5py.File(tmp_path / "jets.h5", "w") as file:
        file["particle_features"] = np.zeros((1, 2, 4))
    with pytest.raises(ValueError, match="no 'Particles'"):
        read_adc(tmp_path / "jets.h5")
    with h5py.File(tmp_path / "shape.h5", "w") as file:
        file["Particles"] = np.zeros((2, 18, 4))
    with pytest.raises(ValueError, match=r"\(N, 19, 4\)"):
        read_adc(tmp_path / "shape.h5")
    slots = np.zeros((1, 19, 4))
    slots[0, 0, 3] = 7
    with h5py.File(tmp_path / "class.h5", "w") as file:
        file["Particles"] = slots
    with pytest.raises(ValueError, match="classes"):
        read_adc(tmp_path / "class.h5")
    with pytest.raises(ValueError, match="features"):
        adc_layout(Particles(np.zeros((1, 2, 3)), np.ones((1, 2), bool), ("pt", "eta", "phi")))
