"""The checks of notebook 06 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.checks import nb06
from checkhelpers import run


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def pool_loops(x, kernel_size, stride=None, reduce=np.max):
    (KH, KW) = _pair(kernel_size)
    (sh, sw) = _pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    OH, OW = (H - KH) // sh + 1, (W - KW) // sw + 1
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = reduce(x[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW], axis=(2, 3))
    return out


def pool_windows(x, kernel_size, stride=None, reduce=np.max):
    (KH, KW) = _pair(kernel_size)
    (sh, sw) = _pair(kernel_size if stride is None else stride)
    windows = sliding_window_view(x, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, OH, OW, KH, KW)
    return reduce(windows, axis=(4, 5))


def maxpool_loops(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, stride, np.max)


def maxpool_windows(x, kernel_size, stride=None):
    return pool_windows(x, kernel_size, stride, np.max)


def avgpool_loops(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, stride, np.mean)


def avgpool_windows(x, kernel_size, stride=None):
    return pool_windows(x, kernel_size, stride, np.mean)


@pytest.mark.parametrize("fn", [maxpool_loops, maxpool_windows])
def test_maxpool_correct(fn):
    assert run(nb06.maxpool2d_examples, fn).passed
    assert run(nb06.maxpool2d_overlapping, fn).passed
    for seed in (0, 1, 2):
        assert run(nb06.maxpool2d_random, fn, seed=seed).passed


@pytest.mark.parametrize("fn", [avgpool_loops, avgpool_windows])
def test_avgpool_correct(fn):
    assert run(nb06.avgpool2d_examples, fn).passed
    for seed in (0, 1, 2):
        assert run(nb06.avgpool2d_random, fn, seed=seed).passed


def _stride_one(pool):
    return lambda x, kernel_size, stride=None: pool(x, kernel_size, 1 if stride is None else stride)


def _across_channels(pool):
    return lambda x, kernel_size, stride=None: pool(x, kernel_size, stride).max(axis=1, keepdims=True)


def _across_channels_mean(pool):
    return lambda x, kernel_size, stride=None: np.broadcast_to(pool(x, kernel_size, stride).mean(axis=1, keepdims=True), pool(x, kernel_size, stride).shape).copy()


def _short(pool):
    return lambda x, kernel_size, stride=None: pool(x, kernel_size, stride)[:, :, :-1, :-1]


def _with_cache(pool):
    return lambda x, kernel_size, stride=None: (pool(x, kernel_size, stride), {"x": x})


def _across_batch(pool):
    return lambda x, kernel_size, stride=None: np.broadcast_to(pool(x, kernel_size, stride).max(axis=0, keepdims=True), pool(x, kernel_size, stride).shape).copy()


@pytest.mark.parametrize(
    "fn, words",
    [
        (_stride_one(maxpool_windows), "stride = kernel_size"),
        (_across_channels(maxpool_windows), "across channels"),
        (_across_batch(maxpool_windows), "across the batch"),
        (avgpool_windows, "you took the mean"),
        (_short(maxpool_windows), "one row and one column short"),
        (_with_cache(maxpool_windows), "not (out, cache)"),
        (lambda x, kernel_size, stride=None: torch.nn.functional.max_pool2d(torch.tensor(x), kernel_size, stride).numpy(), "library implementation"),
    ],
)
def test_maxpool_mistakes(fn, words):
    result = run(nb06.maxpool2d_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb06.maxpool2d_random, fn, seed=0).passed


def test_maxpool_library_reference_forbidden():
    def delegate(x, kernel_size, stride=None):
        from cnnlib.reference import maxpool2d_forward

        return maxpool2d_forward(x, kernel_size, stride)[0]

    result = run(nb06.maxpool2d_examples, delegate)
    assert not result.passed and "library implementation" in result.message


@pytest.mark.parametrize(
    "fn, words",
    [
        (_stride_one(avgpool_windows), "stride = kernel_size"),
        (_across_channels_mean(avgpool_windows), "across channels"),
        (maxpool_windows, "you took the maximum"),
        (lambda x, kernel_size, stride=None: pool_windows(x, kernel_size, stride, np.sum), "divides the sum"),
        (_short(avgpool_windows), "one row and one column short"),
        (lambda x, kernel_size, stride=None: torch.nn.functional.avg_pool2d(torch.tensor(x), kernel_size, stride).numpy(), "library implementation"),
    ],
)
def test_avgpool_mistakes(fn, words):
    result = run(nb06.avgpool2d_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb06.avgpool2d_random, fn, seed=0).passed


def test_hidden_message_hides_inputs():
    result = run(nb06.maxpool2d_random, _stride_one(maxpool_windows), seed=0)
    assert "stride = kernel_size" in result.message
    assert "x of shape" not in result.message


# ---------------------------------------------------------------------------------------------
# global_avg_pool
# ---------------------------------------------------------------------------------------------


def gap_mean(x):
    return x.mean(axis=(2, 3))


def gap_reshape(x):
    N, C = x.shape[:2]
    return x.reshape(N, C, -1).sum(axis=2) / (x.shape[2] * x.shape[3])


@pytest.mark.parametrize("fn", [gap_mean, gap_reshape])
def test_global_correct(fn):
    assert run(nb06.global_avg_pool_examples, fn).passed
    for seed in (0, 1):
        assert run(nb06.global_avg_pool_random, fn, seed=seed).passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda x: x.max(axis=(2, 3)), "global max pooling"),
        (lambda x: x.sum(axis=(2, 3)), "divide by H * W"),
        (lambda x: x.mean(axis=(1, 2, 3)), "over the channels too"),
        (lambda x: x.mean(axis=(0, 2, 3)), "over the batch too"),
        (lambda x: x.mean(axis=(2, 3), keepdims=True), "no keepdims"),
        (lambda x: (x.mean(axis=(2, 3)), x.shape), "only the pooled array"),
        (lambda x: torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), 1).flatten(1).numpy(), "library implementation"),
    ],
)
def test_global_mistakes(fn, words):
    result = run(nb06.global_avg_pool_examples, fn)
    assert not result.passed
    assert words in result.message, result.message
    assert not run(nb06.global_avg_pool_random, fn, seed=0).passed


def test_global_wrong_axes():
    x = np.arange(2 * 3 * 3 * 3, dtype=float).reshape(2, 3, 3, 3)
    with pytest.raises(AssertionError, match="wrong axes"):
        nb06._check_global(lambda x: x.mean(axis=(1, 2)), x)
