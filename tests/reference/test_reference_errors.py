"""Bad input: every error names the argument, what was expected and what was given."""

import numpy as np
import pytest

from cnnlib.reference import (
    Conv2d,
    avgpool2d_forward,
    batchnorm_forward,
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_forward_naive,
    cross_correlate1d,
    cross_correlate2d,
    dropout_forward,
    im2col,
    layernorm_forward,
    linear_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    relu_backward,
    relu_forward,
    softmax,
    softmax_cross_entropy,
)

X = np.zeros((2, 3, 8, 8))
W = np.zeros((4, 3, 3, 3))
B = np.zeros(4)


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_naive])
@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        # wrong number of dimensions
        ((np.zeros((3, 8, 8)), W, B), {}, ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(3, 8, 8\)"),
        ((X, np.zeros((4, 3, 3)), B), {}, ValueError, r"w must have 4 dimensions \(F, C // groups, KH, KW\), got shape \(4, 3, 3\)"),
        ((X, W, np.zeros((4, 1))), {}, ValueError, r"b must have 1 dimensions \(F,\), got shape \(4, 1\)"),
        # channels
        ((X, np.zeros((4, 2, 3, 3)), B), {}, ValueError,
         r"w.shape\[1\] must be the input channels per group, C // groups = 3 // 1 = 3 \(x has shape \(2, 3, 8, 8\), groups=1\), got w of shape \(4, 2, 3, 3\)"),
        ((np.zeros((2, 4, 8, 8)), np.zeros((4, 1, 3, 3)), B), dict(groups=2), ValueError,
         r"w.shape\[1\] must be the input channels per group, C // groups = 4 // 2 = 2 .*groups=2\), got w of shape \(4, 1, 3, 3\)"),
        ((X, W, B), dict(groups=2), ValueError, r"groups must divide the input channels: x has C=3 channels, got groups=2"),
        ((np.zeros((2, 4, 8, 8)), np.zeros((3, 2, 3, 3)), None), dict(groups=2), ValueError,
         r"groups must divide the number of filters: w has F=3 filters, got groups=2"),
        ((X, W, np.zeros(5)), {}, ValueError, r"b must have one entry per filter, shape \(4,\) .*: expected 4, got 5"),
        # kernel larger than the padded input
        ((np.zeros((1, 3, 4, 4)), np.zeros((4, 3, 7, 7)), None), dict(padding=1), ValueError,
         r"the kernel is larger than the padded input along the height: expected an effective kernel size d\*\(k-1\)\+1 <= i \+ 2p = 4 \+ 2\*1 = 6, got 7"),
        ((np.zeros((1, 3, 4, 4)), W, None), dict(dilation=2), ValueError, r"larger than the padded input .* got 5 \(k=3, d=2\)"),
        # stride, padding, dilation, groups
        ((X, W, B), dict(stride=0), ValueError, r"stride must be >= 1 \(an int or a pair of ints\), got 0"),
        ((X, W, B), dict(stride=(1, -2)), ValueError, r"stride must be >= 1 \(an int or a pair of ints\), got \(1, -2\)"),
        ((X, W, B), dict(padding=-1), ValueError, r"padding must be >= 0 \(an int or a pair of ints\), got -1"),
        ((X, W, B), dict(dilation=0), ValueError, r"dilation must be >= 1"),
        ((X, W, B), dict(groups=0), ValueError, r"groups must be >= 1, got 0"),
        # non-integer sizes
        ((X, W, B), dict(stride=1.5), TypeError, r"stride must be an int or a pair of ints, got 1.5"),
        ((X, W, B), dict(padding=(1, 1.0)), TypeError, r"padding must be an int or a pair of ints, got \(1, 1.0\)"),
        ((X, W, B), dict(groups=1.0), TypeError, r"groups must be an int, got the float 1.0"),
        ((X, W, B), dict(stride=(1, 2, 3)), ValueError, r"stride must be an int or a pair of ints, got a sequence of length 3"),
        # not an array
        (([[1.0]], W, B), {}, TypeError, r"x must be a NumPy array, got list"),
    ],
)
def test_conv2d_bad_input(forward, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        forward(*args, **kwargs)


def test_conv2d_backward_bad_dout():
    _, cache = conv2d_forward(X, W, B, padding=1)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 4, 8, 8\), got \(2, 4, 6, 6\)"):
        conv2d_backward(np.zeros((2, 4, 6, 6)), cache)
    with pytest.raises(ValueError, match=r"dout must have 4 dimensions \(N, F, OH, OW\), got shape \(2, 4\)"):
        conv2d_backward(np.zeros((2, 4)), cache)


@pytest.mark.parametrize("forward", [maxpool2d_forward, avgpool2d_forward])
@pytest.mark.parametrize(
    "args, error, message",
    [
        ((np.zeros((8, 8)), 2), ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(8, 8\)"),
        ((X, 9), ValueError, r"kernel_size is larger than the padded input along the height: expected <= i \+ 2p = 8, got 9"),
        ((X, 2, 0), ValueError, r"stride must be >= 1 \(an int or a pair of ints\), got 0"),
        ((X, 2, -1), ValueError, r"stride must be >= 1"),
        ((X, 2, 2, 2), ValueError, r"padding must be at most half the kernel size, expected <= 1 for kernel_size 2, got 2"),
        ((X, 2.0), TypeError, r"kernel_size must be an int or a pair of ints, got 2.0"),
        ((X, 0), ValueError, r"kernel_size must be >= 1"),
        ((X, 2, None, 0, "yes"), TypeError, r"ceil_mode must be a bool, got str 'yes'"),
    ],
)
def test_pooling_bad_input(forward, args, error, message):
    with pytest.raises(error, match=message):
        forward(*args)


def test_pool_backward_bad_dout():
    _, cache = maxpool2d_forward(X, 2)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 3, 4, 4\), got \(2, 3, 4, 5\)"):
        maxpool2d_backward(np.zeros((2, 3, 4, 5)), cache)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: cross_correlate1d(np.zeros((2, 3)), np.zeros(2)), ValueError, r"x must have 1 dimensions \(n,\), got shape \(2, 3\)"),
        (lambda: cross_correlate1d(np.zeros(3), np.zeros(5)), ValueError,
         r"w is larger than x along axis 0 in mode 'valid': expected a kernel size <= 3, got 5"),
        (lambda: cross_correlate2d(np.zeros(5), np.zeros((2, 2))), ValueError, r"image must have 2 dimensions \(H, W\), got shape \(5,\)"),
        (lambda: cross_correlate2d(np.zeros((5, 3)), np.zeros((2, 4))), ValueError,
         r"kernel is larger than image along axis 1 in mode 'valid': expected a kernel size <= 3, got 4"),
        (lambda: cross_correlate1d(np.zeros(5), np.zeros(2), mode="half"), ValueError,
         r"mode must be one of \('valid', 'full', 'same'\), got 'half'"),
        (lambda: im2col(np.zeros((2, 3, 4)), 2), ValueError, r"x must have 4 dimensions"),
        (lambda: im2col(X, 3, stride=0), ValueError, r"stride must be >= 1"),
        (lambda: im2col(X, 10), ValueError, r"kernel_size is larger than the padded input along the height"),
        (lambda: col2im(np.zeros((2, 10, 4)), (3, 3), 2), ValueError,
         r"cols.shape\[1\] must be C \* KH \* KW, a multiple of 4 for kernel_size \(2, 2\), got 10"),
        (lambda: col2im(np.zeros((2, 8, 5)), (3, 3), 2), ValueError, r"cols.shape\[2\] must be the number of windows OH\*OW = 2\*2.*expected 4, got 5"),
        (lambda: linear_forward(np.zeros((2, 5)), np.zeros((3, 4)), None), ValueError,
         r"x's last axis must be in_features = w.shape\[1\] for w of shape \(3, 4\); x.shape\[-1\]: expected 4, got 5"),
        (lambda: linear_forward(np.zeros((2, 4)), np.zeros(4), None), ValueError, r"w must have 2 dimensions \(out_features, in_features\), got shape \(4,\)"),
        (lambda: relu_backward(np.zeros(3), relu_forward(np.zeros(4))[1]), ValueError, r"dout must have the forward output's shape \(4,\), got \(3,\)"),
        (lambda: softmax(np.zeros((2, 3)), axis=2), ValueError, r"axis must be an int in \[-2, 2\) for x of shape \(2, 3\), got 2"),
        (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
         r"y must hold labels in \[0, 3\) for logits with K=3 classes, got values in \[0, 3\]"),
        (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError, r"y must hold integer class labels, got dtype float64"),
        (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), ValueError, r"y must have one label per row of logits, shape \(2,\), got \(3,\)"),
        (lambda: softmax_cross_entropy(np.zeros(3), np.array([0])), ValueError, r"logits must have 2 dimensions \(N, K\), got shape \(3,\)"),
        (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5), ValueError,
         r"label_smoothing must be a float in \[0, 1\], got 1.5"),
        (lambda: dropout_forward(X, 1.0, True, np.random.default_rng(0)), ValueError, r"p must be a probability in \[0, 1\), got 1.0"),
        (lambda: dropout_forward(X, -0.1, True, np.random.default_rng(0)), ValueError, r"p must be a probability in \[0, 1\), got -0.1"),
        (lambda: dropout_forward(X, 0.5, True, 0), TypeError, r"rng must be a numpy.random.Generator .*, got int"),
        (lambda: batchnorm_forward(np.zeros(4), None, None, None, None), ValueError,
         r"x must have at least 2 dimensions, \(N, D\) or \(N, C, H, W\), got shape \(4,\)"),
        (lambda: batchnorm_forward(X, np.ones(4), None, None, None), ValueError,
         r"gamma must have shape \(3,\) \(one per channel of x, shape \(2, 3, 8, 8\)\), got \(4,\)"),
        (lambda: batchnorm_forward(np.zeros((1, 3)), None, None, None, None), ValueError,
         r"x must hold more than 1 value per channel when using batch statistics, got shape \(1, 3\)"),
        (lambda: batchnorm_forward(X, None, None, np.zeros(3), None), ValueError, r"running_mean and running_var must both be arrays or both be None"),
        (lambda: batchnorm_forward(X, None, None, None, None, momentum=2), ValueError, r"momentum must be a float in \[0, 1\], got 2"),
        (lambda: layernorm_forward(X, np.ones(3), None), ValueError,
         r"gamma must have shape \(3, 8, 8\) \(x.shape\[1:\] for x of shape \(2, 3, 8, 8\)\), got \(3,\)"),
        (lambda: Conv2d(3, 4, 3, groups=2), ValueError, r"groups must divide in_channels and out_channels, got groups=2 for in_channels=3"),
        (lambda: Conv2d(3, 4, 3, rng="seed"), TypeError, r"rng must be a numpy.random.Generator, an int seed or None, got str"),
    ],
)
def test_other_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
