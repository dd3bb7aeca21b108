"""conv2d (fast and naive), im2col and col2im against torch.nn.functional and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlib.reference.conv2d as conv2d_module
from cnnlib.reference import (
    col2im,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
    gradcheck,
    im2col,
    rel_error,
)

# (N, C, H, W, F, KH, KW, stride, padding, dilation, groups)
CASES = [
    (2, 3, 7, 7, 4, 3, 3, 1, 0, 1, 1),
    (2, 3, 8, 9, 5, 3, 3, 1, 1, 1, 1),
    (1, 4, 9, 7, 6, 3, 2, 2, 1, 1, 2),
    (3, 2, 6, 6, 2, 1, 1, 1, 0, 1, 1),
    (2, 4, 10, 11, 4, 3, 3, (2, 3), (1, 2), (2, 1), 4),
    (1, 6, 7, 8, 9, 2, 3, 3, 2, 2, 3),
    (2, 1, 5, 5, 3, 5, 5, 1, 0, 1, 1),
    (2, 2, 4, 6, 2, 4, 3, 1, (2, 0), 1, 1),
]


def make(case, rng, dtype=np.float64, bias=True):
    N, C, H, W, F_, KH, KW, stride, padding, dilation, groups = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F_, C // groups, KH, KW)).astype(dtype)
    b = rng.standard_normal(F_).astype(dtype) if bias else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_naive])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_match_torch(case, bias, forward, rng, autograd, unchanged):
    x, w, b, kw = make(case, rng, bias=bias)
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), **kw).numpy()
    dout = rng.standard_normal(expected.shape)
    _, (tdx, tdw, tdb) = autograd(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b], dout)
    with unchanged(x, w, b, dout):
        out, cache = forward(x, w, b, **kw)
        assert out.shape == expected.shape
        assert rel_error(out, expected) <= 1e-10
        for backward in (conv2d_backward, conv2d_backward_naive):
            dx, dw, db = backward(dout, cache)
            assert rel_error(dx, tdx) <= 1e-8
            assert rel_error(dw, tdw) <= 1e-8
            if bias:
                assert rel_error(db, tdb) <= 1e-8
            else:
                assert db is None


@pytest.mark.parametrize("case", CASES[:5])
def test_backward_matches_gradcheck(case, rng):
    x, w, b, kw = make(case, rng)
    out, cache = conv2d_forward(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    assert rel_error(dx, gradcheck(lambda x: conv2d_forward(x, w, b, **kw)[0], x, dout)) < 1e-7
    assert rel_error(dw, gradcheck(lambda w: conv2d_forward(x, w, b, **kw)[0], w, dout)) < 1e-7
    assert rel_error(db, gradcheck(lambda b: conv2d_forward(x, w, b, **kw)[0], b, dout)) < 1e-7


@pytest.mark.parametrize("case", CASES[:3])
def test_float32_stays_float32(case, rng, unchanged):
    x, w, b, kw = make(case, rng, dtype=np.float32)
    with unchanged(x, w, b):
        for forward in (conv2d_forward, conv2d_forward_naive):
            out, cache = forward(x, w, b, **kw)
            assert out.dtype == np.float32
            grads = conv2d_backward(np.ones_like(out), cache)
            assert [g.dtype for g in grads] == [np.float32] * 3
        expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).numpy()
        assert rel_error(out, expected) < 1e-5


def test_integer_input_computes_in_float64(rng):
    x = rng.integers(-3, 4, (1, 2, 5, 5))
    w = rng.integers(-2, 3, (3, 2, 3, 3))
    out, _ = conv2d_forward(x, w, None)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, F.conv2d(torch.tensor(x), torch.tensor(w)).numpy())


def test_batch_split_into_chunks_gives_the_same_result(rng, monkeypatch):
    """With a tiny column budget the fast version works one image at a time; results must not change."""
    x, w, b, kw = make(CASES[4], rng)
    x = np.concatenate([x] * 3)  # N = 6
    out, cache = conv2d_forward(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    grads = conv2d_backward(dout, cache)
    monkeypatch.setattr(conv2d_module, "COLUMNS_BYTES", 1)
    out_chunked, cache_chunked = conv2d_forward(x, w, b, **kw)
    np.testing.assert_allclose(out_chunked, out, rtol=1e-12, atol=1e-12)
    for g, g_chunked in zip(grads, conv2d_backward(dout, cache_chunked)):
        np.testing.assert_allclose(g_chunked, g, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 2), groups=st.integers(1, 3), c_per_group=st.integers(1, 2), f_per_group=st.integers(1, 2),
    H=st.integers(1, 9), W=st.integers(1, 9), KH=st.integers(1, 4), KW=st.integers(1, 4),
    sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
    dh=st.integers(1, 2), dw=st.integers(1, 2), seed=st.integers(0, 2**16),
)
def test_property_matches_torch_wherever_torch_accepts(N, groups, c_per_group, f_per_group, H, W, KH, KW, sh, sw, ph, pw, dh, dw, seed):
    """Over the whole argument space: the same output shape and values as torch, or a ValueError where
    the dilated kernel does not fit the padded input."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, c_per_group * groups, H, W))
    w = rng.standard_normal((f_per_group * groups, c_per_group, KH, KW))
    b = rng.standard_normal(f_per_group * groups)
    kw = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
    fits = dh * (KH - 1) + 1 <= H + 2 * ph and dw * (KW - 1) + 1 <= W + 2 * pw
    if not fits:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv2d_forward(x, w, b, **kw)
        return
    out, cache = conv2d_forward(x, w, b, **kw)
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).numpy()
    assert out.shape == expected.shape
    assert rel_error(out, expected) <= 1e-10
    dx, dw_, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw_.shape == w.shape and db.shape == b.shape


@pytest.mark.parametrize("case", CASES)
def test_im2col_and_col2im_match_unfold_and_fold(case, rng, unchanged):
    x, w, _, kw = make(case, rng)
    kernel_size = w.shape[2:]
    args = dict(kernel_size=kernel_size, dilation=kw["dilation"], padding=kw["padding"], stride=kw["stride"])
    expected = F.unfold(torch.tensor(x), **args).numpy()
    with unchanged(x):
        cols = im2col(x, kernel_size, kw["stride"], kw["padding"], kw["dilation"])
    np.testing.assert_array_equal(cols, expected)
    cols = rng.standard_normal(expected.shape)
    with unchanged(cols):
        folded = col2im(cols, x.shape[2:], kernel_size, kw["stride"], kw["padding"], kw["dilation"])
    np.testing.assert_allclose(folded, F.fold(torch.tensor(cols), x.shape[2:], **args).numpy(), rtol=1e-12, atol=1e-12)


def test_im2col_then_matmul_is_the_convolution(rng):
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    cols = im2col(x, 3, stride=2, padding=1)
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, 3, 4)
    assert rel_error(out, conv2d_forward(x, w, None, stride=2, padding=1)[0]) < 1e-12


def test_col2im_is_the_adjoint_of_im2col(rng):
    """<im2col(x), c> == <x, col2im(c)> for any x and c: col2im is im2col's transpose."""
    x = rng.standard_normal((2, 2, 7, 6))
    cols = rng.standard_normal(im2col(x, (3, 2), 2, 1, (1, 2)).shape)
    lhs = np.sum(im2col(x, (3, 2), 2, 1, (1, 2)) * cols)
    rhs = np.sum(x * col2im(cols, (7, 6), (3, 2), 2, 1, (1, 2)))
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_backward_accepts_either_cache(rng):
    x, w, b, kw = make(CASES[2], rng)
    out, cache_fast = conv2d_forward(x, w, b, **kw)
    _, cache_naive = conv2d_forward_naive(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    for g_fast, g_naive in zip(conv2d_backward(dout, cache_fast), conv2d_backward(dout, cache_naive)):
        np.testing.assert_allclose(g_naive, g_fast, rtol=1e-12, atol=1e-12)


def test_backward_rejects_a_dout_of_the_wrong_shape(rng):
    x, w, b, kw = make(CASES[0], rng)
    out, cache = conv2d_forward(x, w, b, **kw)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 4, 5, 5\), got \(2, 4, 5, 6\)"):
        conv2d_backward(np.zeros((2, 4, 5, 6)), cache)
