"""Checks of notebook 01: each passes on two correct implementations (loops and vectorised) and
fails, naming the mistake, on each wrong answer it claims to recognise."""

import numpy as np
import pytest

from cnnlib.checks import nb01
from cnnlib.checks.core import Missing
from checkhelpers import assert_passes, run

# ---------------------------------------------------------------------------------------------
# Correct answers, written two ways
# ---------------------------------------------------------------------------------------------


def xcorr1d_loops(x, w):
    n, k = len(x), len(w)
    out = np.zeros(n - k + 1)
    for t in range(n - k + 1):
        for a in range(k):
            out[t] += x[t + a] * w[a]
    return out


def xcorr1d_vectorised(x, w):
    return np.lib.stride_tricks.sliding_window_view(x, len(w)) @ w


def conv1d_loops(x, w):
    # s(t) = sum_a x(a) w(t - a), with t indexing the valid positions k-1 .. n-1
    n, k = len(x), len(w)
    out = np.zeros(n - k + 1)
    for i, t in enumerate(range(k - 1, n)):
        for a in range(t - k + 1, t + 1):
            out[i] += x[a] * w[t - a]
    return out


def conv1d_vectorised(x, w):
    return xcorr1d_vectorised(x, w[::-1])


def full_loops(x, w):
    out = np.zeros(len(x) + len(w) - 1)
    for i in range(len(x)):
        for j in range(len(w)):
            out[i + j] += x[i] * w[j]
    return out


def full_padded(x, w):
    k = len(w)
    padded = np.concatenate([np.zeros(k - 1), x, np.zeros(k - 1)])
    return conv1d_vectorised(padded, w)


def xcorr2d_loops(image, kernel):
    (h, w), (kh, kw) = image.shape, kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1), dtype=np.result_type(image, kernel))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def xcorr2d_shifts(image, kernel):
    # Accumulate one shifted copy of the image per kernel entry.
    (h, w), (kh, kw) = image.shape, kernel.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((oh, ow), dtype=np.result_type(image, kernel))
    for m in range(kh):
        for n in range(kw):
            out += kernel[m, n] * image[m : m + oh, n : n + ow]
    return out


def conv2d_loops(image, kernel):
    return xcorr2d_loops(image, kernel[::-1, ::-1])


def conv2d_einsum(image, kernel):
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijmn,mn->ij", windows, kernel[::-1, ::-1])


def assert_fails(check, fn, *fragments, **kwargs):
    result = run(check, fn, **kwargs)
    assert not result.passed
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"
    return result


# ---------------------------------------------------------------------------------------------
# Correct answers pass every check
# ---------------------------------------------------------------------------------------------

XCORR1D = [xcorr1d_loops, xcorr1d_vectorised]
CONV1D = [conv1d_loops, conv1d_vectorised]
FULL = [full_loops, full_padded]
XCORR2D = [xcorr2d_loops, xcorr2d_shifts]
CONV2D = [conv2d_loops, conv2d_einsum]


@pytest.mark.parametrize("fn", XCORR1D)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_cross_correlate1d_correct(fn, seed):
    assert_passes(nb01.cross_correlate1d_examples, fn)
    assert_passes(nb01.cross_correlate1d_random, fn, seed=seed)


@pytest.mark.parametrize("fn", CONV1D)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_convolve1d_correct(fn, seed):
    assert_passes(nb01.convolve1d_examples, fn)
    assert_passes(nb01.convolve1d_random, fn, seed=seed)


@pytest.mark.parametrize("fn", FULL)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_convolve1d_full_correct(fn, seed):
    assert_passes(nb01.convolve1d_full_examples, fn)
    assert_passes(nb01.convolve1d_full_random, fn, seed=seed)


@pytest.mark.parametrize("fn", XCORR2D)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_cross_correlate2d_correct(fn, seed):
    assert_passes(nb01.cross_correlate2d_examples, fn)
    assert_passes(nb01.cross_correlate2d_random, fn, seed=seed)
    assert_passes(nb01.keeps_float32, fn, seed=seed)


@pytest.mark.parametrize("fn", CONV2D)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_convolve2d_correct(fn, seed):
    assert_passes(nb01.convolve2d_examples, fn)
    assert_passes(nb01.convolve2d_random, fn, seed=seed)


# ---------------------------------------------------------------------------------------------
# Each recognised mistake fails with its message
# ---------------------------------------------------------------------------------------------


def test_cross_correlate1d_mistakes():
    assert_fails(nb01.cross_correlate1d_examples, conv1d_vectorised, "equals true convolution", "do not flip")
    assert_fails(nb01.cross_correlate1d_random, conv1d_vectorised, "equals true convolution", seed=3)
    assert_fails(nb01.cross_correlate1d_examples, lambda x, w: full_padded(x, w[::-1]), "full output")
    assert_fails(nb01.cross_correlate1d_examples, lambda x, w: xcorr1d_vectorised(x, w)[:-1], "one value short", "+1")
    assert_fails(nb01.cross_correlate1d_examples, lambda x, w: np.correlate(x, w, "valid"), "numpy", "library implementation")
    result = assert_fails(nb01.cross_correlate1d_examples, lambda x, w: xcorr1d_vectorised(x, w) + 1, "wrong values")
    assert "x = [1., 2., 3., 4., 5.]" in result.message  # visible checks show their inputs


def test_convolve1d_mistakes():
    assert_fails(nb01.convolve1d_examples, xcorr1d_vectorised, "equals cross-correlation", "w[::-1]")
    assert_fails(nb01.convolve1d_random, xcorr1d_loops, "equals cross-correlation", seed=5)
    assert_fails(nb01.convolve1d_examples, full_padded, "full output")
    assert_fails(nb01.convolve1d_examples, lambda x, w: conv1d_vectorised(x, w)[:-1], "one value short")
    assert_fails(nb01.convolve1d_examples, lambda x, w: np.convolve(x, w, "valid"), "numpy.convolve")


def test_convolve1d_full_mistakes():
    assert_fails(nb01.convolve1d_full_examples, lambda x, w: full_padded(x, w[::-1]), "full cross-correlation")
    assert_fails(nb01.convolve1d_full_examples, conv1d_vectorised, "valid output")
    half = lambda x, w: conv1d_vectorised(np.pad(x, len(w) // 2), w)  # noqa: E731
    assert_fails(nb01.convolve1d_full_examples, half, "missing its first and last values")
    assert_fails(nb01.convolve1d_full_random, lambda x, w: np.convolve(x, w), "numpy.convolve", seed=1)
    assert_fails(nb01.convolve1d_full_random, lambda x, w: full_padded(x, w[::-1]), "full cross-correlation", seed=1)


def test_cross_correlate2d_mistakes():
    assert_fails(nb01.cross_correlate2d_examples, conv2d_einsum, "equals true convolution")
    assert_fails(nb01.cross_correlate2d_random, conv2d_loops, "equals true convolution", seed=7)
    full = lambda im, k: xcorr2d_shifts(np.pad(im, [(s - 1, s - 1) for s in k.shape]), k)  # noqa: E731
    assert_fails(nb01.cross_correlate2d_examples, full, "full output")
    same = lambda im, k: xcorr2d_shifts(np.pad(im, [(s // 2, (s - 1) // 2) for s in k.shape]), k)  # noqa: E731
    assert_fails(nb01.cross_correlate2d_examples, same, "'same'-size")
    assert_fails(nb01.cross_correlate2d_examples, lambda im, k: xcorr2d_loops(im, k)[:-1, :-1], "one row and one column short")
    assert_fails(nb01.cross_correlate2d_examples, lambda im, k: xcorr2d_loops(im, k.T), "transposed kernel")
    import scipy.signal

    assert_fails(nb01.cross_correlate2d_examples, lambda im, k: scipy.signal.correlate2d(im, k, "valid"), "scipy.signal")
    assert_fails(nb01.keeps_float32, lambda im, k: xcorr2d_loops(im.astype(np.float64), k), "float64 for float32 input")


def test_convolve2d_mistakes():
    assert_fails(nb01.convolve2d_examples, xcorr2d_shifts, "equals cross-correlation", "BOTH axes")
    assert_fails(nb01.convolve2d_random, xcorr2d_loops, "equals cross-correlation", seed=11)
    assert_fails(nb01.convolve2d_examples, lambda im, k: xcorr2d_loops(im, k[::-1, :]), "upside down only")
    assert_fails(nb01.convolve2d_examples, lambda im, k: xcorr2d_loops(im, k[:, ::-1]), "left-right only")
    assert_fails(nb01.convolve2d_examples, lambda im, k: conv2d_loops(im, k.T), "transposed kernel")
    full = lambda im, k: conv2d_einsum(np.pad(im, [(s - 1, s - 1) for s in k.shape]), k)  # noqa: E731
    assert_fails(nb01.convolve2d_examples, full, "full output")
    import scipy.signal

    assert_fails(nb01.convolve2d_random, lambda im, k: scipy.signal.convolve2d(im, k, "valid"), "scipy.signal", seed=0)


def test_hidden_messages_do_not_show_inputs():
    result = assert_fails(nb01.cross_correlate2d_random, lambda im, k: xcorr2d_loops(im, k) * 2, "wrong values", seed=1)
    assert "index" not in result.message and "kernel [" not in result.message
    result = assert_fails(nb01.convolve1d_random, xcorr1d_loops, "equals cross-correlation", seed=1)
    assert "x = " not in result.message


def test_unwritten_and_missing_answers():
    def blank(x, w):
        raise NotImplementedError()

    assert_fails(nb01.cross_correlate1d_examples, blank, "not written yet")
    assert_fails(nb01.convolve2d_examples, Missing("convolve2d"), "not defined")
    assert_fails(nb01.cross_correlate1d_examples, lambda x, w: list(xcorr1d_loops(x, w)), "NumPy array")
    assert_fails(nb01.cross_correlate2d_examples, lambda im, k: np.zeros(3), "2")


def test_mutating_the_input_fails():
    def in_place(x, w):
        x -= 0  # harmless
        x[0] = 99.0
        return xcorr1d_vectorised(x, w)

    assert_fails(nb01.cross_correlate1d_examples, in_place, "changed its input")


def test_import_policy():
    assert "torch" in nb01.FORBIDDEN_IMPORTS and "cnnlib.reference" in nb01.FORBIDDEN_IMPORTS
    assert nb01.IMPORT_REASON
