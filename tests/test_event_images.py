"""Seed-004 event images: the files as published and as written, energy-preserving pooling, the augmentations."""

import h5py
import numpy as np
import pytest

from likely.data.event_images import (
    EventImages, append_event_images, augment, read_event_images, sum_pool, tracker_mask, write_event_images,
)


def image_file(path, n=3, shape=(286, 360), seed=0, **override):
    rng = np.random.default_rng(seed)
    data = {name: rng.exponential(1.0, (n, *shape)) * (rng.random((n, *shape)) < 0.01)
            for name in ("ImageTrk_PUcorr", "ImageECAL", "ImageHCAL")}
    data["NTrk_PUcorr"] = (data["ImageTrk_PUcorr"] > 0).sum(axis=(1, 2))
    data.update(override)
    with h5py.File(path, "w") as file:
        for name, values in data.items():
            file[name] = values
    return data


def test_the_channels_and_track_counts_are_read(tmp_path):
    data = image_file(tmp_path / "suep.h5")
    events = read_event_images(tmp_path / "suep.h5", label=1)
    assert events.images.shape == (3, 3, 286, 360) and events.images.dtype == np.float32
    np.testing.assert_allclose(events.images[:, 1], data["ImageECAL"], rtol=1e-6)
    np.testing.assert_array_equal(events.n_tracks, data["NTrk_PUcorr"])
    assert set(events.label) == {1} and len(events[1:]) == 2


def test_written_images_read_back_with_their_labels(tmp_path):
    rng = np.random.default_rng(1)
    images = EventImages(rng.exponential(1.0, (3, 3, 58, 72)).astype(np.float32), np.array([4, 0, 9]),
                         np.array([0, 1, 1]))
    path = write_event_images(tmp_path / "images.h5", images)
    back = read_event_images(path)
    np.testing.assert_array_equal(back.images, images.images)
    assert back.n_tracks.tolist() == [4, 0, 9] and back.label.tolist() == [0, 1, 1]
    assert read_event_images(path, label=2).label.tolist() == [2, 2, 2]
    with h5py.File(path, "r") as file:
        assert file["ImageTrk_PUcorr"].compression == "gzip" and file["NTrk_PUcorr"].shape == (3,)
    with pytest.raises(FileExistsError):
        write_event_images(path, images)
    with h5py.File(tmp_path / "more.h5", "w") as file:
        append_event_images(file, images)
        append_event_images(file, images[:1])
        with pytest.raises(ValueError, match="cannot be added"):
            append_event_images(file, EventImages(np.zeros((1, 3, 4, 4), np.float32), np.zeros(1, np.int64)))
    assert read_event_images(tmp_path / "more.h5").n_tracks.tolist() == [4, 0, 9, 4]


def test_other_files_are_refused_by_name(tmp_path):
    image_file(tmp_path / "bad.h5", ImageHCAL=np.zeros((3, 10, 10)))
    with pytest.raises(ValueError, match="share one"):
        read_event_images(tmp_path / "bad.h5")
    with h5py.File(tmp_path / "jets.h5", "w") as file:
        file["particle_features"] = np.zeros((1, 2, 4))
    with pytest.raises(ValueError, match="not an event-image file"):
        read_event_images(tmp_path / "jets.h5")
    image_file(tmp_path / "ok.h5", n=1, shape=(20, 20))
    (tmp_path / "cut.h5").write_bytes((tmp_path / "ok.h5").read_bytes()[:1500])
    with pytest.raises(ValueError, match="cut.h5"):
        read_event_images(tmp_path / "cut.h5")


def test_sum_pooling_preserves_energy_to_the_paper_size():
    images = np.random.default_rng(0).exponential(1.0, (2, 3, 286, 360))
    pooled = sum_pool(images, 5)
    assert pooled.shape == (2, 3, 58, 72)
    np.testing.assert_allclose(pooled.sum(axis=(-2, -1)), images.sum(axis=(-2, -1)), rtol=1e-12)
    small = np.arange(36.0).reshape(6, 6)
    np.testing.assert_array_equal(sum_pool(small, 3), [[63, 90], [225, 252]])
    with pytest.raises(ValueError, match="k must"):
        sum_pool(small, 0)


def test_the_tracker_mask_marks_pixels_with_tracks():
    images = np.zeros((1, 3, 4, 4))
    images[0, 0, 1, 2] = 3.0
    images[0, 1, 0, 0] = 5.0  # ECAL only: not in the mask
    mask = tracker_mask(images)
    assert mask.shape == (1, 1, 4, 4) and mask.sum() == 1 and mask[0, 0, 1, 2] == 1


def test_each_augmented_image_is_a_flip_and_or_roll_of_its_original():
    rng = np.random.default_rng(1)
    images = rng.random((60, 1, 5, 72))
    out = augment(images, np.random.default_rng(2))
    candidates = [np.roll(flipped, shift, axis=-1) for flipped in (images, images[:, :, ::-1])
                  for shift in [0, *range(8, 57, 8), *range(-56, 0, 8)]]
    matched = np.array([[np.array_equal(out[i], c[i]) for c in candidates] for i in range(60)])
    assert matched.any(axis=1).all()
    assert matched[:, 0].sum() < 30  # not (almost) all left alone
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)))


def test_bad_image_arrays_are_refused():
    with pytest.raises(ValueError, match="images"):
        EventImages(np.zeros((2, 2, 4, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="n_tracks"):
        EventImages(np.zeros((2, 3, 4, 4)), np.zeros(3))
