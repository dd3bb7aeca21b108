"""Parameters and multiply-accumulates of the efficient blocks: depthwise-separable convolutions,
MobileNet-v2's inverted residual and the ConvNeXt block.

Each count is the sum of the counts of the block's layers (:func:`conv_param_count` and
:func:`conv_macs` with ``groups``), and equals ``sum(p.numel())`` of the matching module of
:mod:`cnnlib.pytorch.models` (tests check both, and the MACs against a count taken with forward
hooks). MACs count the multiply-accumulates of convolutions and dense layers for one image; the
work of normalisations, activations, biases and the residual addition is not counted, as usual.

    >>> depthwise_separable_params(64, 128, 3)  # against conv_param_count(64, 128, 3) = 73,856
    8960
    >>> inverted_residual_params(24, 24, 6)  # 24 -> 144 -> 144 -> 24 channels
    8832
"""

from __future__ import annotations

from cnnlib._validate import as_int, as_pair
from cnnlib.arithmetic.counts import conv_macs, conv_param_count, fc_param_count
from cnnlib.arithmetic.sizes import conv_output_size

__all__ = [
    "depthwise_separable_params",
    "depthwise_separable_macs",
    "inverted_residual_params",
    "inverted_residual_macs",
    "convnext_block_params",
    "convnext_block_macs",
]


def _norm_params(channels: int) -> int:
    """A batch norm or layer norm over ``channels``: one scale and one shift per channel.

    (Batch norm's running mean and variance are buffers, not parameters.)
    """
    return 2 * channels


def depthwise_separable_params(c_in, c_out, k, bias=True) -> int:
    """Parameters of a depthwise-separable convolution: a depthwise KxK convolution, then a pointwise 1x1 one.

    ``sum(p.numel())`` of ``cnnlib.pytorch.models.DepthwiseSeparableConv2d(c_in, c_out, k, bias=bias)``.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    k : int or (int, int)
        The depthwise kernel.
    bias : bool
        Both convolutions have a bias (``nn.Conv2d``'s default), or neither.

    Returns
    -------
    int

    Notes
    -----
    .. math:: (k^2 + 1) C_{in} + (C_{in} + 1) C_{out}

    (without the ``+ 1`` terms when ``bias=False``), against ``(k^2 C_in + 1) C_out`` for a
    standard convolution: about ``1 / C_out + 1 / k^2`` of it.
    """
    depthwise = conv_param_count(c_in, c_in, k, bias=bias, groups=as_int(c_in, "c_in", minimum=1))
    return depthwise + conv_param_count(c_in, c_out, 1, bias=bias)


def depthwise_separable_macs(c_in, c_out, k, h_out, w_out) -> int:
    """Multiply-accumulates of a depthwise-separable convolution for one image.

    Parameters
    ----------
    c_in, c_out : int
    k : int or (int, int)
    h_out, w_out : int
        The output size (the depthwise step's; the pointwise step keeps it).

    Returns
    -------
    int

    Notes
    -----
    .. math:: H' W' C_{in} k^2 + H' W' C_{in} C_{out}

    The depthwise step filters each channel once (not once per output channel); against
    ``H' W' C_in k^2 C_out`` for a standard convolution.
    """
    c_in = as_int(c_in, "c_in", minimum=1)
    out = (as_int(h_out, "h_out", minimum=1), as_int(w_out, "w_out", minimum=1))
    return conv_macs(c_in, c_in, k, out, groups=c_in) + conv_macs(c_in, c_out, 1, out)


def _hidden(c_in, expansion) -> tuple[int, int]:
    c_in = as_int(c_in, "c_in", minimum=1)
    return c_in, c_in * as_int(expansion, "expansion", minimum=1)


def inverted_residual_params(c_in, c_out, expansion, k=3) -> int:
    """Parameters of MobileNet-v2's inverted residual block, batch norms included.

    ``sum(p.numel())`` of ``cnnlib.pytorch.models.InvertedResidual(c_in, c_out, expansion, kernel_size=k)``.

    Parameters
    ----------
    c_in, c_out : int
    expansion : int
        ``t``: the middle of the block has ``hidden = t * c_in`` channels.
    k : int
        The depthwise kernel (3).

    Returns
    -------
    int

    Notes
    -----
    With ``h = t C_in`` and convolutions without bias, each followed by a batch norm (2 parameters
    per channel):

    - expand, 1x1 (only when ``t > 1``): ``C_in h + 2h``;
    - depthwise, kxk: ``k^2 h + 2h``;
    - project, 1x1 (linear): ``h C_out + 2 C_out``.

    The stride and the residual add nothing (MobileNet-v2 has no projection shortcut).
    """
    c_in, hidden = _hidden(c_in, expansion)
    c_out = as_int(c_out, "c_out", minimum=1)
    total = 0
    if hidden != c_in:
        total += conv_param_count(c_in, hidden, 1, bias=False) + _norm_params(hidden)
    total += conv_param_count(hidden, hidden, k, bias=False, groups=hidden) + _norm_params(hidden)
    return total + conv_param_count(hidden, c_out, 1, bias=False) + _norm_params(c_out)


def inverted_residual_macs(c_in, c_out, expansion, h_in, w_in, k=3, stride=1) -> int:
    """Multiply-accumulates of MobileNet-v2's inverted residual block for one ``h_in x w_in`` input.

    Parameters
    ----------
    c_in, c_out, expansion, k :
        As :func:`inverted_residual_params`.
    h_in, w_in : int
        The input size; the depthwise convolution (padding ``k // 2``, stride ``stride``) gives the
        output size.
    stride : int

    Returns
    -------
    int
        ``H W C_in h`` (expand, when ``t > 1``) ``+ H' W' k^2 h`` (depthwise) ``+ H' W' h C_out``
        (project), with ``h = t C_in``.
    """
    c_in, hidden = _hidden(c_in, expansion)
    k = as_int(k, "k", minimum=1)
    size_in = (as_int(h_in, "h_in", minimum=1), as_int(w_in, "w_in", minimum=1))
    size_out = conv_output_size(size_in, k, stride, k // 2)
    total = conv_macs(c_in, hidden, 1, size_in) if hidden != c_in else 0
    return total + conv_macs(hidden, hidden, k, size_out, groups=hidden) + conv_macs(hidden, c_out, 1, size_out)


def convnext_block_params(channels, k=7, expansion=4, layer_scale=True) -> int:
    """Parameters of a ConvNeXt block.

    ``sum(p.numel())`` of ``cnnlib.pytorch.models.ConvNeXtBlock(channels, k, expansion)`` (with
    ``layer_scale_init=None`` when ``layer_scale=False``).

    Returns
    -------
    int
        ``(k^2 + 1) C`` (depthwise, with bias) ``+ 2C`` (LayerNorm) ``+ (C + 1) eC`` (expand)
        ``+ (eC + 1) C`` (project) ``+ C`` (layer scale), with ``e = expansion``.
    """
    channels = as_int(channels, "channels", minimum=1)
    wide = channels * as_int(expansion, "expansion", minimum=1)
    total = conv_param_count(channels, channels, k, groups=channels) + _norm_params(channels)
    total += fc_param_count(channels, wide) + fc_param_count(wide, channels)
    if not isinstance(layer_scale, bool):
        raise TypeError(f"layer_scale must be a bool, got {type(layer_scale).__name__} {layer_scale!r}")
    return total + (channels if layer_scale else 0)


def convnext_block_macs(channels, h, w, k=7, expansion=4) -> int:
    """Multiply-accumulates of a ConvNeXt block on an ``h x w`` map (the block keeps the size).

    Returns
    -------
    int
        ``H W C k^2`` (depthwise) ``+ 2 H W e C^2`` (the two dense layers, applied at every position).
    """
    channels = as_int(channels, "channels", minimum=1)
    wide = channels * as_int(expansion, "expansion", minimum=1)
    size = (as_int(h, "h", minimum=1), as_int(w, "w", minimum=1))
    positions = size[0] * size[1]
    kernel = as_pair(k, "k", minimum=1)
    return conv_macs(channels, channels, kernel, size, groups=channels) + 2 * positions * channels * wide
