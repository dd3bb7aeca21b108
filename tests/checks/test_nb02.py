"""Checks of notebook 02: each passes on two correct implementations and fails, naming the
mistake, on each wrong answer it claims to recognise."""

import time

import numpy as np
import pytest

from cnnlib.checks import nb02
from cnnlib.checks.core import Missing
from checkhelpers import assert_passes, run


def assert_fails(check, answer, *fragments, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"
    return result


def xcorr2d_loops(image, kernel):
    (h, w), (kh, kw) = image.shape, kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def xcorr2d_windows(image, kernel):
    return np.einsum("ijmn,mn->ij", np.lib.stride_tricks.sliding_window_view(image, kernel.shape), kernel)


# ---------------------------------------------------------------------------------------------
# horizontal_edge_kernel
# ---------------------------------------------------------------------------------------------

GOOD_EDGE_KERNELS = {
    "sobel": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt, other sign": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "plain difference": [[0, 0, 0], [0, -1, 0], [0, 1, 0]],
    "scaled": [[-0.25, -0.5, -0.25], [0, 0, 0], [0.25, 0.5, 0.25]],
    "line detector": [[1, 1, 1], [-2, -2, -2], [1, 1, 1]],
}


@pytest.mark.parametrize("name", GOOD_EDGE_KERNELS)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_edge_kernel_correct(name, seed):
    kernel = np.array(GOOD_EDGE_KERNELS[name], dtype=float)
    assert_passes(nb02.horizontal_edge_kernel_responses, lambda: kernel)
    assert_passes(nb02.horizontal_edge_kernel_random, lambda: kernel, seed=seed)


def test_edge_kernel_accepts_integer_lists_as_arrays():
    assert_passes(nb02.horizontal_edge_kernel_responses, lambda: np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]))


def test_edge_kernel_mistakes():
    sobel = np.array(GOOD_EDGE_KERNELS["sobel"], dtype=float)
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: sobel.T, "vertical-edge detector", "kernel.T")
    assert_fails(nb02.horizontal_edge_kernel_random, lambda: sobel.T, "vertical-edge detector", seed=3)
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: sharpen, "flat region", "sum to 0")
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: sobel + 0.1, "flat region")
    diagonal = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=float)
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: diagonal, "also responds to vertical edges")
    assert_fails(nb02.horizontal_edge_kernel_random, lambda: diagonal, "also responds to vertical edges", seed=0)
    laplacian = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float)
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: laplacian, "also responds to vertical edges")
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: np.zeros((3, 3)), "zeros")
    weak = np.zeros((3, 3))
    weak[:, 0], weak[:, 2] = [1, 0.01, -1], [-1, -0.01, 1]  # columns sum to 0, rows almost equal
    weak[1, 1] = 0.0
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: weak, "hardly responds")
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: np.ones((5, 5)), "shape (5, 5)", "3x3")
    assert_fails(nb02.horizontal_edge_kernel_responses, lambda: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], "NumPy array")


def test_multiple_choice():
    assert_passes(nb02.horizontal_kernel_choice, "c")
    assert_passes(nb02.horizontal_kernel_choice, " (C) ")
    assert_fails(nb02.horizontal_kernel_choice, "a", "vertical edges")
    assert_fails(nb02.horizontal_kernel_choice, "b", "every direction")
    assert_fails(nb02.horizontal_kernel_choice, "d", "blurs")
    assert_fails(nb02.horizontal_kernel_choice, "e", "one of the letters")
    assert_fails(nb02.horizontal_kernel_choice, 3, "one of the letters")
    assert_fails(nb02.horizontal_kernel_choice, Missing("answer_horizontal"), "not set yet")
    assert run(nb02.horizontal_kernel_choice, None).not_written
    # the kernel that the question calls correct is one the kernel check accepts, and the others are not
    assert_passes(nb02.horizontal_edge_kernel_responses, lambda: nb02.CHOICES["c"])
    for letter in "abd":
        assert not run(nb02.horizontal_edge_kernel_responses, lambda letter=letter: nb02.CHOICES[letter]).passed


# ---------------------------------------------------------------------------------------------
# feature_maps
# ---------------------------------------------------------------------------------------------


def maps_stack(image, kernels):
    return np.stack([xcorr2d_loops(image, np.asarray(k, dtype=float)) for k in kernels])


def maps_einsum(image, kernels):
    bank = np.asarray(kernels, dtype=float)  # (K, KH, KW)
    windows = np.lib.stride_tricks.sliding_window_view(image, bank.shape[1:])
    return np.einsum("ijmn,kmn->kij", windows, bank)


@pytest.mark.parametrize("fn", [maps_stack, maps_einsum])
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_feature_maps_correct(fn, seed):
    assert_passes(nb02.feature_maps_examples, fn)
    assert_passes(nb02.feature_maps_random, fn, seed=seed)


def test_feature_maps_mistakes():
    assert_fails(nb02.feature_maps_examples, lambda im, ks: np.moveaxis(maps_stack(im, ks), 0, -1), "last axis")
    assert_fails(nb02.feature_maps_examples, lambda im, ks: maps_stack(im, ks).sum(axis=0), "added the maps")
    flipped = lambda im, ks: maps_stack(im, [np.asarray(k)[::-1, ::-1] for k in ks])  # noqa: E731
    assert_fails(nb02.feature_maps_examples, flipped, "true convolution")
    assert_fails(nb02.feature_maps_random, flipped, "true convolution", seed=2)
    squeezed = lambda im, ks: maps_stack(im, ks)[0] if len(ks) == 1 else maps_stack(im, ks)  # noqa: E731
    assert_fails(nb02.feature_maps_random, squeezed, "single kernel", seed=0)
    assert_fails(nb02.feature_maps_examples, lambda im, ks: [xcorr2d_loops(im, k) for k in ks], "list")

    import scipy.signal

    library = lambda im, ks: np.stack([scipy.signal.correlate2d(im, k, "valid") for k in ks])  # noqa: E731
    assert_fails(nb02.feature_maps_examples, library, "scipy.signal")


# ---------------------------------------------------------------------------------------------
# learn_kernel
# ---------------------------------------------------------------------------------------------


def learn_loops(X, Y, kernel_size, lr, num_steps):
    """With the notebook's cross_correlate2d, one image at a time."""
    kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    kernel = np.zeros((kh, kw))
    for _ in range(num_steps):
        grad = np.zeros((kh, kw))
        for x, y in zip(X, Y):
            residual = xcorr2d_loops(x, kernel) - y
            grad += xcorr2d_loops(x, residual)
        kernel = kernel - lr * 2.0 / Y.size * grad
    return kernel


def learn_patches(X, Y, kernel_size, lr, num_steps):
    """Vectorised: the windows as rows of a matrix, the gradient as one matrix product."""
    kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    P = np.lib.stride_tricks.sliding_window_view(X, (kh, kw), axis=(1, 2)).reshape(-1, kh * kw)
    y = Y.ravel()
    k = np.zeros(kh * kw)
    for _ in range(num_steps):
        k -= lr * 2.0 * P.T @ (P @ k - y) / len(y)
    return k.reshape(kh, kw)


def mistaken(**change):
    def learn(X, Y, kernel_size, lr, num_steps):
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
        kernel = np.zeros((kh, kw))
        count = {"mean": Y.size, "sum": 1, "images": len(Y)}[change.get("normaliser", "mean")]
        for _ in range(num_steps + change.get("extra", 0)):
            residual = np.stack([xcorr2d_windows(x, kernel) for x in X]) - Y
            if change.get("swap"):
                residual = -residual
            grad = sum(xcorr2d_windows(x, r[::-1, ::-1] if change.get("flip") else r) for x, r in zip(X, residual))
            kernel = kernel - lr * change.get("factor", 2.0) / count * grad
        return kernel

    return learn


@pytest.mark.parametrize("fn", [learn_loops, learn_patches])
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_learn_kernel_correct(fn, seed):
    assert_passes(nb02.learn_kernel_steps, fn)
    assert_passes(nb02.learn_kernel_random, fn, seed=seed)


@pytest.mark.parametrize("fn", [learn_loops, learn_patches])
def test_learn_kernel_recovers_quickly(fn):
    start = time.perf_counter()
    assert_passes(nb02.learn_kernel_recovers, fn)
    assert time.perf_counter() - start < 5.0


def test_learn_kernel_mistakes():
    steps, recover = nb02.learn_kernel_steps, nb02.learn_kernel_recovers
    assert_fails(steps, mistaken(factor=1.0), "factor 2")
    assert_fails(steps, mistaken(normaliser="sum"), "summed squared error")
    assert_fails(steps, mistaken(normaliser="images"), "images only")
    assert_fails(steps, mistaken(swap=True), "uphill")
    assert_fails(steps, mistaken(flip=True), "flipped")
    assert_fails(steps, mistaken(extra=1), "one step too many")
    assert_fails(steps, mistaken(extra=-1), "one step too few")
    assert_fails(steps, lambda X, Y, k, lr, n: np.zeros((k, k)), "all zeros")

    def least_squares(X, Y, k, lr, n):
        P = np.lib.stride_tricks.sliding_window_view(X, (k, k), axis=(1, 2)).reshape(-1, k * k)
        return np.linalg.lstsq(P, Y.ravel(), rcond=None)[0].reshape(k, k)

    assert_fails(steps, least_squares, "least-squares")
    assert_fails(recover, lambda X, Y, k, lr, n: np.zeros((k, k)), "all zeros")
    assert_fails(recover, lambda X, Y, k, lr, n: learn_patches(X, Y, k, lr, n)[::-1, ::-1], "flipped kernel")
    assert_fails(recover, lambda X, Y, k, lr, n: learn_patches(X, Y, k, lr, 3), "wrong values")
    assert_fails(nb02.learn_kernel_random, mistaken(normaliser="sum"), "summed squared error", seed=4)
    square_only = lambda X, Y, k, lr, n: learn_loops(X, Y, 3, lr, n)  # noqa: E731 (ignores kernel_size)
    assert_fails(nb02.learn_kernel_random, square_only, "shape", seed=4)


def test_learn_kernel_must_not_change_its_inputs():
    def in_place(X, Y, kernel_size, lr, num_steps):
        X -= X.mean()
        return learn_patches(X, Y, kernel_size, lr, num_steps)

    assert_fails(nb02.learn_kernel_steps, in_place, "changed its input")


def test_import_policy():
    assert "torch" in nb02.FORBIDDEN_IMPORTS and "scipy.signal" in nb02.FORBIDDEN_IMPORTS
    assert nb02.IMPORT_REASON
