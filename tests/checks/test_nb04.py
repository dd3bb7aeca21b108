"""The checks of notebook 04 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib import variants
from cnnlib.checks import nb04
from checkhelpers import run


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


# ---------------------------------------------------------------------------------------------
# conv2d_multichannel: two correct answers and the recognised mistakes
# ---------------------------------------------------------------------------------------------


def conv_loops(x, w, b):
    C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((F, H - KH + 1, W - KW + 1))
    for f in range(F):
        for i in range(H - KH + 1):
            for j in range(W - KW + 1):
                out[f, i, j] = np.sum(x[:, i : i + KH, j : j + KW] * w[f]) + b[f]
    return out


def conv_einsum(x, w, b):
    windows = sliding_window_view(x, w.shape[2:], axis=(1, 2))  # (C, H', W', KH, KW)
    return np.einsum("cijmn,fcmn->fij", windows, w) + b[:, None, None]


def conv_no_bias(x, w, b):
    return conv_einsum(x, w, np.zeros_like(b))


def conv_flipped(x, w, b):
    return conv_einsum(x, w[:, :, ::-1, ::-1], b)


def conv_not_summed(x, w, b):
    windows = sliding_window_view(x, w.shape[2:], axis=(1, 2))
    return np.einsum("cijmn,fcmn->fcij", windows, w) + b[:, None, None, None]


def conv_channel_mean(x, w, b):
    windows = sliding_window_view(x, w.shape[2:], axis=(1, 2))
    return np.einsum("cijmn,fcmn->fcij", windows, w).mean(axis=1) + b[:, None, None]


def conv_bias_per_channel(x, w, b):
    return conv_einsum(x, w, b * x.shape[0])


def conv_first_channel(x, w, b):
    return conv_einsum(x[:1], w[:, :1], b)


def conv_batched(x, w, b):
    return conv_einsum(x, w, b)[None]


def conv_torch(x, w, b):
    import torch

    return torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(w), torch.tensor(b))[0].numpy()


@pytest.mark.parametrize("fn", [conv_loops, conv_einsum])
def test_multichannel_correct(fn):
    assert run(nb04.conv2d_multichannel_examples, fn).passed
    assert run(nb04.conv2d_multichannel_random, fn, seed=3).passed
    assert run(nb04.conv2d_multichannel_random, fn, seed=11).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (conv_no_bias, "bias is missing"),
        (conv_flipped, "true convolution"),
        (conv_not_summed, "not summed"),
        (conv_channel_mean, "averaged over the input channels"),
        (conv_bias_per_channel, "once per input channel"),
        (conv_first_channel, "only input channel 0"),
        (conv_batched, "without a batch axis"),
        (conv_torch, "library implementation"),
    ],
)
def test_multichannel_mistakes(fn, words):
    result = run(nb04.conv2d_multichannel_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    hidden = run(nb04.conv2d_multichannel_random, fn, seed=3)
    assert not hidden.passed


def test_multichannel_hidden_message_hides_inputs():
    result = run(nb04.conv2d_multichannel_random, conv_no_bias, seed=3)
    assert "bias is missing" in result.message
    assert "On x of shape" not in result.message


def test_multichannel_weights_indexed_backwards():
    def swapped(x, w, b):
        return conv_einsum(x, w.transpose(1, 0, 2, 3), b)

    # Recognised where F == C (the other cases fail with a plain value message).
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 5, 5)), rng.standard_normal((3, 3, 2, 2)), rng.standard_normal(3)
    with pytest.raises(AssertionError, match=r"indexed the weights as w\[c, f\]"):
        nb04._check_multichannel(swapped, x, w, b)


# ---------------------------------------------------------------------------------------------
# conv_param_count
# ---------------------------------------------------------------------------------------------


def params_formula(in_channels, out_channels, kernel_size, bias=True, groups=1):
    kh, kw = _pair(kernel_size)
    return (kh * kw * in_channels // groups + (1 if bias else 0)) * out_channels


def params_by_arrays(in_channels, out_channels, kernel_size, bias=True, groups=1):
    weight = np.empty((out_channels, in_channels // groups, *_pair(kernel_size)))
    b = np.empty(out_channels if bias else 0)
    return weight.size + b.size


def params_no_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return params_formula(in_channels, out_channels, kernel_size, False, groups)


def params_bias_per_slice(in_channels, out_channels, kernel_size, bias=True, groups=1):
    kh, kw = _pair(kernel_size)
    return (kh * kw + 1) * in_channels // groups * out_channels


def params_groups_ignored(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return params_formula(in_channels, out_channels, kernel_size, bias, 1)


def params_kernel_1d(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return (_pair(kernel_size)[0] * in_channels // groups + bias) * out_channels


def params_always_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return params_formula(in_channels, out_channels, kernel_size, True, groups)


def params_library(in_channels, out_channels, kernel_size, bias=True, groups=1):
    from cnnlib.arithmetic import conv_param_count

    return conv_param_count(in_channels, out_channels, kernel_size, bias, groups)


def params_torch(in_channels, out_channels, kernel_size, bias=True, groups=1):
    import torch

    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, groups=groups)
    return sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("fn", [params_formula, params_by_arrays])
def test_param_count_correct(fn):
    assert run(nb04.conv_param_count_examples, fn).passed
    assert run(nb04.conv_param_count_groups, fn).passed
    for seed in (0, 1, 2):
        assert run(nb04.conv_param_count_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, check, words",
    [
        (params_no_bias, nb04.conv_param_count_examples, "bias is missing"),
        (params_bias_per_slice, nb04.conv_param_count_examples, "every kernel slice its own bias"),
        (params_kernel_1d, nb04.conv_param_count_examples, "treated as 1D"),
        (params_always_bias, nb04.conv_param_count_examples, "bias=False"),
        (params_groups_ignored, nb04.conv_param_count_groups, "groups is ignored"),
        (params_library, nb04.conv_param_count_examples, "library implementation"),
        (params_torch, nb04.conv_param_count_examples, "library implementation"),
    ],
)
def test_param_count_mistakes(fn, check, words):
    result = run(check, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb04.conv_param_count_random, fn, seed=0).passed


def test_param_count_float_answer():
    result = run(nb04.conv_param_count_examples, lambda *a, **k: params_formula(*a, **k) + 0.5)
    assert not result.passed and "whole number" in result.message


# ---------------------------------------------------------------------------------------------
# fc_param_count
# ---------------------------------------------------------------------------------------------


def fc_formula(in_features, out_features, bias=True):
    return in_features * out_features + (out_features if bias else 0)


def fc_arrays(in_features, out_features, bias=True):
    return np.empty((out_features, in_features)).size + np.empty(out_features * bias).size


@pytest.mark.parametrize("fn", [fc_formula, fc_arrays])
def test_fc_correct(fn):
    assert run(nb04.fc_param_count_examples, fn).passed
    assert run(nb04.fc_param_count_random, fn, seed=4).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda i, o, bias=True: i * o, "bias is missing"),
        (lambda i, o, bias=True: i * o + i * bias, "per INPUT feature"),
        (lambda i, o, bias=True: (i + 1) * o, "bias=False"),
        (lambda i, o, bias=True: i + o + o * bias, "added the sizes"),
    ],
)
def test_fc_mistakes(fn, words):
    result = run(nb04.fc_param_count_examples, fn)
    assert not result.passed
    assert words in result.message, result.message


# ---------------------------------------------------------------------------------------------
# locally_connected_param_count
# ---------------------------------------------------------------------------------------------


def _out(i, k, s):
    (ih, iw), (kh, kw), (sh, sw) = _pair(i), _pair(k), _pair(s)
    return (ih - kh) // sh + 1, (iw - kw) // sw + 1


def local_formula(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    oh, ow = _out(input_size, kernel_size, stride)
    kh, kw = _pair(kernel_size)
    return oh * ow * (kh * kw * in_channels + bias) * out_channels


def local_arrays(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    oh, ow = _out(input_size, kernel_size, stride)
    weight = np.empty((oh, ow, out_channels, in_channels, *_pair(kernel_size)))
    b = np.empty((oh, ow, out_channels)) if bias else np.empty(0)
    return weight.size + b.size


def local_shared_bias(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    return local_formula(in_channels, out_channels, input_size, kernel_size, stride, False) + out_channels * bias


def local_no_bias(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    return local_formula(in_channels, out_channels, input_size, kernel_size, stride, False)


def local_no_plus_one(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    (ih, iw), (kh, kw), (sh, sw) = _pair(input_size), _pair(kernel_size), _pair(stride)
    return (ih - kh) // sh * ((iw - kw) // sw) * (kh * kw * in_channels + bias) * out_channels


def local_stride_ignored(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    return local_formula(in_channels, out_channels, input_size, kernel_size, 1, bias)


def local_like_conv(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    return params_formula(in_channels, out_channels, kernel_size, bias)


def local_kernel_1d(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    oh, ow = _out(input_size, kernel_size, stride)
    return oh * ow * (_pair(kernel_size)[0] * in_channels + bias) * out_channels


def local_per_input_position(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True):
    ih, iw = _pair(input_size)
    kh, kw = _pair(kernel_size)
    return ih * iw * (kh * kw * in_channels + bias) * out_channels


@pytest.mark.parametrize("fn", [local_formula, local_arrays])
def test_local_correct(fn):
    assert run(nb04.locally_connected_param_count_examples, fn).passed
    for seed in (0, 5):
        assert run(nb04.locally_connected_param_count_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (local_shared_bias, "shares nothing"),
        (local_no_bias, "bias is missing"),
        (local_no_plus_one, "off by one"),
        (local_stride_ignored, "stride is ignored"),
        (local_like_conv, "count of a convolution"),
        (local_per_input_position, "per INPUT position"),
    ],
)
def test_local_mistakes(fn, words):
    result = run(nb04.locally_connected_param_count_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb04.locally_connected_param_count_random, fn, seed=0).passed


def test_local_kernel_1d():
    # The visible examples use square kernels with a distinct area; the 1D mistake is named there too.
    result = run(nb04.locally_connected_param_count_examples, local_kernel_1d)
    assert not result.passed and "treated as 1D" in result.message


# ---------------------------------------------------------------------------------------------
# conv_macs
# ---------------------------------------------------------------------------------------------


def macs_formula(in_channels, out_channels, kernel_size, output_size, groups=1):
    kh, kw = _pair(kernel_size)
    oh, ow = _pair(output_size)
    return oh * ow * out_channels * kh * kw * in_channels // groups


def macs_loop(in_channels, out_channels, kernel_size, output_size, groups=1):
    # Count the products one output position at a time, as a loop over the layer would do them.
    per_output = np.prod(_pair(kernel_size)) * (in_channels // groups)
    total = 0
    for _ in range(int(np.prod(_pair(output_size)))):
        total += per_output * out_channels
    return int(total)


@pytest.mark.parametrize("fn", [macs_formula, macs_loop])
def test_macs_correct(fn):
    assert run(nb04.conv_macs_examples, fn).passed
    for seed in (0, 7):
        assert run(nb04.conv_macs_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda ci, co, k, o, groups=1: macs_formula(ci, co, k, o, 1), "groups is ignored"),
        (lambda ci, co, k, o, groups=1: _pair(o)[0] ** 2 * co * _pair(k)[0] * ci // groups, "treated as 1D"),
        (lambda ci, co, k, o, groups=1: _pair(o)[0] * co * np.prod(_pair(k)) * ci // groups, "one spatial axis"),
        (lambda ci, co, k, o, groups=1: 2 * macs_formula(ci, co, k, o, groups), "FLOPs"),
        (lambda ci, co, k, o, groups=1: macs_formula(ci, co, k, o, groups) + np.prod(_pair(o)) * co, "bias additions"),
        (lambda ci, co, k, o, groups=1: macs_formula(ci, 1, k, o, groups), "output channels are missing"),
    ],
)
def test_macs_mistakes(fn, words):
    result = run(nb04.conv_macs_examples, fn)
    assert not result.passed
    assert words in result.message, result.message


# ---------------------------------------------------------------------------------------------
# conv_layer_summary
# ---------------------------------------------------------------------------------------------


def summary_formula(input_shape, num_filters, kernel_size, stride=1, padding=0):
    C, H, W = input_shape
    out = lambda n: (n + 2 * padding - kernel_size) // stride + 1  # noqa: E731
    return (num_filters, out(H), out(W)), (kernel_size * kernel_size * C + 1) * num_filters


def summary_arrays(input_shape, num_filters, kernel_size, stride=1, padding=0):
    # Count positions by sliding a window over a padded zero image; count parameters by arrays.
    C, H, W = input_shape
    rows = len(range(0, H + 2 * padding - kernel_size + 1, stride))
    cols = len(range(0, W + 2 * padding - kernel_size + 1, stride))
    weights = np.zeros((num_filters, C, kernel_size, kernel_size))
    bias = np.zeros(num_filters)
    return [num_filters, rows, cols], weights.size + bias.size


def _wrong_params(extra):
    def fn(input_shape, num_filters, kernel_size, stride=1, padding=0):
        shape, params = summary_formula(input_shape, num_filters, kernel_size, stride, padding)
        return shape, extra(params, shape, input_shape, num_filters, kernel_size)

    return fn


def _wrong_shape(shape_fn):
    def fn(input_shape, num_filters, kernel_size, stride=1, padding=0):
        shape, params = summary_formula(input_shape, num_filters, kernel_size, stride, padding)
        return shape_fn(input_shape, num_filters, kernel_size, stride, padding, shape), params

    return fn


@pytest.mark.parametrize("fn", [summary_formula, summary_arrays])
def test_summary_correct(fn):
    assert run(nb04.conv_layer_summary_examples, fn).passed
    for seed in (0, 1, 2):
        assert run(nb04.conv_layer_summary_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (_wrong_params(lambda p, s, i, f, k: p - f + f * s[1] * s[2]), "one bias per output unit"),
        (_wrong_params(lambda p, s, i, f, k: p - f), "bias is missing"),
        (_wrong_params(lambda p, s, i, f, k: (k * i[0] + 1) * f), "treated as 1D"),
        (_wrong_params(lambda p, s, i, f, k: (k * k + 1) * f), "input depth is missing"),
        (_wrong_params(lambda p, s, i, f, k: p * s[1] * s[2]), "locally connected"),
        (_wrong_shape(lambda i, f, k, st, p, s: (s[1], s[2], s[0])), "channels first"),
        (_wrong_shape(lambda i, f, k, st, p, s: (i[0], s[1], s[2])), "number of filters"),
        (_wrong_shape(lambda i, f, k, st, p, s: (f, (i[1] - 2 * p - k) // st + 1, (i[2] - 2 * p - k) // st + 1)), "padding is subtracted"),
        (_wrong_shape(lambda i, f, k, st, p, s: (f, (i[1] + 2 * p - k) // st, (i[2] + 2 * p - k) // st)), "+ 1 is missing"),
        (_wrong_shape(lambda i, f, k, st, p, s: (f, i[1] + 2 * p - k + 1, i[2] + 2 * p - k + 1)), "stride is ignored"),
        (lambda *a, **k: 760, "should return a pair"),
    ],
)
def test_summary_mistakes(fn, words):
    result = run(nb04.conv_layer_summary_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb04.conv_layer_summary_random, fn, seed=0).passed


# ---------------------------------------------------------------------------------------------
# Exam-style answers, with numbers of each student's own (cnnlib.variants.nb04)
# ---------------------------------------------------------------------------------------------

KEY = variants.assignment_key("04" * 32, "04_channels_and_parameters")
ANSWER_CHECKS = {
    "answer_layer_params": (nb04.answer_layer_params, "answer_layer"),
    "answer_layer_macs": (nb04.answer_layer_macs, "answer_layer"),
    "answer_fc_params": (nb04.answer_fc_params, "answer_fc_params"),
    "answer_stack_params": (nb04.answer_stack_params, "answer_stack_params"),
}


def _variant(student):
    return variants.Variant(student, variants.variant_seed(KEY, student))


def _answers(variant):
    """Each answer computed by hand from the question's numbers (not with the checks' functions)."""
    layer = nb04.VARIANT_QUESTIONS.params("answer_layer", variant)
    side = (layer.n + 2 * layer.padding - layer.k) // layer.stride + 1
    fc = nb04.VARIANT_QUESTIONS.params("answer_fc_params", variant)
    stack = nb04.VARIANT_QUESTIONS.params("answer_stack_params", variant)
    big = stack.layers * (stack.k - 1) + 1
    return {
        "answer_layer_params": (layer.k * layer.k * layer.channels + 1) * layer.filters,
        "answer_layer_macs": side * side * layer.filters * layer.k * layer.k * layer.channels,
        "answer_fc_params": (fc.n * fc.n * fc.channels + 1) * fc.units,
        "answer_stack_params": (stack.layers * stack.k**2 * stack.channels**2, big**2 * stack.channels**2),
    }


def assert_answer_fails(check, value, *fragments):
    result = run(check, value)
    assert not result.passed, f"{check.__name__} passed {value!r}"
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"


def test_answers_default_numbers():
    assert _answers(variants.DEFAULT) == {"answer_layer_params": 448, "answer_layer_macs": 442368, "answer_fc_params": 40970,
                                          "answer_stack_params": (27648, 50176)}
    for name, (check, _) in ANSWER_CHECKS.items():
        assert run(check, _answers(variants.DEFAULT)[name]).passed


def test_answers_every_students_own_pass_and_a_neighbours_fail():
    for i in range(50):
        variant = _variant(f"s{i:03d}")
        answers, neighbour = _answers(variant), _answers(_variant(f"n{i:03d}"))
        with variants.grading(variant):
            for name, (check, _) in ANSWER_CHECKS.items():
                assert run(check, answers[name]).passed, (variant, name, run(check, answers[name]).message)
                assert run(check, list(answers[name]) if isinstance(answers[name], tuple) else float(answers[name])).passed
                if neighbour[name] != answers[name]:
                    assert not run(check, neighbour[name]).passed
                if _answers(variants.DEFAULT)[name] != answers[name]:
                    assert_answer_fails(check, _answers(variants.DEFAULT)[name], "default numbers")


def test_answers_name_the_mistakes():
    variant = _variant("alice")
    with variants.grading(variant):
        q = nb04.VARIANT_QUESTIONS.params("answer_layer", variant)
        side = (q.n + 2 * q.padding - q.k) // q.stride + 1
        weights = q.k * q.k * q.channels * q.filters
        assert_answer_fails(nb04.answer_layer_params, weights, "bias is missing")
        assert_answer_fails(nb04.answer_layer_params, side * side * (weights + q.filters), "locally connected")
        assert_answer_fails(nb04.answer_layer_params, (q.k * q.k + 1) * q.filters, "input channels are missing")
        macs = side * side * q.filters * q.k * q.k * q.channels
        assert_answer_fails(nb04.answer_layer_macs, 2 * macs, "FLOPs")
        assert_answer_fails(nb04.answer_layer_macs, q.n * q.n * q.filters * q.k * q.k * q.channels, "input size")
        q = nb04.VARIANT_QUESTIONS.params("answer_fc_params", variant)
        assert_answer_fails(nb04.answer_fc_params, (q.n * q.n + 1) * q.units, "depth is missing")
        stack, single = _answers(variant)["answer_stack_params"]
        assert_answer_fails(nb04.answer_stack_params, (single, stack), "swapped")
        assert_answer_fails(nb04.answer_stack_params, stack, "a pair")
        assert_answer_fails(nb04.answer_stack_params, (stack, single + 1), "not right", "K' * K' * C * C")
    for name, (check, _) in ANSWER_CHECKS.items():
        result = run(check, None)
        assert result.not_written and "not set yet" in result.message
