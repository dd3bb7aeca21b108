"""MNIST-1D generated offline: layout, determinism, the recipe's statistics, learnable classes."""

import numpy as np
import pytest

from cnnlib.data import load_mnist1d
from cnnlib.data.mnist1d import mnist1d_templates, smooth


@pytest.fixture(scope="module")
def small():
    return {split: load_mnist1d(split, n=1000, seed=3) for split in ("train", "test")}


def test_layout_and_split_sizes(small):
    (x, y), (xt, yt) = small["train"], small["test"]
    assert x.shape == (800, 1, 40) and xt.shape == (200, 1, 40)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(np.bincount(np.concatenate([y, yt]), minlength=10), np.full(10, 100))


def test_standardised_over_the_whole_data_set(small):
    both = np.concatenate([small["train"][0], small["test"][0]]).astype(np.float64)
    assert abs(both.mean()) < 1e-5 and abs(both.std() - 1) < 1e-5


def test_deterministic_given_the_seed(small):
    again = load_mnist1d("test", n=1000, seed=3)
    other = load_mnist1d("test", n=1000, seed=4)
    np.testing.assert_array_equal(again[0], small["test"][0])
    assert not np.allclose(other[0], small["test"][0])


def test_train_and_test_do_not_share_examples(small):
    train = {row.tobytes() for row in small["train"][0]}
    assert not any(row.tobytes() in train for row in small["test"][0])


def test_templates_are_standardised_and_start_at_zero():
    templates = mnist1d_templates()
    assert templates.shape == (10, 12)
    np.testing.assert_allclose(templates[:, 0], 0)
    np.testing.assert_allclose(templates.std(axis=1), 1 / 6)
    assert len({t.tobytes() for t in templates}) == 10


@pytest.mark.parametrize("length", [5, 72])
@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_smooth_matches_scipys_gaussian_filter(length, sigma):
    from scipy.ndimage import gaussian_filter1d

    x = np.random.default_rng(0).standard_normal(length)
    np.testing.assert_allclose(smooth(x, sigma), gaussian_filter1d(x, sigma), rtol=1e-12, atol=1e-14)


def test_classes_are_learnable_but_not_trivially(small):
    """Nearest class mean beats chance (10%) but is far from perfect: the distortions matter."""
    (x, y), (xt, yt) = small["train"], small["test"]
    means = np.stack([x[y == digit, 0].mean(axis=0) for digit in range(10)])
    predicted = np.argmin(((xt[:, 0, None, :] - means) ** 2).sum(axis=-1), axis=1)
    accuracy = (predicted == yt).mean()
    assert 0.2 < accuracy < 0.8


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n=1005), ValueError, "n must be a multiple of 10"),
        (dict(n=0), ValueError, "n must be >= 10, got 0"),
        (dict(n=100.0), TypeError, "n must be an int"),
        (dict(split="all"), ValueError, "split must be 'train' or 'test', got 'all'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_mnist1d(**kwargs)
