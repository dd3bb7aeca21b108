"""Checks for notebook 04, channels and parameter counts.

A multichannel convolution is checked against :func:`cnnlib.reference.conv2d_forward`; the
counting functions against :mod:`cnnlib.arithmetic`. The checks recognise the usual wrong
answers: the bias forgotten (or counted once per output unit of a convolution, or shared in a
locally connected layer), ``groups`` ignored, the kernel treated as 1D (``k`` instead of
``k * k``), the input channels not summed, the kernel flipped, and the missing ``+ 1`` of an
output size. The exam-style answers have numbers of each student's own (``cnnlib.variants.nb04``).
"""

from __future__ import annotations

import numpy as np

from cnnlib import arithmetic as arith
from cnnlib import reference as ref

from cnnlib.variants import nb04 as variant_questions

from .core import Missing, Mistake, NotWrittenYet, as_array, as_int, call, check, describe, expect_close, fail, fmt_array, pair
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY
from .varied import DEFAULT_NUMBERS, numbers

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "these exercises ask you to write the convolution and the counts yourself with NumPy and Python "
    "arithmetic, so libraries that already do them are switched off while your answers are graded"
)

COUNT_FORBID = NUMPY_ONLY


def _area(value) -> int:
    h, w = pair(value)
    return h * w


# ---------------------------------------------------------------------------------------------
# conv2d_multichannel
# ---------------------------------------------------------------------------------------------


def _conv(x, w, b):
    """The reference: valid, stride 1, x (C, H, W) -> (F, H', W')."""
    return ref.conv2d_forward(x[None], w, b)[0][0]


def _per_channel(x, w):
    """(F, C, H', W'): each input channel's cross-correlation with its kernel slice, not summed."""
    F, C = w.shape[:2]
    maps = [[ref.cross_correlate2d(x[c], w[f, c]) for c in range(C)] for f in range(F)]
    return np.array(maps)


def _multichannel_mistakes(x, w, b) -> list[Mistake]:
    C = x.shape[0]
    good = _conv(x, w, b)
    parts = _per_channel(x, w)  # (F, C, H', W')
    mistakes = [
        Mistake(good - b[:, None, None], "the bias is missing: add b[f] to every position of output slice f"),
        Mistake(_conv(x, w[:, :, ::-1, ::-1], b), "your output equals true convolution (kernel flipped): a convolution layer cross-correlates, using each kernel slice as it is"),
        Mistake(parts + b[:, None, None, None], "the input channels are not summed: each filter gives ONE output slice, the sum over channels c of the cross-correlation of x[c] with w[f, c], plus b[f]"),
        Mistake(parts, "the input channels are not summed and the bias is missing: output slice f is sum over c of (x[c] cross-correlated with w[f, c]) + b[f]"),
        Mistake(parts.mean(axis=1) + b[:, None, None], "you averaged over the input channels; a convolution sums the C per-channel results (then adds the bias)"),
        Mistake(parts[:, 0] + b[:, None, None], "only input channel 0 is used: sum the contributions of all C input channels"),
    ]
    if C > 1:
        mistakes.append(Mistake(good + (C - 1) * b[:, None, None], "the bias is added once per input channel; add b[f] once to each output slice, after summing over channels"))
    if w.shape[0] == C:
        mistakes.append(Mistake(_conv(x, w.transpose(1, 0, 2, 3), b), "you indexed the weights as w[c, f]; w has shape (F, C, KH, KW): filter f's slice for input channel c is w[f, c]"))
    if w.shape[2] == w.shape[3] and not np.allclose(w, w.transpose(0, 1, 3, 2)):
        mistakes.append(Mistake(_conv(x, w.transpose(0, 1, 3, 2), b), "your output matches transposed kernel slices: w[f, c, m, n] multiplies x[c, i + m, j + n] (m down, n across)"))
    return mistakes


def _check_multichannel(fn, x, w, b, *, dtype=np.float64):
    name = "conv2d_multichannel(x, w, b)"
    out = call(fn, x, w, b, forbid=NO_CONV_LIBRARIES)
    out = as_array(out, name)
    good = _conv(x, w, b)
    if out.shape == (1, *good.shape):
        fail(f"{name} returned shape {out.shape}: x is one image (C, H, W), so return (F, H', W') without a batch axis")
    (_, H, W), (F, _, KH, KW) = x.shape, w.shape
    expect_close(
        out,
        good,
        name,
        mistakes=_multichannel_mistakes(x, w, b),
        why=f"one slice per filter, each (H - KH + 1, W - KW + 1): ({F}, {H} - {KH} + 1, {W} - {KW} + 1)",
        inputs=f"x of shape {x.shape}, w of shape {w.shape}, b = {fmt_array(b)}",
    )


_X_EXAMPLE = np.array(
    [
        [[1, 2, 0, 1, 3], [0, 1, 2, 2, 1], [3, 0, 1, 0, 2], [1, 1, 0, 2, 0]],
        [[0, 1, 1, 0, 2], [2, 0, 0, 1, 1], [1, 2, 1, 0, 0], [0, 0, 2, 1, 1]],
    ],
    dtype=float,
)  # (C=2, H=4, W=5)
_W_EXAMPLE = np.array(
    [
        [[[1, 0], [0, -1]], [[0, 1], [2, 0]]],
        [[[1, 1], [1, 1]], [[-1, 0], [0, 0]]],
        [[[0, 0], [1, 0]], [[0, 0], [0, 3]]],
    ],
    dtype=float,
)  # (F=3, C=2, 2, 2)
_B_EXAMPLE = np.array([1.0, -2.0, 0.5])


@check(points=2)
def conv2d_multichannel_examples(conv2d_multichannel):
    """conv2d_multichannel: shape and values for 3 filters on a 2-channel 4x5 input"""
    _check_multichannel(conv2d_multichannel, _X_EXAMPLE, _W_EXAMPLE, _B_EXAMPLE)
    # One filter, three channels, 1x1 kernel: a weighted sum of the channels at each pixel.
    x = np.arange(3 * 2 * 3, dtype=float).reshape(3, 2, 3)
    _check_multichannel(conv2d_multichannel, x, np.array([[[[0.5]], [[-1.0]], [[2.0]]]]), np.array([0.25]))


def _random_multichannel_cases(seed: int, count: int = 5):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        C, F = (int(v) for v in rng.integers(1, 5, size=2))
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        H, W = int(rng.integers(KH, KH + 6)), int(rng.integers(KW, KW + 6))
        yield rng.standard_normal((C, H, W)), rng.standard_normal((F, C, KH, KW)), rng.standard_normal(F)


@check(points=3, hidden=True)
def conv2d_multichannel_random(conv2d_multichannel, seed: int = 0):
    """conv2d_multichannel: seeded random channels, filters and non-square kernels"""
    for x, w, b in _random_multichannel_cases(seed):
        _check_multichannel(conv2d_multichannel, x, w, b)
    # A kernel as large as the input: one number per filter.
    rng = np.random.default_rng(seed + 1)
    _check_multichannel(conv2d_multichannel, rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4))


# ---------------------------------------------------------------------------------------------
# Counts: a shared comparison for whole numbers
# ---------------------------------------------------------------------------------------------


def _expect_count(value, expected: int, name: str, mistakes: list[Mistake], inputs: str, formula: str = "") -> None:
    """Compare a whole-number answer; name the first mistake whose count it equals."""
    got = as_int(value, name)
    if got == expected:
        return
    for mistake in mistakes:
        if mistake.output is not None and int(mistake.output) == got and int(mistake.output) != expected:
            fail(f"{name}: {mistake.explanation}", f"On {inputs}: you returned {got}, the answer is {expected}.")
    hint = f"; it should be {formula}" if formula else ""
    fail(f"{name} returned {got}, which is wrong{hint}", f"On {inputs}: the answer is {expected}.")


# ---------------------------------------------------------------------------------------------
# conv_param_count
# ---------------------------------------------------------------------------------------------


def _conv_param_mistakes(cin, cout, k, bias, groups) -> list[Mistake]:
    area = _area(k)
    kh = pair(k)[0]
    per_group = cin // groups
    b = int(bias)
    mistakes = []
    if bias:
        mistakes.append(Mistake(area * per_group * cout, "the bias is missing: each output channel (filter) has one bias, so add out_channels when bias=True"))
        mistakes.append(Mistake((area + 1) * per_group * cout, "you gave every kernel slice its own bias; a filter has ONE bias, shared by its slices and by every position: (KH*KW*C_in/groups + 1) * C_out"))
    else:
        mistakes.append(Mistake((area * per_group + 1) * cout, "bias=False: the layer has no bias, so do not add one per output channel"))
    if groups > 1:
        mistakes.append(Mistake((area * cin + b) * cout, "groups is ignored: with groups=g each filter sees only in_channels / g input channels, so it has KH*KW*in_channels/g weights"))
        mistakes.append(Mistake((area * per_group + b) * (cout // groups), "you divided out_channels by groups as well; groups reduces the input channels each filter sees, while there are still out_channels filters"))
    if area != kh:
        mistakes.append(Mistake((kh * per_group + b) * cout, "the kernel is treated as 1D: a k x k kernel has k * k weights per input channel (KH * KW for a pair)"))
    if per_group > 1:
        mistakes.append(Mistake((area + b) * cout, "the input channels are missing: each filter has one KH x KW slice per input channel it sees, so multiply by in_channels / groups"))
    return mistakes


def _check_conv_params(fn, cin, cout, k, bias=True, groups=1):
    name = "conv_param_count"
    value = call(fn, cin, cout, k, bias=bias, groups=groups, forbid=COUNT_FORBID)
    expected = arith.conv_param_count(cin, cout, k, bias=bias, groups=groups)
    _expect_count(
        value,
        expected,
        name,
        _conv_param_mistakes(cin, cout, k, bias, groups),
        f"in_channels={cin}, out_channels={cout}, kernel_size={k}, bias={bias}, groups={groups}",
        "(KH * KW * in_channels / groups + 1) * out_channels, without the + 1 when bias=False",
    )


@check(points=1)
def conv_param_count_examples(conv_param_count):
    """conv_param_count: ten 5x5 filters on an RGB input, 3x3 and 1x1 layers, with and without bias"""
    _check_conv_params(conv_param_count, 3, 10, 5)
    _check_conv_params(conv_param_count, 64, 128, 3)
    _check_conv_params(conv_param_count, 256, 64, 1, bias=False)
    _check_conv_params(conv_param_count, 16, 8, (3, 5))


@check(points=1)
def conv_param_count_groups(conv_param_count):
    """conv_param_count: grouped and depthwise convolutions (groups > 1)"""
    _check_conv_params(conv_param_count, 32, 64, 3, groups=4)
    _check_conv_params(conv_param_count, 32, 32, 3, bias=False, groups=32)


@check(points=2, hidden=True)
def conv_param_count_random(conv_param_count, seed: int = 0):
    """conv_param_count: seeded random layers (kernel pairs, groups, bias on and off)"""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        groups = int(rng.choice([1, 1, 2, 3, 4]))
        cin = groups * int(rng.integers(1, 9))
        cout = groups * int(rng.integers(1, 9))
        k = int(rng.integers(1, 8)) if rng.random() < 0.6 else (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        _check_conv_params(conv_param_count, cin, cout, k, bias=bool(rng.random() < 0.7), groups=groups)


# ---------------------------------------------------------------------------------------------
# fc_param_count
# ---------------------------------------------------------------------------------------------


def _check_fc_params(fn, fin, fout, bias=True):
    b = int(bias)
    mistakes = []
    if bias:
        mistakes.append(Mistake(fin * fout, "the bias is missing: each output unit has one bias, so add out_features when bias=True"))
        mistakes.append(Mistake(fin * fout + fin, "you counted one bias per INPUT feature; the bias belongs to each output unit: (in_features + 1) * out_features"))
    else:
        mistakes.append(Mistake((fin + 1) * fout, "bias=False: the layer has no bias, so count only the in_features * out_features weights"))
    mistakes.append(Mistake(fin + fout + b * fout, "you added the sizes; a fully connected layer has one weight for every (input, output) pair: in_features * out_features"))
    value = call(fn, fin, fout, bias=bias, forbid=COUNT_FORBID)
    _expect_count(
        value,
        arith.fc_param_count(fin, fout, bias=bias),
        "fc_param_count",
        mistakes,
        f"in_features={fin}, out_features={fout}, bias={bias}",
        "(in_features + 1) * out_features, without the + 1 when bias=False",
    )


@check(points=1)
def fc_param_count_examples(fc_param_count):
    """fc_param_count: a 32x32x3 image to 10 classes, and a layer without bias"""
    _check_fc_params(fc_param_count, 32 * 32 * 3, 10)
    _check_fc_params(fc_param_count, 4096, 1000)
    _check_fc_params(fc_param_count, 120, 84, bias=False)


@check(points=1, hidden=True)
def fc_param_count_random(fc_param_count, seed: int = 0):
    """fc_param_count: seeded random layer sizes, bias on and off"""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        _check_fc_params(fc_param_count, int(rng.integers(1, 5000)), int(rng.integers(1, 500)), bias=bool(rng.random() < 0.6))


# ---------------------------------------------------------------------------------------------
# locally_connected_param_count
# ---------------------------------------------------------------------------------------------


def _out_size(i, k, s):
    """The valid output size per axis as a pair, with its off-by-one and stride-ignored twins."""
    (ih, iw), (kh, kw), (sh, sw) = pair(i), pair(k), pair(s)
    good = ((ih - kh) // sh + 1, (iw - kw) // sw + 1)
    no_plus_one = ((ih - kh) // sh, (iw - kw) // sw)
    no_stride = (ih - kh + 1, iw - kw + 1)
    return good, no_plus_one, no_stride


def _check_locally_connected(fn, cin, cout, i, k, s=1, bias=True):
    (oh, ow), (mh, mw), (nh, nw) = _out_size(i, k, s)
    area, kh = _area(k), pair(k)[0]
    ih, iw = pair(i)
    b = int(bias)
    units = oh * ow * cout
    weights = oh * ow * area * cin * cout
    mistakes = []
    if bias:
        mistakes.append(Mistake(weights + cout, "the bias is shared per output channel, as in a convolution; a locally connected layer shares nothing, so every output unit (position and channel) has its own bias: H' * W' * out_channels biases"))
        mistakes.append(Mistake(weights, "the bias is missing: a locally connected layer has one bias per output unit, H' * W' * out_channels of them"))
    else:
        mistakes.append(Mistake(weights + units, "bias=False: count only the weights, H' * W' * KH * KW * in_channels * out_channels"))
    mistakes.append(Mistake((area * cin + b) * cout, "this is the count of a convolution (shared weights); a locally connected layer has a separate filter at each of the H' x W' output positions"))
    if (mh, mw) != (oh, ow) and mh > 0 and mw > 0:
        mistakes.append(Mistake(mh * mw * (area * cin + b) * cout, "the number of output positions is off by one: the output size is floor((input - kernel) / stride) + 1 per axis"))
    if (nh, nw) != (oh, ow):
        mistakes.append(Mistake(nh * nw * (area * cin + b) * cout, "the stride is ignored: with stride s there are floor((input - kernel) / s) + 1 output positions per axis"))
    if (ih, iw) != (oh, ow):
        mistakes.append(Mistake(ih * iw * (area * cin + b) * cout, "you used one filter per INPUT position; there is one per OUTPUT position, and the output (valid, no padding) is floor((input - kernel) / stride) + 1 per axis"))
    if area != kh:
        mistakes.append(Mistake(oh * ow * (kh * cin + b) * cout, "the kernel is treated as 1D: each filter has KH * KW weights per input channel"))
    value = call(fn, cin, cout, i, k, stride=s, bias=bias, forbid=COUNT_FORBID)
    _expect_count(
        value,
        arith.locally_connected_param_count(cin, cout, i, k, stride=s, bias=bias),
        "locally_connected_param_count",
        mistakes,
        f"in_channels={cin}, out_channels={cout}, input_size={i}, kernel_size={k}, stride={s}, bias={bias}",
        "H' * W' * (KH * KW * in_channels + 1) * out_channels, with H', W' the valid output size",
    )


@check(points=1)
def locally_connected_param_count_examples(locally_connected_param_count):
    """locally_connected_param_count: unshared 5x5 filters on 32x32x3, with stride 2, and without bias"""
    _check_locally_connected(locally_connected_param_count, 3, 10, 32, 5)
    _check_locally_connected(locally_connected_param_count, 3, 10, 32, 5, s=2)
    _check_locally_connected(locally_connected_param_count, 8, 4, (10, 12), 3, bias=False)


@check(points=2, hidden=True)
def locally_connected_param_count_random(locally_connected_param_count, seed: int = 0):
    """locally_connected_param_count: seeded random sizes, kernels and strides"""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        k = int(rng.integers(1, 6)) if rng.random() < 0.6 else (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        kh, kw = pair(k)
        i = int(rng.integers(max(kh, kw), 20)) if rng.random() < 0.6 else (int(rng.integers(kh, 20)), int(rng.integers(kw, 20)))
        s = int(rng.integers(1, 4))
        _check_locally_connected(locally_connected_param_count, int(rng.integers(1, 6)), int(rng.integers(1, 6)), i, k, s=s, bias=bool(rng.random() < 0.7))


# ---------------------------------------------------------------------------------------------
# conv_macs
# ---------------------------------------------------------------------------------------------


def _check_macs(fn, cin, cout, k, o, groups=1):
    area, kh = _area(k), pair(k)[0]
    positions, oh = _area(o), pair(o)[0]
    per_group = cin // groups
    good = positions * cout * area * per_group
    mistakes = []
    if groups > 1:
        mistakes.append(Mistake(positions * cout * area * cin, "groups is ignored: with groups=g each output sums over only in_channels / g input channels"))
    if area != kh:
        mistakes.append(Mistake(positions * cout * kh * per_group, "the kernel is treated as 1D: each output sums KH * KW * in_channels / groups products"))
    if positions != oh:
        mistakes.append(Mistake(oh * cout * area * per_group, "only one spatial axis of the output is counted: there are H' * W' output positions (output_size=n means n x n)"))
    mistakes.append(Mistake(2 * good, "you counted FLOPs (a multiply and an add per product); count each multiply-accumulate once"))
    mistakes.append(Mistake(good + positions * cout, "the bias additions are counted; a MAC is one multiply and its accumulation, and the bias is not counted"))
    if cout > 1:
        mistakes.append(Mistake(positions * area * per_group, "the output channels are missing: every one of the out_channels filters is applied at every output position"))
    value = call(fn, cin, cout, k, o, groups=groups, forbid=COUNT_FORBID)
    _expect_count(
        value,
        arith.conv_macs(cin, cout, k, o, groups=groups),
        "conv_macs",
        mistakes,
        f"in_channels={cin}, out_channels={cout}, kernel_size={k}, output_size={o}, groups={groups}",
        "H' * W' * out_channels * KH * KW * in_channels / groups",
    )


@check(points=1)
def conv_macs_examples(conv_macs):
    """conv_macs: a 3x3 layer on a 56x56 map, a 1x1 layer, a 5x5 layer with a rectangular output, a depthwise layer"""
    _check_macs(conv_macs, 64, 64, 3, 56)
    _check_macs(conv_macs, 256, 64, 1, 56)
    _check_macs(conv_macs, 3, 10, 5, (28, 30))
    _check_macs(conv_macs, 32, 32, 3, 16, groups=32)


@check(points=2, hidden=True)
def conv_macs_random(conv_macs, seed: int = 0):
    """conv_macs: seeded random layers (kernel and output pairs, groups)"""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        groups = int(rng.choice([1, 1, 2, 4]))
        cin = groups * int(rng.integers(1, 9))
        cout = groups * int(rng.integers(1, 9))
        k = int(rng.integers(1, 8)) if rng.random() < 0.6 else (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        o = int(rng.integers(1, 40)) if rng.random() < 0.6 else (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
        _check_macs(conv_macs, cin, cout, k, o, groups=groups)


# ---------------------------------------------------------------------------------------------
# conv_layer_summary: output shape and parameter count of one layer (exam style)
# ---------------------------------------------------------------------------------------------


def _check_summary(fn, input_shape, num_filters, k, s=1, p=0):
    name = "conv_layer_summary"
    inputs = f"input_shape={input_shape}, num_filters={num_filters}, kernel_size={k}, stride={s}, padding={p}"
    value = call(fn, input_shape, num_filters, k, stride=s, padding=p, forbid=COUNT_FORBID)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{name} should return a pair (output_shape, num_params); it returned a {type(value).__name__}")
    shape, params = value
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        fail(f"{name}: the output shape should be a tuple (D_out, H', W') of three ints; you returned {shape!r}")
    shape = tuple(as_int(v, f"{name}: an entry of the output shape") for v in shape)
    C, H, W = input_shape
    oh = arith.conv_output_size(H, k, s, p)
    ow = arith.conv_output_size(W, k, s, p)
    want = (num_filters, oh, ow)
    if shape != want:
        no_plus_one = (num_filters, (H + 2 * p - k) // s, (W + 2 * p - k) // s)
        minus_pad = (num_filters, (H - 2 * p - k) // s + 1, (W - 2 * p - k) // s + 1)
        no_stride = (num_filters, H + 2 * p - k + 1, W + 2 * p - k + 1)
        if shape == (oh, ow, num_filters):
            fail(f"{name}: your shape is (H', W', D_out); this course writes shapes channels first: (D_out, H', W')", f"On {inputs}: you returned {shape}.")
        if shape[0] == C and C != num_filters:
            fail(f"{name}: the output depth is the number of filters (one slice per filter), not the input depth", f"On {inputs}: you returned {shape}.")
        for wrong, why in ((minus_pad, "padding is subtracted; it adds: H' = floor((H + 2P - K) / S) + 1"),
                           (no_plus_one, "the + 1 is missing: H' = floor((H + 2P - K) / S) + 1"),
                           (no_stride, "the stride is ignored: H' = floor((H + 2P - K) / S) + 1")):
            if shape == wrong:
                fail(f"{name}: {why}", f"On {inputs}: you returned {shape}, the output shape is {want}.")
        fail(f"{name}: the output shape {shape} is wrong; it is (num_filters, H', W') with H' = floor((H + 2P - K) / S) + 1",
             f"On {inputs}: the output shape is {want}.")
    weights = k * k * C * num_filters
    mistakes = [
        Mistake(weights + num_filters * oh * ow, "you counted one bias per output unit; a convolution shares each filter's bias over all positions: one bias per filter, so the count does not depend on the input size"),
        Mistake(weights, "the bias is missing: each filter has one"),
        Mistake((k * C + 1) * num_filters, "the kernel is treated as 1D: a K x K filter over D_in channels has K * K * D_in weights"),
        Mistake((k * k + 1) * num_filters, "the input depth is missing: each filter spans all D_in input channels, K * K * D_in weights"),
        Mistake(oh * ow * (k * k * C + 1) * num_filters, "you gave every output position its own filter (a locally connected layer); a convolution shares one filter per output slice over all positions"),
    ]
    _expect_count(params, arith.conv_param_count(C, num_filters, k), f"{name}: num_params", mistakes, inputs,
                  "(K * K * D_in + 1) * num_filters, whatever the input size, stride and padding")


@check(points=1)
def conv_layer_summary_examples(conv_layer_summary):
    """conv_layer_summary: ten 5x5 filters on 3x32x32 with padding 2; then stride 2 and no padding"""
    _check_summary(conv_layer_summary, (3, 32, 32), 10, 5, 1, 2)
    _check_summary(conv_layer_summary, (3, 32, 32), 10, 5, 2, 0)
    _check_summary(conv_layer_summary, (16, 28, 20), 32, 3, 1, 1)


@check(points=2, hidden=True)
def conv_layer_summary_random(conv_layer_summary, seed: int = 0):
    """conv_layer_summary: seeded random layers; the count must not depend on the input size"""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        k = int(rng.choice([1, 3, 5, 7]))
        p = int(rng.integers(0, k // 2 + 1))
        s = int(rng.integers(1, 4))
        shape = (int(rng.integers(1, 65)), int(rng.integers(k, 64)), int(rng.integers(k, 64)))
        _check_summary(conv_layer_summary, shape, int(rng.integers(1, 129)), k, s, p)


# ---------------------------------------------------------------------------------------------
# Exam-style answers, with numbers of each student's own (cnnlib.variants.nb04)
# ---------------------------------------------------------------------------------------------


def _layer_answers(q) -> dict:
    side = arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding)
    return {
        "answer_layer_params": arith.conv_param_count(q.channels, q.filters, q.k),
        "answer_layer_macs": arith.conv_macs(q.channels, q.filters, q.k, side),
    }


def _stack_answer(q) -> tuple[int, int]:
    big = arith.receptive_field([(q.k, 1)] * q.layers)  # the single kernel that sees as far as the stack
    return (q.layers * arith.conv_param_count(q.channels, q.channels, q.k, bias=False), arith.conv_param_count(q.channels, q.channels, big, bias=False))


#: The per-student questions these checks grade, and each one's answers from its numbers.
VARIANT_QUESTIONS = variant_questions.QUESTIONS
VARIANT_ANSWERS = {
    "answer_layer": _layer_answers,
    "answer_fc_params": lambda q: arith.fc_param_count(q.n * q.n * q.channels, q.units),
    "answer_stack_params": _stack_answer,
}


def _whole(value, name: str):
    if value is None or isinstance(value, Missing):
        raise NotWrittenYet(f"{name} is not set yet: compute it and run its cell")
    return as_int(value, name)


def _grade(got, name: str, question: str, answer, mistakes, formula: str) -> None:
    """Compare an answer with this variant's, naming a recognised mistake; never shows the answer."""
    q, default = numbers(VARIANT_QUESTIONS, question)
    expected = answer(q)
    candidates = ([(answer(default), DEFAULT_NUMBERS)] if default is not None else []) + mistakes(q)
    if got == expected:
        return
    for wrong, explanation in candidates:
        if wrong is not None and wrong != expected and got == wrong:
            fail(f"{name} is {got}: {explanation}")
    fail(f"{name} is {got}, which is not right; it is {formula}")


@check(points=1)
def answer_layer_params(answer_layer_params):
    """A convolution layer's parameters, which its input size, stride and padding do not change"""
    got = _whole(answer_layer_params, "answer_layer_params")

    def mistakes(q):
        side = arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding)
        weights = q.k * q.k * q.channels * q.filters
        return [(m.output, m.explanation) for m in _conv_param_mistakes(q.channels, q.filters, q.k, True, 1)] + [
            (weights + q.filters * side * side, "you counted one bias per output value; a filter has ONE bias, shared by every position of its output map"),
            (side * side * (weights + q.filters), "you gave every output position its own filters (a locally connected layer); a convolution shares its filters over all positions, so the input size does not enter the count"),
        ]

    _grade(got, "answer_layer_params", "answer_layer", lambda q: _layer_answers(q)["answer_layer_params"], mistakes,
           "(K * K * D_in + 1) * D_out, whatever the input size, stride and padding")


@check(points=1)
def answer_layer_macs(answer_layer_macs):
    """The same layer's multiply-accumulates on one input"""
    got = _whole(answer_layer_macs, "answer_layer_macs")

    def mistakes(q):
        side = arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding)
        per_output = q.k * q.k * q.channels
        good = side * side * q.filters * per_output
        return [
            (2 * good, "you counted FLOPs (a multiply and an add per product); count each multiply-accumulate once"),
            (good + side * side * q.filters, "the bias additions are counted; the question leaves them out"),
            (q.n * q.n * q.filters * per_output, "you used the input size; every OUTPUT value is one sum of K * K * D_in products, so use the output size H' x W' (stride and padding change it)"),
            (side * side * per_output, "the number of filters is missing: each of the D_out filters makes its own output map"),
            (side * side * q.filters * q.k * q.channels, "the kernel is treated as 1D: each output value sums K * K * D_in products"),
            (side * side * q.filters * q.k * q.k, "the input depth is missing: each output value sums over all D_in input channels"),
            (_layer_answers(q)["answer_layer_params"], "that is the number of parameters; the MACs count the products of every output value: H' * W' * D_out * K * K * D_in"),
        ]

    _grade(got, "answer_layer_macs", "answer_layer", lambda q: _layer_answers(q)["answer_layer_macs"], mistakes,
           "H' * W' * D_out * K * K * D_in, with H' = W' the layer's output size")


@check(points=1)
def answer_fc_params(answer_fc_params):
    """A fully connected layer on a flattened volume: its parameters"""
    got = _whole(answer_fc_params, "answer_fc_params")

    def mistakes(q):
        features = q.n * q.n * q.channels
        return [
            (features * q.units, "the bias is missing: each output unit has one bias"),
            (features * q.units + features, "you counted one bias per INPUT feature; the biases belong to the output units: (in_features + 1) * out_features"),
            ((q.n * q.n + 1) * q.units, "the depth is missing: the flattened volume has height * width * channels features"),
            (features + q.units, "you added the sizes; a fully connected layer has a weight for every (input, output) pair"),
        ]

    _grade(got, "answer_fc_params", "answer_fc_params", VARIANT_ANSWERS["answer_fc_params"], mistakes,
           "(height * width * channels + 1) * units")


@check(points=1)
def answer_stack_params(answer_stack_params):
    """A stack of small kernels against the one large kernel with the same receptive field: their weights"""
    if answer_stack_params is None or isinstance(answer_stack_params, Missing):
        raise NotWrittenYet("answer_stack_params is not set yet: compute it and run its cell")
    value = answer_stack_params.tolist() if isinstance(answer_stack_params, np.ndarray) else answer_stack_params
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"answer_stack_params should be a pair (the stack, the single layer) of whole numbers; it is {describe(value)}")
    got = tuple(as_int(v, "answer_stack_params") for v in value)

    def mistakes(q):
        c2, big = q.channels * q.channels, q.layers * (q.k - 1) + 1
        stack, single = _stack_answer(q)
        return [
            ((single, stack), "the two are swapped: first the stack, then the single layer"),
            ((stack + q.layers * q.channels, single + q.channels), "the question leaves the biases out"),
            ((q.k * q.k * c2, single), f"the stack has {q.layers} layers, each with its own K * K * C * C weights"),
            ((q.layers * q.k * c2, big * c2), "the kernels are treated as 1D: a K x K kernel has K * K weights per channel pair"),
            ((q.layers * q.k * q.k * q.channels, big * big * q.channels), "each filter sees all C input channels, and there are C filters: K * K * C * C weights per layer"),
        ]

    _grade(got, "answer_stack_params", "answer_stack_params", _stack_answer, mistakes,
           "(L * K * K * C * C, K' * K' * C * C) for L stacked K x K layers and the one K' x K' layer")
