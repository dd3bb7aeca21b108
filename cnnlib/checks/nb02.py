"""Checks for notebook 02, filters and feature maps.

- ``horizontal_edge_kernel``: judged by its responses, so any correct detector passes (Sobel,
  Prewitt, a plain difference, either sign). Recognised mistakes: a vertical-edge detector (the
  transposed kernel), entries that do not sum to zero (a response on flat regions), columns that
  do not sum to zero (a response to vertical edges), a kernel too weak to notice an edge.
- ``feature_maps``: the stack ``(len(kernels), H', W')``. Recognised: maps stacked on the last
  axis, maps summed into one, flipped kernels (true convolution), a single map squeezed to 2D.
- ``learn_kernel``: gradient descent on the mean squared error from a zero kernel, compared step
  for step with the reference trajectory, and on convergence to the kernel that made the targets.
  Recognised: the summed instead of the mean loss, the factor 2 forgotten, a mean over images
  only, gradient ascent, a flipped gradient, one step too many or too few, no step at all, the
  closed-form least-squares kernel instead of gradient descent.
"""

from __future__ import annotations

import numpy as np

from cnnlib import reference as ref

from .core import Missing, Mistake, NotWrittenYet, as_array, call, check, expect_close, expect_shape, fail, fmt_array, pair
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY

#: What the student's code may not import while graded (the autograder's sandbox enforces it).
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "this notebook asks you to write the filtering and the gradient descent yourself with NumPy, so "
    "libraries that already compute them (PyTorch, SciPy's signal and ndimage, scikit-image, cnnlib) are not available here"
)


# ---------------------------------------------------------------------------------------------
# horizontal_edge_kernel
# ---------------------------------------------------------------------------------------------


def _step(size: int, at: int, low: float, high: float, axis: int) -> np.ndarray:
    """A ``size x size`` image that steps from ``low`` to ``high`` at index ``at`` along ``axis``
    (axis 0: top to bottom, a horizontal edge; axis 1: left to right, a vertical edge)."""
    profile = np.where(np.arange(size) < at, low, high)
    return np.repeat(profile[:, None], size, axis=1) if axis == 0 else np.repeat(profile[None, :], size, axis=0)


def _judge_edge_kernel(kernel: np.ndarray, horizontal: list, vertical: list, flat: list) -> None:
    """Fail unless ``kernel`` answers the horizontal-edge images strongly and the others not at all.

    Each list holds ``(image, contrast)``; responses are measured relative to ``|kernel| * contrast``
    (``|kernel|`` the Frobenius norm), so the verdict does not depend on the kernel's scale.
    """
    norm = float(np.linalg.norm(kernel))
    if norm == 0.0:
        fail("horizontal_edge_kernel() returned a kernel of zeros: it responds to nothing, edges included")

    def strength(cases):
        return max(float(np.abs(ref.cross_correlate2d(image, kernel)).max()) / (norm * contrast) for image, contrast in cases)

    on_flat, on_vertical, on_horizontal = strength(flat), strength(vertical), strength(horizontal)
    quiet, strong = 0.02, 0.25
    sums = f"(row sums {fmt_array(kernel.sum(axis=1))}, column sums {fmt_array(kernel.sum(axis=0))}, total {kernel.sum():.3g})"
    if on_vertical > strong and on_horizontal < quiet:
        fail(
            "horizontal_edge_kernel(): your kernel responds to vertical edges (intensity changing from left to right) "
            "and not to horizontal ones: that is a vertical-edge detector. A horizontal edge is a boundary that runs "
            "across the image, where intensity changes from top to bottom; transpose your kernel (kernel.T)",
            f"Your kernel: {fmt_array(kernel)}.",
        )
    if on_flat > quiet:
        fail(
            "horizontal_edge_kernel(): your kernel responds to a flat region (a constant image): its entries do not sum "
            "to zero, so it passes on the brightness itself; an edge detector's entries sum to 0",
            f"Your kernel: {fmt_array(kernel)} {sums}.",
        )
    if on_vertical > quiet:
        fail(
            "horizontal_edge_kernel(): your kernel also responds to vertical edges (intensity changing from left to "
            "right): for an image that only varies across the columns the output is sum_n (column sum n) * I(j + n), so "
            "every column of the kernel must sum to 0",
            f"Your kernel: {fmt_array(kernel)} {sums}.",
        )
    if on_horizontal < strong:
        fail(
            "horizontal_edge_kernel(): your kernel hardly responds to a horizontal edge (dark above, bright below): "
            "its rows must weigh the pixels above and below differently, for example a negative top row and a "
            "positive bottom row",
            f"Your kernel: {fmt_array(kernel)} {sums}.",
        )


def _edge_kernel(horizontal_edge_kernel) -> np.ndarray:
    kernel = as_array(call(horizontal_edge_kernel, forbid=NO_CONV_LIBRARIES), "horizontal_edge_kernel()", ndim=2)
    expect_shape(kernel, (3, 3), "horizontal_edge_kernel()", why="the exercise asks for a 3x3 kernel")
    return kernel


@check(points=2)
def horizontal_edge_kernel_responses(horizontal_edge_kernel):
    """horizontal_edge_kernel: strong on horizontal edges, zero on vertical edges and flat regions"""
    kernel = _edge_kernel(horizontal_edge_kernel)
    horizontal = [(_step(9, 4, 0.2, 0.9, axis=0), 0.7), (_step(9, 5, 0.9, 0.2, axis=0), 0.7)]
    vertical = [(_step(9, 4, 0.2, 0.9, axis=1), 0.7), (_step(9, 5, 0.9, 0.2, axis=1), 0.7)]
    flat = [(np.full((9, 9), 0.6), 0.6)]
    _judge_edge_kernel(kernel, horizontal, vertical, flat)


@check(points=1, hidden=True)
def horizontal_edge_kernel_random(horizontal_edge_kernel, seed: int = 0):
    """horizontal_edge_kernel: seeded random edges, stripes and brightness levels"""
    kernel = _edge_kernel(horizontal_edge_kernel)
    rng = np.random.default_rng(seed)
    horizontal, vertical, flat = [], [], []
    for _ in range(4):
        size = int(rng.integers(6, 14))
        at = int(rng.integers(2, size - 2))
        low, high = sorted(rng.uniform(0.0, 1.0, size=2))
        if high - low < 0.2:
            high = low + 0.2
        if rng.random() < 0.5:
            low, high = high, low
        horizontal.append((_step(size, at, low, high, axis=0), abs(high - low)))
        vertical.append((_step(size, at, low, high, axis=1), abs(high - low)))
        # Stripes that vary only across the columns: no horizontal structure at all.
        columns = rng.uniform(0.0, 1.0, size=size)
        vertical.append((np.repeat(columns[None, :], size, axis=0), float(np.ptp(columns)) or 1.0))
        flat.append((np.full((size, size), rng.uniform(0.1, 1.0)), 1.0))
    _judge_edge_kernel(kernel, horizontal, vertical, flat)


#: The four kernels of the multiple-choice question, as the notebook shows them.
CHOICES = {
    "a": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "b": np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]),
    "c": np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
    "d": np.full((3, 3), 1.0 / 9.0),
}
_CHOICE_MISTAKES = {
    "a": "kernel (a) compares the column on the left with the column on the right: it finds vertical edges, where intensity changes from left to right",
    "b": "kernel (b), the Laplacian, responds to intensity changes in every direction (and to single bright dots), not to horizontal edges in particular",
    "d": "kernel (d) averages its 3x3 window: it blurs the image and responds to flat regions as much as to edges",
}


@check(points=1)
def horizontal_kernel_choice(answer):
    """Multiple choice: which kernel finds horizontal edges"""
    if answer is None or isinstance(answer, Missing):  # the released cell sets it to None
        raise NotWrittenYet("answer_horizontal is not set yet: set it to a letter and run its cell")
    if not isinstance(answer, str) or answer.strip().strip("()").lower() not in CHOICES:
        fail(f"answer_horizontal should be one of the letters 'a', 'b', 'c', 'd'; it is {answer!r}")
    letter = answer.strip().strip("()").lower()
    if letter != "c":
        fail(f"answer_horizontal: {_CHOICE_MISTAKES[letter]}")


# ---------------------------------------------------------------------------------------------
# feature_maps
# ---------------------------------------------------------------------------------------------


def _check_feature_maps(fn, image, kernels, label: str):
    name = "feature_maps(image, kernels)"
    out = as_array(call(fn, image, kernels, forbid=NO_CONV_LIBRARIES), name)
    stack = np.asarray(kernels, dtype=np.float64)
    expected = np.stack([ref.cross_correlate2d(image, k) for k in stack])  # (K, H', W')
    mistakes = [
        Mistake(np.stack([ref.convolve2d(image, k) for k in stack]), "your maps equal true convolution: a filter bank, like a convolution layer, cross-correlates (the kernels are not flipped)"),
    ]
    if len(stack) > 1:
        mistakes.append(Mistake(expected.sum(axis=0), "you added the maps into one: keep one map per kernel, stacked along a new first axis"))
        mistakes.append(Mistake(np.moveaxis(expected, 0, -1), "you stacked the maps along the last axis (H', W', K); put the kernel index first: shape (len(kernels), H', W'), as np.stack(maps) does"))
    else:
        mistakes.append(Mistake(expected[0], "with a single kernel you returned a 2D map; keep the first axis: shape (1, H', W')"))
    (h, w), (kh, kw) = image.shape, stack.shape[1:]
    expect_close(
        out,
        expected,
        name,
        mistakes=mistakes,
        why=f"one (H - KH + 1, W - KW + 1) = ({h - kh + 1}, {w - kw + 1}) map per kernel, {len(stack)} kernels",
        inputs=label,
    )


_BOX = np.full((3, 3), 1.0 / 9.0)
_SOBEL_Y = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
_ODD = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [-1.0, 0.0, 0.0]])


@check(points=1)
def feature_maps_examples(feature_maps):
    """feature_maps: shape (len(kernels), H', W') and values for a list of three 3x3 kernels"""
    image = np.arange(42.0).reshape(6, 7) % 5.0
    _check_feature_maps(feature_maps, image, [_BOX, _SOBEL_Y, _ODD], "a 6x7 image and a list of three 3x3 kernels (box blur, Sobel, an asymmetric one)")


@check(points=2, hidden=True)
def feature_maps_random(feature_maps, seed: int = 0):
    """feature_maps: seeded random images, banks given as arrays (K, KH, KW), non-square kernels, one kernel"""
    rng = np.random.default_rng(seed)
    for count in (int(rng.integers(2, 6)), int(rng.integers(2, 6)), 1):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        image = rng.standard_normal((int(rng.integers(kh, kh + 7)), int(rng.integers(kw, kw + 7))))
        kernels = rng.standard_normal((count, kh, kw))
        _check_feature_maps(feature_maps, image, kernels, "random inputs")


# ---------------------------------------------------------------------------------------------
# learn_kernel
# ---------------------------------------------------------------------------------------------


def _descend(X, Y, kernel_shape, lr, num_steps, *, normaliser="mean", flip=False, factor=2.0):
    """Gradient descent on the mean squared error from a zero kernel; the keywords make the
    recognised mistakes (``normaliser``: "mean" over every output value, "images", "sum")."""
    kernel = np.zeros(kernel_shape)
    count = {"mean": Y.size, "images": len(Y), "sum": 1}[normaliser]
    for _ in range(num_steps):
        residual = np.stack([ref.cross_correlate2d(x, kernel) for x, y in zip(X, Y)]) - Y  # (N, H', W')
        # dL/dK[m, n] = factor / count * sum_{n, i, j} residual[n, i, j] * X[n, i + m, j + n]
        grad = sum((ref.convolve2d if flip else ref.cross_correlate2d)(x, r) for x, r in zip(X, residual))
        kernel = kernel - lr * factor / count * grad
    return kernel


def _check_steps(fn, X, Y, kernel_size, lr, num_steps, label):
    name = "learn_kernel(X, Y, kernel_size, lr, num_steps)"
    out = as_array(call(fn, X, Y, kernel_size, lr, num_steps, forbid=NO_CONV_LIBRARIES), name, ndim=2)
    shape = pair(kernel_size)
    expected = _descend(X, Y, shape, lr, num_steps)
    windows = np.lib.stride_tricks.sliding_window_view(X, shape, axis=(1, 2)).reshape(-1, shape[0] * shape[1])
    least_squares = np.linalg.lstsq(windows, Y.ravel(), rcond=None)[0].reshape(shape)
    mistakes = [
        Mistake(np.zeros(shape), "your kernel is still all zeros: start from zeros, then take num_steps steps kernel -= lr * gradient"),
        Mistake(_descend(X, Y, shape, lr, num_steps, factor=1.0), "your steps are half as long as they should be: the derivative of the squared error (S - Y)^2 is 2 (S - Y), so the gradient has a factor 2"),
        Mistake(_descend(X, Y, shape, lr, num_steps, normaliser="sum"), "your gradient is that of the summed squared error: the loss is the MEAN over every output value of every image, so divide the gradient by N * H' * W'"),
        Mistake(_descend(X, Y, shape, lr, num_steps, normaliser="images"), "you averaged over the images only: the loss is the mean over every output value, so divide by N * H' * W', not N"),
        Mistake(_descend(X, Y, shape, -lr, num_steps), "your kernel moves uphill (gradient ascent): subtract lr * gradient, with the residual S - Y (prediction minus target)"),
        Mistake(_descend(X, Y, shape, lr, num_steps, flip=True), "your gradient is flipped: dL/dK[m, n] pairs the residual at (i, j) with X[i + m, j + n], a cross-correlation of the input with the residual, not a convolution"),
        Mistake(least_squares, "you returned the exact least-squares kernel; the exercise asks for the kernel after num_steps steps of gradient descent from zeros"),
        Mistake(_descend(X, Y, shape, lr, num_steps + 1), "you took one step too many: run exactly num_steps updates"),
    ]
    if num_steps > 1:
        mistakes.append(Mistake(_descend(X, Y, shape, lr, num_steps - 1), "you took one step too few: run exactly num_steps updates"))
    expect_close(out, expected, name, mistakes=mistakes, rtol=1e-6, atol=1e-9, why=f"a kernel of shape {shape}", inputs=label)


def _problem(rng, count, size, kernel):
    """White-noise images and their cross-correlations with ``kernel``: a well-conditioned problem."""
    X = rng.standard_normal((count, *size))
    Y = np.stack([ref.cross_correlate2d(x, kernel) for x in X])
    return X, Y


_TRUE_KERNEL = np.array([[1.0, 0.0, -1.0], [2.0, 0.5, -2.0], [1.0, 0.0, -1.0]])


@check(points=1)
def learn_kernel_steps(learn_kernel):
    """learn_kernel: the kernel after 4 gradient-descent steps from zeros, and after 1, matches step for step"""
    X, Y = _problem(np.random.default_rng(7), 3, (8, 8), _TRUE_KERNEL)
    for steps in (4, 1):
        _check_steps(learn_kernel, X, Y, 3, 0.1, steps, f"3 random 8x8 images, kernel_size=3, lr=0.1, num_steps={steps}")


@check(points=2)
def learn_kernel_recovers(learn_kernel):
    """learn_kernel: 60 steps recover the 3x3 kernel that made the targets"""
    X, Y = _problem(np.random.default_rng(8), 4, (12, 12), _TRUE_KERNEL)
    out = as_array(call(learn_kernel, X, Y, 3, 0.2, 60, forbid=NO_CONV_LIBRARIES), "learn_kernel(X, Y, 3, 0.2, 60)", ndim=2)
    expected = _descend(X, Y, (3, 3), 0.2, 60)
    expect_close(
        out,
        _TRUE_KERNEL,
        "learn_kernel(X, Y, 3, 0.2, 60)",
        mistakes=[
            Mistake(np.zeros((3, 3)), "your kernel is still all zeros: take num_steps steps kernel -= lr * gradient"),
            Mistake(_TRUE_KERNEL[::-1, ::-1], "you learned the flipped kernel: the targets are cross-correlations, so predict with cross_correlate2d (not a convolution)"),
        ],
        rtol=1e-4,
        atol=1e-4,
        why="a 3x3 kernel",
        inputs=f"4 random 12x12 images whose targets Y were made with the kernel {fmt_array(_TRUE_KERNEL)} (gradient descent from zeros gets within {np.abs(expected - _TRUE_KERNEL).max():.1g})",
    )


@check(points=2, hidden=True)
def learn_kernel_random(learn_kernel, seed: int = 0):
    """learn_kernel: seeded random problems, non-square kernels given as pairs, a few steps each"""
    rng = np.random.default_rng(seed)
    for as_pair in (False, True, True):
        kh, kw = (int(rng.integers(2, 5)),) * 2 if not as_pair else (int(v) for v in rng.integers(1, 5, size=2))
        size = (int(rng.integers(kh + 2, kh + 8)), int(rng.integers(kw + 2, kw + 8)))
        X, Y = _problem(rng, int(rng.integers(1, 4)), size, rng.standard_normal((kh, kw)))
        kernel_size = (kh, kw) if as_pair else kh
        _check_steps(learn_kernel, X, Y, kernel_size, float(rng.uniform(0.05, 0.25)), int(rng.integers(2, 7)), "random inputs")
