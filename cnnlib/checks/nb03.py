"""Checks for notebook 03, output sizes of convolution, pooling and transposed convolution.

Every expected size comes from :mod:`cnnlib.arithmetic` (tested against PyTorch). A wrong size is
compared with what the usual wrong formulas give on the same input, and the message names the
mistake: the missing +1, no floor (a float, or a fraction rounded up), padding subtracted instead
of added (the lecture-note error) or added on one side only, the dilation ignored or the effective
kernel taken as d*k, the pooling stride left at 1 instead of kernel_size, ceil_mode ignored or
applied without PyTorch's rule for a last window in the padding, the transposed-convolution
formula confused with the convolution one, padding added instead of removed there, and
output_padding ignored. The checks of the exam-style answers recognise the same mistakes, with the
numbers of the student being graded (``cnnlib.variants.nb03``), and an answer to the default
numbers instead of the student's own.
"""

from __future__ import annotations

import numpy as np

from cnnlib import arithmetic as arith

from cnnlib.variants.nb03 import QUESTIONS

from .core import Missing, NotWrittenYet, call, call_expecting_error, check, describe, fail, is_hidden
from .forbid import Forbid
from .varied import DEFAULT_NUMBERS, numbers

#: What the student's code may not import while graded (the autograder's sandbox enforces it).
FORBIDDEN_IMPORTS = ("torch", "cnnlib.arithmetic", "cnnlib.pytorch", "cnnlib.reference")
IMPORT_REASON = (
    "this notebook asks you to compute output sizes from the formulas yourself, so PyTorch and "
    "cnnlib (which compute them for you) are not available here"
)

NO_SIZE_LIBRARIES = Forbid(
    modules=("torch", "cnnlib.arithmetic", "cnnlib.pytorch", "cnnlib.reference"),
    reason="compute the size from the formula yourself (integer arithmetic and //)",
)


# ---------------------------------------------------------------------------------------------
# Reading answers and comparing sizes
# ---------------------------------------------------------------------------------------------


class _FromFloat(int):
    """A whole number that arrived as a float: right or wrong, it still needs // (the note says why)."""

    note: str = ""


def _size(value, label: str, verb: str = "returned") -> int:
    """The student's size as an int; a fraction is the "no floor" mistake. A whole float (28.0)
    becomes a :class:`_FromFloat`, so that a wrong formula is named first and the float after."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        fail(f"{label} {verb} {describe(value)}; it should be an int")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer():
            size = _FromFloat(int(value))
            size.note = (
                f"{label} {verb} a float ({float(value)!r}): the formula floors the division, so use floor "
                "division // (which also keeps the result an int) instead of /"
            )
            return size
        fail(
            f"{label} {verb} {float(value)!r}, a fraction: you did not floor the division. A window "
            "only counts when it fits entirely, so round down with // (floor division)"
        )
    fail(f"{label} {verb} {describe(value)}; it should be an int")


def _float_note(value) -> str | None:
    parts = value if isinstance(value, tuple) else (value,)
    return next((v.note for v in parts if isinstance(v, _FromFloat)), None)


def _compare(value: int, expected: int, label: str, mistakes: list[tuple[int | None, str]], inputs: str) -> None:
    if value == expected:
        if _float_note(value):
            fail(_float_note(value))
        return
    for wrong, explanation in mistakes:
        if wrong is not None and wrong != expected and value == wrong:
            fail(f"{label}: {explanation}", f"On {inputs}: you returned {value}, the answer is {expected}.")
    fail(f"{label} gave a wrong size", f"On {inputs}: you returned {value}, expected {expected}.")


def _floor_div(a: int, b: int) -> int:
    return a // b


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _conv_mistakes(n, k, s, p, d) -> list[tuple[int | None, str]]:
    """Sizes the usual wrong formulas give for a convolution, with what to say about each."""
    eff = d * (k - 1) + 1
    dilation = [
        (_floor_div(n + 2 * p - k, s) + 1 if d > 1 else None, "you ignored the dilation: a kernel of size k with dilation d spans d(k-1) + 1 input pixels"),
        (_floor_div(n + 2 * p - d * k, s) + 1 if d > 1 else None, "the dilated kernel spans d(k-1) + 1 pixels, not d*k: there are k-1 gaps of d between its k taps"),
    ]
    # With a dilation, a formula that was right on every undilated case is most likely wrong about
    # the dilation, even where its size happens to equal that of another mistake.
    return dilation + [
        (_floor_div(n + 2 * p - eff, s), "your size is one short: the missing +1. With o = floor((n + 2p - d(k-1) - 1) / s) + 1 the +1 counts the first window position"),
        (_floor_div(n - 2 * p - eff, s) + 1, "you subtracted the padding: padding adds p zeros on EACH side, so the input grows to n + 2p (the lecture notes' O = (W - K - 2P)/S + 1 has this sign wrong)"),
        (_floor_div(n + p - eff, s) + 1, "you added the padding once: it goes on both sides, so the padded input is n + 2p"),
        (_ceil_div(n + 2 * p - eff, s) + 1, "you rounded up: a window counts only when it fits entirely inside the padded input, so floor the division (//)"),
        (_floor_div(n + 2 * p - eff + 1, s) + 1, "your size is one too large: subtract the whole effective kernel d(k-1) + 1 (equivalently: n + 2p - d(k-1) - 1)"),
        (_floor_div(n + 2 * p - eff, 1) + 1 if s > 1 else None, "you ignored the stride: divide by s before adding 1"),
    ]


def _fmt_call(name: str, *args, **kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# conv_output_size
# ---------------------------------------------------------------------------------------------


def _check_conv(fn, n, k, s=1, p=0, d=1, *, keywords=True):
    kwargs = {"stride": s, "padding": p, "dilation": d} if keywords else {}
    label = _fmt_call("conv_output_size", n, k, **kwargs)
    value = _size(call(fn, n, k, forbid=NO_SIZE_LIBRARIES, **kwargs), "conv_output_size" if is_hidden() else label)
    expected = arith.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    _compare(value, expected, "conv_output_size", _conv_mistakes(n, k, s, p, d), label)


CONV_EXAMPLES = [
    # (n, k, s, p, d): what each teaches
    (32, 5, 1, 0, 1),  # no padding: 32 - 5 + 1 = 28
    (32, 5, 1, 2, 1),  # same padding
    (7, 3, 2, 0, 1),  # stride 2
    (7, 3, 3, 0, 1),  # stride 3 does not divide 7 - 3: floor
    (227, 11, 4, 0, 1),  # AlexNet's first layer
    (5, 4, 1, 2, 1),  # zero padding larger than "same"
    (5, 3, 1, 2, 1),  # full padding p = k - 1
    (32, 3, 1, 2, 2),  # dilation 2, same padding
    (10, 3, 2, 1, 3),  # everything at once
]


@check(points=2)
def conv_output_size_examples(conv_output_size):
    """conv_output_size: no padding, same and full padding, strides, dilation"""
    _check_conv(conv_output_size, 32, 5, keywords=False)  # the defaults: stride 1, no padding, no dilation
    for case in CONV_EXAMPLES:
        _check_conv(conv_output_size, *case)


@check(points=1)
def conv_output_size_errors(conv_output_size):
    """conv_output_size raises ValueError when the (dilated) kernel does not fit the padded input"""
    for n, k, kwargs in [(3, 5, {}), (4, 3, {"dilation": 2}), (2, 7, {"padding": 2})]:
        call_expecting_error(conv_output_size, n, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, **kwargs)
    # ... and only then: a kernel exactly as large as the padded input fits once.
    _check_conv(conv_output_size, 3, 5, 1, 1, 1)


@check(points=2, hidden=True)
def conv_output_size_random(conv_output_size, seed: int = 0):
    """conv_output_size: seeded random sizes, kernels, strides, paddings and dilations"""
    rng = np.random.default_rng(seed)
    done = errors = 0
    while done < 25 or errors < 2:
        n, k, s, p, d = int(rng.integers(1, 300)), int(rng.integers(1, 12)), int(rng.integers(1, 6)), int(rng.integers(0, 6)), int(rng.integers(1, 4))
        if d * (k - 1) + 1 > n + 2 * p:
            if errors < 2:
                call_expecting_error(conv_output_size, n, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, stride=s, padding=p, dilation=d)
                errors += 1
            continue
        if done < 25:
            _check_conv(conv_output_size, n, k, s, p, d)
            done += 1


# ---------------------------------------------------------------------------------------------
# same_padding
# ---------------------------------------------------------------------------------------------


def _check_same(fn, k, d=1):
    label = _fmt_call("same_padding", k, dilation=d)
    value = _size(call(fn, k, forbid=NO_SIZE_LIBRARIES, dilation=d), "same_padding" if is_hidden() else label)
    expected = arith.same_padding(k, dilation=d)
    mistakes = [
        ((k - 1) // 2 if d > 1 else None, "you ignored the dilation: the dilated kernel spans d(k-1) + 1 pixels, so p = d(k-1) / 2"),
        (k - 1, "that is full padding (k - 1 on each side, every partial overlap); same padding is half of it, (k-1)/2"),
    ]
    _compare(value, expected, "same_padding", mistakes, label)


@check(points=1)
def same_padding_examples(same_padding):
    """same_padding: odd kernels with and without dilation"""
    for k, d in [(3, 1), (5, 1), (7, 1), (1, 1), (11, 1), (3, 2), (5, 3), (2, 2)]:
        _check_same(same_padding, k, d)


@check(points=1)
def same_padding_errors(same_padding):
    """same_padding raises ValueError when the effective kernel d(k-1) + 1 is even"""
    for k, d in [(2, 1), (4, 1), (4, 3), (6, 1)]:
        call_expecting_error(same_padding, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, dilation=d)


@check(points=1, hidden=True)
def same_padding_random(same_padding, seed: int = 0):
    """same_padding: seeded random kernels and dilations, odd and even"""
    rng = np.random.default_rng(seed)
    for _ in range(15):
        k, d = int(rng.integers(1, 13)), int(rng.integers(1, 5))
        if (d * (k - 1) + 1) % 2 == 0:
            call_expecting_error(same_padding, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, dilation=d)
        else:
            _check_same(same_padding, k, d)


# ---------------------------------------------------------------------------------------------
# pool_output_size
# ---------------------------------------------------------------------------------------------


def _pool_mistakes(n, k, s, p, ceil_mode, stride_given):
    span = n + 2 * p - k
    floor_size = span // s + 1
    ceil_size = _ceil_div(span, s) + 1
    mistakes = []
    if not stride_given:
        mistakes.append((max(n + 2 * p - k, -1) + 1, "the stride defaults to kernel_size (non-overlapping windows) when it is None, not to 1"))
    if ceil_mode:
        mistakes.append((floor_size, "you ignored ceil_mode: with ceil_mode=True the division rounds up, so a last, partial window still gives an output"))
        if ceil_size != arith.pool_output_size(n, k, stride=s, padding=p, ceil_mode=True):
            mistakes.append((ceil_size, "with ceil_mode PyTorch drops a last window that would start inside the right padding (at or after n + padding): every window must start inside the input or the left padding"))
    else:
        mistakes.append((ceil_size, "you rounded up: without ceil_mode a window counts only when it fits entirely, so floor the division"))
    rounding = _ceil_div if ceil_mode else _floor_div
    mistakes += [
        (rounding(span, s), "your size is one short: the missing +1 (it counts the first window)"),
        (rounding(n - 2 * p - k, s) + 1 if p else None, "you subtracted the padding: it adds p on each side, n + 2p"),
        (rounding(n + p - k, s) + 1 if p else None, "you added the padding once: it goes on both sides, so the padded input is n + 2p"),
    ]
    return mistakes


def _check_pool(fn, n, k, s=None, p=0, ceil_mode=False, *, keywords=True):
    kwargs = {}
    if keywords:
        kwargs = {"stride": s, "padding": p, "ceil_mode": ceil_mode}
    label = _fmt_call("pool_output_size", n, k, **kwargs)
    value = _size(call(fn, n, k, forbid=NO_SIZE_LIBRARIES, **kwargs), "pool_output_size" if is_hidden() else label)
    expected = arith.pool_output_size(n, k, stride=s, padding=p, ceil_mode=ceil_mode)
    stride = k if s is None else s
    _compare(value, expected, "pool_output_size", _pool_mistakes(n, k, stride, p, ceil_mode, s is not None), label)


POOL_EXAMPLES = [
    # (n, k, s, p, ceil_mode)
    (32, 2, None, 0, False),  # the stride defaults to the kernel size
    (7, 2, None, 0, False),  # floor: the last row is dropped
    (7, 2, None, 0, True),  # ceil: a last, partial window
    (55, 3, 2, 0, False),  # AlexNet's overlapping pooling
    (55, 2, 2, 0, True),
    (112, 3, 2, 1, False),  # ResNet's stem
    (5, 2, 2, 1, True),  # ceil_mode, but the last window would start in the right padding
    (6, 3, 2, 1, True),
]


@check(points=2)
def pool_output_size_examples(pool_output_size):
    """pool_output_size: default stride, padding, floor and ceil_mode (with PyTorch's last-window rule)"""
    _check_pool(pool_output_size, 32, 2, keywords=False)
    for case in POOL_EXAMPLES:
        _check_pool(pool_output_size, *case)


@check(points=1)
def pool_output_size_errors(pool_output_size):
    """pool_output_size raises ValueError for padding above kernel_size / 2 or a window that does not fit"""
    for n, k, kwargs in [(10, 2, {"padding": 2}), (10, 3, {"stride": 1, "padding": 2}), (2, 5, {})]:
        call_expecting_error(pool_output_size, n, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, **kwargs)


@check(points=2, hidden=True)
def pool_output_size_random(pool_output_size, seed: int = 0):
    """pool_output_size: seeded random sizes, windows, strides, paddings, floor and ceil mode"""
    rng = np.random.default_rng(seed)
    done = 0
    while done < 25:
        n, k = int(rng.integers(1, 120)), int(rng.integers(1, 8))
        s = None if rng.random() < 0.3 else int(rng.integers(1, 5))
        p, ceil_mode = int(rng.integers(0, k // 2 + 1)), bool(rng.random() < 0.5)
        try:
            arith.pool_output_size(n, k, stride=s, padding=p, ceil_mode=ceil_mode)
        except ValueError:
            continue
        _check_pool(pool_output_size, n, k, s, p, ceil_mode)
        done += 1


# ---------------------------------------------------------------------------------------------
# transposed_conv_output_size
# ---------------------------------------------------------------------------------------------


def _transposed_mistakes(n, k, s, p, op, d):
    eff = d * (k - 1)
    conv = None
    if d * (k - 1) + 1 <= n + 2 * p:
        conv = arith.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    return [
        (conv, "that is the size of a convolution with these settings; a transposed convolution goes the other way: o = (n - 1)s - 2p + d(k-1) + output_padding + 1"),
        ((n - 1) * s + 2 * p + eff + op + 1 if p else None, "you added the padding: in a transposed convolution padding removes p from each side of the output, so it is -2p"),
        ((n - 1) * s - 2 * p + eff + 1 if op else None, "you ignored output_padding: it adds that many rows/columns on one side of the output"),
        ((n - 1) * s - 2 * p + (k - 1) + op + 1 if d > 1 else None, "you ignored the dilation: the kernel spans d(k-1) + 1 positions"),
        ((n - 1) * s - 2 * p + eff + op, "your size is one short: the missing +1"),
        (n * s - 2 * p + eff + op + 1, "your size is s too large: use (n - 1) * s, since n inputs are n - 1 strides apart"),
        ((n - 1) * s - 2 * p + eff + op + 1 - (s - 1) if s > 1 else None, "your size is off by s - 1: o = (n - 1)s - 2p + d(k-1) + output_padding + 1"),
    ]


def _check_transposed(fn, n, k, s=1, p=0, op=0, d=1):
    kwargs = {"stride": s, "padding": p, "output_padding": op, "dilation": d}
    label = _fmt_call("transposed_conv_output_size", n, k, **kwargs)
    value = _size(call(fn, n, k, forbid=NO_SIZE_LIBRARIES, **kwargs), "transposed_conv_output_size" if is_hidden() else label)
    expected = arith.transposed_conv_output_size(n, k, **kwargs)
    _compare(value, expected, "transposed_conv_output_size", _transposed_mistakes(n, k, s, p, op, d), label)


TRANSPOSED_EXAMPLES = [
    # (n, k, s, p, output_padding, d)
    (4, 3, 1, 0, 0, 1),  # the inverse of a valid 3x3 convolution: 6 -> 4 -> 6
    (5, 3, 1, 1, 0, 1),  # same padding keeps the size
    (16, 4, 2, 1, 0, 1),  # the usual 2x upsampling
    (8, 3, 2, 1, 0, 1),  # 15 and 16 both map to 8 under the convolution ...
    (8, 3, 2, 1, 1, 1),  # ... output_padding picks 16
    (7, 3, 2, 0, 0, 2),  # dilation
]


@check(points=2)
def transposed_conv_output_size_examples(transposed_conv_output_size):
    """transposed_conv_output_size: unit stride, 2x upsampling, output_padding, dilation"""
    label = "transposed_conv_output_size(4, 3)"
    value = _size(call(transposed_conv_output_size, 4, 3, forbid=NO_SIZE_LIBRARIES), label)
    _compare(value, 6, "transposed_conv_output_size", _transposed_mistakes(4, 3, 1, 0, 0, 1), label)
    for case in TRANSPOSED_EXAMPLES:
        _check_transposed(transposed_conv_output_size, *case)


@check(points=1)
def transposed_conv_output_size_errors(transposed_conv_output_size):
    """transposed_conv_output_size raises ValueError when output_padding is not smaller than stride or dilation"""
    for n, k, kwargs in [(8, 3, {"stride": 2, "padding": 1, "output_padding": 2}), (8, 3, {"output_padding": 1})]:
        call_expecting_error(transposed_conv_output_size, n, k, error=ValueError, forbid=NO_SIZE_LIBRARIES, **kwargs)


@check(points=2, hidden=True)
def transposed_conv_output_size_random(transposed_conv_output_size, seed: int = 0):
    """transposed_conv_output_size: seeded random sizes, kernels, strides, paddings, output paddings, dilations"""
    rng = np.random.default_rng(seed)
    done = 0
    while done < 25:
        n, k, s, d = int(rng.integers(1, 64)), int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
        p = int(rng.integers(0, k))
        op = int(rng.integers(0, max(s, d)))
        try:
            arith.transposed_conv_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
        except ValueError:
            continue
        _check_transposed(transposed_conv_output_size, n, k, s, p, op, d)
        done += 1


# ---------------------------------------------------------------------------------------------
# Exam-style answers
# ---------------------------------------------------------------------------------------------


def _answer(value, name: str, length: int | None = None):
    """The student's answer as an int or a tuple of ints; None (the released placeholder) reads as unanswered."""
    if value is None or isinstance(value, Missing):
        raise NotWrittenYet(f"{name} is not set yet: compute it and run its cell")
    if length is None:
        return _size(value, name, "is")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != length:
        fail(f"{name} should be a tuple of {length} whole numbers; it is {describe(value)}")
    return tuple(_size(v, name, "holds") for v in value)


def _compare_answer(value, expected, name, mistakes):
    if value == expected:
        if _float_note(value):
            fail(_float_note(value))
        return
    for wrong, explanation in mistakes:
        if wrong is not None and wrong != expected and value == wrong:
            fail(f"{name} is {value}: {explanation}")
    fail(f"{name} is {value}, which is not the size this layer gives; work through o = floor((n + 2p - d(k-1) - 1) / s) + 1 step by step")


def _named(mistakes, pack):
    """Conv mistakes mapped into the answer's shape with ``pack(size) -> answer``."""
    return [(pack(wrong) if wrong is not None else None, text) for wrong, text in mistakes]


# The expected answer of each varied question, from its numbers (the feedback page shows them too).


def _expected_volume(q):
    side = arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding)
    return (side, side, q.filters)


def _expected_alexnet(q):
    side = arith.conv_output_size(q.n, q.k, stride=q.stride)
    return (side, side, q.filters)


def _expected_resnet_stem(q):
    conv = arith.conv_output_size(q.n, q.k, stride=2, padding=q.padding)
    return (conv, arith.pool_output_size(conv, q.pool_k, stride=2, padding=q.pool_padding))


def _expected_dilated(q):
    p = arith.same_padding(q.k, dilation=q.dilation)
    return (p, arith.conv_output_size(q.n, q.k, stride=2, padding=p, dilation=q.dilation))


#: The per-student questions these checks grade, and each one's answer from its numbers.
VARIANT_QUESTIONS = QUESTIONS
VARIANT_ANSWERS = {
    "answer_volume": _expected_volume,
    "answer_no_padding": lambda q: arith.conv_output_size(q.n, q.k),
    "answer_stride3": lambda q: arith.conv_output_size(q.n, q.k, stride=3),
    "answer_alexnet": _expected_alexnet,
    "answer_resnet_stem": _expected_resnet_stem,
    "answer_pool_ceil": lambda q: (arith.pool_output_size(q.n, q.k, stride=q.stride), arith.pool_output_size(q.n, q.k, stride=q.stride, ceil_mode=True)),
    "answer_upsample": lambda q: arith.transposed_conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding),
    "answer_dilated": _expected_dilated,
}


def _grade_answer(value, name, mistakes_for):
    """Compare ``value`` with the answer to this variant's question ``name``; ``mistakes_for(q)``
    lists ``(wrong answer, explanation)`` for numbers ``q``."""
    q, default = numbers(QUESTIONS, name)
    expected = VARIANT_ANSWERS[name](q)
    mistakes = [(VARIANT_ANSWERS[name](default), DEFAULT_NUMBERS)] if default is not None else []
    _compare_answer(value, expected, name, mistakes + mistakes_for(q))


def _volume_mistakes(n, channels, filters, k, stride, padding):
    side = arith.conv_output_size(n, k, stride=stride, padding=padding)
    mistakes = _named(_conv_mistakes(n, k, stride, padding, 1), lambda o: (o, o, filters))
    mistakes += [
        ((side, side, channels), f"the depth of the output is the number of filters ({filters}), not the input's {channels} channels: each filter gives one output slice"),
        ((filters, side, side), "give the answer as (height, width, depth), as the question asks"),
    ]
    return mistakes


@check(points=1)
def answer_volume(answer_volume):
    """An input volume, a layer of filters with a stride and padding: the output volume"""
    value = _answer(answer_volume, "answer_volume", 3)

    def mistakes(q):
        found = _volume_mistakes(q.n, q.channels, q.filters, q.k, q.stride, q.padding)
        if q.padding:
            unpadded = _floor_div(q.n - q.k, q.stride) + 1
            found.append(((unpadded, unpadded, q.filters), f"the padding of {q.padding} adds {q.padding} pixels on each side: floor(({q.n} + {2 * q.padding} - {q.k}) / {q.stride}) + 1"))
        return found

    _grade_answer(value, "answer_volume", mistakes)


@check(points=1)
def answer_no_padding(answer_no_padding):
    """One filter over an image, stride 1, no padding: the output size"""
    value = _answer(answer_no_padding, "answer_no_padding")

    def mistakes(q):
        found = _conv_mistakes(q.n, q.k, 1, 0, 1)
        found.insert(0, (q.n - q.k, f"{q.n} - {q.k} = {q.n - q.k} forgets the +1 (a mistake the lecture notes make too): a {q.k}-wide window fits at {q.n} - {q.k} + 1 positions"))
        return found

    _grade_answer(value, "answer_no_padding", mistakes)


@check(points=1)
def answer_stride3(answer_stride3):
    """A filter with stride 3 that does not fit evenly, no padding: the output size (PyTorch's rule)"""
    value = _answer(answer_stride3, "answer_stride3")
    _grade_answer(value, "answer_stride3", lambda q: _conv_mistakes(q.n, q.k, 3, 0, 1))


@check(points=1)
def answer_alexnet(answer_alexnet):
    """A first layer with a large kernel and stride, as AlexNet's: the output volume"""
    value = _answer(answer_alexnet, "answer_alexnet", 3)
    _grade_answer(value, "answer_alexnet", lambda q: _volume_mistakes(q.n, q.channels, q.filters, q.k, q.stride, 0))


@check(points=1)
def answer_resnet_stem(answer_resnet_stem):
    """A network's stem, a strided convolution then a max pool: the size after each"""
    value = _answer(answer_resnet_stem, "answer_resnet_stem", 2)

    def mistakes(q):
        conv, _ = _expected_resnet_stem(q)

        def pool(c):
            return arith.pool_output_size(c, q.pool_k, stride=2, padding=q.pool_padding) if c and c >= q.pool_k else None

        found = [((c, pool(c)), t) for c, t in _conv_mistakes(q.n, q.k, 2, q.padding, 1)]
        found += [((conv, wrong), f"the convolution is right; for the pooling: {text}") for wrong, text in _pool_mistakes(conv, q.pool_k, 2, q.pool_padding, False, True)]
        found.append(((conv, conv + 2 * q.pool_padding - q.pool_k + 1), "the pooling has stride 2, so it halves the size: floor((n + 2p - k) / 2) + 1"))
        return found

    _grade_answer(value, "answer_resnet_stem", mistakes)


@check(points=1)
def answer_pool_ceil(answer_pool_ceil):
    """Max pooling that does not fit evenly: the sizes with ceil_mode=False and ceil_mode=True"""
    value = _answer(answer_pool_ceil, "answer_pool_ceil", 2)

    def mistakes(q):
        floor_size, ceil_size = VARIANT_ANSWERS["answer_pool_ceil"](q)
        return [
            ((floor_size, floor_size), "ceil_mode=True rounds the division up, so the last, partial window (the rows left over at the border) gives one more output"),
            ((ceil_size, ceil_size), "without ceil_mode the division floors: a last window that does not fit entirely is dropped"),
            ((ceil_size, floor_size), "the two are swapped: the first is ceil_mode=False (floor), the second ceil_mode=True"),
            ((floor_size - 1, ceil_size - 1), "both are one short: the missing +1"),
        ]

    _grade_answer(value, "answer_pool_ceil", mistakes)


@check(points=1)
def answer_upsample(answer_upsample):
    """A transposed convolution on a small map: the output size"""
    value = _answer(answer_upsample, "answer_upsample")
    _grade_answer(value, "answer_upsample", lambda q: _transposed_mistakes(q.n, q.k, q.stride, q.padding, 0, 1))


@check(points=1)
def answer_dilated(answer_dilated):
    """A dilated kernel: the same padding, then the size at stride 2 with it"""
    value = _answer(answer_dilated, "answer_dilated", 2)

    def mistakes(q):
        p, _ = _expected_dilated(q)
        undilated = (q.k - 1) // 2
        eff = q.dilation * (q.k - 1) + 1
        found = [((undilated, arith.conv_output_size(q.n, q.k, stride=2, padding=undilated, dilation=q.dilation)),
                  f"you ignored the dilation in the padding: the dilated kernel spans d(k-1) + 1 = {eff} pixels, so p = d(k-1) / 2 = {p}")]
        return found + _named(_conv_mistakes(q.n, q.k, 2, p, q.dilation), lambda o: (p, o))

    _grade_answer(value, "answer_dilated", mistakes)
