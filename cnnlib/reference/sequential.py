"""Layer objects and a ``Sequential`` container, enough to train LeNet-5 in a few lines.

Each layer wraps one forward/backward pair: ``forward(x)`` keeps the cache, ``backward(dout)`` uses
it, stores the parameter gradients and returns ``dx``. ``Sequential`` chains them and names the
parameters as PyTorch's ``named_parameters()`` does (``"0.weight"``, ``"0.bias"``, ...), so that
weights can be copied to and from an ``nn.Sequential`` with the same layout::

    model = Sequential(Conv2d(1, 6, 5, rng=0), ReLU(), MaxPool2d(2), Flatten(), Linear(6 * 14 * 14, 10, rng=0))
    opt = SGD(lr=0.01, momentum=0.9)
    logits = model.forward(X)                       # (N, 10)
    loss, dlogits = softmax_cross_entropy(logits, y)
    model.backward(dlogits)
    model.params = opt.step(model.params, model.grads)

Weights are initialised as PyTorch's defaults for ``nn.Conv2d`` and ``nn.Linear`` (Kaiming-uniform
with ``a = sqrt(5)``): weights and biases uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, drawn
from ``rng`` (a ``numpy.random.Generator`` or a seed), so the same seed gives the same network.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_int, as_pair
from .activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .conv2d import conv2d_backward, conv2d_forward
from .dropout import dropout_backward, dropout_forward
from .linear import flatten_backward, flatten_forward, linear_backward, linear_forward
from .normalization import batchnorm_backward, batchnorm_forward, layernorm_backward, layernorm_forward
from .pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

__all__ = [
    "Layer",
    "Conv2d",
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "Flatten",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Dropout",
    "Sequential",
]


def _generator(rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a generator, a seed, or None (fresh entropy)."""
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def _uniform_init(rng: np.random.Generator, shape, fan_in: int, dtype) -> np.ndarray:
    """PyTorch's default weight and bias initialisation: uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``."""
    bound = 1 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Layer:
    """The base class: parameters and their gradients by name, a training flag, the last cache.

    Attributes
    ----------
    params : dict of name -> ndarray
        Learnable parameters (``"weight"``, ``"bias"``); empty for layers without any.
    grads : dict of name -> ndarray
        Their gradients from the last :meth:`backward`.
    buffers : dict of name -> ndarray
        State that is not learned (batch norm's running statistics).
    training : bool
        Set by :meth:`train` and :meth:`eval`.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._cache = None

    def forward(self, x):
        """The layer's output for ``x``; keeps what :meth:`backward` needs."""
        raise NotImplementedError

    def backward(self, dout):
        """``dx`` for the last forward's input; stores the parameter gradients in :attr:`grads`."""
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode: bool = True):
        """Training mode (batch statistics, dropout on); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (running statistics, dropout off); returns the layer."""
        return self.train(False)

    def _take_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Conv2d(Layer):
    """A 2D convolution layer, ``nn.Conv2d``'s twin.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or pair of ints
    stride, padding, dilation : int or pair of ints
    groups : int
    bias : bool
    rng : numpy.random.Generator, int or None
        Where the initial weights come from.
    dtype : numpy dtype
        Of the parameters (float64 by default).

    Attributes
    ----------
    params : {"weight": (out_channels, in_channels // groups, KH, KW), "bias": (out_channels,)}
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, rng=None, dtype=np.float64):
        super().__init__()
        self.in_channels = as_int(in_channels, "in_channels", minimum=1)
        self.out_channels = as_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = as_pair(kernel_size, "kernel_size", minimum=1)
        self.stride = as_pair(stride, "stride", minimum=1)
        self.padding = as_pair(padding, "padding", minimum=0)
        self.dilation = as_pair(dilation, "dilation", minimum=1)
        self.groups = as_int(groups, "groups", minimum=1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"groups must divide in_channels and out_channels, got groups={self.groups} "
                f"for in_channels={self.in_channels}, out_channels={self.out_channels}"
            )
        rng = _generator(rng)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        self.params["weight"] = _uniform_init(rng, (self.out_channels, self.in_channels // self.groups, *self.kernel_size), fan_in, dtype)
        if bias:
            self.params["bias"] = _uniform_init(rng, (self.out_channels,), fan_in, dtype)

    def forward(self, x):
        out, self._cache = conv2d_forward(
            x, self.params["weight"], self.params.get("bias"), self.stride, self.padding, self.dilation, self.groups
        )
        return out

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self._take_cache())
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        return dx

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Linear(Layer):
    """A fully connected layer, ``nn.Linear``'s twin.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype

    Attributes
    ----------
    params : {"weight": (out_features, in_features), "bias": (out_features,)}
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float64):
        super().__init__()
        self.in_features = as_int(in_features, "in_features", minimum=1)
        self.out_features = as_int(out_features, "out_features", minimum=1)
        rng = _generator(rng)
        self.params["weight"] = _uniform_init(rng, (self.out_features, self.in_features), self.in_features, dtype)
        if bias:
            self.params["bias"] = _uniform_init(rng, (self.out_features,), self.in_features, dtype)

    def forward(self, x):
        out, self._cache = linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def backward(self, dout):
        dx, dw, db = linear_backward(dout, self._take_cache())
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        return dx

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class _Elementwise(Layer):
    """A layer without parameters made of one forward/backward pair."""

    _forward = None
    _backward = None

    def forward(self, x):
        out, self._cache = type(self)._forward(x)
        return out

    def backward(self, dout):
        return type(self)._backward(dout, self._take_cache())


class ReLU(_Elementwise):
    """``max(0, x)``, ``nn.ReLU``'s twin."""

    _forward = staticmethod(relu_forward)
    _backward = staticmethod(relu_backward)


class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))``, ``nn.Sigmoid``'s twin."""

    _forward = staticmethod(sigmoid_forward)
    _backward = staticmethod(sigmoid_backward)


class Tanh(_Elementwise):
    """``tanh(x)``, ``nn.Tanh``'s twin."""

    _forward = staticmethod(tanh_forward)
    _backward = staticmethod(tanh_backward)


class GlobalAvgPool2d(_Elementwise):
    """``(N, C, H, W) -> (N, C)`` means, PyTorch's ``nn.AdaptiveAvgPool2d(1)`` followed by ``nn.Flatten()``."""

    _forward = staticmethod(global_avg_pool_forward)
    _backward = staticmethod(global_avg_pool_backward)


class LeakyReLU(Layer):
    """Leaky ReLU, ``nn.LeakyReLU``'s twin."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        out, self._cache = leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, dout):
        return leaky_relu_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Flatten(Layer):
    """Merge every axis from ``start_dim`` on, ``nn.Flatten``'s twin."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = as_int(start_dim, "start_dim", minimum=0)

    def forward(self, x):
        out, self._cache = flatten_forward(x, self.start_dim)
        return out

    def backward(self, dout):
        return flatten_backward(dout, self._take_cache())


class MaxPool2d(Layer):
    """Max pooling, ``nn.MaxPool2d``'s twin (stride defaults to the kernel size)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode

    def forward(self, x):
        out, self._cache = maxpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        return out

    def backward(self, dout):
        return maxpool2d_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Layer):
    """Average pooling, ``nn.AvgPool2d``'s twin."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        out, self._cache = avgpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)
        return out

    def backward(self, dout):
        return avgpool2d_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _BatchNorm(Layer):
    """Batch normalisation over axis 1 with learnable ``weight`` (gamma) and ``bias`` (beta).

    ``buffers`` holds ``running_mean`` (zeros) and ``running_var`` (ones), updated in training.
    """

    _layout = ""
    _ndims: tuple[int, ...] = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        super().__init__()
        self.num_features = as_int(num_features, "num_features", minimum=1)
        self.eps, self.momentum = eps, momentum
        self.params = {"weight": np.ones(self.num_features, dtype), "bias": np.zeros(self.num_features, dtype)}
        self.buffers = {"running_mean": np.zeros(self.num_features, dtype), "running_var": np.ones(self.num_features, dtype)}

    def forward(self, x):
        if getattr(x, "ndim", None) not in self._ndims:
            raise ValueError(f"x must have shape {self._layout} for {type(self).__name__}, got shape {getattr(x, 'shape', None)}")
        out, running_mean, running_var, self._cache = batchnorm_forward(
            x, self.params["weight"], self.params["bias"], self.buffers["running_mean"], self.buffers["running_var"],
            training=self.training, momentum=self.momentum, eps=self.eps,
        )
        self.buffers = {"running_mean": running_mean, "running_var": running_var}
        return out

    def backward(self, dout):
        dx, dgamma, dbeta = batchnorm_backward(dout, self._take_cache())
        self.grads = {"weight": dgamma, "bias": dbeta}
        return dx

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation per feature of ``(N, D)`` (or per channel of ``(N, C, L)``), ``nn.BatchNorm1d``'s twin."""

    _layout = "(N, D) or (N, C, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of ``(N, C, H, W)``, ``nn.BatchNorm2d``'s twin."""

    _layout = "(N, C, H, W)"
    _ndims = (4,)


class LayerNorm(Layer):
    """Layer normalisation over the last axes, of shape ``normalized_shape`` (``x.shape[1:]``), ``nn.LayerNorm``'s twin."""

    def __init__(self, normalized_shape, eps=1e-5, dtype=np.float64):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(as_int(n, "normalized_shape", minimum=1) for n in shape)
        self.eps = eps
        self.params = {"weight": np.ones(self.normalized_shape, dtype), "bias": np.zeros(self.normalized_shape, dtype)}

    def forward(self, x):
        if getattr(x, "shape", (None,))[1:] != self.normalized_shape:
            raise ValueError(f"x must have shape (N, *{self.normalized_shape}), got shape {getattr(x, 'shape', None)}")
        out, self._cache = layernorm_forward(x, self.params["weight"], self.params["bias"], self.eps)
        return out

    def backward(self, dout):
        dx, dgamma, dbeta = layernorm_backward(dout, self._take_cache())
        self.grads = {"weight": dgamma, "bias": dbeta}
        return dx

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class Dropout(Layer):
    """Inverted dropout with probability ``p``, active only in training, ``nn.Dropout``'s twin."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = p
        self.rng = _generator(rng)

    def forward(self, x):
        out, self._cache = dropout_forward(x, self.p, self.training, self.rng)
        return out

    def backward(self, dout):
        if self._cache is None and self.training:
            raise RuntimeError("Dropout.backward called before forward")
        return dropout_backward(dout, self._cache)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential:
    """Layers applied in order; parameters named ``"<index>.<name>"`` as in ``nn.Sequential``.

    Parameters
    ----------
    *layers : Layer

    Attributes
    ----------
    layers : list of Layer
    params : dict of name -> ndarray
        Every learnable parameter, ``{"0.weight": ..., "0.bias": ..., ...}`` in layer order, as
        ``named_parameters()``. Assigning a dict with the same names and shapes replaces them.
    grads : dict of name -> ndarray
        Their gradients from the last :meth:`backward`, with the same names.
    buffers : dict of name -> ndarray
        Non-learned state, ``{"1.running_mean": ...}``, as ``named_buffers()``; assignable too.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers must be Layer objects, got {type(layer).__name__} at position {i}")
        self.layers = list(layers)

    def forward(self, x):
        """Run ``x`` through every layer; each keeps its cache for :meth:`backward`."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout):
        """Backpropagate ``dout`` (the gradient of the loss with respect to the output); returns ``dx``."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True):
        """Put every layer in training mode; returns the model."""
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        """Put every layer in evaluation mode; returns the model."""
        return self.train(False)

    def _named(self, attribute: str) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in getattr(layer, attribute).items()}

    def _assign(self, attribute: str, values) -> None:
        current = self._named(attribute)
        if not isinstance(values, dict) or values.keys() != current.keys():
            got = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ValueError(f"{attribute} must be a dict with the names {sorted(current)}, got {got}")
        for name, value in values.items():
            if np.shape(value) != current[name].shape:
                raise ValueError(f"{attribute}[{name!r}] must have shape {current[name].shape}, got {np.shape(value)}")
        for name, value in values.items():
            index, key = name.split(".", 1)
            getattr(self.layers[int(index)], attribute)[key] = np.asarray(value)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params")

    @params.setter
    def params(self, values) -> None:
        self._assign("params", values)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._named("buffers")

    @buffers.setter
    def buffers(self, values) -> None:
        self._assign("buffers", values)

    def num_parameters(self) -> int:
        """The number of learnable values."""
        return sum(p.size for p in self.params.values())

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self) -> str:
        lines = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{lines}\n)"
