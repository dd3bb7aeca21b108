"""Checks for notebook 01, convolution vs cross-correlation.

Each check recognises the usual wrong answers: flipping the kernel when it should not (or not
flipping it when it should), flipping along one axis only, a transposed kernel, the missing +1
(one value, or one row and column, short), returning the "full" or "same" output instead of the
valid one (or the valid one where the full one is asked), and calling a library's convolution
instead of writing the sums.
"""

from __future__ import annotations

import numpy as np

from cnnlib import reference as ref

from .core import Mistake, as_array, call, check, expect_close, fail, fmt_array
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY

#: What the student's code may not import while graded (the autograder's sandbox enforces it).
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "this notebook asks you to write the convolution sums yourself with NumPy, so libraries that "
    "already compute them (PyTorch, SciPy's signal and ndimage, scikit-image, cnnlib) are not available here"
)


# ---------------------------------------------------------------------------------------------
# 1D
# ---------------------------------------------------------------------------------------------


def _mistakes_1d(x, w, *, want: str) -> list[Mistake]:
    """Wrong answers for a 1D valid cross-correlation (``want="xcorr"``) or convolution."""
    xcorr = ref.cross_correlate1d(x, w)
    conv = ref.convolve1d(x, w)
    mistakes = []
    if want == "xcorr":
        mistakes.append(Mistake(conv, "your output equals true convolution: cross-correlation slides the kernel as it is, so do not flip it"))
        mistakes.append(Mistake(ref.cross_correlate1d(x, w, mode="full"), "you returned the full output (every overlap); the valid output keeps only positions where the whole kernel fits: len(x) - len(w) + 1 values"))
    else:
        mistakes.append(Mistake(xcorr, "your output equals cross-correlation: true convolution flips the kernel first (w[::-1]) and then slides it"))
        mistakes.append(Mistake(ref.convolve1d(x, w, mode="full"), "you returned the full output (every overlap); the valid output keeps only positions where the whole kernel fits: len(x) - len(w) + 1 values"))
    n, k = len(x), len(w)
    if n - k >= 1:
        # The off-by-one: stopping one position early (the missing +1).
        good = xcorr if want == "xcorr" else conv
        mistakes.append(Mistake(good[:-1], f"your output is one value short: a length-{k} kernel fits at len(x) - len(w) + 1 = {n - k + 1} positions (the +1 counts the first position)"))
    return mistakes


def _check_1d(fn, name, x, w, want: str):
    out = call(fn, x, w, forbid=NO_CONV_LIBRARIES)
    out = as_array(out, f"{name}(x, w)", ndim=1)
    expected = ref.cross_correlate1d(x, w) if want == "xcorr" else ref.convolve1d(x, w)
    expect_close(
        out,
        expected,
        f"{name}(x, w)",
        mistakes=_mistakes_1d(x, w, want=want),
        why=f"valid output: len(x) - len(w) + 1 = {len(x)} - {len(w)} + 1 = {len(x) - len(w) + 1}",
        inputs=f"x = {fmt_array(x)}, w = {fmt_array(w)}",
    )


def _random_1d_cases(seed: int, count: int = 6):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        k = int(rng.integers(1, 7))
        n = int(rng.integers(k, k + 15))
        yield rng.standard_normal(n), rng.standard_normal(k)


@check(points=1)
def cross_correlate1d_examples(cross_correlate1d):
    """cross_correlate1d: valid length and values on small examples"""
    _check_1d(cross_correlate1d, "cross_correlate1d", np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, 0.0, -1.0]), "xcorr")
    _check_1d(cross_correlate1d, "cross_correlate1d", np.array([0.0, 1.0, 0.0, 0.0]), np.array([3.0, 2.0]), "xcorr")


@check(points=2, hidden=True)
def cross_correlate1d_random(cross_correlate1d, seed: int = 0):
    """cross_correlate1d: seeded random signals and kernels, including a kernel as long as the signal"""
    for x, w in _random_1d_cases(seed):
        _check_1d(cross_correlate1d, "cross_correlate1d", x, w, "xcorr")
    _check_1d(cross_correlate1d, "cross_correlate1d", np.arange(4.0), np.ones(4), "xcorr")


@check(points=1)
def convolve1d_examples(convolve1d):
    """convolve1d: valid length and values on small examples (the kernel is flipped)"""
    _check_1d(convolve1d, "convolve1d", np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, 0.0, -1.0]), "conv")
    _check_1d(convolve1d, "convolve1d", np.array([0.0, 1.0, 0.0, 0.0]), np.array([3.0, 2.0]), "conv")


@check(points=2, hidden=True)
def convolve1d_random(convolve1d, seed: int = 0):
    """convolve1d: seeded random signals and kernels"""
    for x, w in _random_1d_cases(seed):
        _check_1d(convolve1d, "convolve1d", x, w, "conv")


def _check_full(fn, x, w):
    name = "convolve1d_full(x, w)"
    out = as_array(call(fn, x, w, forbid=NO_CONV_LIBRARIES), name, ndim=1)
    expected = ref.convolve1d(x, w, mode="full")
    n, k = len(x), len(w)
    mistakes = [
        Mistake(ref.cross_correlate1d(x, w, mode="full"), "your output equals the full cross-correlation: true convolution flips the kernel (w[::-1]) before sliding it"),
    ]
    if k <= n:
        mistakes.append(Mistake(ref.convolve1d(x, w), f"you returned the valid output ({n - k + 1} values); the full output keeps every position where kernel and signal overlap: len(x) + len(w) - 1 = {n + k - 1} values"))
    if n + k - 1 > 2:
        mistakes.append(Mistake(expected[1:-1], "your output is missing its first and last values: pad the signal with len(w) - 1 zeros on each side (not len(w) // 2), so that the kernel overlaps it by one sample at both ends"))
    expect_close(
        out,
        expected,
        name,
        mistakes=mistakes,
        why=f"full output: len(x) + len(w) - 1 = {n} + {k} - 1 = {n + k - 1}",
        inputs=f"x = {fmt_array(x)}, w = {fmt_array(w)}",
    )


@check(points=1)
def convolve1d_full_examples(convolve1d_full):
    """convolve1d_full: length len(x) + len(w) - 1 and values on small examples, both argument orders"""
    x, w = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])
    _check_full(convolve1d_full, x, w)
    _check_full(convolve1d_full, w, x)
    _check_full(convolve1d_full, np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, -1.0]))


@check(points=1, hidden=True)
def convolve1d_full_random(convolve1d_full, seed: int = 0):
    """convolve1d_full: seeded random signals, including kernels longer than the signal"""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        n, k = (int(v) for v in rng.integers(1, 12, size=2))
        _check_full(convolve1d_full, rng.standard_normal(n), rng.standard_normal(k))


# ---------------------------------------------------------------------------------------------
# 2D
# ---------------------------------------------------------------------------------------------


def _mistakes_2d(image, kernel, *, want: str) -> list[Mistake]:
    xcorr = ref.cross_correlate2d(image, kernel)
    conv = ref.convolve2d(image, kernel)
    rows = ref.cross_correlate2d(image, kernel[::-1, :])
    cols = ref.cross_correlate2d(image, kernel[:, ::-1])
    mistakes = []
    if want == "xcorr":
        mistakes.append(Mistake(conv, "your output equals true convolution: cross-correlation uses the kernel as it is, so do not flip it"))
        mistakes.append(Mistake(ref.cross_correlate2d(image, kernel, mode="full"), "you returned the full output; the valid output has shape (H - KH + 1, W - KW + 1)"))
        mistakes.append(Mistake(ref.cross_correlate2d(image, kernel, mode="same"), "you returned a 'same'-size (zero-padded) output; the valid output has shape (H - KH + 1, W - KW + 1)"))
    else:
        mistakes.append(Mistake(xcorr, "your output equals cross-correlation: true convolution flips the kernel along BOTH axes (kernel[::-1, ::-1]) before sliding it"))
        mistakes.append(Mistake(ref.convolve2d(image, kernel, mode="full"), "you returned the full output; the valid output has shape (H - KH + 1, W - KW + 1)"))
        mistakes.append(Mistake(rows, "you flipped the kernel upside down only; true convolution flips it along both axes: kernel[::-1, ::-1]"))
        mistakes.append(Mistake(cols, "you flipped the kernel left-right only; true convolution flips it along both axes: kernel[::-1, ::-1]"))
    good = xcorr if want == "xcorr" else conv
    if good.shape[0] > 1 and good.shape[1] > 1:
        mistakes.append(Mistake(good[:-1, :-1], "your output is one row and one column short: a KH x KW kernel fits at H - KH + 1 rows and W - KW + 1 columns (the +1 counts the first position)"))
    fits_transposed = kernel.shape[1] <= image.shape[0] and kernel.shape[0] <= image.shape[1]
    if fits_transposed and (kernel.shape[0] != kernel.shape[1] or not np.allclose(kernel, kernel.T)):
        wrong = ref.cross_correlate2d(image, kernel.T) if want == "xcorr" else ref.convolve2d(image, kernel.T)
        if wrong.shape == good.shape:
            mistakes.append(Mistake(wrong, "your output matches the transposed kernel: index the kernel as kernel[m, n] with m the row (down) and n the column (across)"))
    return mistakes


def _check_2d(fn, name, image, kernel, want: str):
    out = call(fn, image, kernel, forbid=NO_CONV_LIBRARIES)
    out = as_array(out, f"{name}(image, kernel)", ndim=2)
    expected = ref.cross_correlate2d(image, kernel) if want == "xcorr" else ref.convolve2d(image, kernel)
    (h, w), (kh, kw) = image.shape, kernel.shape
    expect_close(
        out,
        expected,
        f"{name}(image, kernel)",
        mistakes=_mistakes_2d(image, kernel, want=want),
        why=f"(H - KH + 1, W - KW + 1) = ({h} - {kh} + 1, {w} - {kw} + 1)",
        inputs=f"an image of shape {image.shape} and the kernel {fmt_array(kernel)}",
    )


def _random_2d_cases(seed: int, count: int = 5):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = int(rng.integers(kh, kh + 8)), int(rng.integers(kw, kw + 8))
        yield rng.standard_normal((h, w)), rng.standard_normal((kh, kw))


# Not a ramp: on a linear image many different kernels give the same output, so a flipped kernel
# could pass unnoticed.
_EXAMPLE_IMAGE = np.array(
    [
        [1.0, 2.0, 0.0, 3.0, 1.0],
        [0.0, 1.0, 4.0, 1.0, 2.0],
        [3.0, 0.0, 2.0, 5.0, 0.0],
        [1.0, 4.0, 1.0, 0.0, 2.0],
    ]
)
_EXAMPLE_KERNEL = np.array([[1.0, 2.0], [0.0, -1.0]])


@check(points=1)
def cross_correlate2d_examples(cross_correlate2d):
    """cross_correlate2d: valid shape and values on a 4x5 image with a 2x2 kernel"""
    _check_2d(cross_correlate2d, "cross_correlate2d", _EXAMPLE_IMAGE, _EXAMPLE_KERNEL, "xcorr")


@check(points=2, hidden=True)
def cross_correlate2d_random(cross_correlate2d, seed: int = 0):
    """cross_correlate2d: seeded random images and non-square kernels"""
    for image, kernel in _random_2d_cases(seed):
        _check_2d(cross_correlate2d, "cross_correlate2d", image, kernel, "xcorr")


@check(points=1)
def convolve2d_examples(convolve2d):
    """convolve2d: valid shape and values on a 4x5 image with a 2x2 kernel"""
    _check_2d(convolve2d, "convolve2d", _EXAMPLE_IMAGE, _EXAMPLE_KERNEL, "conv")


@check(points=2, hidden=True)
def convolve2d_random(convolve2d, seed: int = 0):
    """convolve2d: seeded random images and non-square kernels"""
    for image, kernel in _random_2d_cases(seed):
        _check_2d(convolve2d, "convolve2d", image, kernel, "conv")


@check(points=1, hidden=True)
def keeps_float32(cross_correlate2d, seed: int = 0):
    """cross_correlate2d keeps float32 input float32 and leaves its inputs unchanged"""
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((6, 7)).astype(np.float32)
    kernel = rng.standard_normal((3, 2)).astype(np.float32)
    out = call(cross_correlate2d, image, kernel, forbid=NO_CONV_LIBRARIES)
    out = as_array(out, "cross_correlate2d(image, kernel)", ndim=2, dtype=None)
    if out.dtype != np.float32:
        fail(f"cross_correlate2d returned {out.dtype} for float32 input; keep the input's dtype (for example np.zeros(shape, dtype=image.dtype))")
