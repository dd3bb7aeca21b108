"""Max, average and global average pooling against torch.nn.functional and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.reference import (
    avgpool2d_backward,
    avgpool2d_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    gradcheck,
    maxpool2d_backward,
    maxpool2d_forward,
    rel_error,
)

# (H, W, kernel_size, stride, padding, ceil_mode)
CASES = [
    (8, 8, 2, None, 0, False),
    (7, 7, 2, None, 0, True),  # the last window hangs off the end
    (5, 5, 3, 2, 1, True),
    (7, 6, 3, 2, 1, False),
    (6, 7, (2, 3), (1, 2), (1, 1), True),
    (4, 4, 2, 2, 1, False),
    (9, 5, 3, 1, 1, False),  # overlapping windows
    (10, 10, (4, 2), 3, (2, 1), True),
    (3, 3, 3, None, 0, False),
]


def torch_kwargs(case):
    _, _, kernel_size, stride, padding, ceil_mode = case
    return dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)


@pytest.mark.parametrize("case", CASES)
def test_maxpool_matches_torch(case, rng, autograd, unchanged):
    x = rng.standard_normal((2, 3, case[0], case[1]))
    kw = torch_kwargs(case)
    expected = F.max_pool2d(torch.tensor(x), **kw).numpy()
    dout = rng.standard_normal(expected.shape)
    _, (tdx,) = autograd(lambda x: F.max_pool2d(x, **kw), [x], dout)
    with unchanged(x, dout):
        out, cache = maxpool2d_forward(x, **kw)
        dx = maxpool2d_backward(dout, cache)
    assert out.shape == expected.shape
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, tdx) <= 1e-8


@pytest.mark.parametrize("case", CASES)
def test_maxpool_ties_go_where_torch_sends_them(case, rng, autograd):
    """Integer values in {0, 1} make most windows tie; the gradient must land on the same pixel as PyTorch's."""
    x = rng.integers(0, 2, (2, 2, case[0], case[1])).astype(np.float64)
    kw = torch_kwargs(case)
    out, cache = maxpool2d_forward(x, **kw)
    dout = rng.integers(1, 100, out.shape).astype(np.float64)  # integers: sums are exact in any order
    _, (tdx,) = autograd(lambda x: F.max_pool2d(x, **kw), [x], dout)
    np.testing.assert_array_equal(maxpool2d_backward(dout, cache), tdx)


def test_maxpool_all_equal_window_sends_gradient_to_its_first_pixel():
    x = np.ones((1, 1, 4, 4))
    out, cache = maxpool2d_forward(x, 2)
    dx = maxpool2d_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_of_minus_infinity_matches_torch(autograd):
    """A window with only -inf (and padding) still routes its gradient to an input pixel, as in PyTorch."""
    x = np.full((1, 1, 4, 4), -np.inf)
    out, cache = maxpool2d_forward(x, 2, 2, 1)
    dout = np.arange(9.0).reshape(1, 1, 3, 3)
    _, (tdx,) = autograd(lambda x: F.max_pool2d(x, 2, 2, 1), [x], dout)
    np.testing.assert_array_equal(maxpool2d_backward(dout, cache), tdx)


def test_maxpool_nan_matches_torch(autograd):
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    out, cache = maxpool2d_forward(x, 2)
    _, (tdx,) = autograd(lambda x: F.max_pool2d(x, 2), [x], np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(out, F.max_pool2d(torch.tensor(x), 2).numpy())
    np.testing.assert_array_equal(maxpool2d_backward(np.ones((1, 1, 2, 2)), cache), tdx)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_avgpool_matches_torch(case, count_include_pad, rng, autograd, unchanged):
    x = rng.standard_normal((2, 3, case[0], case[1]))
    kw = dict(torch_kwargs(case), count_include_pad=count_include_pad)
    expected = F.avg_pool2d(torch.tensor(x), **kw).numpy()
    dout = rng.standard_normal(expected.shape)
    _, (tdx,) = autograd(lambda x: F.avg_pool2d(x, **kw), [x], dout)
    with unchanged(x, dout):
        out, cache = avgpool2d_forward(x, **kw)
        dx = avgpool2d_backward(dout, cache)
    assert out.shape == expected.shape
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, tdx) <= 1e-8


def test_avgpool_ceil_mode_window_hanging_off_the_end():
    """5x5, kernel 2, stride 2, ceil_mode: the last window covers one row; PyTorch divides its sum by 2, not 4."""
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out, _ = avgpool2d_forward(x, 2, ceil_mode=True)
    expected = F.avg_pool2d(torch.tensor(x), 2, ceil_mode=True).numpy()
    np.testing.assert_array_equal(out, expected)
    assert out[0, 0, 0, 2] == (4 + 9) / 2
    assert out[0, 0, 2, 2] == 24


def test_avgpool_divisor_override_matches_torch(rng, autograd):
    x = rng.standard_normal((1, 2, 6, 5))
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=5)
    out, cache = avgpool2d_forward(x, **kw)
    dout = rng.standard_normal(out.shape)
    expected, (tdx,) = autograd(lambda x: F.avg_pool2d(x, **kw), [x], dout)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(avgpool2d_backward(dout, cache), tdx) <= 1e-8


@pytest.mark.parametrize("case", CASES[:5])
def test_pool_backward_matches_gradcheck(case, rng):
    x = rng.standard_normal((1, 2, case[0], case[1]))
    kw = torch_kwargs(case)
    out, cache = maxpool2d_forward(x, **kw)
    dout = rng.standard_normal(out.shape)
    assert rel_error(maxpool2d_backward(dout, cache), gradcheck(lambda x: maxpool2d_forward(x, **kw)[0], x, dout)) < 1e-7
    out, cache = avgpool2d_forward(x, **kw)
    assert rel_error(avgpool2d_backward(dout, cache), gradcheck(lambda x: avgpool2d_forward(x, **kw)[0], x, dout)) < 1e-7


@settings(max_examples=40, deadline=None)
@given(
    H=st.integers(1, 9), W=st.integers(1, 9), KH=st.integers(1, 4), KW=st.integers(1, 4),
    sh=st.integers(1, 4), sw=st.integers(1, 4), ph=st.integers(0, 2), pw=st.integers(0, 2),
    ceil_mode=st.booleans(), seed=st.integers(0, 2**16),
)
def test_property_pool_output_size_and_values_match_torch(H, W, KH, KW, sh, sw, ph, pw, ceil_mode, seed):
    """Wherever PyTorch accepts the arguments, the same output (shape and values) for max and average
    pooling; where it rejects them (padding over half the kernel, kernel larger than the padded input),
    a ValueError."""
    x = np.random.default_rng(seed).integers(0, 3, (1, 2, H, W)).astype(np.float64)
    kw = dict(kernel_size=(KH, KW), stride=(sh, sw), padding=(ph, pw), ceil_mode=ceil_mode)
    try:
        expected_max = F.max_pool2d(torch.tensor(x), **kw).numpy()
        expected_avg = F.avg_pool2d(torch.tensor(x), **kw).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            maxpool2d_forward(x, **kw)
        return
    out_max, cache = maxpool2d_forward(x, **kw)
    out_avg, _ = avgpool2d_forward(x, **kw)
    np.testing.assert_array_equal(out_max, expected_max)
    assert out_avg.shape == expected_avg.shape and rel_error(out_avg, expected_avg) <= 1e-10
    assert maxpool2d_backward(np.ones_like(out_max), cache).sum() == out_max.size  # one unit per window


def test_float32_stays_float32(rng, unchanged):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    with unchanged(x):
        for forward, backward in [(maxpool2d_forward, maxpool2d_backward), (avgpool2d_forward, avgpool2d_backward)]:
            out, cache = forward(x, 3, 2, 1, True)
            assert out.dtype == np.float32
            assert backward(np.ones_like(out), cache).dtype == np.float32
        out, cache = global_avg_pool_forward(x)
        assert out.dtype == np.float32 and global_avg_pool_backward(np.ones_like(out), cache).dtype == np.float32


def test_global_avg_pool_matches_torch(rng, autograd, unchanged):
    x = rng.standard_normal((3, 4, 5, 6))
    dout = rng.standard_normal((3, 4))
    expected, (tdx,) = autograd(lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1), [x], dout)
    with unchanged(x, dout):
        out, cache = global_avg_pool_forward(x)
        dx = global_avg_pool_backward(dout, cache)
    assert out.shape == (3, 4)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, tdx) <= 1e-8
    assert rel_error(dx, gradcheck(lambda x: global_avg_pool_forward(x)[0], x, dout)) < 1e-7


def test_max_pooling_is_invariant_to_a_shift_inside_the_window():
    """A single bright pixel moved within its 2x2 window gives the same pooled map."""
    a = np.zeros((1, 1, 4, 4))
    b = np.zeros((1, 1, 4, 4))
    a[0, 0, 0, 0] = b[0, 0, 1, 1] = 1.0
    np.testing.assert_array_equal(maxpool2d_forward(a, 2)[0], maxpool2d_forward(b, 2)[0])
