"""Output sizes against the shapes PyTorch produces, over the whole parameter space."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import conv_output_size, pool_output_size, same_padding, transposed_conv_output_size

SETTINGS = settings(max_examples=200, deadline=None)


def int_or_pair(low, high):
    """An int, or a pair of (possibly different) ints, each in [low, high]."""
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


def any_pair(*values):
    return any(isinstance(value, tuple) for value in values)


def torch_size(op, n, *args):
    """The spatial size PyTorch gives, or None when PyTorch refuses.

    An empty output counts as refused: for a transposed convolution whose output size would be 0,
    PyTorch's oneDNN path returns an empty tensor where its other paths (and conv_transpose1d)
    raise "Output size is too small".
    """
    height, width = pair(n)
    try:
        out = op(torch.zeros(1, 1, height, width), *args)
    except (RuntimeError, ValueError):
        return None
    size = tuple(out.shape[2:])
    return None if 0 in size else size


def check(ours, theirs, paired):
    """Our answer matches PyTorch's shape, or we raise ValueError where PyTorch refuses."""
    if theirs is None:
        with pytest.raises(ValueError):
            ours()
    else:
        assert ours() == (theirs if paired else theirs[0])


@SETTINGS
@given(n=int_or_pair(1, 40), k=int_or_pair(1, 7), s=int_or_pair(1, 4), p=int_or_pair(0, 4), d=int_or_pair(1, 3))
def test_conv_output_size_matches_conv2d(n, k, s, p, d):
    def conv(x):
        return F.conv2d(x, torch.zeros(1, 1, *pair(k)), stride=s, padding=p, dilation=d)

    theirs = torch_size(conv, n)
    check(lambda: conv_output_size(n, k, stride=s, padding=p, dilation=d), theirs, any_pair(n, k, s, p, d))


@SETTINGS
@given(
    n=int_or_pair(1, 30), k=int_or_pair(1, 6), s=st.one_of(st.none(), int_or_pair(1, 4)),
    p=int_or_pair(0, 3), ceil_mode=st.booleans(),
)
@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d], ids=["max", "avg"])
def test_pool_output_size_matches_pool2d(pool, n, k, s, p, ceil_mode):
    theirs = torch_size(lambda x: pool(x, k, stride=s, padding=p, ceil_mode=ceil_mode), n)
    check(lambda: pool_output_size(n, k, stride=s, padding=p, ceil_mode=ceil_mode), theirs, any_pair(n, k, s, p))


@SETTINGS
@given(
    n=int_or_pair(1, 20), k=int_or_pair(1, 6), s=int_or_pair(1, 4), p=int_or_pair(0, 5),
    op=int_or_pair(0, 4), d=int_or_pair(1, 3),
)
def test_transposed_conv_output_size_matches_conv_transpose2d(n, k, s, p, op, d):
    def conv_t(x):
        w = torch.zeros(1, 1, *pair(k))
        return F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, dilation=d)

    theirs = torch_size(conv_t, n)
    check(
        lambda: transposed_conv_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d),
        theirs, any_pair(n, k, s, p, op, d),
    )


@SETTINGS
@given(n=st.integers(1, 30), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3))
def test_transposed_conv_inverts_conv(n, k, s, p, d):
    """A convolution maps the transposed convolution's output back to its input."""
    try:
        out = transposed_conv_output_size(n, k, stride=s, padding=p, dilation=d)
    except ValueError:
        return
    assert conv_output_size(out, k, stride=s, padding=p, dilation=d) == n


@SETTINGS
@given(n=st.integers(1, 40), k=st.integers(1, 7), d=st.integers(1, 3))
def test_same_padding_keeps_the_size(n, k, d):
    if (d * (k - 1) + 1) % 2 == 0:
        with pytest.raises(ValueError, match="odd effective kernel"):
            same_padding(k, dilation=d)
        return
    p = same_padding(k, dilation=d)
    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, dilation=d)
    assert out.shape[2:] == (n, n)


def test_same_padding_pair():
    assert same_padding((3, 5), dilation=(1, 2)) == (1, 4)


@pytest.mark.parametrize(
    "arguments, expected",
    [
        # COURSE.md 03: a 32x32x3 input, ten 5x5 filters, stride 1, pad 2 -> 32x32x10.
        (dict(n=32, kernel_size=5, stride=1, padding=2), 32),
        # A 5x5 kernel on 32 gives 32 - 5 + 1 = 28 (lecture note 003 wrote 32 - 5).
        (dict(n=32, kernel_size=5), 28),
        # AlexNet's conv1: 227, 11x11, stride 4 -> 55.
        (dict(n=227, kernel_size=11, stride=4), 55),
        # Stride 2 floors: (7 - 3) / 2 + 1 = 3, and (8 - 3) / 2 + 1 = 3.5 -> 3.
        (dict(n=(7, 8), kernel_size=3, stride=2), (3, 3)),
    ],
)
def test_worked_examples(arguments, expected):
    assert conv_output_size(**arguments) == expected


def test_ceil_mode_drops_a_window_that_starts_in_the_right_padding():
    """n=5, k=2, s=2, p=1: ceil gives 4 windows, but the 4th would start at 6 >= n + p = 6."""
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert F.max_pool2d(torch.zeros(1, 1, 5, 5), 2, stride=2, padding=1, ceil_mode=True).shape[2:] == (3, 3)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: conv_output_size(3, 5), ValueError, ["kernel_size=5", "padded input", "3"]),
        (lambda: conv_output_size(3, 3, dilation=2), ValueError, ["effective size", "5", "dilation=2"]),
        (lambda: conv_output_size((9, 3), 5), ValueError, ["width axis", "kernel_size=5"]),
        (lambda: conv_output_size(8, 3, stride=0), ValueError, ["stride", ">= 1", "0"]),
        (lambda: conv_output_size(8, 3, padding=-1), ValueError, ["padding", ">= 0", "-1"]),
        (lambda: conv_output_size(0, 3), ValueError, ["n", ">= 1", "0"]),
        (lambda: conv_output_size(8.0, 3), TypeError, ["n", "int", "8.0"]),
        (lambda: conv_output_size(8, "3"), TypeError, ["kernel_size", "int", "'3'"]),
        (lambda: conv_output_size(8, True), TypeError, ["kernel_size", "int", "True"]),
        (lambda: conv_output_size(8, (3, 3, 3)), ValueError, ["kernel_size", "pair", "length 3"]),
        (lambda: same_padding(4), ValueError, ["odd", "4", "kernel_size=4"]),
        (lambda: same_padding(3, dilation=0), ValueError, ["dilation", ">= 1", "0"]),
        (lambda: pool_output_size(8, 3, padding=2), ValueError, ["padding", "kernel_size / 2", "padding=2"]),
        (lambda: pool_output_size(2, 5), ValueError, ["kernel_size=5", "padded input"]),
        (lambda: pool_output_size(8, 2, ceil_mode=1), TypeError, ["ceil_mode", "bool", "1"]),
        (lambda: pool_output_size(8, 2, stride=0), ValueError, ["stride", ">= 1"]),
        (lambda: transposed_conv_output_size(4, 3, stride=2, output_padding=2), ValueError,
         ["output_padding", "stride", "dilation", "output_padding=2"]),
        (lambda: transposed_conv_output_size(1, 1, padding=1), ValueError, ["padding=1", "-1"]),
        (lambda: transposed_conv_output_size(4, 3, output_padding=-1), ValueError, ["output_padding", ">= 0"]),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
