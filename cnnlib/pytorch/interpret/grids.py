"""Many small pictures as one: filters and feature maps tiled into a grid for ``imshow``.

A layer's filters ``(K, C, kh, kw)`` or a stack of feature maps ``(K, h, w)`` are ``K`` small
images; :func:`tile` lays them out in rows with a gap between them, :func:`filter_grid` first
scales each RGB filter to the [0, 1] range that ``imshow`` shows.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlib._validate import as_int

__all__ = ["filter_grid", "tile"]


def tile(images, ncols: int | None = None, *, pad: int = 1, pad_value: float = np.nan) -> np.ndarray:
    """Lay ``K`` images out in a grid, row by row.

    Parameters
    ----------
    images : array of shape (K, h, w) or (K, h, w, 3)
        Grey maps or RGB pictures (channels last, as ``imshow`` takes them).
    ncols : int, optional
        Images per row; by default about ``sqrt(K)``.
    pad : int
        Pixels between neighbouring images.
    pad_value : float
        The value of the gaps (NaN: ``imshow`` leaves them blank).

    Returns
    -------
    ndarray of shape (rows * (h + pad) - pad, ncols * (w + pad) - pad[, 3]), float64
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (3, 4)) or len(images) == 0:
        raise ValueError(f"images must have shape (K, h, w) or (K, h, w, 3) with K >= 1, got {images.shape}")
    count, height, width = images.shape[:3]
    ncols = math.ceil(math.sqrt(count)) if ncols is None else as_int(ncols, "ncols", minimum=1)
    pad = as_int(pad, "pad", minimum=0)
    rows = math.ceil(count / ncols)
    grid = np.full((rows * (height + pad) - pad, ncols * (width + pad) - pad) + images.shape[3:], pad_value)
    for k, image in enumerate(images):
        top, left = (k // ncols) * (height + pad), (k % ncols) * (width + pad)
        grid[top : top + height, left : left + width] = image
    return grid


def filter_grid(weight, ncols: int | None = None, *, pad: int = 1) -> np.ndarray:
    """First-layer filters as one RGB picture, each filter scaled on its own to [0, 1].

    Parameters
    ----------
    weight : array or Tensor of shape (K, 3, kh, kw)
        The kernels of a convolution on RGB images (``conv.weight``).
    ncols : int, optional
        Filters per row.
    pad : int
        Pixels between filters (white).

    Returns
    -------
    ndarray of shape (H, W, 3), values in [0, 1]

    Notes
    -----
    Each filter is mapped linearly so that its own smallest weight is black and largest white, which
    shows its pattern (an edge, a colour blob) but not how strong it is compared with the others.
    """
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 4 or weight.shape[1] != 3:
        raise ValueError(f"weight must have shape (K, 3, kh, kw): filters on RGB images, got {weight.shape}")
    low = weight.min(axis=(1, 2, 3), keepdims=True)
    span = weight.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = (weight - low) / np.where(span > 0, span, 1)
    return tile(scaled.transpose(0, 2, 3, 1), ncols, pad=pad, pad_value=1.0)
