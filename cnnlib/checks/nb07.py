"""Checks for notebook 07, backpropagation through convolution and pooling.

Every expected gradient comes from :mod:`cnnlib.reference`. The checks recognise the usual wrong
answers: ``dw`` averaged over the batch or taken from one example only, ``dx`` computed with the
kernel not flipped or not cropped back from the padded input, ``db`` not summed over space, the
filters flipped but not regrouped, the max-pooling gradient sent to every tied maximum, the
average-pooling gradient not divided by the window size, the ReLU gradient masked by ``dout``
instead of ``x``, and one-sided differences in a numerical gradient. The hand-worked example has
numbers of each student's own (``cnnlib.variants.nb07``).

:func:`scalar_test_function` is built where the student's code runs (through ``Construct``), so
that ``numerical_gradient`` receives a real Python function.
"""

from __future__ import annotations

import numpy as np

from cnnlib.variants import nb07 as variant_questions

from .core import Construct, Missing, Mistake, NotWrittenYet, as_array, call, check, describe, expect_close, fail, pair
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY
from .varied import DEFAULT_NUMBERS, numbers

__all__ = [
    "FORBIDDEN_IMPORTS",
    "IMPORT_REASON",
    "HAND_X",
    "HAND_W",
    "HAND_DOUT",
    "scalar_test_function",
]

FORBIDDEN_IMPORTS = NUMPY_ONLY.modules


class _Reference:
    """``cnnlib.reference``, imported on first use. This module is also imported where the
    student's code runs (to build :func:`scalar_test_function`), and there importing the
    reference implementation would count as a call into it, so the import waits until a check
    (in the grader's process) needs it."""

    def __getattr__(self, name):
        from cnnlib import reference

        return getattr(reference, name)


ref = _Reference()
IMPORT_REASON = "this notebook asks you to write the backward passes yourself, with NumPy"

#: The hand-worked exercise's default numbers (each student has their own, ``cnnlib.variants.nb07``):
#: one 3x3 image, one 3x3 kernel, padding 1, stride 1, no batch.
HAND_X = np.array(variant_questions.HAND_X, dtype=np.float64)
HAND_W = np.array(variant_questions.HAND_W, dtype=np.float64)
HAND_DOUT = np.array(variant_questions.HAND_DOUT, dtype=np.float64)


def _value(v, name: str):
    """A student's answer variable, or a failure that says it is not defined."""
    if isinstance(v, Missing):
        reason = f" ({v.reason})" if v.reason else ""
        fail(f"{name} is not defined{reason}: run the cell where you set it, and keep its name")
    if v is None:
        raise NotWrittenYet(f"{name} is not set yet: replace None with your answer")
    if isinstance(v, (list, tuple)):
        try:
            return np.array(v, dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"{name} should be a grid of numbers (a NumPy array or nested lists of the same length)")
    return v


def _triple(result, fn_name: str, names: tuple[str, str, str]):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"{fn_name} should return a tuple {names}, but it returned {describe(result)}")
    return result


# ---------------------------------------------------------------------------------------------
# conv2d_backward
# ---------------------------------------------------------------------------------------------


def _conv_grads(dout, x, w, stride, padding):
    _, cache = ref.conv2d_forward(x, w, np.zeros(w.shape[0]), stride=stride, padding=padding)
    return ref.conv2d_backward(dout, cache)


def _conv_mistakes(dout, x, w, stride, padding):
    """The outputs of the common wrong answers, per gradient."""
    N = x.shape[0]
    ph, pw = pair(padding)
    dx, dw, db = _conv_grads(dout, x, w, stride, padding)
    dx_noflip, _, _ = _conv_grads(dout, x, w[:, :, ::-1, ::-1], stride, padding)
    dx_m = [Mistake(dx_noflip, "dx is a full cross-correlation of dout with the FLIPPED kernel (w[:, :, ::-1, ::-1]); yours matches the kernel used as it is. Equivalently: each dout[n, f, i, j] adds dout * w[f] (unflipped) onto the window of x that produced it")]
    if ph or pw:
        x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        dx_pad, _, _ = _conv_grads(dout, x_pad, w, stride, 0)
        dx_pad_noflip, _, _ = _conv_grads(dout, x_pad, w[:, :, ::-1, ::-1], stride, 0)
        crop = f"crop the padding off: dx = dx_padded[:, :, {ph}:{ph} + H, {pw}:{pw} + W] has x's shape"
        dx_m.append(Mistake(dx_pad, f"you returned the gradient of the PADDED input; {crop}"))
        dx_m.append(Mistake(dx_pad_noflip, f"you returned the gradient of the padded input, and with the kernel not flipped; {crop}, and use the flipped kernel in the full cross-correlation"))
    dw_m = [Mistake(dw[:, :, ::-1, ::-1], "dw comes out flipped: it is the cross-correlation of the (padded) input with dout, dw[f, c, m, k] = sum over n, i, j of x_pad[n, c, i*s + m, j*s + k] * dout[n, f, i, j]; do not flip dout")]
    db_m = [
        Mistake(dout.sum(axis=0), "db is not summed over space: the bias is shared by every output position, so db[f] = dout[:, f].sum() over the batch AND the two spatial axes (shape (F,))"),
        Mistake(dout.mean(axis=(0, 2, 3)), "db is averaged; the bias gradient is the SUM of dout over batch and space (the loss already decides any averaging)"),
    ]
    if N > 1:
        per_example = np.stack([_conv_grads(dout[n : n + 1], x[n : n + 1], w, stride, padding)[1] for n in range(N)])
        dw_m.append(Mistake(dw / N, "dw is averaged over the batch; the weights are shared by all N examples, so their gradients add up: sum over the batch, do not divide by N"))
        dw_m.append(Mistake(per_example[-1], "dw holds the last example's gradient only: accumulate over the batch (dw += ...) instead of overwriting it (dw = ...)"))
        dw_m.append(Mistake(per_example[0], "dw holds the first example's gradient only: sum the contributions of every example in the batch"))
        dw_m.append(Mistake(per_example, "dw has one gradient per example (shape (N, F, C, KH, KW)); sum them over the batch: dw has w's shape"))
        db_m.append(Mistake(dout.sum(axis=(2, 3)), "db has one row per example; sum it over the batch too: db has shape (F,)"))
        db_m.append(Mistake(dout.sum(axis=(0, 2, 3)) / N, "db is averaged over the batch; sum it over the batch (and space)"))
    return (dx, dw, db), (dx_m, dw_m, db_m)


def _check_conv_backward(fn, dout, x, w, stride=1, padding=0):
    kwargs = {}
    if stride != 1:
        kwargs["stride"] = stride
    if padding != 0:
        kwargs["padding"] = padding
    result = call(fn, dout, x, w, forbid=NO_CONV_LIBRARIES, **kwargs)
    dx, dw, db = _triple(result, "conv2d_backward", ("dx", "dw", "db"))
    (edx, edw, edb), (mdx, mdw, mdb) = _conv_mistakes(dout, x, w, stride, padding)
    inputs = f"x of shape {x.shape}, w of shape {w.shape}, dout of shape {dout.shape}, stride={stride}, padding={padding}"
    expect_close(dx, edx, "dx", mistakes=mdx, why="dx has x's shape (N, C, H, W)", inputs=inputs)
    expect_close(dw, edw, "dw", mistakes=mdw, why="dw has w's shape (F, C, KH, KW)", inputs=inputs)
    expect_close(db, edb, "db", mistakes=mdb, why="db has one entry per filter, shape (F,)", inputs=inputs)


def _conv_case(rng, N, C, F, KH, KW, H, W, stride, padding):
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, KH, KW))
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    dout = rng.standard_normal((N, F, OH, OW))
    return dout, x, w


@check(points=1)
def conv2d_backward_single(conv2d_backward):
    """conv2d_backward: one image, one channel, one 3x3 kernel, padding 0 and 1"""
    rng = np.random.default_rng(7)
    for padding in (0, 1):
        dout, x, w = _conv_case(rng, 1, 1, 1, 3, 3, 4, 4, 1, padding)
        _check_conv_backward(conv2d_backward, dout.round(1), x.round(1), w.round(1), padding=padding)


@check(points=2)
def conv2d_backward_batch(conv2d_backward):
    """conv2d_backward: a batch of multichannel images, several filters, padding and stride 2"""
    rng = np.random.default_rng(11)
    cases = [
        dict(N=3, C=2, F=4, KH=3, KW=2, H=5, W=6, stride=1, padding=1),
        dict(N=2, C=3, F=2, KH=3, KW=3, H=5, W=5, stride=1, padding=0),
        dict(N=2, C=2, F=3, KH=3, KW=3, H=7, W=6, stride=2, padding=1),
        dict(N=2, C=1, F=2, KH=2, KW=3, H=6, W=7, stride=(2, 1), padding=(0, 1)),
    ]
    for case in cases:
        dout, x, w = _conv_case(rng, **case)
        _check_conv_backward(conv2d_backward, dout, x, w, stride=case["stride"], padding=case["padding"])


@check(points=3, hidden=True)
def conv2d_backward_random(conv2d_backward, seed: int = 0):
    """conv2d_backward: seeded random shapes, strides and paddings (some rows never reached by a window)"""
    rng = np.random.default_rng(seed)
    for i in range(6):
        KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
        stride = int(rng.integers(1, 4))
        padding = int(rng.integers(0, 3))
        if i == 5:
            stride, padding = (int(rng.integers(1, 3)), int(rng.integers(2, 4))), (int(rng.integers(0, 2)), 0)
        sh, sw = pair(stride)
        ph, pw = pair(padding)
        H = int(rng.integers(max(KH - 2 * ph, 1), KH + 7))
        W = int(rng.integers(max(KW - 2 * pw, 1), KW + 7))
        N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
        if i == 0:
            N = 3  # make the batch-sum mistakes visible
        dout, x, w = _conv_case(rng, N, C, F, KH, KW, H, W, stride, padding)
        _check_conv_backward(conv2d_backward, dout, x, w, stride=stride, padding=padding)


# ---------------------------------------------------------------------------------------------
# backward_filters
# ---------------------------------------------------------------------------------------------


def _check_backward_filters(fn, w):
    out = call(fn, w, forbid=NUMPY_ONLY)
    out = as_array(out, "backward_filters(w)", ndim=4)
    F, C, KH, KW = w.shape
    expected = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    mistakes = [
        Mistake(w.transpose(1, 0, 2, 3), "you regrouped the slices but did not flip them: each KHxKW slice is turned by 180 degrees (w[:, :, ::-1, ::-1])"),
        Mistake(w[:, :, ::-1, ::-1], "you flipped the slices but did not regroup them: the backward pass has C filters of depth F, so swap the first two axes (shape (C, F, KH, KW))"),
        Mistake(w[:, :, ::-1, :].transpose(1, 0, 2, 3), "you flipped the slices upside down only; flip them along both spatial axes (w[:, :, ::-1, ::-1])"),
        Mistake(w[:, :, :, ::-1].transpose(1, 0, 2, 3), "you flipped the slices left-right only; flip them along both spatial axes (w[:, :, ::-1, ::-1])"),
        Mistake(w[::-1, ::-1, ::-1, ::-1].transpose(1, 0, 2, 3), "you also reversed the order of the filters and channels; flip only the two spatial axes and keep filter f at position f"),
    ]
    if KH == KW:
        mistakes.append(Mistake(w.transpose(1, 0, 3, 2), "you transposed each slice (rows become columns); the backward kernel is rotated by 180 degrees, w[:, :, ::-1, ::-1], not transposed"))
    expect_close(
        out,
        expected,
        "backward_filters(w)",
        mistakes=mistakes,
        why="F filters over C channels give C filters of depth F: (C, F, KH, KW)",
        inputs=f"w of shape {w.shape}",
    )


@check(points=1)
def backward_filters_examples(backward_filters):
    """backward_filters: 2 filters over 3 channels, square and non-square kernels"""
    rng = np.random.default_rng(3)
    _check_backward_filters(backward_filters, rng.integers(-4, 5, size=(2, 3, 3, 3)).astype(float))
    _check_backward_filters(backward_filters, rng.integers(-4, 5, size=(3, 2, 2, 3)).astype(float))


@check(points=1, hidden=True)
def backward_filters_random(backward_filters, seed: int = 0):
    """backward_filters: seeded random filter banks"""
    rng = np.random.default_rng(seed)
    for _ in range(4):
        F, C = (int(v) for v in rng.integers(1, 5, size=2))
        KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
        _check_backward_filters(backward_filters, rng.standard_normal((F, C, KH, KW)))


@check(points=1, hidden=True)
def backward_filters_give_dx(backward_filters, seed: int = 0):
    """backward_filters: a full cross-correlation of dout with them gives conv2d's dx"""
    rng = np.random.default_rng(seed)
    F, C, KH, KW = 3, 2, 3, 2
    w = rng.standard_normal((F, C, KH, KW))
    x = rng.standard_normal((1, C, 6, 5))
    out = as_array(call(backward_filters, w, forbid=NUMPY_ONLY), "backward_filters(w)", ndim=4)
    if out.shape != (C, F, KH, KW):
        fail(f"backward_filters(w) has shape {out.shape}; it should be (C, F, KH, KW)")
    dout = rng.standard_normal((1, F, 6 - KH + 1, 5 - KW + 1))
    dx, _, _ = _conv_grads(dout, x, w, 1, 0)
    # a full cross-correlation = a valid one on dout padded by K - 1
    dout_pad = np.pad(dout, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    got, _ = ref.conv2d_forward(dout_pad, out, None)
    if not np.allclose(got, dx, atol=1e-9):
        fail("the full cross-correlation of dout with your backward filters does not give dx; flip each slice by 180 degrees and swap the filter and channel axes")


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _maxpool_variant(dout, x, kernel_size, stride, rule: str) -> np.ndarray:
    """Loop version of max-pool backward with a given tie and overlap rule (for wrong answers)."""
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride if stride is not None else kernel_size)
    N, C, OH, OW = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * sh : i * sh + KH, j * sw : j * sw + KW]
                    g = dout[n, c, i, j]
                    is_max = window == window.max()
                    if rule == "all":
                        dx[n, c, i * sh : i * sh + KH, j * sw : j * sw + KW] += g * is_max
                        continue
                    flat = np.flatnonzero(is_max)
                    pos = flat[-1] if rule == "last" else flat[0]
                    r, q = divmod(int(pos), KW)
                    if rule == "assign":
                        dx[n, c, i * sh + r, j * sw + q] = g
                    else:
                        dx[n, c, i * sh + r, j * sw + q] += g
    return dx


def _avgpool_variant(dout, x_shape, kernel_size, stride, divisor, assign=False) -> np.ndarray:
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride if stride is not None else kernel_size)
    N, C, OH, OW = dout.shape
    dx = np.zeros(x_shape)
    for i in range(OH):
        for j in range(OW):
            share = (dout[:, :, i, j] / divisor)[:, :, None, None]
            if assign:
                dx[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW] = share
            else:
                dx[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW] += share
    return dx


def _pool_kwargs(stride):
    return {} if stride is None else {"stride": stride}


def _check_maxpool(fn, dout, x, kernel_size, stride=None):
    out = call(fn, dout, x, kernel_size, forbid=NUMPY_ONLY, **_pool_kwargs(stride))
    _, cache = ref.maxpool2d_forward(x, kernel_size, stride)
    expected = ref.maxpool2d_backward(dout, cache)
    mistakes = [
        Mistake(_maxpool_variant(dout, x, kernel_size, stride, "all"), "you sent the gradient to every tied maximum of a window; only ONE position gets it: the first maximum in row-major order (as PyTorch), e.g. the index np.argmax(window) picks"),
        Mistake(_maxpool_variant(dout, x, kernel_size, stride, "last"), "with a tie, you sent the gradient to the LAST maximum of the window; PyTorch's rule is the first one in row-major order (np.argmax returns it)"),
        Mistake(_avgpool_variant(dout, x.shape, kernel_size, stride, np.prod(pair(kernel_size))), "you spread the gradient evenly over the window, which is average pooling's backward; max pooling routes the whole gradient to the window's maximum"),
        Mistake(_avgpool_variant(dout, x.shape, kernel_size, stride, 1), "you copied the gradient to every pixel of the window; only the maximum influenced the output, so only it gets the gradient"),
        Mistake(_maxpool_variant(dout, x, kernel_size, stride, "assign"), "where windows overlap, a pixel that is the maximum of two windows gets the SUM of their gradients; add into dx (+=) instead of assigning (=)"),
    ]
    expect_close(
        out,
        expected,
        "maxpool2d_backward",
        mistakes=mistakes,
        why="dx has x's shape",
        inputs=f"x of shape {x.shape} (with tied values), kernel_size={kernel_size}, stride={stride if stride is not None else 'None (= kernel_size)'}",
    )


def _check_avgpool(fn, dout, x_shape, kernel_size, stride=None):
    out = call(fn, dout, x_shape, kernel_size, forbid=NUMPY_ONLY, **_pool_kwargs(stride))
    _, cache = ref.avgpool2d_forward(np.zeros(x_shape), kernel_size, stride)
    expected = ref.avgpool2d_backward(dout, cache)
    KH, KW = pair(kernel_size)
    mistakes = [
        Mistake(_avgpool_variant(dout, x_shape, kernel_size, stride, 1), f"you did not divide by the window size: each of the {KH}x{KW} = {KH * KW} pixels of a window gets dout / {KH * KW}, because the forward pass divided their sum by {KH * KW}"),
        Mistake(_avgpool_variant(dout, x_shape, kernel_size, stride, KH), f"you divided by {KH}; the window has KH * KW = {KH * KW} pixels, so divide by {KH * KW}"),
        Mistake(_avgpool_variant(dout, x_shape, kernel_size, stride, KH * KW, assign=True), "where windows overlap, a pixel gets a share from every window that covers it: add into dx (+=) instead of assigning (=)"),
    ]
    expect_close(
        out,
        expected,
        "avgpool2d_backward",
        mistakes=mistakes,
        why="dx has the shape x_shape",
        inputs=f"x_shape={tuple(x_shape)}, kernel_size={kernel_size}, stride={stride if stride is not None else 'None (= kernel_size)'}",
    )


def _pool_out(size, k, s):
    return (size - k) // s + 1


def _pool_dout(rng, x_shape, kernel_size, stride):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride if stride is not None else kernel_size)
    N, C, H, W = x_shape
    return rng.standard_normal((N, C, _pool_out(H, KH, sh), _pool_out(W, KW, sw))).round(2)


@check(points=1)
def maxpool2d_backward_examples(maxpool2d_backward):
    """maxpool2d_backward: 2x2 windows with ties, default stride, then overlapping 3x3 windows with stride 1"""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(2, 2, 4, 4)).astype(float)  # small integers: many ties
    _check_maxpool(maxpool2d_backward, _pool_dout(rng, x.shape, 2, None), x, 2)
    x = rng.integers(0, 4, size=(1, 2, 5, 5)).astype(float)
    _check_maxpool(maxpool2d_backward, _pool_dout(rng, x.shape, 3, 1), x, 3, stride=1)


@check(points=2, hidden=True)
def maxpool2d_backward_random(maxpool2d_backward, seed: int = 0):
    """maxpool2d_backward: seeded random windows, strides (overlapping or not) and ties"""
    rng = np.random.default_rng(seed)
    for i in range(5):
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        kernel_size = (KH, KW) if i % 2 else max(KH, KW)
        KH, KW = pair(kernel_size)
        stride = None if i == 0 else (int(rng.integers(1, 4)) if i != 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 4))))
        sh, sw = pair(stride if stride is not None else kernel_size)
        H, W = int(rng.integers(KH, KH + 6)), int(rng.integers(KW, KW + 6))
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        x = rng.integers(0, 4, size=(N, C, H, W)).astype(float) if i % 2 == 0 else rng.standard_normal((N, C, H, W))
        _check_maxpool(maxpool2d_backward, _pool_dout(rng, x.shape, kernel_size, stride), x, kernel_size, stride=stride)


@check(points=1)
def avgpool2d_backward_examples(avgpool2d_backward):
    """avgpool2d_backward: 2x2 windows with the default stride, then overlapping 3x3 windows"""
    rng = np.random.default_rng(6)
    shape = (2, 2, 4, 6)
    _check_avgpool(avgpool2d_backward, _pool_dout(rng, shape, 2, None), shape, 2)
    shape = (1, 3, 5, 5)
    _check_avgpool(avgpool2d_backward, _pool_dout(rng, shape, 3, 1), shape, 3, stride=1)


@check(points=1, hidden=True)
def avgpool2d_backward_random(avgpool2d_backward, seed: int = 0):
    """avgpool2d_backward: seeded random windows and strides"""
    rng = np.random.default_rng(seed)
    for i in range(4):
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        kernel_size = (KH, KW) if i % 2 else max(KH, KW)
        KH, KW = pair(kernel_size)
        stride = None if i == 0 else int(rng.integers(1, 4))
        H, W = int(rng.integers(KH, KH + 6)), int(rng.integers(KW, KW + 6))
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        shape = (N, C, H, W)
        _check_avgpool(avgpool2d_backward, _pool_dout(rng, shape, kernel_size, stride), shape, kernel_size, stride=stride)


# ---------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------


def _check_relu(fn, dout, x):
    out = call(fn, dout, x, forbid=NUMPY_ONLY)
    expected = np.where(x > 0, dout, 0.0)
    mistakes = [
        Mistake(np.where(dout > 0, dout, 0.0), "you masked with dout > 0; the gradient passes where the forward INPUT was positive: dx = dout * (x > 0)"),
        Mistake(np.where(x >= 0, dout, 0.0), "you let the gradient through where x == 0; use x > 0 (at 0 the gradient is taken as 0, as in PyTorch)"),
        Mistake((x > 0).astype(float), "you returned the ReLU's local derivative (x > 0) only; multiply it by the upstream gradient: dx = dout * (x > 0)"),
        Mistake(dout * np.maximum(x, 0), "you multiplied dout by relu(x); the local derivative is 1 where x > 0 and 0 elsewhere: dx = dout * (x > 0)"),
        Mistake(np.maximum(dout, 0) * (x > 0), "you also clipped dout at zero; a negative upstream gradient passes through unchanged where x > 0"),
    ]
    expect_close(out, expected, "relu_backward(dout, x)", mistakes=mistakes, why="dx has x's shape", inputs=f"x of shape {x.shape} with some zeros, dout of the same shape")


@check(points=1)
def relu_backward_examples(relu_backward):
    """relu_backward: a small array with positive, negative and zero inputs and gradients of both signs"""
    x = np.array([[-2.0, 0.0, 1.5], [3.0, -0.5, 0.0]])
    dout = np.array([[1.0, 2.0, -3.0], [-1.0, 4.0, 5.0]])
    _check_relu(relu_backward, dout, x)


@check(points=1, hidden=True)
def relu_backward_random(relu_backward, seed: int = 0):
    """relu_backward: seeded random 4D arrays with exact zeros"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 4, 5))
    x[rng.random(x.shape) < 0.2] = 0.0
    _check_relu(relu_backward, rng.standard_normal(x.shape), x)


# ---------------------------------------------------------------------------------------------
# numerical_gradient
# ---------------------------------------------------------------------------------------------


def scalar_test_function(coefficients, coupling: float = 0.5):
    """``f(x) = sum(c * x**3) + coupling * sum(x)**2 + sum(sin(x))``: a smooth scalar function
    whose second derivative is large enough that a one-sided difference shows, and whose entries
    interact (so forgetting to restore a perturbed entry changes later ones)."""
    c = np.array(coefficients, dtype=np.float64)

    def f(x):
        x = np.asarray(x, dtype=np.float64)
        return float(np.sum(c * x**3) + coupling * np.sum(x) ** 2 + np.sum(np.sin(x)))

    return f


def _unrestored_gradient(f, x, h) -> np.ndarray:
    """The numerical gradient of an answer that forgets to put each entry back."""
    x = x.astype(np.float64).copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = f(x)
        x[index] -= 2 * h
        minus = f(x)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _one_sided(f, x, h, forward=True) -> np.ndarray:
    x = x.astype(np.float64).copy()
    grad = np.zeros_like(x)
    f0 = f(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h if forward else old - h
        grad[index] = (f(x) - f0) / h if forward else (f0 - f(x)) / h
        x[index] = old
    return grad


def _check_numerical_gradient(fn, x, coefficients, h=None):
    f = scalar_test_function(coefficients)
    construct = _construct(coefficients)
    kwargs = {} if h is None else {"h": h}
    out = call(fn, construct, x, forbid=NUMPY_ONLY, **kwargs)
    step = 1e-5 if h is None else h
    expected = ref.numerical_gradient(f, x, h=step)
    mistakes = [
        Mistake(_one_sided(f, x, step), "you used a one-sided (forward) difference (f(x + h) - f(x)) / h; use the centred difference (f(x + h) - f(x - h)) / (2h), whose error is O(h^2) instead of O(h)"),
        Mistake(_one_sided(f, x, step, forward=False), "you used a one-sided (backward) difference (f(x) - f(x - h)) / h; use the centred difference (f(x + h) - f(x - h)) / (2h)"),
        Mistake(2 * expected, "you divided by h; the two points x + h and x - h are 2h apart, so divide by 2h"),
        Mistake(_unrestored_gradient(f, x, step), "you did not put each entry back after perturbing it, so later entries were measured at a shifted point; restore x[i] to its old value before moving on"),
    ]
    if h is not None and h != 1e-5:
        mistakes.append(Mistake(ref.numerical_gradient(f, x, h=1e-5), f"you ignored the h argument (h={h} here) and used a fixed step; use the h you are given"))
    expect_close(
        out,
        expected,
        "numerical_gradient(f, x)" if h is None else f"numerical_gradient(f, x, h={h})",
        mistakes=mistakes,
        rtol=1e-6,
        atol=1e-7,
        why="the gradient has x's shape",
        inputs=f"f(x) = sum(c * x**3) + 0.5 * sum(x)**2 + sum(sin(x)) and x of shape {x.shape}",
    )


def _construct(coefficients):
    return Construct("cnnlib.checks.nb07:scalar_test_function", np.asarray(coefficients, dtype=np.float64))


@check(points=1)
def numerical_gradient_examples(numerical_gradient):
    """numerical_gradient: centred differences of a smooth function of a vector and of a matrix"""
    x = np.array([0.5, -1.0, 2.0])
    _check_numerical_gradient(numerical_gradient, x, np.array([1.0, 2.0, -1.0]), h=1e-2)
    x = np.array([[1.0, -0.5, 0.25], [2.0, 0.0, -1.5]])
    _check_numerical_gradient(numerical_gradient, x, np.ones((2, 3)), h=1e-3)


@check(points=1, hidden=True)
def numerical_gradient_random(numerical_gradient, seed: int = 0):
    """numerical_gradient: seeded random points and shapes, with the default h and a given one"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 3))
    _check_numerical_gradient(numerical_gradient, x, rng.standard_normal(x.shape))
    x = rng.standard_normal(5)
    _check_numerical_gradient(numerical_gradient, x, rng.standard_normal(5), h=float(rng.choice([1e-2, 3e-3])))


# ---------------------------------------------------------------------------------------------
# The hand-worked example
# ---------------------------------------------------------------------------------------------


def _hand_arrays(q):
    """The example's ``(x, w, dout)`` as batched float arrays, shapes (1, 1, 3, 3)."""
    return tuple(np.array(a, dtype=np.float64)[None, None] for a in (q.x, q.w, q.dout))


def _hand_answers(q) -> dict:
    """The three answers of the hand-worked example with numbers ``q``."""
    x, w, dout = _hand_arrays(q)
    dx, dw, db = _conv_grads(dout, x, w, 1, 1)
    return {"answer_dx": dx[0, 0], "answer_dw": dw[0, 0], "answer_db": float(db[0])}


#: The per-student question these checks grade, and its answers from its numbers.
VARIANT_QUESTIONS = variant_questions.QUESTIONS
VARIANT_ANSWERS = {"answer_hand_example": _hand_answers}


def _hand_expected(name: str):
    """``(expected, mistakes)`` for one of the example's answers, in the variant being graded."""
    q, default = numbers(VARIANT_QUESTIONS, "answer_hand_example")
    x, w, dout = _hand_arrays(q)
    _, (mdx, mdw, _) = _conv_mistakes(dout, x, w, 1, 1)
    unbatched = {"answer_dx": [Mistake(m.output[0, 0], m.explanation) for m in mdx], "answer_dw": [Mistake(m.output[0, 0], m.explanation) for m in mdw]}
    dout = dout[0, 0]
    unbatched["answer_db"] = [
        Mistake(np.float64(dout.mean()), "db is the SUM of dout over every output position, not the mean"),
        Mistake(np.float64(dout.max()), "db is the sum of dout over every output position: the bias was added at all of them"),
    ]
    mistakes = unbatched[name]
    if default is not None:
        mistakes = [Mistake(_hand_answers(default)[name], DEFAULT_NUMBERS)] + mistakes
    return _hand_answers(q)[name], mistakes


@check(points=1)
def hand_example_dx(answer_dx):
    """Hand-worked example: dx, the gradient with respect to the 3x3 input"""
    expected, mistakes = _hand_expected("answer_dx")
    out = as_array(_value(answer_dx, "answer_dx"), "answer_dx")
    expect_close(out, expected, "answer_dx", mistakes=mistakes, rtol=1e-6, atol=1e-6, why="dx has the input's shape, 3x3")


@check(points=1)
def hand_example_dw(answer_dw):
    """Hand-worked example: dw, the gradient with respect to the 3x3 kernel"""
    expected, mistakes = _hand_expected("answer_dw")
    out = as_array(_value(answer_dw, "answer_dw"), "answer_dw")
    expect_close(out, expected, "answer_dw", mistakes=mistakes, rtol=1e-6, atol=1e-6, why="dw has the kernel's shape, 3x3")


@check(points=1)
def hand_example_db(answer_db):
    """Hand-worked example: db, the gradient with respect to the bias"""
    expected, mistakes = _hand_expected("answer_db")
    out = as_array(_value(answer_db, "answer_db"), "answer_db")
    if out.shape == (1,):
        out = out.reshape(())
    expect_close(out, expected, "answer_db", mistakes=mistakes, rtol=1e-6, atol=1e-6, why="db is one number")
