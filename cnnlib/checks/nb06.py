"""Checks for notebook 06, pooling and invariance.

The student's pooling functions return only the pooled array (the library's return ``(out,
cache)``); they are compared with :func:`cnnlib.reference.maxpool2d_forward`,
:func:`~cnnlib.reference.avgpool2d_forward` and :func:`~cnnlib.reference.global_avg_pool_forward`.
The checks recognise a stride that defaults to 1 instead of to the kernel size, pooling across
channels (or across the batch), the off-by-one output size, max and average swapped, a sum
instead of a mean, and returning a ``(out, cache)`` pair.
"""

from __future__ import annotations

import numpy as np

from cnnlib import reference as ref

from .core import Mistake, as_array, call, check, expect_close, fail, pair
from .forbid import NUMPY_ONLY

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "these exercises ask you to write pooling yourself with NumPy, so libraries that already pool "
    "are switched off while your answers are graded"
)


def _maxpool(x, k, s=None):
    return ref.maxpool2d_forward(x, k, s)[0]


def _avgpool(x, k, s=None):
    return ref.avgpool2d_forward(x, k, s)[0]


def _as_output(value, name: str) -> np.ndarray:
    if isinstance(value, tuple) and len(value) == 2:
        fail(f"{name} returned a pair; return only the pooled array (N, C, H', W'), not (out, cache)")
    return as_array(value, name, ndim=4)


def _pool_mistakes(x, k, s, kind: str) -> list[Mistake]:
    pool, other = (_maxpool, _avgpool) if kind == "max" else (_avgpool, _maxpool)
    good = pool(x, k, s)
    N, C, OH, OW = good.shape
    verb = "maximum" if kind == "max" else "mean"
    mistakes = []
    if s is None and pair(k) != (1, 1):
        mistakes.append(Mistake(pool(x, k, 1), "stride=None should mean stride = kernel_size (non-overlapping windows, as in PyTorch); your output matches stride 1"))
    if C > 1:
        across = np.broadcast_to(good.max(axis=1, keepdims=True) if kind == "max" else good.mean(axis=1, keepdims=True), good.shape)
        mistakes.append(Mistake(across, f"you pooled across channels: pooling works on each channel separately, taking the {verb} over a spatial window only"))
        mistakes.append(Mistake(across[:, :1], f"you pooled across channels: pooling works on each channel separately, so the output keeps all C = {C} channels"))
    if N > 1:
        batch = np.broadcast_to(good.max(axis=0, keepdims=True) if kind == "max" else good.mean(axis=0, keepdims=True), good.shape)
        mistakes.append(Mistake(batch, "you pooled across the batch: each image is pooled on its own"))
    mistakes.append(Mistake(other(x, k, s), "you took the maximum; average pooling takes the mean of each window" if kind == "avg" else "you took the mean; max pooling takes the maximum of each window"))
    if kind == "avg":
        KH, KW = pair(k)
        mistakes.append(Mistake(good * KH * KW, "you summed each window; average pooling divides the sum by the window size KH * KW"))
    if OH > 1 and OW > 1:
        mistakes.append(Mistake(good[:, :, :-1, :-1], "your output is one row and one column short: there are floor((H - KH) / stride) + 1 windows along H (the + 1 counts the first window)"))
    return mistakes


def _check_pool(fn, x, k, s, kind: str, *, pass_stride: bool = True):
    fname = "maxpool2d_forward" if kind == "max" else "avgpool2d_forward"
    name = f"{fname}(x, kernel_size, stride)" if pass_stride else f"{fname}(x, kernel_size)"
    value = call(fn, x, k, stride=s, forbid=NUMPY_ONLY) if pass_stride else call(fn, x, k, forbid=NUMPY_ONLY)
    out = _as_output(value, name)
    good = _maxpool(x, k, s) if kind == "max" else _avgpool(x, k, s)
    expect_close(
        out,
        good,
        name,
        mistakes=_pool_mistakes(x, k, s, kind),
        why="(N, C, H', W') with H' = floor((H - KH) / stride) + 1, stride defaulting to kernel_size",
        inputs=f"x of shape {x.shape}, kernel_size={k}, stride={'not given' if not pass_stride else s}",
    )


_X_EXAMPLE = np.array(
    [
        [
            [[1, 3, 2, 0, 1], [4, 2, 1, 5, 0], [0, 1, 3, 2, 2], [2, 6, 1, 0, 4], [1, 0, 2, 3, 1]],
            [[0, 0, 1, 2, 3], [7, 1, 0, 0, 1], [2, 2, 2, 2, 2], [1, 0, 5, 1, 0], [3, 1, 1, 0, 2]],
        ],
        [
            [[5, 1, 0, 2, 2], [1, 1, 3, 0, 1], [2, 0, 1, 4, 1], [0, 3, 2, 1, 0], [1, 2, 0, 1, 6]],
            [[1, 2, 3, 4, 5], [6, 7, 8, 9, 0], [1, 1, 0, 0, 2], [3, 0, 2, 1, 1], [0, 4, 0, 2, 2]],
        ],
    ],
    dtype=float,
)  # (N=2, C=2, 5, 5)


def _random_pool_cases(seed: int, count: int = 6):
    rng = np.random.default_rng(seed)
    for index in range(count):
        k = int(rng.integers(1, 4)) if index % 3 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        KH, KW = pair(k)
        s = None if index % 2 == 0 else (int(rng.integers(1, 4)) if index % 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 3))))
        x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(KH, KH + 8)), int(rng.integers(KW, KW + 8))))
        yield x, k, s


@check(points=1)
def maxpool2d_examples(maxpool2d_forward):
    """maxpool2d_forward: 2x2 windows, stride defaulting to the kernel size, per channel"""
    _check_pool(maxpool2d_forward, _X_EXAMPLE, 2, None, "max", pass_stride=False)
    _check_pool(maxpool2d_forward, _X_EXAMPLE, 2, None, "max")


@check(points=1)
def maxpool2d_overlapping(maxpool2d_forward):
    """maxpool2d_forward: overlapping 3x3 windows with stride 2, and a 1x2 kernel"""
    _check_pool(maxpool2d_forward, _X_EXAMPLE, 3, 2, "max")
    _check_pool(maxpool2d_forward, _X_EXAMPLE, (1, 2), None, "max")


@check(points=2, hidden=True)
def maxpool2d_random(maxpool2d_forward, seed: int = 0):
    """maxpool2d_forward: seeded random shapes, kernels and strides"""
    for x, k, s in _random_pool_cases(seed):
        _check_pool(maxpool2d_forward, x, k, s, "max")


@check(points=1)
def avgpool2d_examples(avgpool2d_forward):
    """avgpool2d_forward: 2x2 windows with the default stride, overlapping 3x3 windows with stride 2"""
    _check_pool(avgpool2d_forward, _X_EXAMPLE, 2, None, "avg", pass_stride=False)
    _check_pool(avgpool2d_forward, _X_EXAMPLE, 3, 2, "avg")


@check(points=2, hidden=True)
def avgpool2d_random(avgpool2d_forward, seed: int = 0):
    """avgpool2d_forward: seeded random shapes, kernels and strides"""
    for x, k, s in _random_pool_cases(seed):
        _check_pool(avgpool2d_forward, x, k, s, "avg")


def _check_global(fn, x):
    name = "global_avg_pool(x)"
    value = call(fn, x, forbid=NUMPY_ONLY)
    if isinstance(value, tuple) and len(value) == 2:
        fail(f"{name} returned a pair; return only the pooled array of shape (N, C)")
    out = as_array(value, name)
    N, C = x.shape[:2]
    if out.shape == (N, C, 1, 1):
        fail(f"{name} has shape {out.shape}; return (N, C) = ({N}, {C}): drop the two spatial axes (no keepdims)")
    good = ref.global_avg_pool_forward(x)[0]
    mistakes = [
        Mistake(x.max(axis=(2, 3)), "you took the maximum (global max pooling); global average pooling takes the mean over H and W"),
        Mistake(x.sum(axis=(2, 3)), "you summed over H and W; divide by H * W to get the mean"),
        Mistake(x.mean(axis=(1, 2, 3)), "you averaged over the channels too; keep one value per channel: the mean over H and W only, shape (N, C)"),
        Mistake(x.mean(axis=(0, 2, 3)), "you averaged over the batch too; keep one row per image: the mean over H and W only, shape (N, C)"),
    ]
    mistakes.append(Mistake(x.mean(axis=(1, 2)), "you averaged over the wrong axes; with x of shape (N, C, H, W) the spatial axes are 2 and 3"))
    expect_close(out, good, name, mistakes=mistakes, why="(N, C): one mean per image and channel", inputs=f"x of shape {x.shape}")


@check(points=1)
def global_avg_pool_examples(global_avg_pool):
    """global_avg_pool: one mean per image and channel, shape (N, C)"""
    _check_global(global_avg_pool, _X_EXAMPLE)
    _check_global(global_avg_pool, np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4))


@check(points=1, hidden=True)
def global_avg_pool_random(global_avg_pool, seed: int = 0):
    """global_avg_pool: seeded random shapes"""
    rng = np.random.default_rng(seed)
    for _ in range(4):
        _check_global(global_avg_pool, rng.standard_normal(tuple(int(v) for v in rng.integers(1, 6, size=4))))
