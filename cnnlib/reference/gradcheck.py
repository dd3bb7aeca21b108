"""Numerical gradients by centred differences, and the relative error used to compare gradients.

A hand-written backward pass is checked against ``(f(x + h) - f(x - h)) / 2h`` taken one input value
at a time: slow (two calls of ``f`` per value), so use small inputs, but independent of the code
being checked. The error of a centred difference is O(h^2); with float64 and ``h`` around 1e-6 the
two gradients typically agree to a relative error below 1e-7.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._common import as_float_array

__all__ = ["numerical_gradient", "gradcheck", "rel_error"]


def _check_h(h) -> float:
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not h > 0:
        raise ValueError(f"h must be a float > 0, got {h!r}")
    return float(h)


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function by centred differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar. It is called with a float64 copy of ``x`` that is changed
        between calls, so it must not keep a reference to it.
    x : ndarray of any shape
        Where to take the gradient; never modified.
    h : float > 0
        The step.

    Returns
    -------
    grad : ndarray of x's shape, float64
        ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)``.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable f(x) -> float, got {type(f).__name__}")
    h = _check_h(h)
    x_work = as_float_array(x, "x").astype(np.float64, copy=True)
    grad = np.zeros_like(x_work)
    for index in np.ndindex(x_work.shape):
        original = x_work[index]
        x_work[index] = original + h
        f_plus = _scalar(f(x_work))
        x_work[index] = original - h
        f_minus = _scalar(f(x_work))
        x_work[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(value) -> float:
    if np.ndim(value) != 0:
        raise ValueError(
            f"f must return a scalar, got an array of shape {np.shape(value)} "
            "(for an array-valued f, use gradcheck(f, x, dout))"
        )
    return float(value)


def gradcheck(f, x, dout=None, h=1e-6):
    """The numerical gradient of an array-valued function, for a given upstream gradient.

    Parameters
    ----------
    f : callable
        ``f(x) -> ndarray``, e.g. ``lambda x: relu_forward(x)[0]``. Called with a float64 copy
        of ``x`` that changes between calls.
    x : ndarray of any shape
        Where to take the gradient; never modified.
    dout : ndarray of f(x)'s shape, optional
        The upstream gradient ``dL/df``; None means ones (the gradient of ``f(x).sum()``).
    h : float > 0
        The step.

    Returns
    -------
    dx : ndarray of x's shape, float64
        The gradient of ``sum(f(x) * dout)`` with respect to ``x``, to compare (with
        :func:`rel_error`) with what a backward pass returns for ``dout``.

    Examples
    --------
    >>> from cnnlib.reference import sigmoid_forward, sigmoid_backward
    >>> x = np.linspace(-2, 2, 5)
    >>> out, cache = sigmoid_forward(x)
    >>> rel_error(gradcheck(lambda x: sigmoid_forward(x)[0], x), sigmoid_backward(np.ones(5), cache)) < 1e-8
    True
    """
    if not callable(f):
        raise TypeError(f"f must be a callable f(x) -> ndarray, got {type(f).__name__}")
    if dout is None:
        return numerical_gradient(lambda z: np.sum(f(z)), x, h)
    dout = as_float_array(dout, "dout").astype(np.float64, copy=False)

    def weighted(z):
        out = np.asarray(f(z))
        if out.shape != dout.shape:
            raise ValueError(f"dout must have the shape of f(x), {out.shape}, got {dout.shape}")
        return np.sum(out * dout)

    return numerical_gradient(weighted, x, h)


def rel_error(a, b) -> float:
    """The largest difference between two arrays, relative to the largest magnitude in either.

    Parameters
    ----------
    a, b : ndarray of the same shape (or scalars)

    Returns
    -------
    error : float
        ``max|a - b| / max(max|a|, max|b|)``, and 0 when both are all zeros. Measuring against the
        largest value (rather than element by element) keeps entries that are nearly zero from
        blowing up the error.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max())
    return float(np.abs(a - b).max() / scale) if scale > 0 else 0.0
