"""Max, average and global average pooling: forward and backward, with PyTorch's semantics.

Pooling has no parameters and works on each channel separately. Output size, per spatial axis:

    o = floor((i + 2p - k) / s) + 1          (ceil instead of floor with ``ceil_mode=True``)

and with ``ceil_mode`` the last window must start inside the input or its left padding, so ``o`` drops
by one when ``(o - 1) * s >= i + p``. As in PyTorch, ``stride`` defaults to ``kernel_size`` and
``padding`` may be at most half the kernel.

Each function loops over the KH*KW kernel offsets, not over pixels: every step is one array operation
on a strided slice of the padded input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_pair, require_ndim
from ._common import as_float_array

__all__ = [
    "MaxPool2dCache",
    "AvgPool2dCache",
    "GlobalAvgPoolCache",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "global_avg_pool_forward",
    "global_avg_pool_backward",
]


class MaxPool2dCache(NamedTuple):
    """What :func:`maxpool2d_backward` needs: where each maximum was."""

    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    dtype: np.dtype
    argmax: np.ndarray  # (N, C, OH, OW) int, the kernel offset kh * KW + kw of each window's maximum
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


class AvgPool2dCache(NamedTuple):
    """What :func:`avgpool2d_backward` needs: the shapes and each window's divisor."""

    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    dtype: np.dtype
    divisor: np.ndarray  # (OH, OW), what each window's sum was divided by
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


class GlobalAvgPoolCache(NamedTuple):
    """What :func:`global_avg_pool_backward` needs."""

    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    dtype: np.dtype


def _pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, ``floor`` or ``ceil`` of ``(i + 2p - k) / s``, plus one."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the right padding
    return out


def _check_pool(x, kernel_size, stride, padding, ceil_mode):
    """Validate pooling arguments; return them normalised, with the output size ``(OH, OW)``."""
    require_ndim(x, 4, "x", "(N, C, H, W)")
    kernel_size = as_pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel_size if stride is None else as_pair(stride, "stride", minimum=1)
    padding = as_pair(padding, "padding", minimum=0)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be a bool, got {type(ceil_mode).__name__} {ceil_mode!r}")
    out_size = []
    for axis, i, k, s, p in zip(("height", "width"), x.shape[2:], kernel_size, stride, padding):
        if 2 * p > k:
            raise ValueError(f"padding must be at most half the kernel size, expected <= {k // 2} for kernel_size {k}, got {p}")
        out = _pool_output_size(i, k, s, p, bool(ceil_mode))
        if out < 1:
            limit = f"< i + 2p + s = {i + 2 * p + s}" if ceil_mode else f"<= i + 2p = {i + 2 * p}"
            raise ValueError(f"kernel_size is larger than the padded input along the {axis}: expected {limit}, got {k}")
        out_size.append(out)
    return kernel_size, stride, padding, tuple(out_size)


def _padded_shape(x_shape, kernel_size, stride, padding, out_size) -> tuple[int, int, int, int]:
    """The padded input's shape: ``padding`` on the left and top, and on the right and bottom as much as
    the last window needs (more than ``padding`` when a ``ceil_mode`` window hangs off the end)."""
    N, C, H, W = x_shape
    (ph, pw), (sh, sw), (KH, KW), (OH, OW) = padding, stride, kernel_size, out_size
    return N, C, max(H + 2 * ph, (OH - 1) * sh + KH), max(W + 2 * pw, (OW - 1) * sw + KW)


def _padded(x: np.ndarray, kernel_size, stride, padding, out_size, fill: float) -> np.ndarray:
    """``x`` in a :func:`_padded_shape` array filled with ``fill``."""
    (ph, pw), (H, W) = padding, x.shape[2:]
    x_pad = np.full(_padded_shape(x.shape, kernel_size, stride, padding, out_size), fill, dtype=x.dtype)
    x_pad[:, :, ph : ph + H, pw : pw + W] = x
    return x_pad


def _offset_slices(kh: int, kw: int, stride, out_size):
    """Index, in the padded input, of the pixel at kernel offset ``(kh, kw)`` of every window."""
    (sh, sw), (OH, OW) = stride, out_size
    return (..., slice(kh, kh + sh * (OH - 1) + 1, sh), slice(kw, kw + sw * (OW - 1) + 1, sw))


def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Forward pass of 2D max pooling.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size : int or pair of ints
        Window size ``(KH, KW)``.
    stride : int or pair of ints, optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or pair of ints
        Implicit ``-inf`` on both sides, at most half the kernel.
    ceil_mode : bool
        Round the output size up, keeping a last window that hangs off the end.

    Returns
    -------
    out : ndarray of shape (N, C, OH, OW)
        The maximum of each window.
    cache : MaxPool2dCache
        For :func:`maxpool2d_backward`.

    Notes
    -----
    ``OH = floor((H + 2p - KH) / s) + 1`` (see the module docstring for ``ceil_mode``). Ties go to the
    first maximum in row-major order of the window and a NaN counts as a maximum, as in
    ``torch.nn.functional.max_pool2d``.
    """
    kernel_size, stride, padding, out_size = _check_pool(x, kernel_size, stride, padding, ceil_mode)
    x = as_float_array(x, "x")
    x_pad = _padded(x, kernel_size, stride, padding, out_size, -np.inf)
    (KH, KW), (sh, sw), (ph, pw), (OH, OW) = kernel_size, stride, padding, out_size
    # Before any comparison, a window's maximum is -inf at its first pixel inside the input (PyTorch's
    # start), so that a window of -inf values still sends its gradient to an input pixel.
    first_kh = np.maximum(0, ph - sh * np.arange(OH))[:, None]  # (OH, 1)
    first_kw = np.maximum(0, pw - sw * np.arange(OW))[None, :]  # (1, OW)
    argmax = np.broadcast_to(first_kh * KW + first_kw, (*x.shape[:2], OH, OW)).copy()
    out = np.full((*x.shape[:2], OH, OW), -np.inf, dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            value = x_pad[_offset_slices(kh, kw, stride, out_size)]  # (N, C, OH, OW)
            larger = (value > out) | np.isnan(value)  # strict '>': the first of equal maxima stays
            np.copyto(out, value, where=larger)
            np.copyto(argmax, kh * KW + kw, where=larger)
    return out, MaxPool2dCache(x.shape, x.dtype, argmax, kernel_size, stride, padding)


def maxpool2d_backward(dout, cache: MaxPool2dCache):
    """Backward pass of 2D max pooling: each window's gradient goes to its maximum.

    Parameters
    ----------
    dout : ndarray of shape (N, C, OH, OW)
    cache : MaxPool2dCache
        From :func:`maxpool2d_forward`.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        Zero except at the maxima; a pixel that is the maximum of several overlapping windows gets
        the sum of their gradients.
    """
    x_shape, dtype, argmax, kernel_size, stride, padding = cache
    dout = _check_dout(dout, argmax.shape, dtype)
    dx_pad = np.zeros(_padded_shape(x_shape, kernel_size, stride, padding, argmax.shape[2:]), dtype=dtype)
    for kh in range(kernel_size[0]):
        for kw in range(kernel_size[1]):
            dx_pad[_offset_slices(kh, kw, stride, argmax.shape[2:])] += np.where(argmax == kh * kernel_size[1] + kw, dout, 0)
    return _crop(dx_pad, x_shape, padding)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Forward pass of 2D average pooling.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size : int or pair of ints
        Window size ``(KH, KW)``.
    stride : int or pair of ints, optional
        Defaults to ``kernel_size``.
    padding : int or pair of ints
        Implicit zeros on both sides, at most half the kernel.
    ceil_mode : bool
        Round the output size up, keeping a last window that hangs off the end.
    count_include_pad : bool
        Whether the zero padding counts in a window's divisor (PyTorch's default, True).
    divisor_override : int, optional
        Divide every window's sum by this instead.

    Returns
    -------
    out : ndarray of shape (N, C, OH, OW)
    cache : AvgPool2dCache
        For :func:`avgpool2d_backward`.

    Notes
    -----
    ``OH = floor((H + 2p - KH) / s) + 1`` (see the module docstring for ``ceil_mode``). As in
    ``torch.nn.functional.avg_pool2d``, a window's divisor counts its pixels inside the padded input
    (``H + 2p``), or only those inside the input when ``count_include_pad=False``: the part of a
    ``ceil_mode`` window beyond the padding never counts.
    """
    kernel_size, stride, padding, out_size = _check_pool(x, kernel_size, stride, padding, ceil_mode)
    x = as_float_array(x, "x")
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"divisor_override must be a nonzero int or None, got {divisor_override!r}")
    x_pad = _padded(x, kernel_size, stride, padding, out_size, 0.0)
    total = np.zeros((*x.shape[:2], *out_size), dtype=x.dtype)
    for kh in range(kernel_size[0]):
        for kw in range(kernel_size[1]):
            total += x_pad[_offset_slices(kh, kw, stride, out_size)]
    if divisor_override is not None:
        divisor = np.full(out_size, divisor_override, dtype=x.dtype)
    else:
        divisor = np.outer(*(
            _window_counts(i, k, s, p, o, count_include_pad)
            for i, k, s, p, o in zip(x.shape[2:], kernel_size, stride, padding, out_size)
        )).astype(x.dtype)
    return total / divisor, AvgPool2dCache(x.shape, x.dtype, divisor, kernel_size, stride, padding)


def _window_counts(size: int, kernel: int, stride: int, padding: int, out: int, count_include_pad: bool) -> np.ndarray:
    """Along one axis, how many of each window's ``kernel`` pixels count in its divisor, shape ``(out,)``."""
    start = stride * np.arange(out) - padding  # in input coordinates
    end = np.minimum(start + kernel, size + padding)  # a ceil_mode window stops at the padding
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avgpool2d_backward(dout, cache: AvgPool2dCache):
    """Backward pass of 2D average pooling: each window spreads its gradient evenly.

    Parameters
    ----------
    dout : ndarray of shape (N, C, OH, OW)
    cache : AvgPool2dCache
        From :func:`avgpool2d_forward`.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        Each pixel gets ``dout / divisor`` from every window that covers it.
    """
    x_shape, dtype, divisor, kernel_size, stride, padding = cache
    dout = _check_dout(dout, (*x_shape[:2], *divisor.shape), dtype)
    share = dout / divisor  # (N, C, OH, OW)
    dx_pad = np.zeros(_padded_shape(x_shape, kernel_size, stride, padding, divisor.shape), dtype=dtype)
    for kh in range(kernel_size[0]):
        for kw in range(kernel_size[1]):
            dx_pad[_offset_slices(kh, kw, stride, divisor.shape)] += share
    return _crop(dx_pad, x_shape, padding)


def global_avg_pool_forward(x):
    """Forward pass of global average pooling: one mean per image and channel.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)

    Returns
    -------
    out : ndarray of shape (N, C)
        ``x.mean(axis=(2, 3))``, PyTorch's ``adaptive_avg_pool2d(x, 1).flatten(1)``.
    cache : GlobalAvgPoolCache
    """
    require_ndim(x, 4, "x", "(N, C, H, W)")
    x = as_float_array(x, "x")
    return x.mean(axis=(2, 3)), GlobalAvgPoolCache(x.shape, x.dtype)


def global_avg_pool_backward(dout, cache: GlobalAvgPoolCache):
    """Backward pass of global average pooling.

    Parameters
    ----------
    dout : ndarray of shape (N, C)
    cache : GlobalAvgPoolCache

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        ``dout / (H * W)`` at every pixel.
    """
    x_shape, dtype = cache
    dout = _check_dout(dout, x_shape[:2], dtype)
    dx = np.empty(x_shape, dtype=dtype)
    dx[...] = (dout / (x_shape[2] * x_shape[3]))[:, :, None, None]
    return dx


def _check_dout(dout, shape, dtype) -> np.ndarray:
    """``dout`` checked against the forward output's ``shape``, in the working ``dtype``."""
    require_ndim(dout, len(shape), "dout", f"{tuple(shape)}")
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must have the forward output's shape {tuple(shape)}, got {dout.shape}")
    return dout.astype(dtype, copy=False)


def _crop(x_pad: np.ndarray, x_shape, padding) -> np.ndarray:
    """The input region of a padded gradient."""
    (ph, pw), (H, W) = padding, x_shape[2:]
    return x_pad[:, :, ph : ph + H, pw : pw + W].copy()
