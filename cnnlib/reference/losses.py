"""Softmax, log-softmax and the softmax cross-entropy loss, computed stably."""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import require_ndim
from ._common import as_float_array

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy"]


def _check_axis(x: np.ndarray, axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim}) for x of shape {x.shape}, got {axis!r}")
    return int(axis)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, as ``x - max - log(sum(exp(x - max)))``.

    Parameters
    ----------
    x : ndarray of any shape
        Scores (logits).
    axis : int
        The axis that holds the classes.

    Returns
    -------
    out : ndarray, the shape of x
        Finite for any finite ``x``, however large (subtracting the maximum keeps ``exp`` <= 1).
    """
    x = as_float_array(x, "x")
    axis = _check_axis(x, axis)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """The softmax along ``axis``, ``exp(x) / sum(exp(x))``, computed without overflow.

    Parameters
    ----------
    x : ndarray of any shape
    axis : int

    Returns
    -------
    p : ndarray, the shape of x
        Non-negative, summing to 1 along ``axis``.
    """
    x = as_float_array(x, "x")
    axis = _check_axis(x, axis)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy(logits, y, label_smoothing=0.0):
    """Mean softmax cross-entropy over a batch and its gradient (``torch.nn.functional.cross_entropy``).

    Parameters
    ----------
    logits : ndarray of shape (N, K)
        Unnormalised class scores.
    y : ndarray of shape (N,)
        Integer class labels in ``[0, K)``.
    label_smoothing : float in [0, 1]
        The target puts ``1 - label_smoothing`` on the true class and spreads ``label_smoothing``
        evenly over all ``K`` classes, as in PyTorch.

    Returns
    -------
    loss : scalar of the logits' dtype
        ``mean_n sum_k -q[n, k] * log_softmax(logits)[n, k]`` with ``q`` the (smoothed) target.
    dlogits : ndarray of shape (N, K)
        ``(softmax(logits) - q) / N``, the gradient of ``loss``.
    """
    require_ndim(logits, 2, "logits", "(N, K)")
    logits = as_float_array(logits, "logits")
    require_ndim(y, 1, "y", "(N,)")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    N, K = logits.shape
    if y.shape[0] != N:
        raise ValueError(f"y must have one label per row of logits, shape ({N},), got {y.shape}")
    if N == 0:
        raise ValueError("logits must hold at least one example, got N=0")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"y must hold labels in [0, {K}) for logits with K={K} classes, got values in [{y.min()}, {y.max()}]")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be a float in [0, 1], got {label_smoothing!r}")
    log_p = log_softmax(logits, axis=1)  # (N, K)
    target = np.full((N, K), label_smoothing / K, dtype=logits.dtype)  # (N, K)
    target[np.arange(N), y] += 1 - label_smoothing
    loss = -(target * log_p).sum() / N
    dlogits = (np.exp(log_p) - target) / N
    return logits.dtype.type(loss), dlogits
