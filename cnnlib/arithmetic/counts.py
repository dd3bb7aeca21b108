"""Parameter counts, multiply-accumulates and activation memory of convolutional layers.

    >>> conv_param_count(3, 10, 5)          # ten 5x5 filters on an RGB input
    760
    >>> fc_param_count(32 * 32 * 3, 10)
    30730
"""

from __future__ import annotations

import math

from cnnlib._validate import as_int, as_pair
from cnnlib.arithmetic.sizes import conv_output_size

__all__ = [
    "conv_param_count", "fc_param_count", "locally_connected_param_count", "conv_macs", "activation_memory",
]


def _as_bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value


def _channels_per_group(in_channels, out_channels, groups) -> int:
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    out_channels = as_int(out_channels, "out_channels", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{name} must be divisible by groups={groups}, got {name}={channels}")
    return in_channels // groups


def conv_param_count(in_channels, out_channels, kernel_size, bias=True, groups=1) -> int:
    """Number of learnable parameters of a 2D convolution, as ``sum(p.numel())`` of ``nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        ``D_in`` and ``D_out``, each ``>= 1`` and divisible by ``groups``.
    kernel_size : int or (int, int)
        ``K`` for a ``K x K`` kernel, or ``(KH, KW)``.
    bias : bool
        One bias per output channel, shared by every position.
    groups : int
        Each output channel sees ``D_in / groups`` input channels.

    Returns
    -------
    int

    Notes
    -----
    .. math:: (K_H K_W D_{in} / g + 1) D_{out}

    (without the ``+ 1`` when ``bias=False``). The count does not depend on the input size, the
    stride or the padding: the same weights are applied at every position.
    """
    per_group = _channels_per_group(in_channels, out_channels, groups)
    kernel_h, kernel_w = as_pair(kernel_size, "kernel_size", minimum=1)
    return (kernel_h * kernel_w * per_group + _as_bool(bias, "bias")) * int(out_channels)


def fc_param_count(in_features, out_features, bias=True) -> int:
    """Number of learnable parameters of a fully connected layer, as ``nn.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Each ``>= 1``.
    bias : bool

    Returns
    -------
    int
        ``(in_features + 1) * out_features``, without the ``+ 1`` when ``bias=False``.
    """
    in_features = as_int(in_features, "in_features", minimum=1)
    out_features = as_int(out_features, "out_features", minimum=1)
    return (in_features + _as_bool(bias, "bias")) * out_features


def locally_connected_param_count(in_channels, out_channels, input_size, kernel_size, stride=1, bias=True) -> int:
    """Number of parameters of a locally connected layer: a convolution without weight sharing.

    Parameters
    ----------
    in_channels, out_channels : int
        Each ``>= 1``.
    input_size : int or (int, int)
        Spatial input size ``(H, W)``; no padding.
    kernel_size, stride : int or (int, int)
    bias : bool
        One bias per output unit (per position and channel), since nothing is shared.

    Returns
    -------
    int

    Notes
    -----
    Every output position ``(i, j)`` of the ``H' x W'`` map has its own filters:

    .. math:: H' W' (K_H K_W D_{in} + 1) D_{out}

    with ``H', W'`` from :func:`conv_output_size`. Unlike a convolution, the count grows with the
    input size.
    """
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    out_channels = as_int(out_channels, "out_channels", minimum=1)
    out_h, out_w = as_pair(conv_output_size(input_size, kernel_size, stride), "output size")
    kernel_h, kernel_w = as_pair(kernel_size, "kernel_size", minimum=1)
    return out_h * out_w * (kernel_h * kernel_w * in_channels + _as_bool(bias, "bias")) * out_channels


def conv_macs(in_channels, out_channels, kernel_size, output_size, groups=1) -> int:
    """Multiply-accumulate operations of one forward pass of a 2D convolution, for one example.

    Parameters
    ----------
    in_channels, out_channels : int
        Each ``>= 1`` and divisible by ``groups``.
    kernel_size : int or (int, int)
    output_size : int or (int, int)
        Spatial output size ``(H', W')``, e.g. from :func:`conv_output_size`.
    groups : int

    Returns
    -------
    int

    Notes
    -----
    Each of the ``H' W' D_out`` outputs sums ``K_H K_W D_in / g`` products:

    .. math:: H' W' D_{out} K_H K_W D_{in} / g

    The bias additions are not counted; FLOPs are usually quoted as ``2 x`` MACs. Multiply by the
    batch size for a mini-batch.
    """
    per_group = _channels_per_group(in_channels, out_channels, groups)
    kernel_h, kernel_w = as_pair(kernel_size, "kernel_size", minimum=1)
    out_h, out_w = as_pair(output_size, "output_size", minimum=1)
    return out_h * out_w * int(out_channels) * kernel_h * kernel_w * per_group


def activation_memory(shape, dtype_bytes=4) -> int:
    """Bytes needed to store one activation tensor.

    Parameters
    ----------
    shape : sequence of int
        The tensor's shape, e.g. ``(N, C, H, W)``; each entry ``>= 0``.
    dtype_bytes : int
        Bytes per element: 4 for float32 (the default), 8 for float64, 2 for float16.

    Returns
    -------
    int
        ``prod(shape) * dtype_bytes``.

    Notes
    -----
    Training keeps every layer's activations for the backward pass, so a network's activation
    memory grows with the batch size while its parameter memory does not.
    """
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of ints, got {type(shape).__name__} {shape!r}")
    sizes = [as_int(size, f"shape[{axis}]", minimum=0) for axis, size in enumerate(shape)]
    return math.prod(sizes) * as_int(dtype_bytes, "dtype_bytes", minimum=1)
