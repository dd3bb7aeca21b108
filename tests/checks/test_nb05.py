"""The checks of notebook 05 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib import variants
from cnnlib.checks import nb05
from checkhelpers import run


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


# ---------------------------------------------------------------------------------------------
# conv1d_matrix
# ---------------------------------------------------------------------------------------------


def toeplitz_loops(w, n):
    k = len(w)
    T = np.zeros((n - k + 1, n))
    for i in range(n - k + 1):
        T[i, i : i + k] = w
    return T


def toeplitz_diagonals(w, n):
    k = len(w)
    # One diagonal per kernel tap: T[i, i + m] = w[m].
    return sum(w[m] * np.eye(n - k + 1, n, k=m) for m in range(k))


@pytest.mark.parametrize("fn", [toeplitz_loops, toeplitz_diagonals])
def test_conv1d_matrix_correct(fn):
    assert run(nb05.conv1d_matrix_examples, fn).passed
    for seed in (0, 1):
        assert run(nb05.conv1d_matrix_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda w, n: toeplitz_loops(w[::-1], n), "kernel is flipped"),
        (lambda w, n: toeplitz_loops(w, n).T, "transposed"),
        (lambda w, n: toeplitz_loops(w[::-1], n).T, "transposed and the kernel flipped"),
        (lambda w, n: toeplitz_loops(w, n)[:-1], "one row is missing"),
        (lambda w, n: toeplitz_loops(w, n + 2 * (len(w) - 1))[:, len(w) - 1 : len(w) - 1 + n], "full output"),
        (lambda w, n: torch.nn.functional.conv1d(torch.eye(n, dtype=torch.float64)[:, None], torch.tensor(w)[None, None])[:, 0].T.numpy(), "library implementation"),
    ],
)
def test_conv1d_matrix_mistakes(fn, words):
    result = run(nb05.conv1d_matrix_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb05.conv1d_matrix_random, fn, seed=0).passed


# ---------------------------------------------------------------------------------------------
# conv2d_matrix
# ---------------------------------------------------------------------------------------------


def matrix_loops(kernel, image_shape):
    H, W = image_shape
    KH, KW = kernel.shape
    OH, OW = H - KH + 1, W - KW + 1
    M = np.zeros((OH * OW, H * W))
    for i in range(OH):
        for j in range(OW):
            for m in range(KH):
                for n in range(KW):
                    M[i * OW + j, (i + m) * W + (j + n)] = kernel[m, n]
    return M


def matrix_blocks(kernel, image_shape):
    # Doubly block Toeplitz: block (i, i + m) is the 1D Toeplitz matrix of kernel row m.
    H, W = image_shape
    KH, KW = kernel.shape
    OH, OW = H - KH + 1, W - KW + 1
    M = np.zeros((OH, OW, H, W))
    for m in range(KH):
        block = toeplitz_loops(kernel[m], W)  # (OW, W)
        for i in range(OH):
            M[i, :, i + m, :] += block
    return M.reshape(OH * OW, H * W)


def matrix_fortran(kernel, image_shape):
    H, W = image_shape
    KH, KW = kernel.shape
    OH, OW = H - KH + 1, W - KW + 1
    M = np.zeros((OH * OW, H * W))
    for i in range(OH):
        for j in range(OW):
            for m in range(KH):
                for n in range(KW):
                    M[j * OH + i, (j + n) * H + (i + m)] = kernel[m, n]
    return M


@pytest.mark.parametrize("fn", [matrix_loops, matrix_blocks])
def test_conv2d_matrix_correct(fn):
    assert run(nb05.conv2d_matrix_examples, fn).passed
    for seed in (0, 2):
        assert run(nb05.conv2d_matrix_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda k, s: matrix_loops(k[::-1, ::-1], s), "kernel is flipped"),
        (lambda k, s: matrix_loops(k, s).T, "transposed"),
        (matrix_fortran, "column by column"),
        (lambda k, s: matrix_loops(k[::-1], s), "upside down"),
    ],
)
def test_conv2d_matrix_mistakes(fn, words):
    result = run(nb05.conv2d_matrix_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb05.conv2d_matrix_random, fn, seed=0).passed


def test_conv2d_matrix_transposed_kernel():
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(AssertionError, match="transposed kernel"):
        nb05._check_conv2d_matrix(lambda k, s: matrix_loops(k.T, s), kernel, (3, 4))


# ---------------------------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------------------------


def im2col_loops(x, kernel_size, stride=1, padding=0):
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C, H, W = x.shape
    OH, OW = (H - KH) // sh + 1, (W - KW) // sw + 1
    cols = np.zeros((N, C * KH * KW, OH * OW))
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                cols[n, :, i * OW + j] = x[n, :, i * sh : i * sh + KH, j * sw : j * sw + KW].ravel()
    return cols


def im2col_strided(x, kernel_size, stride=1, padding=0):
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(x, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, OH, OW, KH, KW)
    N, C, OH, OW = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, OH * OW)


def im2col_position_major(x, kernel_size, stride=1, padding=0):
    cols = im2col_strided(x, kernel_size, stride, padding)
    N, _, L = cols.shape
    KH, KW = _pair(kernel_size)
    return cols.reshape(N, x.shape[1], KH, KW, L).transpose(0, 2, 3, 1, 4).reshape(N, -1, L)


def im2col_kernel_transposed(x, kernel_size, stride=1, padding=0):
    cols = im2col_strided(x, kernel_size, stride, padding)
    N, _, L = cols.shape
    KH, KW = _pair(kernel_size)
    return cols.reshape(N, x.shape[1], KH, KW, L).transpose(0, 1, 3, 2, 4).reshape(N, -1, L)


def im2col_windows_by_column(x, kernel_size, stride=1, padding=0):
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    N, C, H, W = x.shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    cols = im2col_strided(x, kernel_size, stride, padding)
    return cols.reshape(N, -1, OH, OW).transpose(0, 1, 3, 2).reshape(N, -1, OH * OW)


@pytest.mark.parametrize("fn", [im2col_loops, im2col_strided])
def test_im2col_correct(fn):
    assert run(nb05.im2col_examples, fn).passed
    for seed in (0, 3, 9):
        assert run(nb05.im2col_random, fn, seed=seed).passed


def test_im2col_matches_torch_unfold():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    expected = torch.nn.functional.unfold(torch.tensor(x), (2, 3), padding=1, stride=2).numpy()
    np.testing.assert_allclose(im2col_strided(x, (2, 3), 2, 1), expected)


@pytest.mark.parametrize(
    "fn, words",
    [
        (im2col_position_major, "position-major"),
        (lambda x, k, stride=1, padding=0: im2col_strided(x, k, stride, padding).transpose(0, 2, 1), "one ROW per window"),
        (im2col_windows_by_column, "column-major order"),
        (im2col_kernel_transposed, "kernel pixels are in column-major"),
        (lambda x, k, stride=1, padding=0: im2col_strided(x, k, stride, 0), "padding is ignored"),
        (lambda x, k, stride=1, padding=0: im2col_strided(x, k, 1, padding), "stride is ignored"),
        (lambda x, k, stride=1, padding=0: torch.nn.functional.unfold(torch.tensor(x), k, padding=padding, stride=stride).numpy(), "library implementation"),
    ],
)
def test_im2col_mistakes(fn, words):
    result = run(nb05.im2col_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb05.im2col_random, fn, seed=0).passed


# ---------------------------------------------------------------------------------------------
# conv2d_im2col
# ---------------------------------------------------------------------------------------------


def conv_im2col(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    cols = im2col_strided(x, (KH, KW), stride, padding)  # (N, C*KH*KW, L)
    out = w.reshape(F, -1) @ cols + b[:, None]  # (N, F, L)
    return out.reshape(N, F, OH, OW)


def conv_einsum(x, w, b, stride=1, padding=0):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::sh, ::sw]
    return np.einsum("ncijmk,fcmk->nfij", windows, w) + b[None, :, None, None]


def conv_mixed_axes(x, w, b, stride=1, padding=0):
    good = conv_im2col(x, w, b, stride, padding)
    return good.transpose(1, 0, 2, 3).reshape(good.shape)


@pytest.mark.parametrize("fn", [conv_im2col, conv_einsum])
def test_conv2d_im2col_correct(fn):
    assert run(nb05.conv2d_im2col_examples, fn).passed
    for seed in (0, 4):
        assert run(nb05.conv2d_im2col_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda x, w, b, stride=1, padding=0: conv_im2col(x, w, 0 * b, stride, padding), "bias is missing"),
        (lambda x, w, b, stride=1, padding=0: conv_im2col(x, w[:, :, ::-1, ::-1], b, stride, padding), "true convolution"),
        (conv_mixed_axes, "batch and filter axes"),
        (lambda x, w, b, stride=1, padding=0: conv_im2col(x, w, b, stride, 0), "padding is ignored"),
        (lambda x, w, b, stride=1, padding=0: conv_im2col(x, w, b, 1, padding), "stride is ignored"),
        (lambda x, w, b, stride=1, padding=0: torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride, padding).numpy(), "library implementation"),
    ],
)
def test_conv2d_im2col_mistakes(fn, words):
    result = run(nb05.conv2d_im2col_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb05.conv2d_im2col_random, fn, seed=0).passed


def test_conv2d_im2col_column_major_output():
    def by_columns(x, w, b, stride=1, padding=0):
        good = conv_im2col(x, w, b, stride, padding)
        return good.transpose(0, 1, 3, 2).reshape(good.shape)

    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal(2)
    with pytest.raises(AssertionError, match="column-major order"):
        nb05._check_conv2d_im2col(by_columns, x, w, b)


def test_conv2d_im2col_may_use_own_im2col():
    # The student's conv2d_im2col calls the student's own im2col: allowed.
    def conv_with_own_im2col(x, w, b, stride=1, padding=0):
        return conv_im2col(x, w, b, stride, padding)

    assert run(nb05.conv2d_im2col_examples, conv_with_own_im2col).passed


# ---------------------------------------------------------------------------------------------
# receptive_field
# ---------------------------------------------------------------------------------------------


def field_forward(layers):
    field, jump = 1, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


def field_backward(layers):
    # From the last layer down: a window of r units of layer l covers s * (r - 1) + k units below.
    field = 1
    for k, s in reversed(layers):
        field = s * (field - 1) + k
    return field


def field_stride_ignored(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def field_strides_added(layers):
    field, jump = 1, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump += s
    return field


def field_own_stride(layers):
    field, jump = 1, 1
    for k, s in layers:
        jump *= s
        field += (k - 1) * jump
    return field


def field_no_one(layers):
    return field_forward(layers) - 1


def field_wrong_direction(layers):
    field = 1
    for k, s in layers:
        field = s * field + (k - s)
    return field


@pytest.mark.parametrize("fn", [field_forward, field_backward])
def test_receptive_field_correct(fn):
    assert run(nb05.receptive_field_examples, fn).passed
    for seed in (0, 1, 2):
        assert run(nb05.receptive_field_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (field_stride_ignored, "stride is ignored"),
        (field_strides_added, "strides are added"),
        (field_own_stride, "own stride"),
        (field_no_one, "one pixel short"),
        (lambda layers: sum(k for k, _ in layers), "added the kernel sizes"),
        (field_wrong_direction, "wrong direction"),
    ],
)
def test_receptive_field_mistakes(fn, words):
    result = run(nb05.receptive_field_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb05.receptive_field_random, fn, seed=0).passed


def test_receptive_field_library_forbidden():
    def delegate(layers):
        from cnnlib.arithmetic import receptive_field

        return receptive_field(layers)

    result = run(nb05.receptive_field_examples, delegate)
    assert not result.passed and "library implementation" in result.message


# ---------------------------------------------------------------------------------------------
# Receptive-field questions, with numbers of each student's own (cnnlib.variants.nb05)
# ---------------------------------------------------------------------------------------------

KEY = variants.assignment_key("05" * 32, "05_matrix_view_im2col_receptive_fields")
RF_CHECKS = {"answer_rf_stack": nb05.answer_rf_stack, "answer_rf_strided": nb05.answer_rf_strided, "answer_rf_depth": nb05.answer_rf_depth}


def _variant(student):
    return variants.Variant(student, variants.variant_seed(KEY, student))


def _rf_answers(variant):
    """Each answer from the question's numbers with a loop of our own (not the checks' functions)."""
    def field(layers):
        r, jump = 1, 1
        for k, s in layers:
            r, jump = r + (k - 1) * jump, jump * s
        return r, jump

    q = {name: nb05.VARIANT_QUESTIONS.params(name, variant) for name in RF_CHECKS}
    depth = 1
    while field([(q["answer_rf_depth"].k, 1)] * depth)[0] < q["answer_rf_depth"].target:
        depth += 1
    return {
        "answer_rf_stack": field([(q["answer_rf_stack"].k, 1)] * q["answer_rf_stack"].layers)[0],
        "answer_rf_strided": field(q["answer_rf_strided"].layers),
        "answer_rf_depth": depth,
    }


def _fails(check, value, *fragments):
    result = run(check, value)
    assert not result.passed, f"{check.__name__} passed {value!r}"
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"


def test_rf_default_numbers():
    assert _rf_answers(variants.DEFAULT) == {"answer_rf_stack": 9, "answer_rf_strided": (22, 4), "answer_rf_depth": 16}
    for name, check in RF_CHECKS.items():
        assert run(check, _rf_answers(variants.DEFAULT)[name]).passed


def test_rf_every_students_own_answers_pass_and_others_fail():
    for i in range(50):
        variant = _variant(f"s{i:03d}")
        mine, neighbour, default = _rf_answers(variant), _rf_answers(_variant(f"n{i}")), _rf_answers(variants.DEFAULT)
        with variants.grading(variant):
            for name, check in RF_CHECKS.items():
                assert run(check, mine[name]).passed, (variant, name, run(check, mine[name]).message)
                if neighbour[name] != mine[name]:
                    assert not run(check, neighbour[name]).passed
                if default[name] != mine[name]:
                    _fails(check, default[name], "default numbers")


def test_rf_strided_stacks_tell_the_mistakes_apart():
    """Every drawn stack has a stride below a later layer: ignoring or adding the strides shows."""
    for i in range(300):
        variant = _variant(f"m{i}")
        layers = nb05.VARIANT_QUESTIONS.params("answer_rf_strided", variant).layers
        field, jump = _rf_answers(variant)["answer_rf_strided"]
        assert 1 + sum(k - 1 for k, _ in layers) != field  # the strides matter
        assert sum(s for _, s in layers) != jump


def test_rf_mistakes_are_named():
    variant = _variant("alice")
    with variants.grading(variant):
        q = nb05.VARIANT_QUESTIONS.params("answer_rf_stack", variant)
        _fails(nb05.answer_rf_stack, q.layers * q.k, "added the kernel sizes")
        _fails(nb05.answer_rf_stack, q.layers * (q.k - 1), "one pixel short")
        layers = nb05.VARIANT_QUESTIONS.params("answer_rf_strided", variant).layers
        field, jump = _rf_answers(variant)["answer_rf_strided"]
        _fails(nb05.answer_rf_strided, (1 + sum(k - 1 for k, _ in layers), jump), "stride is ignored")
        _fails(nb05.answer_rf_strided, (jump, field), "swapped")
        _fails(nb05.answer_rf_strided, field, "a pair")
        q = nb05.VARIANT_QUESTIONS.params("answer_rf_depth", variant)
        _fails(nb05.answer_rf_depth, (q.target - 1) // (q.k - 1), "round the number of layers UP")
    for check in RF_CHECKS.values():
        result = run(check, None)
        assert result.not_written and "not set yet" in result.message
