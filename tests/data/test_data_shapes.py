"""The generated shapes data set: deterministic, balanced, masks on the objects, independent splits,
cached, and clear errors for bad arguments."""

import numpy as np
import pytest

from cnnlib.data import SHAPES_CLASSES, load_shapes
from cnnlib.data import shapes as shapes_module


def test_layout_like_cifar10():
    images, labels, masks = load_shapes("test", n=30, return_masks=True)
    assert images.shape == (30, 3, 32, 32) and images.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.int64 and set(labels) == set(range(len(SHAPES_CLASSES)))
    assert masks.shape == (30, 32, 32) and masks.dtype == np.uint8
    assert len(load_shapes("test", n=30)) == 2  # without return_masks: (images, labels)


def test_the_same_arguments_give_the_same_images_even_when_generated_again(tmp_path, monkeypatch):
    first = load_shapes("train", n=40, seed=3, return_masks=True)
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "another-cache"))  # nothing cached: generated again
    second = load_shapes("train", n=40, seed=3, return_masks=True)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other_seed = load_shapes("train", n=40, seed=4)[0]
    assert not np.array_equal(first[0], other_seed)


@pytest.mark.parametrize("n", [10, 25, 37])
def test_classes_are_balanced_to_within_one_image(n):
    counts = np.bincount(load_shapes("test", n=n)[1], minlength=len(SHAPES_CLASSES))
    assert counts.max() - counts.min() <= 1 and counts.sum() == n


def test_train_and_test_are_different_draws():
    train = load_shapes("train", n=50)[0]
    test = load_shapes("test", n=50)[0]
    flat_train = {image.tobytes() for image in train}
    assert not any(image.tobytes() in flat_train for image in test)


def test_masks_cover_the_object_and_nothing_else():
    """Fully covered pixels have the object's one colour (shading and noise aside), which stands
    out from the pixels the object does not touch; edges are partly covered (anti-aliased)."""
    images, labels, masks = load_shapes("test", n=60, return_masks=True)
    images = images.astype(np.float64)
    for image, mask in zip(images, masks):
        inside, outside = image[:, mask == 255], image[:, mask == 0]  # (3, pixels)
        assert inside.shape[1] >= 20  # at least a 4x4-pixel object
        assert inside.std(axis=1).max() < 20  # one colour: 255 * (shading of +-7.5% + noise of 2%)
        assert np.abs(inside.mean(axis=1) - outside.mean(axis=1)).sum() > 60  # visible against the background
        assert np.any((mask > 0) & (mask < 255))  # an anti-aliased edge


def test_each_mask_has_its_shape():
    """How much of its bounding box a mask fills tells the solid shapes from the hollow or pointed
    ones: the masks are the shapes the labels name (up to 15 degrees of rotation)."""
    _, labels, masks = load_shapes("train", n=200, return_masks=True)
    area = masks.reshape(len(masks), -1).sum(axis=1) / 255
    box = (masks > 127).any(axis=2).sum(axis=1) * (masks > 127).any(axis=1).sum(axis=1)
    fill = {name: np.median((area / box)[labels == index]) for index, name in enumerate(SHAPES_CLASSES)}
    assert min(fill["disk"], fill["square"]) > 0.7, fill  # pi/4 for a disk, 1 for an upright square
    for name in ("ring", "diamond", "frame", "triangle", "plus", "star", "crescent"):  # 0.5 or less in theory
        assert fill[name] < 0.6, fill


def test_the_cache_is_reused_and_an_unreadable_file_is_replaced(tmp_path, monkeypatch):
    images = load_shapes("test", n=20)[0]
    (path,) = (tmp_path / "cache" / "shapes").glob("*.npz")

    def must_not_run(n, seed):
        raise AssertionError("generated again instead of reading the cache")

    monkeypatch.setattr(shapes_module, "_generate", must_not_run)
    np.testing.assert_array_equal(load_shapes("test", n=20)[0], images)
    monkeypatch.undo()
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    path.write_bytes(b"PK this is not an npz")
    np.testing.assert_array_equal(load_shapes("test", n=20)[0], images)
    with np.load(path) as stored:  # rewritten
        np.testing.assert_array_equal(stored["images"], images)


def test_a_read_only_cache_still_gives_the_data(tmp_path, monkeypatch):
    def cannot_write(path, **arrays):
        raise PermissionError(f"read-only: {path}")

    monkeypatch.setattr(shapes_module.cache, "save_npz_atomic", cannot_write)
    images, labels = load_shapes("test", n=10)
    assert images.shape == (10, 3, 32, 32)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(split="validation"), ValueError, "split must be 'train' or 'test', got 'validation'"),
        (dict(n=0), ValueError, "n must be >= 1, got 0"),
        (dict(n=2.0), TypeError, "n must be an int, got the float 2.0"),
        (dict(n="10"), TypeError, "n must be an int, got str"),
        (dict(seed=-1), ValueError, "seed must be >= 0, got -1"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error) as info:
        load_shapes(**kwargs)
    assert words in str(info.value)
