"""Weight initialisation: He (Kaiming) and Xavier (Glorot), from a NumPy random generator.

A layer's output ``y = sum_i w_i x_i`` over ``fan_in`` inputs has, for independent zero-mean weights,
``Var(y) = fan_in * Var(w) * E[x^2]``. After a ReLU, half of a symmetric pre-activation is cut off,
so ``E[x^2] = Var(previous y) / 2``: the scale of the signal stays the same from layer to layer
when ``Var(w) = 2 / fan_in`` (He et al., 2015). Without the ReLU (a linear or tanh layer, near zero)
``E[x^2] = Var(previous y)`` and ``Var(w) = 1 / fan_in`` would do; Glorot and Bengio (2010) also
keep the gradient's scale in the backward pass by averaging the two fans:
``Var(w) = 2 / (fan_in + fan_out)``.

The fans come from the weight's shape, as in PyTorch: ``(out_features, in_features)`` for a dense
layer, ``(F, C, KH, KW)`` for a convolution, where each output sums ``C * KH * KW`` inputs
(``fan_in``) and each input reaches ``F * KH * KW`` outputs (``fan_out``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["fan_in_and_fan_out", "he_init", "xavier_init"]

MODES = ("fan_in", "fan_out")
DISTRIBUTIONS = ("normal", "uniform")


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """The number of inputs each output sums, and of outputs each input reaches, for a weight of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)`` for a dense layer, ``(F, C, KH, KW)`` for a 2D convolution
        (any ``(F, C, *kernel)``); at least two dimensions, as PyTorch requires.

    Returns
    -------
    fan_in, fan_out : int
        ``shape[1] * prod(shape[2:])`` and ``shape[0] * prod(shape[2:])``.
    """
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of ints such as (out_features, in_features) or (F, C, KH, KW), got {type(shape).__name__} {shape!r}")
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, (out_features, in_features) or (F, C, KH, KW), got {tuple(shape)}")
    for axis, size in enumerate(shape):
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"shape must hold ints >= 1, got {tuple(shape)} (shape[{axis}] = {size!r})")
    receptive = math.prod(int(s) for s in shape[2:])
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def _draw(shape, rng, std: float, distribution: str) -> np.ndarray:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    shape = tuple(int(s) for s in shape)
    if distribution == "normal":
        return rng.normal(0.0, std, size=shape)
    bound = math.sqrt(3.0) * std  # a uniform on [-a, a] has variance a^2 / 3
    return rng.uniform(-bound, bound, size=shape)


def he_init(shape, rng, *, mode="fan_in", distribution="normal"):
    """He (Kaiming) initialisation for layers followed by a ReLU: variance ``2 / fan_in``.

    Parameters
    ----------
    shape : tuple of int
        The weight's shape: ``(out_features, in_features)`` or ``(F, C, KH, KW)``; ``fan_in`` is
        ``in_features``, or ``C * KH * KW`` (see :func:`fan_in_and_fan_out`).
    rng : numpy.random.Generator
        The source of randomness (the same seed gives the same weights).
    mode : {"fan_in", "fan_out"}
        Keep the activations' scale in the forward pass (``fan_in``, the default) or the gradients'
        scale in the backward pass (``fan_out``, which torchvision's ResNets use).
    distribution : {"normal", "uniform"}
        A normal with standard deviation ``sqrt(2 / fan)``, or a uniform on ``[-a, a]`` with
        ``a = sqrt(6 / fan)`` (the same variance).

    Returns
    -------
    ndarray of ``shape``, float64
        Zero mean, variance ``2 / fan``. PyTorch's ``nn.init.kaiming_normal_(w, mode=mode,
        nonlinearity="relu")`` (``kaiming_uniform_`` for ``distribution="uniform"``).
    """
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return _draw(shape, rng, math.sqrt(2.0 / fan), distribution)


def xavier_init(shape, rng, *, distribution="normal"):
    """Xavier (Glorot) initialisation for linear or tanh layers: variance ``2 / (fan_in + fan_out)``.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)`` or ``(F, C, KH, KW)`` (see :func:`fan_in_and_fan_out`).
    rng : numpy.random.Generator
    distribution : {"normal", "uniform"}
        A normal with standard deviation ``sqrt(2 / (fan_in + fan_out))``, or a uniform on
        ``[-a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Returns
    -------
    ndarray of ``shape``, float64
        PyTorch's ``nn.init.xavier_normal_`` (``xavier_uniform_``). Followed by a ReLU, this
        variance is too small by about half when the fans are equal: the activations shrink layer
        after layer.
    """
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return _draw(shape, rng, math.sqrt(2.0 / (fan_in + fan_out)), distribution)
