"""Batch, layer, group and instance normalisation, forward and backward.

Batch norm averages over the batch (and, for images, over space): one mean and variance per feature
or channel. Layer norm averages over the features of each example: one mean and variance per example,
the same at training and test time. Group norm (Wu and He, 2018) sits between the two for images:
each example's channels are split into groups of consecutive channels, with one mean and variance
per example and group; one group is layer norm over (C, H, W), one channel per group is instance
norm. Neither depends on the other examples of the batch, so both work at any batch size.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._common import as_float_array, float_dtype

__all__ = [
    "BatchNormCache",
    "LayerNormCache",
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "GroupNormCache",
    "groupnorm_forward",
    "groupnorm_backward",
    "instancenorm_forward",
    "instancenorm_backward",
]


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs."""

    x_hat: np.ndarray  # (N, C, ...), the normalised input
    inv_std: np.ndarray  # (1, C, 1, ...), 1 / sqrt(var + eps) of the statistics used
    gamma: np.ndarray | None  # (C,), or None without a learnable scale
    has_beta: bool
    batch_stats: bool  # True when the batch's own statistics normalised x (then they depend on x)


class LayerNormCache(NamedTuple):
    """What :func:`layernorm_backward` needs."""

    x_hat: np.ndarray  # (N, ...), the normalised input
    inv_std: np.ndarray  # (N, 1, ...), one per example
    gamma: np.ndarray | None  # x.shape[1:], or None
    has_beta: bool


def _check_vector(v, name: str, shape: tuple[int, ...], what: str):
    """``v`` is None or an array of ``shape``; ``what`` says where that shape comes from."""
    if v is None:
        return None
    as_float_array(v, name)
    if v.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({what}), got {v.shape}")
    return v


def _normalized_backward(dx_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Gradient through ``x_hat = (x - mean(x)) * inv_std`` with mean and (biased) variance over ``axes``.

    ``dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))``, means over ``axes``.
    """
    return inv_std * (
        dx_hat - dx_hat.mean(axis=axes, keepdims=True) - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    )


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """Forward pass of batch normalisation, per feature of ``(N, D)`` or per channel of ``(N, C, H, W)``.

    Parameters
    ----------
    x : ndarray of shape (N, D) or (N, C, H, W)
        (Any ``(N, C, ...)`` works: statistics are taken over every axis but axis 1.)
    gamma, beta : ndarray of shape (C,), or None
        Learnable scale and shift (None: 1 and 0, PyTorch's ``affine=False``).
    running_mean, running_var : ndarray of shape (C,), or None
        Running estimates used in evaluation (None: PyTorch's ``track_running_stats=False``, where
        the batch's statistics are used in both modes).
    training : bool
        True: normalise with the batch's statistics and update the running estimates. False:
        normalise with the running estimates, which are returned unchanged.
    momentum : float in [0, 1]
        PyTorch's convention, the weight of the new value: ``new = (1 - momentum) * running +
        momentum * batch``.
    eps : float >= 0
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, the shape of x
        ``gamma * (x - mean) / sqrt(var + eps) + beta``.
    running_mean, running_var : ndarray of shape (C,), or None
        New arrays (the arguments are never modified). The running variance is updated with the
        unbiased batch variance (divided by ``m - 1``, ``m = N*H*W``), while ``x`` is normalised
        with the biased one (divided by ``m``), as in PyTorch.
    cache : BatchNormCache
        For :func:`batchnorm_backward`.
    """
    as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, D) or (N, C, H, W), got shape {x.shape}")
    C = x.shape[1]
    shape = (C,)
    gamma = _check_vector(gamma, "gamma", shape, f"one per channel of x, shape {x.shape}")
    beta = _check_vector(beta, "beta", shape, f"one per channel of x, shape {x.shape}")
    running_mean = _check_vector(running_mean, "running_mean", shape, f"one per channel of x, shape {x.shape}")
    running_var = _check_vector(running_var, "running_var", shape, f"one per channel of x, shape {x.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must both be arrays or both be None, got one of each")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be a bool, got {type(training).__name__} {training!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be a float in [0, 1], got {momentum!r}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a float >= 0, got {eps!r}")
    dtype = float_dtype(x, gamma, beta)
    x = x.astype(dtype, copy=False)
    axes = (0, *range(2, x.ndim))  # everything but the channel axis
    broadcast = (1, C, *([1] * (x.ndim - 2)))  # (1, C, 1, 1) for images
    m = x.size // C  # values per channel
    batch_stats = bool(training) or running_mean is None
    if batch_stats:
        if m < 2:
            raise ValueError(f"x must hold more than 1 value per channel when using batch statistics, got shape {x.shape}")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)  # biased: divided by m
    else:
        mean = running_mean.astype(dtype, copy=False)
        var = running_var.astype(dtype, copy=False)
    inv_std = 1 / np.sqrt(var.reshape(broadcast) + dtype.type(eps))
    x_hat = (x - mean.reshape(broadcast)) * inv_std
    out = x_hat if gamma is None else x_hat * gamma.astype(dtype, copy=False).reshape(broadcast)
    if beta is not None:
        out = out + beta.astype(dtype, copy=False).reshape(broadcast)
    if running_mean is not None:
        if training:
            running_mean = ((1 - momentum) * running_mean + momentum * mean).astype(running_mean.dtype, copy=False)
            running_var = ((1 - momentum) * running_var + momentum * var * (m / (m - 1))).astype(running_var.dtype, copy=False)
        else:
            running_mean, running_var = running_mean.copy(), running_var.copy()
    return out, running_mean, running_var, BatchNormCache(x_hat, inv_std, gamma, beta is not None, batch_stats)


def batchnorm_backward(dout, cache: BatchNormCache):
    """Backward pass of batch normalisation, in training or evaluation mode.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : BatchNormCache

    Returns
    -------
    dx : ndarray, the shape of x
        With batch statistics, the gradient also flows through the mean and variance:
        ``dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))`` with
        ``dx_hat = gamma * dout``; with running statistics (evaluation) ``dx = inv_std * dx_hat``.
    dgamma : ndarray of shape (C,), or None
        ``sum(dout * x_hat)`` over every axis but the channel axis; None without gamma.
    dbeta : ndarray of shape (C,), or None
        ``sum(dout)`` over every axis but the channel axis; None without beta.
    """
    x_hat, inv_std, gamma, has_beta, batch_stats = cache
    dout = _check_dout(dout, x_hat)
    axes = (0, *range(2, x_hat.ndim))
    dx_hat = dout if gamma is None else dout * gamma.astype(x_hat.dtype, copy=False).reshape(inv_std.shape)
    dx = _normalized_backward(dx_hat, x_hat, inv_std, axes) if batch_stats else dx_hat * inv_std
    dgamma = (dout * x_hat).sum(axis=axes) if gamma is not None else None
    dbeta = dout.sum(axis=axes) if has_beta else None
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Forward pass of layer normalisation over every axis after the first (``F.layer_norm(x, x.shape[1:])``).

    Parameters
    ----------
    x : ndarray of shape (N, D) or (N, C, H, W)
        Any ``(N, ...)``: each example is normalised over all of its values.
    gamma, beta : ndarray of shape x.shape[1:], or None
        Learnable element-wise scale and shift (None: 1 and 0).
    eps : float >= 0

    Returns
    -------
    out : ndarray, the shape of x
        ``gamma * (x - mean) / sqrt(var + eps) + beta`` with one (biased) mean and variance per example.
    cache : LayerNormCache
        For :func:`layernorm_backward`.
    """
    as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, D) or (N, C, H, W), got shape {x.shape}")
    gamma = _check_vector(gamma, "gamma", x.shape[1:], f"x.shape[1:] for x of shape {x.shape}")
    beta = _check_vector(beta, "beta", x.shape[1:], f"x.shape[1:] for x of shape {x.shape}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a float >= 0, got {eps!r}")
    dtype = float_dtype(x, gamma, beta)
    x = x.astype(dtype, copy=False)
    axes = tuple(range(1, x.ndim))  # each example's values
    mean = x.mean(axis=axes, keepdims=True)  # (N, 1, ...)
    inv_std = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + dtype.type(eps))  # (N, 1, ...)
    x_hat = (x - mean) * inv_std
    out = x_hat if gamma is None else x_hat * gamma.astype(dtype, copy=False)
    if beta is not None:
        out = out + beta.astype(dtype, copy=False)
    return out, LayerNormCache(x_hat, inv_std, gamma, beta is not None)


def layernorm_backward(dout, cache: LayerNormCache):
    """Backward pass of layer normalisation.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : LayerNormCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))``, means over each
        example, ``dx_hat = gamma * dout``.
    dgamma, dbeta : ndarray of shape x.shape[1:], or None
        ``sum(dout * x_hat)`` and ``sum(dout)`` over the batch.
    """
    x_hat, inv_std, gamma, has_beta = cache
    dout = _check_dout(dout, x_hat)
    axes = tuple(range(1, x_hat.ndim))
    dx_hat = dout if gamma is None else dout * gamma.astype(x_hat.dtype, copy=False)
    dx = _normalized_backward(dx_hat, x_hat, inv_std, axes)
    dgamma = (dout * x_hat).sum(axis=0) if gamma is not None else None
    dbeta = dout.sum(axis=0) if has_beta else None
    return dx, dgamma, dbeta


def _check_dout(dout, x_hat: np.ndarray) -> np.ndarray:
    as_float_array(dout, "dout")
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the forward output's shape {x_hat.shape}, got {dout.shape}")
    return dout.astype(x_hat.dtype, copy=False)


# -- group norm and instance norm -------------------------------------------------------------------


class GroupNormCache(NamedTuple):
    """What :func:`groupnorm_backward` (and :func:`instancenorm_backward`) needs."""

    x_hat: np.ndarray  # (N, C, ...), the normalised input
    inv_std: np.ndarray  # (N, G, 1), one per example and group
    gamma: np.ndarray | None  # (C,), or None
    has_beta: bool
    num_groups: int


def _check_eps(eps) -> None:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a float >= 0, got {eps!r}")


def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Forward pass of group normalisation (``F.group_norm(x, num_groups, gamma, beta, eps)``).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        (Any ``(N, C, ...)``.) The channels are split into ``num_groups`` groups of ``C // num_groups``
        consecutive channels: group ``g`` is channels ``g * C_g`` to ``(g + 1) * C_g - 1``.
    gamma, beta : ndarray of shape (C,), or None
        Learnable scale and shift, one per **channel** (not per group); None: 1 and 0.
    num_groups : int
        ``G >= 1``, a divisor of C. ``G = 1`` is layer norm over ``(C, H, W)``; ``G = C`` is instance norm.
    eps : float >= 0

    Returns
    -------
    out : ndarray, the shape of x
        ``gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]``, with one (biased) mean and variance
        per example and group, over the group's channels and every position.
    cache : GroupNormCache
        For :func:`groupnorm_backward`.

    Notes
    -----
    The statistics never mix examples, so the output is the same at training and test time and for
    any batch size (there are no running statistics).
    """
    as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, C) or (N, C, H, W), got shape {x.shape}")
    N, C = x.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
        raise TypeError(f"num_groups must be an int, got {type(num_groups).__name__} {num_groups!r}")
    if num_groups < 1 or C % num_groups:
        raise ValueError(f"num_groups must be a divisor of the number of channels C = {C} (x has shape {x.shape}), got {num_groups}")
    shape = (C,)
    gamma = _check_vector(gamma, "gamma", shape, f"one per channel of x, shape {x.shape}")
    beta = _check_vector(beta, "beta", shape, f"one per channel of x, shape {x.shape}")
    _check_eps(eps)
    dtype = float_dtype(x, gamma, beta)
    G = int(num_groups)
    grouped = x.astype(dtype, copy=False).reshape(N, G, -1)  # (N, G, C_g * H * W): each group's values in a row
    mean = grouped.mean(axis=2, keepdims=True)
    inv_std = 1 / np.sqrt(grouped.var(axis=2, keepdims=True) + dtype.type(eps))  # (N, G, 1)
    x_hat = ((grouped - mean) * inv_std).reshape(x.shape)
    broadcast = (1, C, *([1] * (x.ndim - 2)))
    out = x_hat if gamma is None else x_hat * gamma.astype(dtype, copy=False).reshape(broadcast)
    if beta is not None:
        out = out + beta.astype(dtype, copy=False).reshape(broadcast)
    return out, GroupNormCache(x_hat, inv_std, gamma, beta is not None, G)


def groupnorm_backward(dout, cache: GroupNormCache):
    """Backward pass of group normalisation.

    Parameters
    ----------
    dout : ndarray, the shape of x
    cache : GroupNormCache

    Returns
    -------
    dx : ndarray, the shape of x
        ``inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))``, means over each
        example's group, ``dx_hat = gamma * dout``.
    dgamma, dbeta : ndarray of shape (C,), or None
        ``sum(dout * x_hat)`` and ``sum(dout)`` over every axis but the channel axis.
    """
    if not isinstance(cache, GroupNormCache):
        raise TypeError(f"cache must be the GroupNormCache that groupnorm_forward returned, got {type(cache).__name__}")
    x_hat, inv_std, gamma, has_beta, G = cache
    dout = _check_dout(dout, x_hat)
    N, C = x_hat.shape[:2]
    broadcast = (1, C, *([1] * (x_hat.ndim - 2)))
    dx_hat = dout if gamma is None else dout * gamma.astype(x_hat.dtype, copy=False).reshape(broadcast)
    dx = _normalized_backward(dx_hat.reshape(N, G, -1), x_hat.reshape(N, G, -1), inv_std, (2,)).reshape(x_hat.shape)
    axes = (0, *range(2, x_hat.ndim))
    dgamma = (dout * x_hat).sum(axis=axes) if gamma is not None else None
    dbeta = dout.sum(axis=axes) if has_beta else None
    return dx, dgamma, dbeta


def instancenorm_forward(x, gamma, beta, eps=1e-5):
    """Forward pass of instance normalisation: each channel of each example normalised over its positions.

    Group norm with one channel per group (``num_groups = C``); PyTorch's ``F.instance_norm`` with
    ``use_input_stats=True`` and no running statistics.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    gamma, beta : ndarray of shape (C,), or None
    eps : float >= 0

    Returns
    -------
    out : ndarray, the shape of x
    cache : GroupNormCache
        For :func:`instancenorm_backward`.
    """
    as_float_array(x, "x")
    if x.ndim < 3:
        raise ValueError(f"x must have at least 3 dimensions, (N, C, L) or (N, C, H, W), got shape {x.shape}")
    return groupnorm_forward(x, gamma, beta, x.shape[1], eps)


def instancenorm_backward(dout, cache: GroupNormCache):
    """Backward pass of instance normalisation: ``(dx, dgamma, dbeta)``, as :func:`groupnorm_backward`."""
    return groupnorm_backward(dout, cache)
