"""scikit-learn's digits: layout, values, and a deterministic stratified split."""

import numpy as np
import pytest
import sklearn.datasets

from cnnlib.data import load_digits


def rows(images):
    return {image.tobytes() for image in images}


def test_all_is_scikit_learns_data_in_nchw_uint8():
    images, labels = load_digits("all")
    reference = sklearn.datasets.load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images[:, 0], reference.images)  # integer-valued floats 0-16
    np.testing.assert_array_equal(labels, reference.target)
    assert images.min() == 0 and images.max() == 16


@pytest.mark.parametrize("test_fraction", [0.2, 0.5])
def test_train_and_test_partition_the_data_with_each_digit_in_proportion(test_fraction):
    train_x, train_y = load_digits("train", test_fraction=test_fraction)
    test_x, test_y = load_digits("test", test_fraction=test_fraction)
    all_x, all_y = load_digits("all")
    assert len(train_y) + len(test_y) == len(all_y)
    assert len(test_y) == int(np.ceil(test_fraction * len(all_y)))
    pairs = lambda x, y: sorted(zip((i.tobytes() for i in x), y))  # noqa: E731
    assert sorted(pairs(train_x, train_y) + pairs(test_x, test_y)) == pairs(all_x, all_y)
    share = np.bincount(test_y, minlength=10) / np.bincount(all_y, minlength=10)
    assert np.all(np.abs(share - test_fraction) < 0.02)


def test_the_split_depends_on_the_seed_only():
    first, again, other = (load_digits("test", seed=s)[0] for s in (0, 0, 1))
    np.testing.assert_array_equal(first, again)
    assert rows(first) != rows(other)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(split="val"), ValueError, "split must be 'train', 'test' or 'all', got 'val'"),
        (dict(test_fraction=1.0), ValueError, r"test_fraction must be in \(0, 1\), got 1.0"),
        (dict(test_fraction="0.2"), TypeError, "test_fraction must be a number in \\(0, 1\\), got str '0.2'"),
        (dict(seed=-1), ValueError, "seed must be >= 0, got -1"),
        (dict(seed=1.5), TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)
