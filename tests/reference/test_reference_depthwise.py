"""Depthwise and depthwise-separable convolution against torch (float64, random shapes) and numerical gradients."""

import numpy as np
import pytest
import torch.nn.functional as F

from cnnlib.reference import (
    DepthwiseSeparableCache,
    conv2d_forward,
    depthwise_conv2d_backward,
    depthwise_conv2d_forward,
    depthwise_separable_conv2d_backward,
    depthwise_separable_conv2d_forward,
    gradcheck,
    rel_error,
)


def random_case(seed):
    rng = np.random.default_rng(seed)
    C, M, F_out = int(rng.integers(1, 5)), int(rng.integers(1, 3)), int(rng.integers(1, 6))
    KH, KW = (int(k) for k in rng.integers(1, 5, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    padding = tuple(int(p) for p in rng.integers(0, 3, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    H, W = (int(n) for n in rng.integers(8, 12, 2))
    x = rng.standard_normal((int(rng.integers(1, 4)), C, H, W))
    w_depthwise = rng.standard_normal((C * M, 1, KH, KW))
    b_depthwise = rng.standard_normal(C * M) if seed % 2 else None
    w_pointwise = rng.standard_normal((F_out, C * M, 1, 1))
    b_pointwise = rng.standard_normal(F_out) if seed % 3 else None
    return rng, x, w_depthwise, b_depthwise, w_pointwise, b_pointwise, dict(stride=stride, padding=padding, dilation=dilation)


@pytest.mark.parametrize("seed", range(10))
def test_depthwise_matches_grouped_torch_conv(seed, autograd, unchanged):
    rng, x, w, b, _, _, options = random_case(seed)
    C = x.shape[1]
    out, cache = depthwise_conv2d_forward(x, w, b, **options)
    dout = rng.standard_normal(out.shape)
    expected, grads = autograd(lambda x, w, b: F.conv2d(x, w, b, groups=C, **options), [x, w, b], dout)
    with unchanged(x, w, b, dout):
        dx, dw, db = depthwise_conv2d_backward(dout, cache)
    assert rel_error(out, expected) < 1e-12
    assert rel_error(dx, grads[0]) < 1e-12 and rel_error(dw, grads[1]) < 1e-12
    assert (db is None) == (b is None) and (b is None or rel_error(db, grads[2]) < 1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_depthwise_separable_matches_torch(seed, autograd, unchanged):
    rng, x, w_d, b_d, w_p, b_p, options = random_case(seed)
    C = x.shape[1]
    out, cache = depthwise_separable_conv2d_forward(x, w_d, b_d, w_p, b_p, **options)
    assert isinstance(cache, DepthwiseSeparableCache)
    dout = rng.standard_normal(out.shape)
    expected, grads = autograd(
        lambda x, w_d, b_d, w_p, b_p: F.conv2d(F.conv2d(x, w_d, b_d, groups=C, **options), w_p, b_p), [x, w_d, b_d, w_p, b_p], dout
    )
    with unchanged(x, w_d, b_d, w_p, b_p, dout):
        got = depthwise_separable_conv2d_backward(dout, cache)
    assert rel_error(out, expected) < 1e-12
    for mine, theirs in zip(got, grads):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.shape == theirs.shape and rel_error(mine, theirs) < 1e-12


def test_depthwise_separable_backward_matches_gradcheck(rng):
    x = rng.standard_normal((2, 3, 5, 6))
    w_d, b_d = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    w_p, b_p = rng.standard_normal((4, 3, 1, 1)), rng.standard_normal(4)
    options = dict(stride=2, padding=1)
    out, cache = depthwise_separable_conv2d_forward(x, w_d, b_d, w_p, b_p, **options)
    dout = rng.standard_normal(out.shape)
    dx, dw_d, db_d, dw_p, db_p = depthwise_separable_conv2d_backward(dout, cache)

    def f(x=x, w_d=w_d, b_d=b_d, w_p=w_p, b_p=b_p):
        return depthwise_separable_conv2d_forward(x, w_d, b_d, w_p, b_p, **options)[0]

    assert rel_error(dx, gradcheck(lambda z: f(x=z), x, dout)) < 1e-7
    assert rel_error(dw_d, gradcheck(lambda z: f(w_d=z), w_d, dout)) < 1e-7
    assert rel_error(db_d, gradcheck(lambda z: f(b_d=z), b_d, dout)) < 1e-7
    assert rel_error(dw_p, gradcheck(lambda z: f(w_p=z), w_p, dout)) < 1e-7
    assert rel_error(db_p, gradcheck(lambda z: f(b_p=z), b_p, dout)) < 1e-7


def test_each_depthwise_output_sees_one_input_channel(rng):
    """Changing channel c changes only the outputs of its own filters (multiplier 2: outputs 2c and 2c + 1)."""
    x = rng.standard_normal((1, 3, 6, 6))
    w = rng.standard_normal((6, 1, 3, 3))
    before, _ = depthwise_conv2d_forward(x, w, None, padding=1)
    x2 = x.copy()
    x2[0, 1] += 1.0
    after, _ = depthwise_conv2d_forward(x2, w, None, padding=1)
    changed = np.abs(after - before).reshape(6, -1).max(axis=1) > 0
    assert changed.tolist() == [False, False, True, True, False, False]


def test_a_separable_convolution_is_a_standard_one_with_rank_one_kernels(rng):
    """With one depthwise filter per channel, the equivalent standard kernel is w_p[f, c] * w_d[c]."""
    x = rng.standard_normal((2, 3, 7, 7))
    w_d, w_p = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal((5, 3, 1, 1))
    separable, _ = depthwise_separable_conv2d_forward(x, w_d, None, w_p, None, padding=1)
    standard, _ = conv2d_forward(x, w_p[:, :, 0, 0, None, None] * w_d[None, :, 0], None, padding=1)
    assert rel_error(separable, standard) < 1e-12


def test_float32_stays_float32(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    out, _ = depthwise_separable_conv2d_forward(x, np.ones((2, 1, 3, 3), np.float32), None, np.ones((3, 2, 1, 1), np.float32), None)
    assert out.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: depthwise_conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((3, 3, 3, 3)), None), r"w must have shape \(C \* multiplier, 1, KH, KW\) with C = 3"),
    (lambda: depthwise_conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((4, 1, 3, 3)), None), r"got \(4, 1, 3, 3\)"),
    (lambda: depthwise_conv2d_forward(np.zeros((3, 5, 5)), np.zeros((3, 1, 3, 3)), None), r"x must have 4 dimensions"),
    (lambda: depthwise_separable_conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((3, 1, 3, 3)), None, np.zeros((4, 3, 3, 3)), None), r"w_pointwise must have shape \(F, C \* M, 1, 1\)"),
    (lambda: depthwise_separable_conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((6, 1, 3, 3)), None, np.zeros((4, 3, 1, 1)), None), r"= \(F, 6, 1, 1\)"),
])
def test_bad_shapes_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_backward_refuses_another_cache(rng):
    _, cache = conv2d_forward(rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 1, 3, 3)), None, groups=2)
    with pytest.raises(TypeError, match="DepthwiseSeparableCache"):
        depthwise_separable_conv2d_backward(np.zeros((1, 2, 2, 2)), cache)
