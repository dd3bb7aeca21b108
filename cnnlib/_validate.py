"""Argument checks shared by the whole library, so that every bad input gets the same kind of message:
the argument's name, what was expected, and what was given.

    >>> as_pair(0, "stride", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: stride must be >= 1 (an int or a pair of ints), got 0
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_int", "as_pair", "require_array", "require_ndim", "require_shape_match"]


def as_int(value, name: str, *, minimum: int | None = None) -> int:
    """``value`` as an int; ``TypeError`` for a non-integer, ``ValueError`` below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
            raise TypeError(f"{name} must be an int, got the float {value!r} (write {int(value)})")
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(value, name: str, *, minimum: int | None = None) -> tuple[int, int]:
    """An int or a pair of ints as ``(h, w)``, with the same errors as :func:`as_int`."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got a sequence of length {len(value)}: {value!r}")
        items = tuple(value)
    else:
        items = (value, value)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
        if minimum is not None and int(item) < minimum:
            raise ValueError(f"{name} must be >= {minimum} (an int or a pair of ints), got {value!r}")
        out.append(int(item))
    return out[0], out[1]


def require_array(x, name: str) -> np.ndarray:
    """A floating or integer NumPy array, or a ``TypeError`` naming ``name``."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    return x


def require_ndim(x, ndim: int, name: str, layout: str) -> np.ndarray:
    """Check ``x.ndim == ndim``; ``layout`` names the axes, e.g. ``"(N, C, H, W)"``."""
    require_array(x, name)
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {x.shape}")
    return x


def require_shape_match(actual: int, expected: int, what: str) -> None:
    """``ValueError`` when two sizes that must agree do not, e.g. input channels vs weight channels."""
    if actual != expected:
        raise ValueError(f"{what}: expected {expected}, got {actual}")
