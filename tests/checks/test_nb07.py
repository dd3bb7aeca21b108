"""The checks of notebook 07 pass on correct answers written two ways (loops and vectorised) and
name each common mistake they claim to recognise."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import variants
from cnnlib.checks import nb07
from checkhelpers import assert_passes, run
from cnnlib.checks.core import Missing


def assert_fails(check, *args, expect: str, **kwargs):
    result = run(check, *args, **kwargs)
    assert not result.passed
    assert expect in result.message, result.message
    return result


def pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


# ---------------------------------------------------------------------------------------------
# conv2d_backward: two correct implementations and the wrong ones
# ---------------------------------------------------------------------------------------------


def conv_backward_loops(dout, x, w, stride=1, padding=0, *, flip=True, crop=True, dw_mode="sum", db_mode="sum"):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, OH, OW = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx_pad = np.zeros_like(x_pad)
    dw_each = np.zeros((N, *w.shape))
    kernel = w if flip else w[:, :, ::-1, ::-1]
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    window = x_pad[n, :, i * sh : i * sh + KH, j * sw : j * sw + KW]
                    dx_pad[n, :, i * sh : i * sh + KH, j * sw : j * sw + KW] += dout[n, f, i, j] * kernel[f]
                    dw_each[n, f] += dout[n, f, i, j] * window
    dx = dx_pad[:, :, ph : ph + H, pw : pw + W] if crop else dx_pad
    dw = {"sum": dw_each.sum(0), "mean": dw_each.mean(0), "last": dw_each[-1], "stack": dw_each, "flip": dw_each.sum(0)[:, :, ::-1, ::-1]}[dw_mode]
    db = {"sum": dout.sum(axis=(0, 2, 3)), "space": dout.sum(axis=0), "batch": dout.sum(axis=(2, 3)), "mean": dout.mean(axis=(0, 2, 3))}[db_mode]
    return dx, dw, db


def conv_backward_vectorised(dout, x, w, stride=1, padding=0):
    """dx by dilating dout, padding it by K - 1 and cross-correlating with the flipped, regrouped filters."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, OH, OW = dout.shape
    Hp, Wp = H + 2 * ph, W + 2 * pw
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # dw[f, c, m, k] = sum_{n,i,j} x_pad[n, c, i*sh + m, j*sw + k] * dout[n, f, i, j]
    dw = np.zeros_like(w, dtype=float)
    for m in range(KH):
        for k in range(KW):
            patch = x_pad[:, :, m : m + sh * (OH - 1) + 1 : sh, k : k + sw * (OW - 1) + 1 : sw]  # (N, C, OH, OW)
            dw[:, :, m, k] = np.einsum("nfij,ncij->fc", dout, patch)
    # dx: dilate dout by the stride, pad by K - 1, correlate with the flipped and regrouped filters
    dil = np.zeros((N, F, sh * (OH - 1) + 1, sw * (OW - 1) + 1))
    dil[:, :, ::sh, ::sw] = dout
    dil = np.pad(dil, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    wb = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW)
    rows, cols = dil.shape[2] - KH + 1, dil.shape[3] - KW + 1
    dx_pad = np.zeros((N, C, Hp, Wp))
    for m in range(KH):
        for k in range(KW):
            dx_pad[:, :, :rows, :cols] += np.einsum("nfij,cf->ncij", dil[:, :, m : m + rows, k : k + cols], wb[:, :, m, k])
    return dx_pad[:, :, ph : ph + H, pw : pw + W], dw, dout.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("impl", [conv_backward_loops, conv_backward_vectorised])
def test_conv2d_backward_correct(impl):
    def fn(dout, x, w, stride=1, padding=0):
        return impl(dout, x, w, stride, padding)

    assert_passes(nb07.conv2d_backward_single, fn)
    assert_passes(nb07.conv2d_backward_batch, fn)
    for seed in (0, 1, 2024):
        assert_passes(nb07.conv2d_backward_random, fn, seed=seed)


@pytest.mark.parametrize(
    "options, expect",
    [
        (dict(flip=False), "FLIPPED kernel"),
        (dict(crop=False), "gradient of the PADDED input"),
        (dict(crop=False, flip=False), "and with the kernel not flipped"),
        (dict(dw_mode="mean"), "dw is averaged over the batch"),
        (dict(dw_mode="last"), "last example's gradient only"),
        (dict(dw_mode="stack"), "one gradient per example"),
        (dict(dw_mode="flip"), "dw comes out flipped"),
        (dict(db_mode="space"), "db is not summed over space"),
        (dict(db_mode="batch"), "db has one row per example"),
        (dict(db_mode="mean"), "db is averaged"),
    ],
)
def test_conv2d_backward_mistakes(options, expect):
    def fn(dout, x, w, stride=1, padding=0):
        return conv_backward_loops(dout, x, w, stride, padding, **options)

    assert_fails(nb07.conv2d_backward_batch, fn, expect=expect)
    hidden = assert_fails(nb07.conv2d_backward_random, fn, seed=5, expect=expect)
    assert "On x of shape" not in hidden.message  # hidden messages do not show inputs


def test_conv2d_backward_no_padding_crop_only_visible_with_padding():
    # padding 0 in the single check's first case, so the crop mistake shows in its second case
    fn = lambda dout, x, w, stride=1, padding=0: conv_backward_loops(dout, x, w, stride, padding, crop=False)  # noqa: E731
    assert_fails(nb07.conv2d_backward_single, fn, expect="PADDED input")


def test_conv2d_backward_wrong_return():
    assert_fails(nb07.conv2d_backward_single, lambda dout, x, w, stride=1, padding=0: conv_backward_loops(dout, x, w)[0], expect="should return a tuple")


def test_conv2d_backward_forbids_library():
    def delegating(dout, x, w, stride=1, padding=0):
        from cnnlib.reference import conv2d_backward, conv2d_forward

        _, cache = conv2d_forward(x, w, np.zeros(w.shape[0]), stride=stride, padding=padding)
        return conv2d_backward(dout, cache)

    assert_fails(nb07.conv2d_backward_single, delegating, expect="library implementation")


# ---------------------------------------------------------------------------------------------
# backward_filters
# ---------------------------------------------------------------------------------------------


def backward_filters_slicing(w):
    return w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).copy()


def backward_filters_loops(w):
    F, C, KH, KW = w.shape
    out = np.zeros((C, F, KH, KW))
    for c in range(C):
        for f in range(F):
            out[c, f] = np.rot90(w[f, c], 2)
    return out


@pytest.mark.parametrize("impl", [backward_filters_slicing, backward_filters_loops])
def test_backward_filters_correct(impl):
    assert_passes(nb07.backward_filters_examples, impl)
    assert_passes(nb07.backward_filters_random, impl, seed=3)
    assert_passes(nb07.backward_filters_give_dx, impl, seed=3)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda w: w.transpose(1, 0, 2, 3), "did not flip them"),
        (lambda w: w[:, :, ::-1, ::-1].copy(), "did not regroup them"),
        (lambda w: w[:, :, ::-1, :].transpose(1, 0, 2, 3), "upside down only"),
        (lambda w: w[:, :, :, ::-1].transpose(1, 0, 2, 3), "left-right only"),
        (lambda w: w.transpose(1, 0, 3, 2), "transposed each slice"),
        (lambda w: w[::-1, ::-1, ::-1, ::-1].transpose(1, 0, 2, 3), "reversed the order of the filters"),
    ],
)
def test_backward_filters_mistakes(impl, expect):
    assert_fails(nb07.backward_filters_examples, impl, expect=expect)


def test_backward_filters_give_dx_fails_unflipped():
    assert_fails(nb07.backward_filters_give_dx, lambda w: w.transpose(1, 0, 2, 3), seed=1, expect="does not give dx")


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def maxpool_backward_loops(dout, x, kernel_size, stride=None, *, rule="first"):
    return nb07._maxpool_variant(dout, x, kernel_size, stride, rule)


def maxpool_backward_vectorised(dout, x, kernel_size, stride=None):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride if stride is not None else kernel_size)
    N, C, OH, OW = dout.shape
    # windows: (N, C, OH, OW, KH*KW)
    idx_h = (np.arange(OH) * sh)[:, None] + np.arange(KH)[None, :]  # (OH, KH)
    idx_w = (np.arange(OW) * sw)[:, None] + np.arange(KW)[None, :]  # (OW, KW)
    windows = x[:, :, idx_h[:, None, :, None], idx_w[None, :, None, :]]  # (N, C, OH, OW, KH, KW)
    flat = windows.reshape(N, C, OH, OW, KH * KW)
    arg = flat.argmax(axis=-1)  # first maximum
    r, q = np.divmod(arg, KW)
    rows = np.arange(OH)[None, None, :, None] * sh + r
    cols = np.arange(OW)[None, None, None, :] * sw + q
    dx = np.zeros_like(x, dtype=float)
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    np.add.at(dx, (n, c, rows, cols), dout)
    return dx


def avgpool_backward_loops(dout, x_shape, kernel_size, stride=None, *, divisor=None, assign=False):
    KH, KW = pair(kernel_size)
    return nb07._avgpool_variant(dout, tuple(x_shape), kernel_size, stride, KH * KW if divisor is None else divisor, assign=assign)


def avgpool_backward_vectorised(dout, x_shape, kernel_size, stride=None):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride if stride is not None else kernel_size)
    N, C, OH, OW = dout.shape
    dx = np.zeros(x_shape)
    share = dout / (KH * KW)
    for m in range(KH):
        for k in range(KW):
            dx[:, :, m : m + sh * (OH - 1) + 1 : sh, k : k + sw * (OW - 1) + 1 : sw] += share
    return dx


@pytest.mark.parametrize("impl", [maxpool_backward_loops, maxpool_backward_vectorised])
def test_maxpool_correct(impl):
    assert_passes(nb07.maxpool2d_backward_examples, impl)
    for seed in (0, 1, 7):
        assert_passes(nb07.maxpool2d_backward_random, impl, seed=seed)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda dout, x, k, stride=None: maxpool_backward_loops(dout, x, k, stride, rule="all"), "every tied maximum"),
        (lambda dout, x, k, stride=None: maxpool_backward_loops(dout, x, k, stride, rule="last"), "LAST maximum"),
        (lambda dout, x, k, stride=None: maxpool_backward_loops(dout, x, k, stride, rule="assign"), "add into dx (+=)"),
        (lambda dout, x, k, stride=None: avgpool_backward_vectorised(dout, x.shape, k, stride), "average pooling's backward"),
        (lambda dout, x, k, stride=None: avgpool_backward_loops(dout, x.shape, k, stride, divisor=1), "copied the gradient to every pixel"),
    ],
)
def test_maxpool_mistakes(impl, expect):
    assert_fails(nb07.maxpool2d_backward_examples, impl, expect=expect)


def test_maxpool_ties_hidden():
    assert_fails(nb07.maxpool2d_backward_random, lambda dout, x, k, stride=None: maxpool_backward_loops(dout, x, k, stride, rule="all"), seed=0, expect="every tied maximum")


@pytest.mark.parametrize("impl", [avgpool_backward_loops, avgpool_backward_vectorised])
def test_avgpool_correct(impl):
    assert_passes(nb07.avgpool2d_backward_examples, impl)
    for seed in (0, 1, 7):
        assert_passes(nb07.avgpool2d_backward_random, impl, seed=seed)


@pytest.mark.parametrize(
    "options, expect",
    [
        (dict(divisor=1), "did not divide by the window size"),
        (dict(divisor=2), "you divided by 2"),
        (dict(assign=True), "add into dx (+=)"),
    ],
)
def test_avgpool_mistakes(options, expect):
    def fn(dout, x_shape, kernel_size, stride=None):
        return avgpool_backward_loops(dout, x_shape, kernel_size, stride, **options)

    assert_fails(nb07.avgpool2d_backward_examples, fn, expect=expect)


def test_avgpool_hidden_not_divided():
    fn = lambda dout, s, k, stride=None: avgpool_backward_loops(dout, s, k, stride, divisor=1)  # noqa: E731
    assert_fails(nb07.avgpool2d_backward_random, fn, seed=2, expect="did not divide")


# ---------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------


def relu_where(dout, x):
    return np.where(x > 0, dout, 0.0)


def relu_loops(dout, x):
    dx = np.zeros_like(dout, dtype=float)
    for index in np.ndindex(x.shape):
        if x[index] > 0:
            dx[index] = dout[index]
    return dx


@pytest.mark.parametrize("impl", [relu_where, relu_loops])
def test_relu_correct(impl):
    assert_passes(nb07.relu_backward_examples, impl)
    assert_passes(nb07.relu_backward_random, impl, seed=4)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda dout, x: dout * (dout > 0), "masked with dout > 0"),
        (lambda dout, x: dout * (x >= 0), "where x == 0"),
        (lambda dout, x: (x > 0).astype(float), "local derivative (x > 0) only"),
        (lambda dout, x: dout * np.maximum(x, 0), "multiplied dout by relu(x)"),
        (lambda dout, x: np.maximum(dout, 0) * (x > 0), "clipped dout at zero"),
    ],
)
def test_relu_mistakes(impl, expect):
    assert_fails(nb07.relu_backward_examples, impl, expect=expect)
    assert_fails(nb07.relu_backward_random, impl, seed=4, expect=expect)


def test_relu_in_place_is_reported():
    def in_place(dout, x):
        dout[x <= 0] = 0
        return dout

    assert_fails(nb07.relu_backward_examples, in_place, expect="changed its input")


# ---------------------------------------------------------------------------------------------
# numerical_gradient
# ---------------------------------------------------------------------------------------------


def numgrad_ndindex(f, x, h=1e-5):
    x = x.astype(float).copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numgrad_flat(f, x, h=1e-5):
    flat = x.astype(float).ravel()
    grad = np.empty_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = h
        grad[i] = (f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h)
    return grad.reshape(x.shape)


@pytest.mark.parametrize("impl", [numgrad_ndindex, numgrad_flat])
def test_numerical_gradient_correct(impl):
    assert_passes(nb07.numerical_gradient_examples, impl)
    for seed in (0, 1):
        assert_passes(nb07.numerical_gradient_random, impl, seed=seed)


def numgrad_one_sided(f, x, h=1e-5):
    x = x.astype(float).copy()
    f0 = f(x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (f(x) - f0) / h
        x[index] = old
    return grad


def numgrad_backward_sided(f, x, h=1e-5):
    x = x.astype(float).copy()
    f0 = f(x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old - h
        grad[index] = (f0 - f(x)) / h
        x[index] = old
    return grad


def numgrad_over_h(f, x, h=1e-5):
    return 2 * numgrad_ndindex(f, x, h)


def numgrad_fixed_h(f, x, h=1e-5):
    return numgrad_ndindex(f, x, 1e-5)


def numgrad_unrestored(f, x, h=1e-5):
    x = x.astype(float).copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = f(x)
        x[index] -= 2 * h
        minus = f(x)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numgrad_in_place(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = f(x)
        x[index] -= 2 * h
        minus = f(x)
        grad[index] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize(
    "impl, expect",
    [
        (numgrad_one_sided, "one-sided (forward) difference"),
        (numgrad_backward_sided, "one-sided (backward) difference"),
        (numgrad_over_h, "you divided by h"),
        (numgrad_fixed_h, "ignored the h argument"),
        (numgrad_unrestored, "did not put each entry back"),
        (numgrad_in_place, "changed its input"),
    ],
)
def test_numerical_gradient_mistakes(impl, expect):
    assert_fails(nb07.numerical_gradient_examples, impl, expect=expect)


def test_numerical_gradient_hidden_one_sided():
    assert_fails(nb07.numerical_gradient_random, numgrad_one_sided, seed=0, expect="one-sided")


def test_scalar_test_function_is_built_by_construct():
    from cnnlib.checks.core import Construct

    f = Construct("cnnlib.checks.nb07:scalar_test_function", np.ones(3)).build()
    assert f(np.zeros(3)) == 0.0
    assert np.isclose(f(np.ones(3)), 3 + 0.5 * 9 + 3 * np.sin(1.0))


# ---------------------------------------------------------------------------------------------
# The hand-worked example
# ---------------------------------------------------------------------------------------------


def hand_answers():
    dx, dw, db = conv_backward_loops(nb07.HAND_DOUT[None, None], nb07.HAND_X[None, None], nb07.HAND_W[None, None], 1, 1)
    return dx[0, 0], dw[0, 0], float(db[0])


def test_hand_example_correct():
    dx, dw, db = hand_answers()
    assert_passes(nb07.hand_example_dx, dx)
    assert_passes(nb07.hand_example_dw, dw)
    assert_passes(nb07.hand_example_db, db)
    assert_passes(nb07.hand_example_db, np.array([db]))
    # integers written by hand pass too
    assert_passes(nb07.hand_example_dx, np.rint(dx).astype(int))
    assert_passes(nb07.hand_example_dw, np.rint(dw).astype(int).tolist())
    assert np.allclose(dx, np.rint(dx)) and np.allclose(dw, np.rint(dw))


def test_hand_example_mistakes():
    x, w, dout = nb07.HAND_X[None, None], nb07.HAND_W[None, None], nb07.HAND_DOUT[None, None]
    dx_noflip = conv_backward_loops(dout, x, w, 1, 1, flip=False)[0][0, 0]
    dx_nocrop = conv_backward_loops(dout, x, w, 1, 1, crop=False)[0][0, 0]
    dw_flip = conv_backward_loops(dout, x, w, 1, 1, dw_mode="flip")[1][0, 0]
    assert_fails(nb07.hand_example_dx, dx_noflip, expect="FLIPPED kernel")
    assert_fails(nb07.hand_example_dx, dx_nocrop, expect="PADDED input")
    assert_fails(nb07.hand_example_dw, dw_flip, expect="dw comes out flipped")
    assert_fails(nb07.hand_example_db, float(nb07.HAND_DOUT.mean()), expect="not the mean")
    assert_fails(nb07.hand_example_dx, Missing("answer_dx"), expect="answer_dx is not defined")
    assert_fails(nb07.hand_example_dw, np.zeros((3, 3)), expect="wrong values")


def test_hand_example_unanswered_reads_as_not_written():
    result = assert_fails(nb07.hand_example_db, None, expect="answer_db is not set yet")
    assert result.not_written


# Per-student numbers (cnnlib.variants): the checks grade the variant being graded.

HAND_CHECKS = {"answer_dx": nb07.hand_example_dx, "answer_dw": nb07.hand_example_dw, "answer_db": nb07.hand_example_db}
KEY = variants.assignment_key("07" * 32, "07_backprop_through_conv_and_pool")


def _hand_variant(student):
    return variants.Variant(student, variants.variant_seed(KEY, student))


def _hand_answers(variant):
    q = nb07.VARIANT_QUESTIONS.params("answer_hand_example", variant)
    x, w, dout = (np.array(a, dtype=float)[None, None] for a in (q.x, q.w, q.dout))
    dx, dw, db = conv_backward_loops(dout, x, w, 1, 1)
    return {"answer_dx": dx[0, 0], "answer_dw": dw[0, 0], "answer_db": float(db[0])}


def test_hand_example_default_is_the_course_as_it_was():
    assert nb07.VARIANT_QUESTIONS.params("answer_hand_example", variants.DEFAULT) == variants.Params(
        {"x": nb07.HAND_X.astype(int), "w": nb07.HAND_W.astype(int), "dout": nb07.HAND_DOUT.astype(int)})
    dx, dw, db = hand_answers()
    assert dx.tolist() == [[2, 1, 0], [2, 0, 0], [0, 5, 0]] and dw.tolist() == [[2, 2, 4], [5, 3, 4], [0, 1, 1]] and db == 4


def test_hand_example_every_students_own_answers_pass():
    for i in range(50):
        variant = _hand_variant(f"s{i:03d}")
        answers = _hand_answers(variant)
        with variants.grading(variant):
            for name, check in HAND_CHECKS.items():
                assert_passes(check, np.rint(answers[name]).astype(int) if name != "answer_db" else int(round(answers[name])))


def test_hand_example_neighbours_and_default_answers_fail():
    alice, bob = _hand_variant("alice"), _hand_variant("bob")
    with variants.grading(bob):
        for name, check in HAND_CHECKS.items():
            if not np.allclose(_hand_answers(alice)[name], _hand_answers(bob)[name]):
                assert_fails(check, _hand_answers(alice)[name], expect="answer_")
            if not np.allclose(_hand_answers(variants.DEFAULT)[name], _hand_answers(bob)[name]):
                assert_fails(check, _hand_answers(variants.DEFAULT)[name], expect="default numbers")


def test_hand_example_mistakes_never_equal_the_answer():
    """Every drawn example tells the named mistakes apart from the right answer (non-degenerate)."""
    for i in range(300):
        variant = _hand_variant(f"m{i}")
        with variants.grading(variant):
            for name in HAND_CHECKS:
                expected, mistakes = nb07._hand_expected(name)
                assert float(np.max(np.abs(expected - np.rint(expected)))) == 0  # every answer an integer
                for mistake in mistakes[1:]:  # [0] is the default's answer, which may coincide
                    wrong = np.asarray(mistake.output, dtype=float)
                    assert wrong.shape != np.shape(expected) or not np.allclose(wrong, expected), (variant, name, mistake.explanation)
