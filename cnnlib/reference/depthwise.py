"""Depthwise and depthwise-separable convolution, forward and backward, built on the grouped conv2d.

A **depthwise** convolution filters every input channel on its own: it is :func:`conv2d_forward`
with ``groups = C``, so filter ``f`` sees only input channel ``f // multiplier`` (``multiplier``
filters per channel, usually 1). A **depthwise-separable** convolution follows it with a
**pointwise** (1x1) convolution that mixes the channels:

    x (N, C, H, W) --depthwise KxK--> (N, C*M, OH, OW) --pointwise 1x1--> (N, F, OH, OW)

It does the two jobs of a standard KxK convolution (look at a neighbourhood, mix the channels) one
after the other, for ``C*K*K + C*F`` weights instead of ``C*K*K*F``.

Output size, per spatial axis (the depthwise step; the pointwise one keeps the size):
``o = floor((i + 2p - d(k-1) - 1) / s) + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

from .._validate import require_ndim
from .conv2d import Conv2dCache, conv2d_backward, conv2d_forward

__all__ = [
    "DepthwiseSeparableCache",
    "depthwise_conv2d_forward",
    "depthwise_conv2d_backward",
    "depthwise_separable_conv2d_forward",
    "depthwise_separable_conv2d_backward",
]


class DepthwiseSeparableCache(NamedTuple):
    """What :func:`depthwise_separable_conv2d_backward` needs: the caches of its two convolutions."""

    depthwise: Conv2dCache  # x (N, C, H, W) through w_depthwise (C*M, 1, KH, KW), groups=C
    pointwise: Conv2dCache  # the depthwise output (N, C*M, OH, OW) through w_pointwise (F, C*M, 1, 1)


def _check_depthwise_weights(x, w, name: str) -> int:
    """The number of input channels C, after checking that ``w`` is ``(C * multiplier, 1, KH, KW)``."""
    require_ndim(x, 4, "x", "(N, C, H, W)")
    require_ndim(w, 4, name, "(C * multiplier, 1, KH, KW)")
    C = x.shape[1]
    if w.shape[1] != 1 or w.shape[0] % C or w.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (C * multiplier, 1, KH, KW) with C = {C} input channels "
            f"(x has shape {x.shape}), got {w.shape}"
        )
    return C


def depthwise_conv2d_forward(x, w, b, stride=1, padding=0, dilation=1):
    """Forward pass of a depthwise convolution: each input channel cross-correlated with its own filters.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Input images.
    w : ndarray of shape (C * M, 1, KH, KW)
        ``M`` filters per input channel (the depth multiplier, usually 1); filter ``f`` reads
        channel ``f // M`` only. PyTorch's ``nn.Conv2d(C, C * M, k, groups=C)`` weight.
    b : ndarray of shape (C * M,) or None
    stride, padding, dilation : int or pair of ints

    Returns
    -------
    out : ndarray of shape (N, C * M, OH, OW)
    cache : Conv2dCache
        For :func:`depthwise_conv2d_backward`.

    Notes
    -----
    ``out[n, f] = b[f] + x[n, f // M] cross-correlated with w[f, 0]``. The same as
    ``conv2d_forward(x, w, b, stride, padding, dilation, groups=C)``; ``C * M * OH * OW * KH * KW``
    multiply-accumulates per image, ``C`` times fewer than a standard convolution to ``C * M``
    channels.
    """
    C = _check_depthwise_weights(x, w, "w")
    return conv2d_forward(x, w, b, stride, padding, dilation, groups=C)


def depthwise_conv2d_backward(dout, cache: Conv2dCache):
    """Backward pass of :func:`depthwise_conv2d_forward`.

    Parameters
    ----------
    dout : ndarray of shape (N, C * M, OH, OW)
    cache : Conv2dCache

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        Each channel receives the gradient of its own filters' outputs only.
    dw : ndarray of shape (C * M, 1, KH, KW)
    db : ndarray of shape (C * M,) or None
    """
    if not isinstance(cache, Conv2dCache):
        raise TypeError(f"cache must be the Conv2dCache that depthwise_conv2d_forward returned, got {type(cache).__name__}")
    return conv2d_backward(dout, cache)


def depthwise_separable_conv2d_forward(x, w_depthwise, b_depthwise, w_pointwise, b_pointwise, stride=1, padding=0, dilation=1):
    """Forward pass of a depthwise-separable convolution: a depthwise KxK convolution, then a pointwise 1x1 one.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    w_depthwise : ndarray of shape (C * M, 1, KH, KW)
        The depthwise filters (see :func:`depthwise_conv2d_forward`).
    b_depthwise : ndarray of shape (C * M,) or None
    w_pointwise : ndarray of shape (F, C * M, 1, 1)
        The 1x1 filters that mix the channels.
    b_pointwise : ndarray of shape (F,) or None
    stride, padding, dilation : int or pair of ints
        Of the depthwise step (the pointwise step has stride 1 and no padding).

    Returns
    -------
    out : ndarray of shape (N, F, OH, OW)
    cache : DepthwiseSeparableCache
        For :func:`depthwise_separable_conv2d_backward`.

    Notes
    -----
    No nonlinearity between the two steps: the layer is linear, like the standard convolution it
    replaces (MobileNet's blocks put a batch norm and a ReLU after each step; see
    ``cnnlib.pytorch.models.DepthwiseSeparableBlock``). Parameters:
    ``C*M*KH*KW + F*C*M`` (plus the biases), against ``F*C*KH*KW`` for a standard convolution.
    """
    _check_depthwise_weights(x, w_depthwise, "w_depthwise")
    require_ndim(w_pointwise, 4, "w_pointwise", "(F, C * M, 1, 1)")
    if w_pointwise.shape[1:] != (w_depthwise.shape[0], 1, 1):
        raise ValueError(
            f"w_pointwise must have shape (F, C * M, 1, 1) = (F, {w_depthwise.shape[0]}, 1, 1) for depthwise filters "
            f"of shape {w_depthwise.shape}, got {w_pointwise.shape}"
        )
    middle, depthwise = depthwise_conv2d_forward(x, w_depthwise, b_depthwise, stride, padding, dilation)  # (N, C*M, OH, OW)
    out, pointwise = conv2d_forward(middle, w_pointwise, b_pointwise)  # (N, F, OH, OW)
    return out, DepthwiseSeparableCache(depthwise, pointwise)


def depthwise_separable_conv2d_backward(dout, cache: DepthwiseSeparableCache):
    """Backward pass of :func:`depthwise_separable_conv2d_forward`: through the pointwise step, then the depthwise one.

    Parameters
    ----------
    dout : ndarray of shape (N, F, OH, OW)
    cache : DepthwiseSeparableCache

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dw_depthwise : ndarray of shape (C * M, 1, KH, KW)
    db_depthwise : ndarray of shape (C * M,) or None
    dw_pointwise : ndarray of shape (F, C * M, 1, 1)
    db_pointwise : ndarray of shape (F,) or None
    """
    if not isinstance(cache, DepthwiseSeparableCache):
        raise TypeError(
            f"cache must be the DepthwiseSeparableCache that depthwise_separable_conv2d_forward returned, got {type(cache).__name__}"
        )
    dmiddle, dw_pointwise, db_pointwise = conv2d_backward(dout, cache.pointwise)
    dx, dw_depthwise, db_depthwise = conv2d_backward(dmiddle, cache.depthwise)
    return dx, dw_depthwise, db_depthwise, dw_pointwise, db_pointwise
