"""1D/2D cross-correlation and true convolution of single signals and images."""

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlib.reference import convolve1d, convolve2d, cross_correlate1d, cross_correlate2d, rel_error

MODES = ["valid", "full", "same"]
floats = st.floats(-10, 10, allow_nan=False)


def test_small_examples_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(cross_correlate1d(x, np.array([1.0, -1.0])), [-1.0, -1.0, -1.0])
    np.testing.assert_array_equal(convolve1d(x, np.array([1.0, -1.0])), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(convolve1d(x, np.array([1.0, 1.0]), "full"), [1.0, 3.0, 5.0, 7.0, 4.0])
    image = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(cross_correlate2d(image, np.array([[1.0, 0.0], [0.0, -1.0]])), [[-4.0, -4.0], [-4.0, -4.0]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n, k", [(9, 3), (8, 4), (5, 5), (6, 1), (3, 7)])
def test_1d_matches_numpy(n, k, mode, rng, unchanged):
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    if mode == "valid" and k > n:
        with pytest.raises(ValueError, match="w is larger than x along axis 0 in mode 'valid': expected a kernel size <= 3, got 7"):
            cross_correlate1d(x, w, mode)
        return
    with unchanged(x, w):
        corr = cross_correlate1d(x, w, mode)
        conv = convolve1d(x, w, mode)
    assert rel_error(corr, scipy.signal.correlate(x, w, mode)) <= 1e-10
    assert rel_error(conv, scipy.signal.convolve(x, w, mode)) <= 1e-10
    if k <= n:
        assert rel_error(conv, np.convolve(x, w, mode)) <= 1e-10
        assert rel_error(corr, np.correlate(x, w, mode)) <= 1e-10


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("image_shape, kernel_shape", [((7, 8), (3, 3)), ((6, 5), (2, 4)), ((4, 4), (4, 4)), ((5, 9), (1, 2))])
def test_2d_matches_scipy(image_shape, kernel_shape, mode, rng, unchanged):
    image, kernel = rng.standard_normal(image_shape), rng.standard_normal(kernel_shape)
    with unchanged(image, kernel):
        corr = cross_correlate2d(image, kernel, mode)
        conv = convolve2d(image, kernel, mode)
    assert rel_error(corr, scipy.signal.correlate(image, kernel, mode)) <= 1e-10
    assert rel_error(conv, scipy.signal.convolve2d(image, kernel, mode)) <= 1e-10


def test_valid_cross_correlation_is_torch_conv2d(rng):
    image, kernel = rng.standard_normal((9, 7)), rng.standard_normal((3, 2))
    expected = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None])[0, 0].numpy()
    assert rel_error(cross_correlate2d(image, kernel), expected) <= 1e-10


def test_same_matches_torch_padding_same_for_odd_kernels(rng):
    image, kernel = rng.standard_normal((8, 6)), rng.standard_normal((3, 5))
    expected = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], padding="same")[0, 0].numpy()
    assert rel_error(cross_correlate2d(image, kernel, "same"), expected) <= 1e-10


@settings(max_examples=50, deadline=None)
@given(
    x=arrays(np.float64, st.integers(1, 12), elements=floats),
    w=arrays(np.float64, st.integers(1, 5), elements=floats),
    mode=st.sampled_from(MODES),
)
def test_property_flip_and_commute(x, w, mode):
    """Convolution is cross-correlation with the reversed kernel (every mode); full convolution commutes
    and full cross-correlation does not (it reverses instead)."""
    if mode == "valid" and len(w) > len(x):
        with pytest.raises(ValueError, match="w is larger than x"):
            cross_correlate1d(x, w, mode)
        return
    np.testing.assert_allclose(convolve1d(x, w, mode), cross_correlate1d(x, w[::-1], mode), atol=1e-9)
    np.testing.assert_allclose(convolve1d(x, w, "full"), convolve1d(w, x, "full"), atol=1e-9)
    np.testing.assert_allclose(cross_correlate1d(x, w, "full"), cross_correlate1d(w, x, "full")[::-1], atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(3, 10), st.integers(3, 10)), seed=st.integers(0, 2**16))
def test_property_box_blur_lowers_the_spread(shape, seed):
    """A 3x3 box blur averages neighbours: the blurred image's standard deviation is never larger."""
    image = np.random.default_rng(seed).standard_normal(shape)
    blurred = cross_correlate2d(image, np.full((3, 3), 1 / 9))
    assert blurred.std() <= image.std() + 1e-12


def test_cross_correlation_is_equivariant_to_translation(rng):
    image = np.zeros((10, 10))
    image[3:5, 2:6] = rng.standard_normal((2, 4))
    kernel = rng.standard_normal((3, 3))
    shifted = np.roll(image, (2, 1), axis=(0, 1))  # the content stays away from the border
    np.testing.assert_allclose(cross_correlate2d(shifted, kernel), np.roll(cross_correlate2d(image, kernel), (2, 1), axis=(0, 1)))


def test_float32_stays_float32(rng):
    x32, w32 = rng.standard_normal(6).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    assert cross_correlate1d(x32, w32).dtype == np.float32
    assert convolve2d(x32.reshape(2, 3), w32.reshape(1, 3), "full").dtype == np.float32
    assert cross_correlate1d(np.arange(5), np.arange(2)).dtype == np.float64
