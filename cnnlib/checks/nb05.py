"""Checks for notebook 05, the matrix view of convolution, im2col and receptive fields.

The convolution matrices are checked column by column against :mod:`cnnlib.reference`'s
cross-correlation of unit inputs (column ``j`` of the matrix is the layer's response to an input
that is 1 at position ``j`` and 0 elsewhere); ``im2col`` and ``conv2d_im2col`` against
:func:`cnnlib.reference.im2col` and :func:`cnnlib.reference.conv2d_forward` (``im2col`` has the
layout of ``torch.nn.functional.unfold``); ``receptive_field`` against
:func:`cnnlib.arithmetic.receptive_field`. They recognise a flipped kernel, a transposed matrix,
the wrong row ordering of the columns (position-major instead of channel-major), windows taken
column by column, padding or stride ignored, batch and filter axes mixed up, and a receptive field
that ignores the stride (the jump) or adds strides instead of multiplying them. The receptive-field
questions have numbers of each student's own (``cnnlib.variants.nb05``).
"""

from __future__ import annotations

import numpy as np

from cnnlib import arithmetic as arith
from cnnlib import reference as ref

from cnnlib.variants import nb05 as variant_questions

from .core import Missing, Mistake, NotWrittenYet, as_array, as_int, call, check, describe, expect_close, fail, fmt_array, pair
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY
from .varied import DEFAULT_NUMBERS, numbers

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "these exercises ask you to build the convolution matrix, im2col and the receptive field yourself "
    "with NumPy, so libraries that already do them are switched off while your answers are graded"
)


def _matrix_of(op, n_in: int) -> np.ndarray:
    """The matrix of a linear map on flat vectors of length ``n_in``: column j = op(e_j)."""
    return np.stack([np.ravel(op(np.eye(n_in)[j])) for j in range(n_in)], axis=1)


# ---------------------------------------------------------------------------------------------
# conv1d_matrix
# ---------------------------------------------------------------------------------------------


def _toeplitz(w, n, mode="valid"):
    return _matrix_of(lambda e: ref.cross_correlate1d(e, w, mode=mode), n)


def _check_conv1d_matrix(fn, w, n):
    name = "conv1d_matrix(w, n)"
    k = len(w)
    T = as_array(call(fn, w, n, forbid=NO_CONV_LIBRARIES), name, ndim=2)
    good = _toeplitz(w, n)
    mistakes = [
        Mistake(_toeplitz(w[::-1], n), "the kernel is flipped: for cross-correlation row i holds w[0], ..., w[k-1] in order, starting at column i (T[i, i + m] = w[m])"),
        Mistake(good.T, "your matrix is transposed: it should have one ROW per output (n - k + 1 rows) and one column per input (n columns), so that T @ x is the output"),
        Mistake(_toeplitz(w[::-1], n).T, "your matrix is transposed and the kernel flipped; row i of T should be [0, ..., 0, w[0], ..., w[k-1], 0, ...] with w[0] in column i"),
    ]
    if k > 1:
        mistakes.append(Mistake(_toeplitz(w, n, mode="full"), "you built the matrix of the full output (n + k - 1 rows); the valid output has n - k + 1 rows, one per position where the whole kernel fits"))
        mistakes.append(Mistake(good[:-1], "one row is missing: the kernel fits at n - k + 1 positions (the + 1 counts the first one)"))
    expect_close(
        T,
        good,
        name,
        mistakes=mistakes,
        why=f"(n - k + 1, n) = ({n} - {k} + 1, {n})",
        inputs=f"w = {fmt_array(w)}, n = {n}",
    )


@check(points=1)
def conv1d_matrix_examples(conv1d_matrix):
    """conv1d_matrix: shape and entries for a 3-tap kernel on length 6, and a 2-tap kernel on length 4"""
    _check_conv1d_matrix(conv1d_matrix, np.array([1.0, 2.0, 3.0]), 6)
    _check_conv1d_matrix(conv1d_matrix, np.array([-1.0, 1.0]), 4)


@check(points=2, hidden=True)
def conv1d_matrix_random(conv1d_matrix, seed: int = 0):
    """conv1d_matrix: seeded random kernels and lengths; T @ x equals the cross-correlation"""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        k = int(rng.integers(1, 6))
        _check_conv1d_matrix(conv1d_matrix, rng.standard_normal(k), int(rng.integers(k, k + 10)))
    w = rng.standard_normal(3)
    x = rng.standard_normal(9)
    T = as_array(call(conv1d_matrix, w, 9, forbid=NO_CONV_LIBRARIES), "conv1d_matrix(w, n)", ndim=2)
    if T.shape == (7, 9) and not np.allclose(T @ x, ref.cross_correlate1d(x, w)):
        fail("conv1d_matrix(w, n) @ x is not the valid cross-correlation of x with w")


# ---------------------------------------------------------------------------------------------
# conv2d_matrix
# ---------------------------------------------------------------------------------------------


def _block_toeplitz(kernel, shape, *, order="C"):
    H, W = shape
    return _matrix_of(lambda e: ref.cross_correlate2d(e.reshape(H, W, order=order), kernel).ravel(order=order), H * W)


def _check_conv2d_matrix(fn, kernel, shape):
    name = "conv2d_matrix(kernel, image_shape)"
    (H, W), (KH, KW) = shape, kernel.shape
    M = as_array(call(fn, kernel, shape, forbid=NO_CONV_LIBRARIES), name, ndim=2)
    good = _block_toeplitz(kernel, shape)
    mistakes = [
        Mistake(_block_toeplitz(kernel[::-1, ::-1], shape), "the kernel is flipped: for cross-correlation, output pixel (i, j) takes kernel[m, n] times image[i + m, j + n]"),
        Mistake(good.T, "your matrix is transposed: one ROW per output pixel (H' * W' rows) and one column per input pixel (H * W columns), so that M @ image.ravel() == output.ravel()"),
        Mistake(_block_toeplitz(kernel, shape, order="F"), "you flattened the images column by column (order='F'); flatten row by row, as image.ravel() does: pixel (i, j) of an H x W image is entry i * W + j"),
    ]
    if KH == KW and not np.allclose(kernel, kernel.T):
        mistakes.append(Mistake(_block_toeplitz(kernel.T, shape), "your matrix uses the transposed kernel: kernel[m, n] has m the row (down) and n the column (across)"))
    if kernel.shape[0] != kernel.shape[1] or not np.allclose(kernel, kernel[::-1]):
        mistakes.append(Mistake(_block_toeplitz(kernel[::-1], shape), "the kernel is flipped upside down; a cross-correlation uses it as it is"))
    expect_close(
        M,
        good,
        name,
        mistakes=mistakes,
        why=f"(H' * W', H * W) with H' = H - KH + 1 = {H - KH + 1}, W' = W - KW + 1 = {W - KW + 1}",
        inputs=f"kernel = {fmt_array(kernel)}, image_shape = {shape}",
    )


@check(points=1)
def conv2d_matrix_examples(conv2d_matrix):
    """conv2d_matrix: a 2x2 kernel on a 3x4 image, and a 2x3 kernel on a 4x4 image"""
    _check_conv2d_matrix(conv2d_matrix, np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 4))
    _check_conv2d_matrix(conv2d_matrix, np.array([[1.0, 0.0, -1.0], [2.0, 0.5, 0.0]]), (4, 4))


@check(points=2, hidden=True)
def conv2d_matrix_random(conv2d_matrix, seed: int = 0):
    """conv2d_matrix: seeded random kernels and image shapes"""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        shape = (int(rng.integers(KH, KH + 4)), int(rng.integers(KW, KW + 4)))
        _check_conv2d_matrix(conv2d_matrix, rng.standard_normal((KH, KW)), shape)


# ---------------------------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------------------------


def _im2col_mistakes(x, k, stride, padding) -> list[Mistake]:
    N, C = x.shape[:2]
    KH, KW = pair(k)
    good = ref.im2col(x, k, stride, padding)
    L = good.shape[2]
    blocks = good.reshape(N, C, KH, KW, L)
    H, W = x.shape[2:]
    OH = (H + 2 * pair(padding)[0] - KH) // pair(stride)[0] + 1
    OW = (W + 2 * pair(padding)[1] - KW) // pair(stride)[1] + 1
    mistakes = [
        Mistake(blocks.transpose(0, 2, 3, 1, 4).reshape(N, -1, L), "the rows are position-major (kernel offset first, then channel); unfold's layout is channel-major: row (c * KH + m) * KW + n holds pixel (m, n) of channel c"),
        Mistake(good.transpose(0, 2, 1), "your output is (N, L, C*KH*KW): one ROW per window; unfold puts each window in a COLUMN: (N, C*KH*KW, L)"),
        Mistake(good.reshape(N, -1, OH, OW).transpose(0, 1, 3, 2).reshape(N, -1, L), "the windows are in column-major order; take them row by row, as unfold does: window l = i * W' + j starts at (i * stride, j * stride)"),
    ]
    if KH > 1 and KW > 1:
        mistakes.append(Mistake(blocks.transpose(0, 1, 3, 2, 4).reshape(N, -1, L), "within each channel the kernel pixels are in column-major order; unfold lists them row by row: (m, n) comes at row m * KW + n of the channel's block"))
    if pair(padding) != (0, 0):
        try:
            mistakes.append(Mistake(ref.im2col(x, k, stride, 0), "the padding is ignored: add `padding` zeros on each side of H and W before taking the windows"))
        except ValueError:
            pass
    if pair(stride) != (1, 1):
        mistakes.append(Mistake(ref.im2col(x, k, 1, padding), "the stride is ignored: neighbouring windows start `stride` pixels apart"))
    return mistakes


def _check_im2col(fn, x, k, stride=1, padding=0):
    name = "im2col(x, kernel_size, stride, padding)"
    out = as_array(call(fn, x, k, stride=stride, padding=padding, forbid=NO_CONV_LIBRARIES), name, ndim=3)
    expect_close(
        out,
        ref.im2col(x, k, stride, padding),
        name,
        mistakes=_im2col_mistakes(x, k, stride, padding),
        why="(N, C * KH * KW, L) with L = H' * W' windows",
        inputs=f"x of shape {x.shape}, kernel_size={k}, stride={stride}, padding={padding}",
    )


@check(points=2)
def im2col_examples(im2col):
    """im2col: unfold's layout on small inputs (2 channels; then stride 2 and padding 1)"""
    x = np.arange(2 * 2 * 3 * 4, dtype=float).reshape(2, 2, 3, 4)
    _check_im2col(im2col, x, 2)
    _check_im2col(im2col, x, (2, 3))
    _check_im2col(im2col, np.arange(25.0).reshape(1, 1, 5, 5), 3, stride=2, padding=1)


@check(points=2, hidden=True)
def im2col_random(im2col, seed: int = 0):
    """im2col: seeded random shapes, kernel sizes, strides and paddings"""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        k = (KH, KW) if KH != KW else KH
        s = int(rng.integers(1, 3))
        p = int(rng.integers(0, 2))
        x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(KH, KH + 5)), int(rng.integers(KW, KW + 5))))
        _check_im2col(im2col, x, k, stride=s, padding=p)


# ---------------------------------------------------------------------------------------------
# conv2d_im2col
# ---------------------------------------------------------------------------------------------


def _conv(x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, stride=stride, padding=padding)[0]


def _check_conv2d_im2col(fn, x, w, b, stride=1, padding=0):
    name = "conv2d_im2col(x, w, b, stride, padding)"
    out = as_array(call(fn, x, w, b, stride=stride, padding=padding, forbid=NO_CONV_LIBRARIES), name, ndim=4)
    good = _conv(x, w, b, stride, padding)
    N, F, OH, OW = good.shape
    mistakes = [
        Mistake(good - b[:, None, None], "the bias is missing: add b[f] to every position of output channel f"),
        Mistake(_conv(x, w[:, :, ::-1, ::-1], b, stride, padding), "your output equals true convolution (kernel flipped); multiply each column by the kernel as it is, w.reshape(F, -1)"),
        Mistake(good.transpose(0, 1, 3, 2).reshape(N, F, OH, OW), "the output pixels come out in column-major order; with unfold's row-major windows, column l is output pixel (l // W', l % W')"),
    ]
    if N > 1 and F > 1:
        mistakes.append(Mistake(good.transpose(1, 0, 2, 3).reshape(N, F, OH, OW), "batch and filter axes are mixed up: the product w.reshape(F, -1) @ cols[n] is (F, L) for image n; stack the images first, then reshape each to (F, H', W')"))
    if pair(padding) != (0, 0):
        try:
            mistakes.append(Mistake(_conv(x, w, b, stride, 0), "the padding is ignored: pass it on to im2col"))
        except ValueError:
            pass
    if pair(stride) != (1, 1):
        mistakes.append(Mistake(_conv(x, w, b, 1, padding), "the stride is ignored: pass it on to im2col"))
    expect_close(
        out,
        good,
        name,
        mistakes=mistakes,
        why="(N, F, H', W') with H' = floor((H + 2p - KH) / s) + 1",
        inputs=f"x of shape {x.shape}, w of shape {w.shape}, b = {fmt_array(b)}, stride={stride}, padding={padding}",
    )


@check(points=2)
def conv2d_im2col_examples(conv2d_im2col):
    """conv2d_im2col: a batch of two 2-channel images, three filters; then stride 2 and padding 1"""
    rng = np.random.default_rng(5)
    x = np.round(rng.standard_normal((2, 2, 5, 6)), 1)
    w = np.round(rng.standard_normal((3, 2, 3, 3)), 1)
    b = np.array([0.5, -1.0, 2.0])
    _check_conv2d_im2col(conv2d_im2col, x, w, b)
    _check_conv2d_im2col(conv2d_im2col, x, w, b, stride=2, padding=1)


@check(points=2, hidden=True)
def conv2d_im2col_random(conv2d_im2col, seed: int = 0):
    """conv2d_im2col: seeded random shapes, kernels, strides and paddings (compared with PyTorch's conv2d semantics)"""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
        x = rng.standard_normal((N, C, int(rng.integers(KH, KH + 6)), int(rng.integers(KW, KW + 6))))
        w = rng.standard_normal((F, C, KH, KW))
        _check_conv2d_im2col(conv2d_im2col, x, w, rng.standard_normal(F), stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 2)))


# ---------------------------------------------------------------------------------------------
# receptive_field
# ---------------------------------------------------------------------------------------------


def _field_mistakes(layers) -> list[Mistake]:
    ks = [k for k, _ in layers]
    ss = [s for _, s in layers]
    prod_before = [int(np.prod(ss[:i])) for i in range(len(layers))]
    prod_upto = [int(np.prod(ss[: i + 1])) for i in range(len(layers))]
    sum_before = [max(1, sum(ss[:i])) for i in range(len(layers))]
    one_plus_sum = [1 + sum(ss[:i]) - i for i in range(len(layers))]  # jump += s, minus the ones that stride 1 adds
    one_plus_sum_raw = [1 + sum(ss[:i]) for i in range(len(layers))]
    backwards = 1
    for k, s in layers:  # the top-down recursion r = s * r + (k - s), run bottom-up
        backwards = s * backwards + (k - s)
    return [
        Mistake(1 + sum(k - 1 for k in ks), "the stride is ignored: after a stride-s layer, neighbouring units are s input pixels apart (the jump), so each later kernel step covers jump pixels: r = 1 + sum_l (k_l - 1) * (s_1 * ... * s_{l-1})"),
        Mistake(sum(ks), "you added the kernel sizes; two stacked 3x3 layers see 5 pixels, not 6: each layer adds k - 1 (times the jump)"),
        Mistake(1 + sum((k - 1) * j for k, j in zip(ks, sum_before)), "the strides are added; the jump between neighbouring units MULTIPLIES by each layer's stride: J_l = s_1 * s_2 * ... * s_{l-1}"),
        Mistake(1 + sum((k - 1) * j for k, j in zip(ks, one_plus_sum)), "the strides are added; the jump between neighbouring units MULTIPLIES by each layer's stride: J_l = s_1 * s_2 * ... * s_{l-1}"),
        Mistake(1 + sum((k - 1) * j for k, j in zip(ks, one_plus_sum_raw)), "the strides are added; the jump between neighbouring units MULTIPLIES by each layer's stride: J_l = s_1 * s_2 * ... * s_{l-1}"),
        Mistake(1 + sum((k - 1) * j for k, j in zip(ks, prod_upto)), "each layer's own stride is counted in its jump; a layer's kernel steps over the units of the layer BELOW it, which are s_1 * ... * s_{l-1} pixels apart (update the jump after adding the layer)"),
        Mistake(sum((k - 1) * j for k, j in zip(ks, prod_before)), "one pixel short: a single unit already sees 1 pixel, so start from r = 1 and add (k_l - 1) * J_l per layer"),
        Mistake(backwards, "the recursion runs in the wrong direction: r = s * r + (k - s) goes from the LAST layer down to the input; going up from the input, add (k_l - 1) * J_l"),
    ]


def _check_field(fn, layers):
    name = "receptive_field(layers)"
    value = call(fn, [tuple(layer) for layer in layers], forbid=NUMPY_ONLY)
    got = as_int(value, name)
    expected = arith.receptive_field(list(layers))
    if got == expected:
        return
    for mistake in _field_mistakes(layers):
        if int(mistake.output) == got:
            fail(f"{name}: {mistake.explanation}", f"On layers = {list(layers)}: you returned {got}, the receptive field is {expected}.")
    fail(f"{name} returned {got}, which is wrong; with the jump J_l = s_1 * ... * s_(l-1), r = 1 + sum_l (k_l - 1) * J_l",
         f"On layers = {list(layers)}: the receptive field is {expected}.")


@check(points=1)
def receptive_field_examples(receptive_field):
    """receptive_field: three 3x3 layers, a conv/pool stack with strides, AlexNet's first layers"""
    _check_field(receptive_field, [(3, 1), (3, 1), (3, 1)])
    _check_field(receptive_field, [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)])
    _check_field(receptive_field, [(11, 4), (3, 2), (5, 1)])
    _check_field(receptive_field, [(3, 2), (3, 2), (3, 2), (3, 1)])


@check(points=2, hidden=True)
def receptive_field_random(receptive_field, seed: int = 0):
    """receptive_field: seeded random stacks of kernels and strides, and an empty stack"""
    _check_field(receptive_field, [])
    rng = np.random.default_rng(seed)
    for _ in range(6):
        layers = [(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 7)))]
        _check_field(receptive_field, layers)


# ---------------------------------------------------------------------------------------------
# Receptive-field questions, with numbers of each student's own (cnnlib.variants.nb05)
# ---------------------------------------------------------------------------------------------


def _depth_answer(q) -> int:
    """The fewest stride-1 k x k layers whose receptive field is at least ``target`` pixels."""
    depth = 1
    while arith.receptive_field([(q.k, 1)] * depth) < q.target:
        depth += 1
    return depth


#: The per-student questions these checks grade, and each one's answer from its numbers.
VARIANT_QUESTIONS = variant_questions.QUESTIONS
VARIANT_ANSWERS = {
    "answer_rf_stack": lambda q: arith.receptive_field([(q.k, 1)] * q.layers),
    "answer_rf_strided": lambda q: (arith.receptive_field(list(q.layers)), arith.effective_stride(list(q.layers))),
    "answer_rf_depth": _depth_answer,
}


def _read(value, name: str, length: int | None = None):
    if value is None or isinstance(value, Missing):
        raise NotWrittenYet(f"{name} is not set yet: compute it and run its cell")
    if length is None:
        return as_int(value, name)
    value = value.tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(value, (tuple, list)) or len(value) != length:
        fail(f"{name} should be a pair of whole numbers; it is {describe(value)}")
    return tuple(as_int(v, name) for v in value)


def _grade_field(got, name: str, mistakes, formula: str) -> None:
    """Compare with this variant's answer, naming a recognised mistake; never shows the answer."""
    q, default = numbers(VARIANT_QUESTIONS, name)
    answer = VARIANT_ANSWERS[name]
    expected = answer(q)
    if got == expected:
        return
    for wrong, explanation in ([(answer(default), DEFAULT_NUMBERS)] if default is not None else []) + mistakes(q):
        if wrong is not None and wrong != expected and got == wrong:
            fail(f"{name} is {got}: {explanation}")
    fail(f"{name} is {got}, which is not right; {formula}")


RF_FORMULA = "with the jump J_l = s_1 * ... * s_(l-1), r = 1 + sum_l (k_l - 1) * J_l"


@check(points=1)
def answer_rf_stack(answer_rf_stack):
    """A stack of stride-1 convolutions: the receptive field of one unit"""
    got = _read(answer_rf_stack, "answer_rf_stack")

    def mistakes(q):
        return [(int(m.output), m.explanation) for m in _field_mistakes([(q.k, 1)] * q.layers)] + [
            (1 + (q.layers - 1) * (q.k - 1), "one layer short: a field starts at 1 pixel and each of the L layers adds k - 1"),
        ]

    _grade_field(got, "answer_rf_stack", mistakes, "L stride-1 layers of kernel k see 1 + L(k - 1) pixels")


@check(points=1)
def answer_rf_strided(answer_rf_strided):
    """A stack of convolutions and poolings with strides: the receptive field and the jump"""
    got = _read(answer_rf_strided, "answer_rf_strided", 2)

    def mistakes(q):
        layers = list(q.layers)
        field, jump = VARIANT_ANSWERS["answer_rf_strided"](q)
        found = [((int(m.output), jump), m.explanation) for m in _field_mistakes(layers)]
        found += [
            ((jump, field), "the two are swapped: first the receptive field, then the jump"),
            ((field, sum(s for _, s in layers)), "the jump is the PRODUCT of the strides, not their sum"),
            ((field, int(np.prod([s for _, s in layers[:-1]]))), "the jump of the last layer's units includes the last layer's own stride: multiply all the strides"),
        ]
        return found

    _grade_field(got, "answer_rf_strided", mistakes, RF_FORMULA + ", and the jump of the last layer is the product of all the strides")


@check(points=1)
def answer_rf_depth(answer_rf_depth):
    """The number of stride-1 layers a unit needs to see a given window"""
    got = _read(answer_rf_depth, "answer_rf_depth")

    def mistakes(q):
        return [
            ((q.target - 1) // (q.k - 1), f"that stack sees fewer than {q.target} pixels: round the number of layers UP, since each layer adds k - 1 pixels to a field that starts at 1"),
            (-(-q.target // (q.k - 1)), "the field starts at 1 pixel, not 0: you need 1 + L(k - 1) >= target"),
            (-(-q.target // q.k), "each layer adds k - 1 pixels, not k: the field of L layers is 1 + L(k - 1)"),
        ]

    _grade_field(got, "answer_rf_depth", mistakes, "the smallest L with 1 + L(k - 1) >= the window")
