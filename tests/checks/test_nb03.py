"""Checks of notebook 03: each passes on two correct implementations (a formula and a count of
window positions) and fails, naming the mistake, on each wrong formula it claims to recognise."""

import math

import pytest

from cnnlib import arithmetic as arith
from cnnlib import variants
from cnnlib.checks import nb03
from cnnlib.checks.core import Missing
from checkhelpers import assert_passes, run


def assert_fails(check, answer, *fragments, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed, f"{check.__name__} passed"
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"
    return result


# ---------------------------------------------------------------------------------------------
# Correct answers, two ways each
# ---------------------------------------------------------------------------------------------


def conv_formula(n, kernel_size, stride=1, padding=0, dilation=1):
    span = n + 2 * padding - dilation * (kernel_size - 1) - 1
    if span < 0:
        raise ValueError("kernel_size does not fit the padded input")
    return span // stride + 1


def conv_count(n, kernel_size, stride=1, padding=0, dilation=1):
    """Count the window starts in the padded input, one stride at a time."""
    effective = dilation * (kernel_size - 1) + 1
    if effective > n + 2 * padding:
        raise ValueError(f"kernel of effective size {effective} does not fit {n} + 2*{padding}")
    count, start = 0, 0
    while start + effective <= n + 2 * padding:
        count, start = count + 1, start + stride
    return count


def same_formula(kernel_size, dilation=1):
    effective = dilation * (kernel_size - 1) + 1
    if effective % 2 == 0:
        raise ValueError("even effective kernel")
    return (effective - 1) // 2


def same_search(kernel_size, dilation=1):
    """The padding that keeps a 100-pixel input at 100 pixels, found by trying."""
    for p in range(0, dilation * kernel_size + 1):
        if conv_count(100, kernel_size, 1, p, dilation) == 100:
            return p
    raise ValueError("no symmetric padding keeps the size")


def pool_formula(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    if 2 * padding > kernel_size:
        raise ValueError("padding must be at most kernel_size / 2")
    span = n + 2 * padding - kernel_size
    if span < 0:
        raise ValueError("window does not fit")
    if ceil_mode:
        out = math.ceil(span / stride) + 1
        if (out - 1) * stride >= n + padding:
            out -= 1
        return out
    return math.floor(span / stride) + 1


def pool_count(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    stride = stride or kernel_size
    if padding > kernel_size / 2:
        raise ValueError("padding too large")
    span = n + 2 * padding - kernel_size
    if span < 0:
        raise ValueError("window does not fit")
    count = 0
    while True:
        start = count * stride  # in padded coordinates
        fits = start <= span
        partial = ceil_mode and start < span + stride and start < n + padding
        if not (fits or partial):
            return count
        count += 1


def transposed_formula(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError("output_padding must be smaller than stride or dilation")
    return (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def transposed_spread(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Spread the n inputs `stride` apart, take the full output of the dilated kernel, crop."""
    if not (output_padding < stride or output_padding < dilation):
        raise ValueError("output_padding too large")
    spread = (n - 1) * stride + 1
    full = spread + dilation * (kernel_size - 1)
    return full - 2 * padding + output_padding


CONV = [conv_formula, conv_count]
SAME = [same_formula, same_search]
POOL = [pool_formula, pool_count]
TRANSPOSED = [transposed_formula, transposed_spread]


@pytest.mark.parametrize("fn", CONV)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_conv_correct(fn, seed):
    assert_passes(nb03.conv_output_size_examples, fn)
    assert_passes(nb03.conv_output_size_errors, fn)
    assert_passes(nb03.conv_output_size_random, fn, seed=seed)


@pytest.mark.parametrize("fn", SAME)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_same_correct(fn, seed):
    assert_passes(nb03.same_padding_examples, fn)
    assert_passes(nb03.same_padding_errors, fn)
    assert_passes(nb03.same_padding_random, fn, seed=seed)


@pytest.mark.parametrize("fn", POOL)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_pool_correct(fn, seed):
    assert_passes(nb03.pool_output_size_examples, fn)
    assert_passes(nb03.pool_output_size_errors, fn)
    assert_passes(nb03.pool_output_size_random, fn, seed=seed)


@pytest.mark.parametrize("fn", TRANSPOSED)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_transposed_correct(fn, seed):
    assert_passes(nb03.transposed_conv_output_size_examples, fn)
    assert_passes(nb03.transposed_conv_output_size_errors, fn)
    assert_passes(nb03.transposed_conv_output_size_random, fn, seed=seed)


def test_transposed_inverts_conv():
    """The property the notebook states: a convolution maps the transposed output back to n."""
    for n in range(1, 20):
        for k, s, p, d in [(3, 2, 1, 1), (4, 2, 1, 1), (5, 3, 2, 2), (3, 1, 0, 1)]:
            for op in range(max(s, d)):
                out = arith.transposed_conv_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
                assert arith.conv_output_size(out, k, stride=s, padding=p, dilation=d) == n


# ---------------------------------------------------------------------------------------------
# Recognised mistakes
# ---------------------------------------------------------------------------------------------


def conv_variant(expr):
    def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
        if dilation * (kernel_size - 1) + 1 > n + 2 * padding:
            raise ValueError("does not fit")
        return expr(n, kernel_size, stride, padding, dilation)

    return conv_output_size


def test_conv_mistakes():
    examples, hidden = nb03.conv_output_size_examples, nb03.conv_output_size_random
    missing_one = conv_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s)
    assert_fails(examples, missing_one, "missing +1", "conv_output_size(32, 5)")
    assert_fails(hidden, missing_one, "missing +1", seed=0)
    no_floor = conv_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) / s + 1)
    assert_fails(examples, no_floor, "returned a float", "//")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: (n - 2 * p - d * (k - 1) - 1) // s + 1), "subtracted the padding", "lecture notes")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1), "added the padding once")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1), "ignored the dilation")
    assert_fails(hidden, conv_variant(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1), "ignored the dilation", seed=1)
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1), "not d*k")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1), "rounded up")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1), "one too large")
    assert_fails(examples, conv_variant(lambda n, k, s, p, d: n + 2 * p - d * (k - 1)), "ignored the stride")
    assert_fails(examples, lambda n, k, stride=1, padding=0, dilation=1: round((n + 2 * padding - k) / stride + 1, 2), "a float", "//")
    assert_fails(nb03.conv_output_size_errors, lambda n, k, stride=1, padding=0, dilation=1: max(0, (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1), "should raise ValueError")
    assert_fails(nb03.conv_output_size_errors, lambda n, k, stride=1, padding=0, dilation=1: [][0] if k > n else 1, "raised IndexError")


def test_conv_library_is_forbidden():
    def delegating(n, kernel_size, stride=1, padding=0, dilation=1):
        return arith.conv_output_size(n, kernel_size, stride=stride, padding=padding, dilation=dilation)

    assert_fails(nb03.conv_output_size_examples, delegating, "cnnlib.arithmetic")


def test_hidden_messages_do_not_show_inputs():
    result = assert_fails(nb03.conv_output_size_random, conv_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s), "missing +1", seed=3)
    assert "conv_output_size(" not in result.message and "you returned" not in result.message
    result = assert_fails(nb03.pool_output_size_random, lambda n, k, stride=None, padding=0, ceil_mode=False: 7, "wrong size", seed=3)
    assert "pool_output_size(" not in result.message


def test_same_padding_mistakes():
    ignores_dilation = lambda k, dilation=1: same_formula(k)  # noqa: E731
    assert_fails(nb03.same_padding_examples, ignores_dilation, "ignored the dilation")
    assert_fails(nb03.same_padding_random, ignores_dilation, "ignored the dilation", seed=0)
    assert_fails(nb03.same_padding_examples, lambda k, dilation=1: dilation * (k - 1), "full padding")
    assert_fails(nb03.same_padding_examples, lambda k, dilation=1: dilation * (k - 1) / 2, "float")
    assert_fails(nb03.same_padding_errors, lambda k, dilation=1: dilation * (k - 1) // 2, "should raise ValueError")


def pool_variant(expr):
    def pool_output_size(n, kernel_size, stride=None, padding=0, ceil_mode=False):
        if 2 * padding > kernel_size or n + 2 * padding < kernel_size:
            raise ValueError("bad pooling")
        return expr(n, kernel_size, stride, padding, ceil_mode)

    return pool_output_size


def test_pool_mistakes():
    examples = nb03.pool_output_size_examples
    stride_one = pool_variant(lambda n, k, s, p, c: pool_formula(n, k, s or 1, p, c))
    assert_fails(examples, stride_one, "defaults to kernel_size")
    ignores_ceil = pool_variant(lambda n, k, s, p, c: pool_formula(n, k, s, p, False))
    assert_fails(examples, ignores_ceil, "ignored ceil_mode")
    assert_fails(nb03.pool_output_size_random, ignores_ceil, "ignored ceil_mode", seed=0)
    no_drop = pool_variant(lambda n, k, s, p, c: math.ceil((n + 2 * p - k) / (s or k)) + 1 if c else pool_formula(n, k, s, p))
    assert_fails(examples, no_drop, "right padding")
    always_ceil = pool_variant(lambda n, k, s, p, c: pool_formula(n, k, s, p, True))
    assert_fails(examples, always_ceil, "rounded up")
    missing_one = pool_variant(lambda n, k, s, p, c: pool_formula(n, k, s, p, c) - 1)
    assert_fails(examples, missing_one, "missing +1")
    subtracted = pool_variant(lambda n, k, s, p, c: pool_formula(n - 4 * p, k, s, p, c))  # n - 2p instead of n + 2p
    assert_fails(examples, subtracted, "subtracted the padding")
    assert_fails(examples, pool_variant(lambda n, k, s, p, c: (n + 2 * p - k) / (s or k) + 1), "a float", "//")
    assert_fails(nb03.pool_output_size_random, pool_variant(lambda n, k, s, p, c: (n + 2 * p - k) / (s or k) + 1.5), "fraction", seed=0)
    assert_fails(nb03.pool_output_size_errors, lambda n, k, stride=None, padding=0, ceil_mode=False: 1, "should raise ValueError")


def transposed_variant(expr):
    def transposed_conv_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
        if output_padding >= stride and output_padding >= dilation:
            raise ValueError("output_padding too large")
        return expr(n, kernel_size, stride, padding, output_padding, dilation)

    return transposed_conv_output_size


def test_transposed_mistakes():
    examples, hidden = nb03.transposed_conv_output_size_examples, nb03.transposed_conv_output_size_random
    conv_instead = transposed_variant(lambda n, k, s, p, op, d: conv_formula(n, k, s, p, d))
    assert_fails(examples, conv_instead, "size of a convolution")
    plus_padding = transposed_variant(lambda n, k, s, p, op, d: (n - 1) * s + 2 * p + d * (k - 1) + op + 1)
    assert_fails(examples, plus_padding, "removes p from each side")
    assert_fails(hidden, plus_padding, "removes p from each side", seed=2)
    no_op = transposed_variant(lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + d * (k - 1) + 1)
    assert_fails(examples, no_op, "ignored output_padding")
    no_d = transposed_variant(lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + (k - 1) + op + 1)
    assert_fails(examples, no_d, "ignored the dilation")
    missing_one = transposed_variant(lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + d * (k - 1) + op)
    assert_fails(examples, missing_one, "missing +1")
    n_times_s = transposed_variant(lambda n, k, s, p, op, d: n * s - 2 * p + d * (k - 1) + op + 1)
    assert_fails(examples, n_times_s, "(n - 1) * s")
    assert_fails(nb03.transposed_conv_output_size_errors, lambda n, k, stride=1, padding=0, output_padding=0, dilation=1: 1, "should raise ValueError")


# ---------------------------------------------------------------------------------------------
# Exam-style answers
# ---------------------------------------------------------------------------------------------

CORRECT = {
    nb03.answer_volume: (32, 32, 10),
    nb03.answer_no_padding: 28,
    nb03.answer_stride3: 2,
    nb03.answer_alexnet: (55, 55, 96),
    nb03.answer_resnet_stem: (112, 56),
    nb03.answer_pool_ceil: (27, 28),
    nb03.answer_upsample: 32,
    nb03.answer_dilated: (2, 32),
}


@pytest.mark.parametrize("check", CORRECT, ids=lambda c: c.__name__)
def test_answers_correct(check):
    assert_passes(check, CORRECT[check])
    value = CORRECT[check]
    if isinstance(value, tuple):
        assert_passes(check, list(value))  # a list is as good as a tuple


@pytest.mark.parametrize("check", CORRECT, ids=lambda c: c.__name__)
def test_answers_unanswered(check):
    result = run(check, None)
    assert not result.passed and result.not_written and "not set yet" in result.message
    assert run(check, Missing("x")).not_written


def test_answer_mistakes():
    assert_fails(nb03.answer_volume, (32, 32, 3), "number of filters")
    assert_fails(nb03.answer_volume, (28, 28, 10), "padding of 2")
    assert_fails(nb03.answer_volume, (24, 24, 10), "subtracted the padding")
    assert_fails(nb03.answer_volume, (31, 31, 10), "missing +1")
    assert_fails(nb03.answer_volume, (10, 32, 32), "(height, width, depth)")
    assert_fails(nb03.answer_volume, 32, "tuple of 3")
    assert_fails(nb03.answer_no_padding, 27, "forgets the +1", "lecture notes")
    assert_fails(nb03.answer_no_padding, 28.0, "is a float")
    assert_fails(nb03.answer_volume, (24.0, 24.0, 10), "subtracted the padding")  # the formula first, the float later
    assert_fails(nb03.answer_volume, (32.0, 32.0, 10), "holds a float")
    assert_fails(nb03.answer_stride3, 3.0, "rounded up")  # a wrong whole float: the formula's mistake comes first
    assert_fails(nb03.answer_stride3, (7 - 3) / 3 + 1, "fraction")
    assert_fails(nb03.answer_stride3, 3, "rounded up")
    assert_fails(nb03.answer_stride3, 1, "missing +1")
    assert_fails(nb03.answer_alexnet, (54, 54, 96), "missing +1")
    assert_fails(nb03.answer_alexnet, (55, 55, 3), "number of filters")
    assert_fails(nb03.answer_resnet_stem, (112, 112), "stride 2")
    assert_fails(nb03.answer_resnet_stem, (106, 53), "subtracted the padding")
    assert_fails(nb03.answer_resnet_stem, (112, 55), "for the pooling")
    assert_fails(nb03.answer_pool_ceil, (27, 27), "ceil_mode=True rounds")
    assert_fails(nb03.answer_pool_ceil, (28, 28), "floors")
    assert_fails(nb03.answer_pool_ceil, (28, 27), "swapped")
    assert_fails(nb03.answer_upsample, 8, "size of a convolution")
    assert_fails(nb03.answer_upsample, 36, "removes p from each side")
    assert_fails(nb03.answer_upsample, 34, "(n - 1) * s")
    assert_fails(nb03.answer_dilated, (1, 31), "ignored the dilation")
    assert_fails(nb03.answer_dilated, (2, 64), "ignored the stride")
    assert_fails(nb03.answer_dilated, (2, 28), "subtracted the padding")
    assert_fails(nb03.answer_no_padding, 30, "step by step")


def test_import_policy():
    assert "torch" in nb03.FORBIDDEN_IMPORTS and "cnnlib.arithmetic" in nb03.FORBIDDEN_IMPORTS
    assert nb03.IMPORT_REASON


# ---------------------------------------------------------------------------------------------
# Per-student numbers (cnnlib.variants): the checks grade the variant being graded
# ---------------------------------------------------------------------------------------------

ANSWER_CHECKS = [nb03.answer_volume, nb03.answer_no_padding, nb03.answer_stride3, nb03.answer_alexnet,
                 nb03.answer_resnet_stem, nb03.answer_pool_ceil, nb03.answer_upsample, nb03.answer_dilated]
KEY = variants.assignment_key("c3" * 32, "03_output_size_arithmetic")


def _variant(student):
    return variants.Variant(student, variants.variant_seed(KEY, student))


def _answer(check, variant):
    return nb03.VARIANT_ANSWERS[check.__name__](nb03.VARIANT_QUESTIONS.params(check.__name__, variant))


def test_every_students_own_answers_pass():
    for i in range(50):
        variant = _variant(f"s{i:03d}")
        with variants.grading(variant):
            for check in ANSWER_CHECKS:
                assert_passes(check, _answer(check, variant))


def test_a_neighbours_answers_fail():
    alice, bob = _variant("alice"), _variant("bob")
    with variants.grading(bob):
        failed = [check.__name__ for check in ANSWER_CHECKS if not run(check, _answer(check, alice)).passed]
    assert len(failed) >= 6, f"alice's answers pass bob's questions {sorted(set(c.__name__ for c in ANSWER_CHECKS) - set(failed))}"


def test_default_answers_under_a_variant_are_named():
    for i in range(20):
        variant = _variant(f"d{i}")
        with variants.grading(variant):
            for check in ANSWER_CHECKS:
                default = _answer(check, variants.DEFAULT)
                if default != _answer(check, variant):
                    assert_fails(check, default, "default numbers", "STUDENT_ID")


def test_mistakes_are_named_with_the_variants_numbers():
    variant = _variant("alice")
    q = nb03.VARIANT_QUESTIONS.params("answer_volume", variant)
    side, _, filters = _answer(nb03.answer_volume, variant)
    with variants.grading(variant):
        assert_fails(nb03.answer_volume, (side, side, q.channels), f"number of filters ({filters})", f"input's {q.channels} channels")
        assert_fails(nb03.answer_volume, (filters, side, side), "(height, width, depth)")
        q = nb03.VARIANT_QUESTIONS.params("answer_no_padding", variant)
        assert_fails(nb03.answer_no_padding, q.n - q.k, f"{q.n} - {q.k} = {q.n - q.k} forgets the +1")
        floor_size, ceil_size = _answer(nb03.answer_pool_ceil, variant)
        assert_fails(nb03.answer_pool_ceil, (ceil_size, floor_size), "swapped")
