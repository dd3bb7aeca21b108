"""Cross-correlation and true convolution of one signal or one image (notebook 01).

A deep-learning "convolution" layer computes a cross-correlation,

    S(i, j) = sum_m sum_n I(i + m, j + n) K(m, n),

while true convolution flips the kernel,

    S(i, j) = sum_m sum_n I(i - m, j - n) K(m, n),

so ``convolve2d(image, kernel) == cross_correlate2d(image, kernel[::-1, ::-1])`` in every mode.
Convolution commutes (in "full" mode, ``convolve1d(x, w) == convolve1d(w, x)``); cross-correlation
does not.

Modes, for a signal of length ``n`` and a kernel of length ``k`` (per axis in 2D):

- ``"valid"``: only positions where the kernel lies inside the signal, length ``n - k + 1``;
- ``"full"``: every position where kernel and signal overlap, length ``n + k - 1``;
- ``"same"``: the centre of the full output, length ``n``, starting at index ``(k - 1) // 2`` of
  the full output, as ``numpy.convolve`` and ``scipy.signal.correlate`` do. For odd ``k`` this is
  PyTorch's ``padding="same"``; for even ``k`` PyTorch's cross-correlation starts one step later.
"""

from __future__ import annotations

import numpy as np

from ._common import as_float_array, float_dtype

__all__ = ["cross_correlate1d", "convolve1d", "cross_correlate2d", "convolve2d"]

_MODES = ("valid", "full", "same")


def _check_mode(mode) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    return mode


def _pad_for_mode(x: np.ndarray, kernel_shape: tuple[int, ...], mode: str, names: tuple[str, str]) -> np.ndarray:
    """``x`` zero-padded so that a valid cross-correlation gives the ``mode`` output (before any crop)."""
    if mode == "valid":
        for axis, (n, k) in enumerate(zip(x.shape, kernel_shape)):
            if k > n:
                raise ValueError(
                    f"{names[1]} is larger than {names[0]} along axis {axis} in mode 'valid': "
                    f"expected a kernel size <= {n}, got {k} ({names[0]} shape {x.shape}, {names[1]} shape {kernel_shape})"
                )
        return x
    return np.pad(x, [(k - 1, k - 1) for k in kernel_shape])


def _crop_same(full: np.ndarray, input_shape: tuple[int, ...], kernel_shape: tuple[int, ...]) -> np.ndarray:
    """The centre of a full output: ``input_shape`` elements from ``(k - 1) // 2`` on each axis."""
    index = tuple(slice((k - 1) // 2, (k - 1) // 2 + n) for n, k in zip(input_shape, kernel_shape))
    return full[index]


def cross_correlate1d(x, w, mode: str = "valid") -> np.ndarray:
    """Cross-correlate a 1D signal with a kernel: ``s(t) = sum_a x(t + a) w(a)``.

    Parameters
    ----------
    x : ndarray of shape (n,)
        The signal.
    w : ndarray of shape (k,)
        The kernel.
    mode : {"valid", "full", "same"}
        Which outputs to keep (see the module docstring).

    Returns
    -------
    out : ndarray of shape (n - k + 1,), (n + k - 1,) or (n,)
        For "valid", "full" and "same" respectively.

    Examples
    --------
    >>> cross_correlate1d(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, -1.0]))
    array([-1., -1., -1.])
    """
    dtype = float_dtype(x, w)
    x = as_float_array(x, "x", 1, "(n,)", dtype)
    w = as_float_array(w, "w", 1, "(k,)", dtype)
    mode = _check_mode(mode)
    xp = _pad_for_mode(x, w.shape, mode, ("x", "w"))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[0])  # (L, k)
    out = windows @ w  # (L,)
    return _crop_same(out, x.shape, w.shape) if mode == "same" else out


def convolve1d(x, w, mode: str = "valid") -> np.ndarray:
    """Convolve a 1D signal with a kernel: ``s(t) = sum_a x(a) w(t - a)``.

    The same as :func:`cross_correlate1d` with the kernel reversed.

    Parameters
    ----------
    x : ndarray of shape (n,)
        The signal.
    w : ndarray of shape (k,)
        The kernel.
    mode : {"valid", "full", "same"}
        Which outputs to keep (see the module docstring).

    Returns
    -------
    out : ndarray of shape (n - k + 1,), (n + k - 1,) or (n,)
        For "valid", "full" and "same" respectively; equal to ``numpy.convolve(x, w, mode)``
        whenever ``k <= n``.
    """
    w = as_float_array(w, "w", 1, "(k,)", float_dtype(x, w))
    return cross_correlate1d(x, w[::-1], mode)


def cross_correlate2d(image, kernel, mode: str = "valid") -> np.ndarray:
    """Cross-correlate an image with a kernel: ``S(i, j) = sum_m sum_n I(i + m, j + n) K(m, n)``.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        One single-channel image.
    kernel : ndarray of shape (KH, KW)
        The kernel.
    mode : {"valid", "full", "same"}
        Which outputs to keep (see the module docstring).

    Returns
    -------
    out : ndarray
        Of shape ``(H - KH + 1, W - KW + 1)`` ("valid"), ``(H + KH - 1, W + KW - 1)`` ("full")
        or ``(H, W)`` ("same").

    Notes
    -----
    In "valid" mode this is ``F.conv2d(image[None, None], kernel[None, None])[0, 0]``.
    """
    dtype = float_dtype(image, kernel)
    image = as_float_array(image, "image", 2, "(H, W)", dtype)
    kernel = as_float_array(kernel, "kernel", 2, "(KH, KW)", dtype)
    mode = _check_mode(mode)
    padded = _pad_for_mode(image, kernel.shape, mode, ("image", "kernel"))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)  # (OH, OW, KH, KW)
    out = np.tensordot(windows, kernel, axes=2)  # (OH, OW)
    return _crop_same(out, image.shape, kernel.shape) if mode == "same" else out


def convolve2d(image, kernel, mode: str = "valid") -> np.ndarray:
    """Convolve an image with a kernel: ``S(i, j) = sum_m sum_n I(i - m, j - n) K(m, n)``.

    The same as :func:`cross_correlate2d` with the kernel flipped on both axes.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        One single-channel image.
    kernel : ndarray of shape (KH, KW)
        The kernel.
    mode : {"valid", "full", "same"}
        Which outputs to keep (see the module docstring).

    Returns
    -------
    out : ndarray
        Of shape ``(H - KH + 1, W - KW + 1)`` ("valid"), ``(H + KH - 1, W + KW - 1)`` ("full")
        or ``(H, W)`` ("same"); equal to ``scipy.signal.convolve2d(image, kernel, mode)``.
    """
    dtype = float_dtype(image, kernel)
    kernel = as_float_array(kernel, "kernel", 2, "(KH, KW)", dtype)
    return cross_correlate2d(image, kernel[::-1, ::-1], mode)
