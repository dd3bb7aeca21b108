"""Inverted dropout, forward and backward.

In training each value is zeroed with probability ``p`` and the survivors are scaled by
``1 / (1 - p)``, so that the expected output equals the input; at test time nothing happens. (The
older, non-inverted form scales by the keep probability ``1 - p`` at test time instead.)
"""

from __future__ import annotations

import numbers

import numpy as np

from ._common import as_float_array

__all__ = ["dropout_forward", "dropout_backward"]


def dropout_forward(x, p, training, rng):
    """Forward pass of inverted dropout.

    Parameters
    ----------
    x : ndarray of any shape
    p : float in [0, 1)
        The probability of zeroing each value.
    training : bool
        False: the identity (``out`` is a copy of ``x`` and ``mask`` is None).
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(0)``: the same seed gives the same mask.

    Returns
    -------
    out : ndarray, the shape of x
        ``x * mask``.
    mask : ndarray, the shape of x, or None
        ``0`` where a value was dropped and ``1 / (1 - p)`` where it was kept; None when not training.
    """
    x = as_float_array(x, "x")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be a bool, got {type(training).__name__} {training!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if not training:
        return x.copy(), None
    mask = (rng.random(x.shape) >= p) / x.dtype.type(1 - p)  # keep with probability 1 - p
    mask = mask.astype(x.dtype, copy=False)
    return x * mask, mask


def dropout_backward(dout, mask):
    """Backward pass of inverted dropout: the gradient flows through the kept values, scaled the same way.

    Parameters
    ----------
    dout : ndarray, the shape of x
    mask : ndarray, the shape of x, or None
        From :func:`dropout_forward`; None (evaluation) passes ``dout`` through.

    Returns
    -------
    dx : ndarray, the shape of x
        ``dout * mask``, or a copy of ``dout``.
    """
    dout = as_float_array(dout, "dout")
    if mask is None:
        return dout.copy()
    as_float_array(mask, "mask")
    if mask.shape != dout.shape:
        raise ValueError(f"dout must have the mask's shape {mask.shape}, got {dout.shape}")
    return dout * mask
