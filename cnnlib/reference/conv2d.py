"""The 2D convolution layer (a cross-correlation, as in PyTorch): forward and backward.

Two versions compute the same thing:

- :func:`conv2d_forward_naive` / :func:`conv2d_backward_naive`: loops over images, filters and output
  positions that read like the formula

      out[n, f, i, j] = b[f] + sum_{c, m, k} x_pad[n, g*C_g + c, i*s + m*d, j*s + k*d] * w[f, c, m, k]

  (``g`` the group of filter ``f``, ``C_g = C // groups`` its input channels);
- :func:`conv2d_forward` / :func:`conv2d_backward`: the fast default. It lays the input out as
  columns (im2col), so that the layer becomes a matrix multiply per group, done by BLAS; a large
  batch is processed a few images at a time so that the columns stay in the CPU cache
  (:data:`COLUMNS_BYTES`).

Both share one cache type, so either backward accepts either forward's cache.

:func:`im2col` and :func:`col2im` are the public column transforms, with the layout of
``torch.nn.functional.unfold`` and ``fold``.

Output size, per spatial axis: ``o = floor((i + 2p - d(k-1) - 1) / s) + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_int, as_pair, require_ndim, require_shape_match
from ._common import as_float_array, float_dtype

__all__ = [
    "Conv2dCache",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "im2col",
    "col2im",
]

#: The size, in bytes, of the im2col columns that the fast convolution builds at a time (a few
#: MB: they stay in the CPU cache between being written and being multiplied).
COLUMNS_BYTES = 4 * 2**20


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` needs from the forward pass."""

    x: np.ndarray  # (N, C, H, W), in the working dtype
    w: np.ndarray  # (F, C // groups, KH, KW)
    has_bias: bool
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    cols: np.ndarray | None  # (groups, C // groups * KH * KW, N * OH * OW) when the batch was one slice, else None


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """``floor((i + 2p - d(k-1) - 1) / s) + 1``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _check_kernel_fits(spatial, kernel_size, padding, dilation, name: str) -> tuple[int, int]:
    """The output size ``(OH, OW)``, or a ``ValueError`` when the (dilated) kernel exceeds the padded input."""
    out = []
    for axis, i, k, p, d in zip(("height", "width"), spatial, kernel_size, padding, dilation):
        effective = d * (k - 1) + 1
        if effective > i + 2 * p:
            raise ValueError(
                f"{name} is larger than the padded input along the {axis}: expected an effective kernel size "
                f"d*(k-1)+1 <= i + 2p = {i} + 2*{p} = {i + 2 * p}, got {effective} (k={k}, d={d})"
            )
        out.append(_output_size(i, k, 1, p, d))
    return out[0], out[1]


def _check_conv2d(x, w, b, stride, padding, dilation, groups):
    """Validate a convolution's arguments; return them normalised, with the working dtype and output size."""
    require_ndim(x, 4, "x", "(N, C, H, W)")
    require_ndim(w, 4, "w", "(F, C // groups, KH, KW)")
    if b is not None:
        require_ndim(b, 1, "b", "(F,)")
    stride = as_pair(stride, "stride", minimum=1)
    padding = as_pair(padding, "padding", minimum=0)
    dilation = as_pair(dilation, "dilation", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    N, C, H, W = x.shape
    F, C_g, KH, KW = w.shape
    if C % groups:
        raise ValueError(f"groups must divide the input channels: x has C={C} channels, got groups={groups}")
    if F % groups:
        raise ValueError(f"groups must divide the number of filters: w has F={F} filters, got groups={groups}")
    if C_g * groups != C:
        raise ValueError(
            f"w.shape[1] must be the input channels per group, C // groups = {C} // {groups} = {C // groups} "
            f"(x has shape {x.shape}, groups={groups}), got w of shape {w.shape}"
        )
    if b is not None:
        require_shape_match(b.shape[0], F, f"b must have one entry per filter, shape ({F},) for w of shape {w.shape}; length")
    if KH < 1 or KW < 1:
        raise ValueError(f"w must have a kernel of at least 1x1, got shape {w.shape}")
    OH, OW = _check_kernel_fits((H, W), (KH, KW), padding, dilation, "the kernel")
    OH = (OH - 1) // stride[0] + 1
    OW = (OW - 1) // stride[1] + 1
    return stride, padding, dilation, groups, float_dtype(x, w, b), (OH, OW)


def _window_slices(kh: int, kw: int, stride, dilation, out_size):
    """Index of the input pixels that kernel offset ``(kh, kw)`` meets, one per output position."""
    (sh, sw), (dh, dw), (OH, OW) = stride, dilation, out_size
    return (
        slice(kh * dh, kh * dh + sh * (OH - 1) + 1, sh),
        slice(kw * dw, kw * dw + sw * (OW - 1) + 1, sw),
    )


def _unfold_into(out, x_pad, kernel_size, stride, dilation, out_size) -> None:
    """Copy the windows of ``x_pad (..., Hp, Wp)`` into ``out (..., KH, KW, OH, OW)``.

    One strided copy per kernel offset, so the work is KH*KW large copies, not a loop over pixels.
    """
    for kh in range(kernel_size[0]):
        for kw in range(kernel_size[1]):
            out[..., kh, kw, :, :] = x_pad[(..., *_window_slices(kh, kw, stride, dilation, out_size))]


def _fold_add(x_pad, cols, kernel_size, stride, dilation, out_size) -> None:
    """Add ``cols (..., KH, KW, OH, OW)`` back onto the pixels they came from in ``x_pad (..., Hp, Wp)``.

    Overlapping windows add up; looping over kernel offsets (not pixels) keeps every addition a
    strided array operation, with no ``np.add.at``.
    """
    for kh in range(kernel_size[0]):
        for kw in range(kernel_size[1]):
            x_pad[(..., *_window_slices(kh, kw, stride, dilation, out_size))] += cols[..., kh, kw, :, :]


def im2col(x, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Lay out every (padded, dilated) window of ``x`` as a column, as ``torch.nn.functional.unfold``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Input images.
    kernel_size, stride, padding, dilation : int or pair of ints
        As for a convolution; ``padding`` is zeros on both sides.

    Returns
    -------
    cols : ndarray of shape (N, C * KH * KW, L)
        ``L = OH * OW`` windows in row-major order; row ``(c * KH + m) * KW + k`` holds pixel
        ``(m, k)`` of channel ``c`` of each window.

    Notes
    -----
    ``OH = floor((H + 2p - d(KH-1) - 1) / s) + 1``, and likewise ``OW``. A convolution is then
    ``w.reshape(F, -1) @ cols``.
    """
    require_ndim(x, 4, "x", "(N, C, H, W)")
    kernel_size = as_pair(kernel_size, "kernel_size", minimum=1)
    stride = as_pair(stride, "stride", minimum=1)
    padding = as_pair(padding, "padding", minimum=0)
    dilation = as_pair(dilation, "dilation", minimum=1)
    x = as_float_array(x, "x")
    N, C, H, W = x.shape
    OH, OW = _check_kernel_fits((H, W), kernel_size, padding, dilation, "kernel_size")
    out_size = ((OH - 1) // stride[0] + 1, (OW - 1) // stride[1] + 1)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    cols = np.empty((N, C, *kernel_size, *out_size), dtype=x.dtype)
    _unfold_into(cols, x_pad, kernel_size, stride, dilation, out_size)
    return cols.reshape(N, C * kernel_size[0] * kernel_size[1], out_size[0] * out_size[1])


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Sum columns back into images, as ``torch.nn.functional.fold`` (the adjoint of :func:`im2col`).

    Parameters
    ----------
    cols : ndarray of shape (N, C * KH * KW, L)
        One column per window, in :func:`im2col`'s layout.
    output_size : int or pair of ints
        ``(H, W)``, the size of the images before padding.
    kernel_size, stride, padding, dilation : int or pair of ints
        As for :func:`im2col`.

    Returns
    -------
    x : ndarray of shape (N, C, H, W)
        Each pixel holds the sum of every column entry that was copied from it (so
        ``col2im(im2col(x))`` is ``x`` times the number of windows covering each pixel).

    Notes
    -----
    ``L`` must equal ``OH * OW`` with ``OH = floor((H + 2p - d(KH-1) - 1) / s) + 1``.
    """
    require_ndim(cols, 3, "cols", "(N, C * KH * KW, L)")
    output_size = as_pair(output_size, "output_size", minimum=1)
    kernel_size = as_pair(kernel_size, "kernel_size", minimum=1)
    stride = as_pair(stride, "stride", minimum=1)
    padding = as_pair(padding, "padding", minimum=0)
    dilation = as_pair(dilation, "dilation", minimum=1)
    cols = as_float_array(cols, "cols")
    N, CKK, L = cols.shape
    KK = kernel_size[0] * kernel_size[1]
    if CKK % KK:
        raise ValueError(
            f"cols.shape[1] must be C * KH * KW, a multiple of {KK} for kernel_size {kernel_size}, got {CKK}"
        )
    OH, OW = _check_kernel_fits(output_size, kernel_size, padding, dilation, "kernel_size")
    out_size = ((OH - 1) // stride[0] + 1, (OW - 1) // stride[1] + 1)
    require_shape_match(L, out_size[0] * out_size[1], f"cols.shape[2] must be the number of windows OH*OW = {out_size[0]}*{out_size[1]}; cols.shape[2]")
    C = CKK // KK
    H, W = output_size
    (ph, pw) = padding
    x_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    _fold_add(x_pad, cols.reshape(N, C, *kernel_size, *out_size), kernel_size, stride, dilation, out_size)
    return x_pad[:, :, ph : ph + H, pw : pw + W].copy()


def _pad_batch_last(x: np.ndarray, padding, dtype) -> np.ndarray:
    """``x (N, C, H, W)`` as ``(C, H + 2ph, W + 2pw, N)``, zero-padded.

    The batch goes innermost so that each window copy in :func:`_conv_columns` and each addition
    in the backward pass moves runs of ``OW * N`` numbers, not ``OW``: for LeNet-sized layers
    (OW = 10) that makes the copies several times faster.
    """
    ph, pw = padding
    N, C, H, W = x.shape
    x_pad = np.zeros((C, H + 2 * ph, W + 2 * pw, N), dtype=dtype)
    x_pad[:, ph : ph + H, pw : pw + W, :] = x.transpose(1, 2, 3, 0)
    return x_pad


def _conv_columns(x, kernel_size, stride, padding, dilation, groups, out_size, dtype) -> np.ndarray:
    """im2col in the layout the fast convolution multiplies: ``(groups, C // groups * KH * KW, OH * OW * N)``.

    Channels first and the batch folded into the columns (innermost), so that each group is one
    large matrix multiply rather than N small ones.
    """
    N, C = x.shape[:2]
    KH, KW = kernel_size
    x_pad = _pad_batch_last(x, padding, dtype)  # (C, Hp, Wp, N)
    cols = np.empty((C, KH, KW, *out_size, N), dtype=dtype)
    for kh in range(KH):
        for kw in range(KW):
            cols[:, kh, kw] = x_pad[(slice(None), *_window_slices(kh, kw, stride, dilation, out_size))]
    return cols.reshape(groups, C // groups * KH * KW, out_size[0] * out_size[1] * N)


def _batch_chunks(N: int, C: int, kernel_size, out_size, itemsize: int):
    """Slices of the batch whose columns take about :data:`COLUMNS_BYTES` each (at least one image per slice)."""
    per_image = C * kernel_size[0] * kernel_size[1] * out_size[0] * out_size[1] * itemsize
    step = max(1, COLUMNS_BYTES // per_image)
    return [slice(start, min(start + step, N)) for start in range(0, N, step)]


def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2D convolution layer (cross-correlation), via im2col and one matrix multiply per group.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Input images.
    w : ndarray of shape (F, C // groups, KH, KW)
        Filters, PyTorch's ``(C_out, C_in / groups, kH, kW)``.
    b : ndarray of shape (F,) or None
        One bias per filter, or no bias.
    stride : int or pair of ints, >= 1
    padding : int or pair of ints, >= 0
        Zeros added on both sides of each spatial axis.
    dilation : int or pair of ints, >= 1
        Spacing between kernel taps.
    groups : int, >= 1
        Input and output channels are split into ``groups`` blocks; filter block ``g`` sees only
        input block ``g``. Must divide both C and F.

    Returns
    -------
    out : ndarray of shape (N, F, OH, OW)
        In the inputs' dtype (float32 stays float32; integers compute in float64).
    cache : Conv2dCache
        For :func:`conv2d_backward`.

    Notes
    -----
    ``OH = floor((H + 2p - d(KH-1) - 1) / s) + 1``, and likewise ``OW``. Equal to
    ``torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups)``.

    The columns of a large batch would not fit in the CPU cache, and writing them to memory and
    reading them back costs as much as the multiply; so the batch is processed in slices whose
    columns take about :data:`COLUMNS_BYTES` (the whole batch at once when it is small).
    """
    stride, padding, dilation, groups, dtype, out_size = _check_conv2d(x, w, b, stride, padding, dilation, groups)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    N, C = x.shape[:2]
    F, C_g, KH, KW = w.shape
    w_g = w.reshape(groups, F // groups, C_g * KH * KW)
    out = np.empty((N, F, *out_size), dtype=dtype)
    chunks = _batch_chunks(N, C, (KH, KW), out_size, dtype.itemsize)
    for chunk in chunks:
        cols = _conv_columns(x[chunk], (KH, KW), stride, padding, dilation, groups, out_size, dtype)  # (G, C_g*KH*KW, L*n)
        out_t = (w_g @ cols).reshape(F, *out_size, -1)  # (F, OH, OW, n)
        out[chunk] = out_t.transpose(3, 0, 1, 2)
    if b is not None:
        out += b.astype(dtype, copy=False)[:, None, None]
    kept_cols = cols if len(chunks) == 1 else None  # small enough to keep for the backward pass
    return out, Conv2dCache(x, w, b is not None, stride, padding, dilation, groups, kept_cols)


def _check_dout(dout, cache: Conv2dCache) -> np.ndarray:
    """``dout`` checked against the output shape the cached forward produced, in the working dtype."""
    N, _, H, W = cache.x.shape
    F, _, KH, KW = cache.w.shape
    OH = _output_size(H, KH, cache.stride[0], cache.padding[0], cache.dilation[0])
    OW = _output_size(W, KW, cache.stride[1], cache.padding[1], cache.dilation[1])
    require_ndim(dout, 4, "dout", "(N, F, OH, OW)")
    if dout.shape != (N, F, OH, OW):
        raise ValueError(f"dout must have the forward output's shape {(N, F, OH, OW)}, got {dout.shape}")
    return dout.astype(cache.x.dtype, copy=False)


def conv2d_backward(dout, cache: Conv2dCache):
    """Backward pass of :func:`conv2d_forward` (or :func:`conv2d_forward_naive`), by matrix multiplies and col2im.

    Parameters
    ----------
    dout : ndarray of shape (N, F, OH, OW)
        Gradient of the loss with respect to the layer's output.
    cache : Conv2dCache
        From the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        ``col2im(w^T @ dout)``: a full cross-correlation of ``dout`` with the flipped filters
        (a transposed convolution).
    dw : ndarray of shape (F, C // groups, KH, KW)
        ``dout @ cols^T``: the input cross-correlated with ``dout``, summed over the batch.
    db : ndarray of shape (F,) or None
        ``dout`` summed over batch and space; None when the forward had no bias.

    Notes
    -----
    When the forward pass split the batch into slices, the columns are rebuilt slice by slice here:
    rebuilding them in cache is cheaper than storing all of them in memory and reading them back.
    """
    x, w, has_bias, stride, padding, dilation, groups, kept_cols = cache
    dout = _check_dout(dout, cache)
    N, C, H, W = x.shape
    F, C_g, KH, KW = w.shape
    (ph, pw), out_size = padding, dout.shape[2:]
    w_g = w.reshape(groups, F // groups, C_g * KH * KW)
    dw = np.zeros_like(w_g)  # (G, F_g, C_g*KH*KW)
    dx = np.empty_like(x)
    for chunk in _batch_chunks(N, C, (KH, KW), out_size, x.dtype.itemsize):
        x_chunk = x[chunk]
        n = x_chunk.shape[0]
        if kept_cols is not None and n == N:
            cols = kept_cols
        else:
            cols = _conv_columns(x_chunk, (KH, KW), stride, padding, dilation, groups, out_size, x.dtype)
        dout_g = dout[chunk].transpose(1, 2, 3, 0).reshape(groups, F // groups, -1)  # (G, F_g, L*n)
        dw += dout_g @ cols.transpose(0, 2, 1)
        dcols = (w_g.transpose(0, 2, 1) @ dout_g).reshape(C, KH, KW, *out_size, n)
        # col2im with the batch innermost: add each kernel offset's columns back onto its pixels
        dx_pad = np.zeros((C, H + 2 * ph, W + 2 * pw, n), dtype=x.dtype)
        for kh in range(KH):
            for kw in range(KW):
                dx_pad[(slice(None), *_window_slices(kh, kw, stride, dilation, out_size))] += dcols[:, kh, kw]
        dx[chunk] = dx_pad[:, ph : ph + H, pw : pw + W, :].transpose(3, 0, 1, 2)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw.reshape(F, C_g, KH, KW), db


def conv2d_forward_naive(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2D convolution layer, written as loops over images, filters and output pixels.

    The same arguments, result and cache type as :func:`conv2d_forward`, many times slower: it is
    here to be read next to the formula, and to check the fast version.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    w : ndarray of shape (F, C // groups, KH, KW)
    b : ndarray of shape (F,) or None
    stride, padding, dilation : int or pair of ints
    groups : int

    Returns
    -------
    out : ndarray of shape (N, F, OH, OW)
    cache : Conv2dCache
        The same as :func:`conv2d_forward`'s; either backward accepts it.

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum(x_pad[n, channels of f's group, i*s + m*d, j*s + k*d] * w[f])``,
    with ``OH = floor((H + 2p - d(KH-1) - 1) / s) + 1``.
    """
    stride, padding, dilation, groups, dtype, (OH, OW) = _check_conv2d(x, w, b, stride, padding, dilation, groups)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    N = x.shape[0]
    F, C_g, KH, KW = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((N, F, OH, OW), dtype=dtype)
    for n in range(N):
        for f in range(F):
            g = f // (F // groups)  # the group filter f belongs to
            channels = slice(g * C_g, (g + 1) * C_g)
            for i in range(OH):
                for j in range(OW):
                    window = x_pad[n, channels, i * sh : i * sh + dh * (KH - 1) + 1 : dh, j * sw : j * sw + dw * (KW - 1) + 1 : dw]
                    out[n, f, i, j] = np.sum(window * w[f]) + (b[f] if b is not None else 0)
    return out, Conv2dCache(x, w, b is not None, stride, padding, dilation, groups, None)


def conv2d_backward_naive(dout, cache: Conv2dCache):
    """Backward pass of a 2D convolution layer, as loops: each output's gradient flows back through its window.

    Parameters
    ----------
    dout : ndarray of shape (N, F, OH, OW)
    cache : Conv2dCache
        From either forward.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dw : ndarray of shape (F, C // groups, KH, KW)
    db : ndarray of shape (F,) or None

    Notes
    -----
    For each output ``(n, f, i, j)`` with window ``x_pad[n, channels, rows, cols]``:
    ``dx_pad[window] += dout[n, f, i, j] * w[f]`` and ``dw[f] += dout[n, f, i, j] * window``.
    """
    x, w, has_bias, (sh, sw), (ph, pw), (dh, dw_), groups, _ = cache
    dout = _check_dout(dout, cache)
    N, C, H, W = x.shape
    F, C_g, KH, KW = w.shape
    OH, OW = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            g = f // (F // groups)
            channels = slice(g * C_g, (g + 1) * C_g)
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * sh, i * sh + dh * (KH - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw_ * (KW - 1) + 1, dw_)
                    dx_pad[n, channels, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, channels, rows, cols]
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx_pad[:, :, ph : ph + H, pw : pw + W].copy(), dw, db
