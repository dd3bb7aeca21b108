"""The fully connected (linear) layer and flatten, forward and backward."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_int, require_ndim, require_shape_match
from ._common import as_float_array, float_dtype

__all__ = ["LinearCache", "FlattenCache", "linear_forward", "linear_backward", "flatten_forward", "flatten_backward"]


class LinearCache(NamedTuple):
    """What :func:`linear_backward` needs."""

    x: np.ndarray  # (N, in_features), or (..., in_features)
    w: np.ndarray  # (out_features, in_features)
    has_bias: bool


class FlattenCache(NamedTuple):
    """What :func:`flatten_backward` needs."""

    x_shape: tuple[int, ...]


def linear_forward(x, w, b):
    """Forward pass of a fully connected layer, ``out = x @ w.T + b`` (``torch.nn.functional.linear``).

    Parameters
    ----------
    x : ndarray of shape (N, in_features)
        Any number of leading axes is allowed, as in PyTorch: ``(..., in_features)``.
    w : ndarray of shape (out_features, in_features)
        PyTorch's layout (``nn.Linear.weight``).
    b : ndarray of shape (out_features,) or None

    Returns
    -------
    out : ndarray of shape (N, out_features)
        Or ``(..., out_features)``.
    cache : LinearCache
    """
    as_float_array(x, "x")
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension (..., in_features), got shape {x.shape}")
    require_ndim(w, 2, "w", "(out_features, in_features)")
    require_shape_match(x.shape[-1], w.shape[1], f"x's last axis must be in_features = w.shape[1] for w of shape {w.shape}; x.shape[-1]")
    if b is not None:
        require_ndim(b, 1, "b", "(out_features,)")
        require_shape_match(b.shape[0], w.shape[0], f"b must have out_features = w.shape[0] entries for w of shape {w.shape}; len(b)")
    dtype = float_dtype(x, w, b)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    out = x @ w.T  # (..., out_features)
    if b is not None:
        out += b.astype(dtype, copy=False)
    return out, LinearCache(x, w, b is not None)


def linear_backward(dout, cache: LinearCache):
    """Backward pass of a fully connected layer.

    Parameters
    ----------
    dout : ndarray of shape (N, out_features)
        Or ``(..., out_features)``, the forward output's shape.
    cache : LinearCache

    Returns
    -------
    dx : ndarray of shape (N, in_features)
        ``dout @ w``.
    dw : ndarray of shape (out_features, in_features)
        ``dout.T @ x``, summed over every leading axis.
    db : ndarray of shape (out_features,) or None
        ``dout`` summed over every leading axis; None when the forward had no bias.
    """
    x, w, has_bias = cache
    as_float_array(dout, "dout")
    expected = (*x.shape[:-1], w.shape[0])
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    dout = dout.astype(x.dtype, copy=False)
    dout_2d = dout.reshape(-1, w.shape[0])  # (N, out_features)
    dx = dout @ w
    dw = dout_2d.T @ x.reshape(-1, w.shape[1])
    db = dout_2d.sum(axis=0) if has_bias else None
    return dx, dw, db


def flatten_forward(x, start_dim=1):
    """Forward pass of flatten: every axis from ``start_dim`` on merged into one (``torch.flatten``).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), or any shape with more than ``start_dim`` axes
    start_dim : int
        The first axis to merge; 1 keeps the batch axis.

    Returns
    -------
    out : ndarray of shape (N, C * H * W)
        A copy, so that writing into it never changes ``x``.
    cache : FlattenCache
    """
    x = as_float_array(x, "x")
    start_dim = as_int(start_dim, "start_dim", minimum=0)
    if start_dim >= max(x.ndim, 1):
        raise ValueError(f"start_dim must be less than x.ndim = {x.ndim}, got {start_dim}")
    return x.reshape(*x.shape[:start_dim], -1).copy(), FlattenCache(x.shape)


def flatten_backward(dout, cache: FlattenCache):
    """Backward pass of flatten: the gradient reshaped back to the input's shape.

    Parameters
    ----------
    dout : ndarray of shape (N, C * H * W)
    cache : FlattenCache

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    as_float_array(dout, "dout")
    if dout.size != int(np.prod(cache.x_shape)):
        raise ValueError(f"dout must have {int(np.prod(cache.x_shape))} elements to fold back into {cache.x_shape}, got shape {dout.shape}")
    return dout.reshape(cache.x_shape).copy()
