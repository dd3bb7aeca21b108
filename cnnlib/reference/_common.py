"""Helpers shared by the reference layers: the working dtype and array arguments."""

from __future__ import annotations

import numpy as np

from .._validate import require_array, require_ndim


def float_dtype(*arrays) -> np.dtype:
    """The floating dtype a layer computes in: that of its inputs, float64 for integer input.

    float32 input stays float32; mixing float32 with float64 gives float64, as NumPy promotes.
    Arguments that are not arrays (``None``, or a wrong type that validation reports later) are
    ignored.
    """
    dtypes = [a.dtype for a in arrays if isinstance(a, np.ndarray)]
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def as_float_array(x, name: str, ndim: int | None = None, layout: str = "", dtype=None) -> np.ndarray:
    """``x`` checked (a numeric NumPy array, ``ndim`` dimensions when given) and cast to ``dtype``.

    The cast copies only when the dtype changes, so callers must not write into the result.
    """
    if ndim is None:
        require_array(x, name)
    else:
        require_ndim(x, ndim, name, layout)
    return x.astype(dtype if dtype is not None else float_dtype(x), copy=False)
