"""Element-wise activations: ReLU, leaky ReLU, sigmoid and tanh, forward and backward.

Each forward returns ``(out, cache)``; each backward takes ``(dout, cache)`` and returns ``dx``, of the
same shape as ``x``. Any input shape works.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._common import as_float_array

__all__ = [
    "ReLUCache",
    "LeakyReLUCache",
    "SigmoidCache",
    "TanhCache",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
]


class ReLUCache(NamedTuple):
    """What :func:`relu_backward` needs."""

    x: np.ndarray  # the input, any shape


class LeakyReLUCache(NamedTuple):
    """What :func:`leaky_relu_backward` needs."""

    x: np.ndarray  # the input, any shape
    negative_slope: float


class SigmoidCache(NamedTuple):
    """What :func:`sigmoid_backward` needs."""

    out: np.ndarray  # sigmoid(x): the derivative is out * (1 - out)


class TanhCache(NamedTuple):
    """What :func:`tanh_backward` needs."""

    out: np.ndarray  # tanh(x): the derivative is 1 - out**2


def _check_dout(dout, shape, dtype) -> np.ndarray:
    """``dout`` checked against the forward output's shape, in the working dtype."""
    as_float_array(dout, "dout")
    if dout.shape != shape:
        raise ValueError(f"dout must have the forward output's shape {shape}, got {dout.shape}")
    return dout.astype(dtype, copy=False)


def relu_forward(x):
    """Forward pass of the rectified linear unit, ``max(0, x)``.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray, the shape of x
    cache : ReLUCache
    """
    x = as_float_array(x, "x")
    return np.maximum(x, 0), ReLUCache(x)


def relu_backward(dout, cache: ReLUCache):
    """Backward pass of ReLU: the gradient passes where the input was positive.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : ReLUCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``dout`` where ``x > 0``, else 0 (at ``x == 0`` the gradient is 0, as in PyTorch).
    """
    x = cache.x
    dout = _check_dout(dout, x.shape, x.dtype)
    return np.where(x > 0, dout, 0)


def leaky_relu_forward(x, negative_slope=0.01):
    """Forward pass of leaky ReLU, ``x`` for ``x > 0`` and ``negative_slope * x`` otherwise.

    Parameters
    ----------
    x : ndarray of any shape
    negative_slope : float
        The slope for negative inputs (PyTorch's default 0.01).

    Returns
    -------
    out : ndarray, the shape of x
    cache : LeakyReLUCache
    """
    x = as_float_array(x, "x")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.floating, np.integer)):
        raise TypeError(f"negative_slope must be a number, got {type(negative_slope).__name__} {negative_slope!r}")
    out = np.where(x > 0, x, x * x.dtype.type(negative_slope))
    return out, LeakyReLUCache(x, float(negative_slope))


def leaky_relu_backward(dout, cache: LeakyReLUCache):
    """Backward pass of leaky ReLU.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : LeakyReLUCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``dout`` where ``x > 0``, else ``negative_slope * dout``.
    """
    x, negative_slope = cache
    dout = _check_dout(dout, x.shape, x.dtype)
    return np.where(x > 0, dout, dout * x.dtype.type(negative_slope))


def sigmoid_forward(x):
    """Forward pass of the logistic sigmoid, ``1 / (1 + exp(-x))``, without overflow for large ``|x|``.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray, the shape of x, in (0, 1)
    cache : SigmoidCache
    """
    x = as_float_array(x, "x")
    # exp of a non-positive number never overflows: use exp(-|x|) on both sides of zero.
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, SigmoidCache(out)


def sigmoid_backward(dout, cache: SigmoidCache):
    """Backward pass of the sigmoid.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : SigmoidCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``dout * out * (1 - out)``.
    """
    out = cache.out
    dout = _check_dout(dout, out.shape, out.dtype)
    return dout * out * (1 - out)


def tanh_forward(x):
    """Forward pass of the hyperbolic tangent.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray, the shape of x, in (-1, 1)
    cache : TanhCache
    """
    x = as_float_array(x, "x")
    out = np.tanh(x)
    return out, TanhCache(out)


def tanh_backward(dout, cache: TanhCache):
    """Backward pass of tanh.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : TanhCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``dout * (1 - out**2)``.
    """
    out = cache.out
    dout = _check_dout(dout, out.shape, out.dtype)
    return dout * (1 - out**2)
