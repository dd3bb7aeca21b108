"""The PyTorch twin of every ``cnnlib.reference`` operation: same names, argument order and shapes.

Each function here computes what its ``cnnlib.reference`` namesake computes, with PyTorch doing the
work, so that the two can be held together by tests (``tests/pytorch/test_functional.py``) and a
notebook can switch paths by changing one import. The rules of the mirror:

- **Arguments.** The same names, order and defaults. Arrays become tensors (NumPy arrays are
  accepted and converted); ``kernel_size``, ``stride``, ``padding``, ``dilation`` take an int or a
  pair. As in the reference, float32 input stays float32, anything mixed or integer computes in
  float64. Where the reference takes a ``numpy.random.Generator`` (dropout, ``he_init``,
  ``xavier_init``), the twin takes a ``torch.Generator`` (or ``None`` for PyTorch's global one):
  the same distribution, not the same numbers.
- **Plain functions** (``cross_correlate2d``, ``im2col``, ``softmax``...) return a tensor of the
  reference's shape.
- **Forward/backward pairs.** ``*_forward`` returns the reference's tuple (``(out, cache)``;
  ``batchnorm_forward``: ``(out, running_mean, running_var, cache)``; ``dropout_forward``:
  ``(out, mask)``). The cache is an :class:`AutogradCache`: the output's autograd graph and the
  inputs it was computed from. ``*_backward(dout, cache)`` returns the reference's gradients
  (``dx``, or ``(dx, dw, db)``, with ``None`` where the reference has ``None``), computed by
  autograd instead of by hand. That is the point of notebook 10: the same numbers, without
  writing the backward pass.
- **Autograd.** The outputs are plain tensors when the inputs are; when an input already requires
  grad, the output stays connected to its graph, so the twins compose with ordinary autograd code.

Not mirrored, because PyTorch's own classes are their twins: the layer classes and ``Sequential``
(``torch.nn``), ``SGD`` and ``Adam`` (``torch.optim``), the naive convolution loops (the same
function as :func:`conv2d_forward`), and the gradient-checking tools (``torch.autograd.gradcheck``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = [
    "AutogradCache",
    "avgpool2d_backward",
    "avgpool2d_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "convolve1d",
    "convolve2d",
    "cross_correlate1d",
    "cross_correlate2d",
    "depthwise_conv2d_backward",
    "depthwise_conv2d_forward",
    "depthwise_separable_conv2d_backward",
    "depthwise_separable_conv2d_forward",
    "dropout_backward",
    "dropout_forward",
    "flatten_backward",
    "flatten_forward",
    "global_avg_pool_backward",
    "global_avg_pool_forward",
    "groupnorm_backward",
    "groupnorm_forward",
    "he_init",
    "fan_in_and_fan_out",
    "im2col",
    "instancenorm_backward",
    "instancenorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "linear_backward",
    "linear_forward",
    "log_softmax",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "relu_backward",
    "relu_forward",
    "sgd_momentum_step",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "softmax_cross_entropy",
    "tanh_backward",
    "tanh_forward",
    "xavier_init",
]

MODES = ("valid", "full", "same")


class AutogradCache(NamedTuple):
    """What a ``*_backward`` twin needs: the forward's output, still attached to its graph, and its inputs.

    ``inputs`` are in the order in which the backward returns their gradients (``x, w, b`` for a
    convolution); an input the forward did not get (``b=None``) is ``None`` there, and so is its
    gradient.
    """

    out: torch.Tensor
    inputs: tuple


# -- helpers -------------------------------------------------------------------------------------


def working_dtype(*values) -> torch.dtype:
    """The dtype the reference would compute in: float32 if every given array is float32, else float64."""
    dtypes = [torch.as_tensor(v).dtype for v in values if v is not None]
    if dtypes and all(d == torch.float32 for d in dtypes):
        return torch.float32
    return torch.float64


def as_float(value, name: str, dtype: torch.dtype, ndim: int | None = None, layout: str = "") -> torch.Tensor | None:
    """``value`` as a tensor of ``dtype`` (``None`` stays ``None``), checking its number of dimensions."""
    if value is None:
        return None
    tensor = torch.as_tensor(value)
    if ndim is not None and tensor.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {tuple(tensor.shape)}")
    return tensor.to(dtype)


def track(tensor: torch.Tensor | None) -> torch.Tensor | None:
    """``tensor`` as something autograd follows: itself if it already requires grad, else a new leaf."""
    if tensor is None or tensor.requires_grad:
        return tensor
    return tensor.detach().requires_grad_(True)


def run_tracked(compute, *inputs):
    """``compute(*inputs)`` under autograd; returns ``(out, cache)``.

    ``out`` is detached unless one of ``inputs`` already required grad (then it stays in the
    caller's graph); the cache keeps the attached output for the backward twin.
    """
    tracked = tuple(track(t) for t in inputs)
    with torch.enable_grad():
        out = compute(*tracked)
    connected = any(t is not None and t.requires_grad for t in inputs)
    return (out if connected else out.detach()), AutogradCache(out, tracked)


def gradients(dout, cache: AutogradCache) -> tuple:
    """The gradients of ``sum(dout * cache.out)`` with respect to each of ``cache.inputs`` (``None`` stays ``None``)."""
    if not isinstance(cache, AutogradCache):
        raise TypeError(f"cache must be the AutogradCache a cnnlib.pytorch.functional forward returned, got {type(cache).__name__}")
    dout = torch.as_tensor(dout).to(cache.out.dtype)
    if dout.shape != cache.out.shape:
        raise ValueError(f"dout must have the forward output's shape {tuple(cache.out.shape)}, got {tuple(dout.shape)}")
    present = [t for t in cache.inputs if t is not None]
    # retain_graph: a backward may be called again with the same cache, as in the reference.
    found = iter(torch.autograd.grad(cache.out, present, dout, retain_graph=True))
    return tuple(None if t is None else next(found) for t in cache.inputs)


# -- notebook 01: cross-correlation and convolution of one signal or image -------------------------


def correlate(x: torch.Tensor, w: torch.Tensor, mode: str, conv) -> torch.Tensor:
    """Cross-correlation of one signal or image with one kernel, in ``mode``, by ``conv`` (F.conv1d or F.conv2d)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    kernel = w.shape
    if mode == "valid" and any(k > n for n, k in zip(x.shape, kernel)):
        raise ValueError(f"the kernel {tuple(kernel)} is larger than the input {tuple(x.shape)} in mode 'valid'")
    padding = 0 if mode == "valid" else tuple(k - 1 for k in kernel)
    full = conv(x[None, None], w[None, None], padding=padding)[0, 0]
    if mode != "same":
        return full
    # The centre of the full output: len(x) values from (k - 1) // 2 on, as the reference.
    index = tuple(slice((k - 1) // 2, (k - 1) // 2 + n) for n, k in zip(x.shape, kernel))
    return full[index]


def cross_correlate1d(x, w, mode: str = "valid") -> torch.Tensor:
    """``s(t) = sum_a x(t + a) w(a)``: ``x (n,)``, ``w (k,)`` -> ``(n - k + 1,)``, ``(n + k - 1,)`` or ``(n,)`` by mode."""
    dtype = working_dtype(x, w)
    return correlate(as_float(x, "x", dtype, 1, "(n,)"), as_float(w, "w", dtype, 1, "(k,)"), mode, F.conv1d)


def convolve1d(x, w, mode: str = "valid") -> torch.Tensor:
    """True 1D convolution ``s(t) = sum_a x(t - a) w(a)``: cross-correlation with the flipped kernel."""
    dtype = working_dtype(x, w)
    return correlate(as_float(x, "x", dtype, 1, "(n,)"), as_float(w, "w", dtype, 1, "(k,)").flip(0), mode, F.conv1d)


def cross_correlate2d(image, kernel, mode: str = "valid") -> torch.Tensor:
    """``S(i, j) = sum_m sum_n I(i + m, j + n) K(m, n)``: ``image (H, W)``, ``kernel (KH, KW)``."""
    dtype = working_dtype(image, kernel)
    return correlate(as_float(image, "image", dtype, 2, "(H, W)"), as_float(kernel, "kernel", dtype, 2, "(KH, KW)"), mode, F.conv2d)


def convolve2d(image, kernel, mode: str = "valid") -> torch.Tensor:
    """True 2D convolution: cross-correlation with the kernel flipped along both axes."""
    dtype = working_dtype(image, kernel)
    kernel = as_float(kernel, "kernel", dtype, 2, "(KH, KW)").flip(0, 1)
    return correlate(as_float(image, "image", dtype, 2, "(H, W)"), kernel, mode, F.conv2d)


# -- the convolution layer and im2col --------------------------------------------------------------


def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """``F.conv2d``: ``x (N, C, H, W)``, ``w (F, C // groups, KH, KW)``, ``b (F,)`` or None -> ``(out (N, F, OH, OW), cache)``.

    ``OH = floor((H + 2p - d(KH - 1) - 1) / s) + 1``, and likewise ``OW``.
    """
    dtype = working_dtype(x, w, b)
    x = as_float(x, "x", dtype, 4, "(N, C, H, W)")
    w = as_float(w, "w", dtype, 4, "(F, C // groups, KH, KW)")
    b = as_float(b, "b", dtype, 1, "(F,)")
    return run_tracked(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), x, w, b)


def conv2d_backward(dout, cache: AutogradCache):
    """``(dx, dw, db)`` for ``dout (N, F, OH, OW)``; ``db`` is None when the forward had no bias."""
    return gradients(dout, cache)


def im2col(x, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """``F.unfold``: ``x (N, C, H, W)`` -> ``cols (N, C * KH * KW, OH * OW)``."""
    x = as_float(x, "x", working_dtype(x), 4, "(N, C, H, W)")
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """``F.fold``, the adjoint of :func:`im2col`: ``cols (N, C * KH * KW, L)`` -> ``(N, C, H, W)``."""
    cols = as_float(cols, "cols", working_dtype(cols), 3, "(N, C * KH * KW, L)")
    return F.fold(cols, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def depthwise_conv2d_forward(x, w, b, stride=1, padding=0, dilation=1):
    """``F.conv2d`` with ``groups = C``: ``x (N, C, H, W)``, ``w (C * M, 1, KH, KW)`` -> ``(out (N, C * M, OH, OW), cache)``."""
    dtype = working_dtype(x, w, b)
    x = as_float(x, "x", dtype, 4, "(N, C, H, W)")
    w = as_float(w, "w", dtype, 4, "(C * multiplier, 1, KH, KW)")
    b = as_float(b, "b", dtype, 1, "(C * multiplier,)")
    channels = x.shape[1]
    return run_tracked(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, channels), x, w, b)


def depthwise_conv2d_backward(dout, cache: AutogradCache):
    """``(dx, dw, db)`` for ``dout (N, C * M, OH, OW)``; ``db`` is None when the forward had no bias."""
    return gradients(dout, cache)


def depthwise_separable_conv2d_forward(x, w_depthwise, b_depthwise, w_pointwise, b_pointwise, stride=1, padding=0, dilation=1):
    """A depthwise ``F.conv2d`` (``groups = C``) then a 1x1 one: ``x (N, C, H, W)`` -> ``(out (N, F, OH, OW), cache)``.

    ``w_depthwise (C * M, 1, KH, KW)``, ``w_pointwise (F, C * M, 1, 1)``; stride, padding and
    dilation apply to the depthwise step.
    """
    dtype = working_dtype(x, w_depthwise, b_depthwise, w_pointwise, b_pointwise)
    x = as_float(x, "x", dtype, 4, "(N, C, H, W)")
    w_depthwise = as_float(w_depthwise, "w_depthwise", dtype, 4, "(C * multiplier, 1, KH, KW)")
    b_depthwise = as_float(b_depthwise, "b_depthwise", dtype, 1, "(C * multiplier,)")
    w_pointwise = as_float(w_pointwise, "w_pointwise", dtype, 4, "(F, C * multiplier, 1, 1)")
    b_pointwise = as_float(b_pointwise, "b_pointwise", dtype, 1, "(F,)")
    channels = x.shape[1]

    def separable(x, w_depthwise, b_depthwise, w_pointwise, b_pointwise):
        middle = F.conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation, channels)
        return F.conv2d(middle, w_pointwise, b_pointwise)

    return run_tracked(separable, x, w_depthwise, b_depthwise, w_pointwise, b_pointwise)


def depthwise_separable_conv2d_backward(dout, cache: AutogradCache):
    """``(dx, dw_depthwise, db_depthwise, dw_pointwise, db_pointwise)`` for ``dout (N, F, OH, OW)``."""
    return gradients(dout, cache)


# -- pooling ---------------------------------------------------------------------------------------


def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """``F.max_pool2d``: ``x (N, C, H, W)`` -> ``(out (N, C, OH, OW), cache)``; stride defaults to the kernel size."""
    x = as_float(x, "x", working_dtype(x), 4, "(N, C, H, W)")
    return run_tracked(lambda x: F.max_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode), x)


def maxpool2d_backward(dout, cache: AutogradCache):
    """``dx (N, C, H, W)``: each window's gradient goes to its (first) maximum."""
    return gradients(dout, cache)[0]


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """``F.avg_pool2d``: ``x (N, C, H, W)`` -> ``(out (N, C, OH, OW), cache)``."""
    x = as_float(x, "x", working_dtype(x), 4, "(N, C, H, W)")
    return run_tracked(
        lambda x: F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override), x
    )


def avgpool2d_backward(dout, cache: AutogradCache):
    """``dx (N, C, H, W)``: each window's gradient spread evenly over the window."""
    return gradients(dout, cache)[0]


def global_avg_pool_forward(x):
    """``x (N, C, H, W)`` -> ``(out (N, C), cache)``, the mean of each channel."""
    x = as_float(x, "x", working_dtype(x), 4, "(N, C, H, W)")
    return run_tracked(lambda x: x.mean(dim=(2, 3)), x)


def global_avg_pool_backward(dout, cache: AutogradCache):
    """``dx (N, C, H, W)``: ``dout / (H * W)`` at every pixel."""
    return gradients(dout, cache)[0]


# -- activations -----------------------------------------------------------------------------------


def relu_forward(x):
    """``max(0, x)``, any shape -> ``(out, cache)``."""
    return run_tracked(F.relu, as_float(x, "x", working_dtype(x)))


def relu_backward(dout, cache: AutogradCache):
    """``dx``: ``dout`` where ``x > 0``, else 0."""
    return gradients(dout, cache)[0]


def leaky_relu_forward(x, negative_slope=0.01):
    """``x`` where positive, ``negative_slope * x`` elsewhere -> ``(out, cache)``."""
    return run_tracked(lambda x: F.leaky_relu(x, negative_slope), as_float(x, "x", working_dtype(x)))


def leaky_relu_backward(dout, cache: AutogradCache):
    """``dx``: ``dout`` where ``x > 0``, ``negative_slope * dout`` elsewhere."""
    return gradients(dout, cache)[0]


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))`` -> ``(out, cache)``."""
    return run_tracked(torch.sigmoid, as_float(x, "x", working_dtype(x)))


def sigmoid_backward(dout, cache: AutogradCache):
    """``dx = dout * out * (1 - out)``."""
    return gradients(dout, cache)[0]


def tanh_forward(x):
    """``tanh(x)`` -> ``(out, cache)``."""
    return run_tracked(torch.tanh, as_float(x, "x", working_dtype(x)))


def tanh_backward(dout, cache: AutogradCache):
    """``dx = dout * (1 - out ** 2)``."""
    return gradients(dout, cache)[0]


# -- linear layers ---------------------------------------------------------------------------------


def linear_forward(x, w, b):
    """``F.linear``: ``x (N, in_features)``, ``w (out_features, in_features)``, ``b (out_features,)`` or None -> ``(out, cache)``."""
    dtype = working_dtype(x, w, b)
    x = as_float(x, "x", dtype, 2, "(N, in_features)")
    w = as_float(w, "w", dtype, 2, "(out_features, in_features)")
    b = as_float(b, "b", dtype, 1, "(out_features,)")
    return run_tracked(F.linear, x, w, b)


def linear_backward(dout, cache: AutogradCache):
    """``(dx, dw, db)`` for ``dout (N, out_features)``; ``db`` is None without a bias."""
    return gradients(dout, cache)


def flatten_forward(x, start_dim=1):
    """Merge every axis from ``start_dim`` on: ``(N, C, H, W)`` -> ``(out (N, C * H * W), cache)``."""
    return run_tracked(lambda x: torch.flatten(x, start_dim), as_float(x, "x", working_dtype(x)))


def flatten_backward(dout, cache: AutogradCache):
    """``dx``: ``dout`` reshaped to the input's shape."""
    return gradients(dout, cache)[0]


# -- softmax and the loss --------------------------------------------------------------------------


def softmax(x, axis=-1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return torch.softmax(as_float(x, "x", working_dtype(x)), dim=axis)


def log_softmax(x, axis=-1) -> torch.Tensor:
    """``log(softmax(x))`` along ``axis``, computed stably."""
    return torch.log_softmax(as_float(x, "x", working_dtype(x)), dim=axis)


def softmax_cross_entropy(logits, y, label_smoothing=0.0):
    """Mean cross-entropy of ``logits (N, K)`` against labels ``y (N,)`` -> ``(loss, dlogits (N, K))``.

    ``F.cross_entropy`` with ``label_smoothing``; ``dlogits`` by autograd, ``(softmax(logits) - q) / N``.
    """
    logits = as_float(logits, "logits", working_dtype(logits), 2, "(N, K)")
    y = torch.as_tensor(y)
    if y.dim() != 1 or y.shape[0] != logits.shape[0]:
        raise ValueError(f"y must have one label per row of logits, shape ({logits.shape[0]},), got {tuple(y.shape)}")
    loss, cache = run_tracked(lambda z: F.cross_entropy(z, y.long(), label_smoothing=label_smoothing), logits)
    (dlogits,) = gradients(torch.ones_like(cache.out), cache)
    return loss, dlogits


# -- normalisation ---------------------------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """``F.batch_norm`` per channel of ``x (N, C, ...)`` -> ``(out, running_mean, running_var, cache)``.

    The running statistics are returned as new tensors (the arguments are not changed), updated in
    training with momentum ``momentum`` and the unbiased batch variance; ``None`` running statistics
    mean that the batch's statistics are used in both modes.
    """
    dtype = working_dtype(x, gamma, beta)
    x = as_float(x, "x", dtype)
    if x.dim() < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, D) or (N, C, H, W), got shape {tuple(x.shape)}")
    gamma, beta = as_float(gamma, "gamma", dtype, 1, "(C,)"), as_float(beta, "beta", dtype, 1, "(C,)")
    running = [None if r is None else torch.as_tensor(r).clone() for r in (running_mean, running_var)]
    if (running[0] is None) != (running[1] is None):
        raise ValueError("running_mean and running_var must both be given or both be None")
    batch_stats = training or running[0] is None

    def normalise(x, gamma, beta):
        # F.batch_norm updates the running statistics in place: here, in our clones.
        return F.batch_norm(x, running[0], running[1], gamma, beta, batch_stats, momentum, eps)

    out, cache = run_tracked(normalise, x, gamma, beta)
    return out, running[0], running[1], cache


def batchnorm_backward(dout, cache: AutogradCache):
    """``(dx, dgamma, dbeta)``; ``dgamma``/``dbeta`` are None when the forward had no ``gamma``/``beta``."""
    return gradients(dout, cache)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """``F.layer_norm(x, x.shape[1:])``: each example normalised over all its values -> ``(out, cache)``."""
    dtype = working_dtype(x, gamma, beta)
    x = as_float(x, "x", dtype)
    if x.dim() < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, D) or (N, C, H, W), got shape {tuple(x.shape)}")
    gamma, beta = as_float(gamma, "gamma", dtype), as_float(beta, "beta", dtype)
    return run_tracked(lambda x, gamma, beta: F.layer_norm(x, x.shape[1:], gamma, beta, eps), x, gamma, beta)


def layernorm_backward(dout, cache: AutogradCache):
    """``(dx, dgamma, dbeta)`` (``None`` for a missing ``gamma``/``beta``)."""
    return gradients(dout, cache)


def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """``F.group_norm``: ``x (N, C, ...)`` normalised per example over groups of ``C // num_groups`` channels -> ``(out, cache)``.

    ``gamma``, ``beta``: ``(C,)`` or None, one per channel.
    """
    dtype = working_dtype(x, gamma, beta)
    x = as_float(x, "x", dtype)
    if x.dim() < 2:
        raise ValueError(f"x must have at least 2 dimensions, (N, C) or (N, C, H, W), got shape {tuple(x.shape)}")
    gamma, beta = as_float(gamma, "gamma", dtype, 1, "(C,)"), as_float(beta, "beta", dtype, 1, "(C,)")
    return run_tracked(lambda x, gamma, beta: F.group_norm(x, num_groups, gamma, beta, eps), x, gamma, beta)


def groupnorm_backward(dout, cache: AutogradCache):
    """``(dx, dgamma, dbeta)`` (``None`` for a missing ``gamma``/``beta``)."""
    return gradients(dout, cache)


def instancenorm_forward(x, gamma, beta, eps=1e-5):
    """``F.instance_norm`` with the input's statistics: each channel of each example over its positions -> ``(out, cache)``."""
    dtype = working_dtype(x, gamma, beta)
    x = as_float(x, "x", dtype)
    if x.dim() < 3:
        raise ValueError(f"x must have at least 3 dimensions, (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
    gamma, beta = as_float(gamma, "gamma", dtype, 1, "(C,)"), as_float(beta, "beta", dtype, 1, "(C,)")
    return run_tracked(lambda x, gamma, beta: F.instance_norm(x, weight=gamma, bias=beta, eps=eps), x, gamma, beta)


def instancenorm_backward(dout, cache: AutogradCache):
    """``(dx, dgamma, dbeta)`` (``None`` for a missing ``gamma``/``beta``)."""
    return gradients(dout, cache)


# -- initialisation --------------------------------------------------------------------------------


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """PyTorch's fans of a weight of ``shape``: ``(shape[1] * prod(shape[2:]), shape[0] * prod(shape[2:]))``."""
    if not isinstance(shape, (tuple, list)) or len(shape) < 2:
        raise ValueError(f"shape must be a tuple of at least 2 ints, (out_features, in_features) or (F, C, KH, KW), got {shape!r}")
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape), device="meta"))


def he_init(shape, rng, *, mode="fan_in", distribution="normal"):
    """``nn.init.kaiming_normal_`` (or ``kaiming_uniform_``) for a ReLU: a float64 tensor of ``shape``, variance ``2 / fan``.

    ``rng`` is a ``torch.Generator`` (or ``None`` for PyTorch's global one).
    """
    init = {"normal": torch.nn.init.kaiming_normal_, "uniform": torch.nn.init.kaiming_uniform_}
    if distribution not in init:
        raise ValueError(f"distribution must be one of {tuple(init)}, got {distribution!r}")
    weight = torch.empty(tuple(shape), dtype=torch.float64)
    return init[distribution](weight, mode=mode, nonlinearity="relu", generator=rng)


def xavier_init(shape, rng, *, distribution="normal"):
    """``nn.init.xavier_normal_`` (or ``xavier_uniform_``): a float64 tensor of ``shape``, variance ``2 / (fan_in + fan_out)``.

    ``rng`` is a ``torch.Generator`` (or ``None`` for PyTorch's global one).
    """
    init = {"normal": torch.nn.init.xavier_normal_, "uniform": torch.nn.init.xavier_uniform_}
    if distribution not in init:
        raise ValueError(f"distribution must be one of {tuple(init)}, got {distribution!r}")
    return init[distribution](torch.empty(tuple(shape), dtype=torch.float64), generator=rng)


# -- dropout ---------------------------------------------------------------------------------------


def dropout_forward(x, p, training, rng):
    """Inverted dropout -> ``(out, mask)``: ``mask`` is 0 (dropped) or ``1 / (1 - p)`` (kept); ``None`` when not training.

    ``rng`` is a ``torch.Generator`` on the CPU (or ``None`` for the global one): the same seed gives
    the same mask.
    """
    x = as_float(x, "x", working_dtype(x))
    if not 0 <= p < 1:
        raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
    if not training:
        return x.clone(), None
    keep = torch.rand(x.shape, generator=rng, dtype=x.dtype) >= p  # keep with probability 1 - p
    mask = (keep.to(x.dtype) / (1 - p)).to(x.device)
    return x * mask, mask


def dropout_backward(dout, mask):
    """``dx = dout * mask``, or ``dout`` itself (a copy) for ``mask=None``."""
    dout = as_float(dout, "dout", working_dtype(dout))
    return dout.clone() if mask is None else dout * mask


# -- optimisation ----------------------------------------------------------------------------------


@torch.no_grad()
def sgd_momentum_step(params, grads, velocity, lr, momentum=0.9):
    """SGD with momentum on dicts of tensors, PyTorch's form: ``v = momentum * v + g``, ``p = p - lr * v``.

    Returns new ``(params, velocity)`` dicts; names missing from ``velocity`` start at zero.
    """
    if params.keys() != grads.keys():
        raise ValueError(f"grads must have the same names as params: expected {sorted(params)}, got {sorted(grads)}")
    new_params, new_velocity = {}, {}
    for name, p in params.items():
        g = torch.as_tensor(grads[name])
        v = momentum * torch.as_tensor(velocity[name]) + g if name in velocity else g.clone()
        new_velocity[name] = v
        new_params[name] = torch.as_tensor(p) - lr * v
    return new_params, new_velocity
