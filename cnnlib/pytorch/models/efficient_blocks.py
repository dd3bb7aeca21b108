"""The blocks of efficient convolutional networks: depthwise-separable convolutions, MobileNet-v2's
inverted residual, and a ConvNeXt block.

- :class:`DepthwiseSeparableConv2d`: a depthwise KxK convolution then a pointwise 1x1 one, a
  drop-in for one ``nn.Conv2d`` (the twin of ``cnnlib.reference.depthwise_separable_conv2d_forward``);
- :class:`DepthwiseSeparableBlock`: MobileNet-v1's layer, depthwise-BN-ReLU-pointwise-BN-ReLU;
- :class:`InvertedResidual`: MobileNet-v2's block (Sandler et al., 2018): a 1x1 convolution that
  *expands* the channels, a depthwise 3x3 on the wide volume, a 1x1 convolution that projects back
  to a thin volume with no activation after it (the linear bottleneck), and the input added back
  when the shapes allow;
- :class:`ConvNeXtBlock` (Liu et al., 2022): a 7x7 depthwise convolution, one LayerNorm over the
  channels, an inverted bottleneck of two dense layers (4x wider in the middle) with one GELU, an
  optional per-channel layer scale, and the residual; :class:`LayerNorm2d` and
  :func:`patchify_stem` are the other ConvNeXt pieces, and :class:`ConvNeXt` (``convnext_tiny``)
  the whole network.

The parameter and multiply-accumulate counts of each block are in :mod:`cnnlib.arithmetic.efficient`
(tested against these modules).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._input import check_input

__all__ = [
    "ConvNeXt",
    "ConvNeXtBlock",
    "DepthwiseSeparableBlock",
    "DepthwiseSeparableConv2d",
    "InvertedResidual",
    "LayerNorm2d",
    "convnext_tiny",
    "patchify_stem",
]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


class DepthwiseSeparableConv2d(nn.Module):
    """A depthwise convolution (``groups = in_channels``) followed by a pointwise 1x1 convolution.

    Takes the place of ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
    dilation, bias=bias)``, with ``in_channels * k * k + in_channels * out_channels`` weights
    instead of ``in_channels * k * k * out_channels``. Nothing between the two steps: the layer is
    linear, like the convolution it replaces.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or pair
        Of the depthwise step.
    bias : bool
        Both steps have a bias (``nn.Conv2d``'s default), or neither.

    Attributes
    ----------
    depthwise : nn.Conv2d(in_channels, in_channels, kernel_size, groups=in_channels)
    pointwise : nn.Conv2d(in_channels, out_channels, 1)

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, OH, OW)``, ``OH = floor((H + 2p - d(k-1) - 1) / s) + 1``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, bias: bool = True):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels, bias=bias)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class DepthwiseSeparableBlock(nn.Module):
    """MobileNet-v1's layer: depthwise KxK conv, BN, ReLU, pointwise 1x1 conv, BN, ReLU (no biases).

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Of the depthwise convolution (2 halves the height and width).
    kernel_size : int
        Odd; padding ``kernel_size // 2`` keeps the size at stride 1.

    Attributes
    ----------
    depthwise, bn1, pointwise, bn2

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride, kernel_size // 2, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.depthwise(x)))
        return F.relu(self.bn2(self.pointwise(x)))


class InvertedResidual(nn.Module):
    """MobileNet-v2's inverted residual block with a linear bottleneck.

    ``hidden = expansion * in_channels``:

    - ``expand``: 1x1 convolution ``in_channels -> hidden``, BN, ReLU6; left out when
      ``expansion == 1`` (as in MobileNet-v2's first block and torchvision);
    - ``depthwise``: KxK depthwise convolution on ``hidden`` channels, stride ``stride``, padding
      ``kernel_size // 2``, BN, ReLU6;
    - ``project``: 1x1 convolution ``hidden -> out_channels``, BN, and **no** activation (a ReLU on
      the thin output would throw away information that cannot be recovered);
    - the input is added to the output when ``stride == 1`` and ``in_channels == out_channels``;
      otherwise there is no shortcut at all (no projection, unlike ResNet).

    The convolutions have no bias (each is followed by a batch norm).

    Parameters
    ----------
    in_channels, out_channels : int
    expansion : int
        ``t`` in the paper (6 in most blocks of MobileNet-v2).
    stride : int
        Of the depthwise convolution.
    kernel_size : int
        Of the depthwise convolution (3 in MobileNet-v2).

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: int, stride: int = 1, kernel_size: int = 3):
        super().__init__()
        _positive_int(in_channels, "in_channels")
        _positive_int(out_channels, "out_channels")
        _positive_int(expansion, "expansion")
        _positive_int(stride, "stride")
        hidden = expansion * in_channels
        self.expand = None
        if expansion != 1:
            self.expand = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True))
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, kernel_size, stride, kernel_size // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
        )
        self.project = nn.Sequential(nn.Conv2d(hidden, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand is None else self.expand(x)  # (N, hidden, H, W)
        out = self.project(self.depthwise(out))  # (N, out_channels, H', W'), no activation
        return x + out if self.use_residual else out

    def extra_repr(self) -> str:
        return f"use_residual={self.use_residual}"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` tensor, at each position (ConvNeXt's norm).

    ``nn.LayerNorm(C)`` normalises the last axis; this moves the channels there and back, so each
    pixel's C values get one mean and variance (unlike ``F.layer_norm(x, x.shape[1:])``, which
    takes one per example over C, H and W).
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # (N, H, W, C)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


def patchify_stem(in_channels: int, out_channels: int, patch_size: int = 4) -> nn.Sequential:
    """ConvNeXt's stem: non-overlapping ``patch_size`` x ``patch_size`` patches (a convolution with
    kernel = stride = ``patch_size``), then LayerNorm over the channels.

    ResNet's stem (a 7x7 stride-2 convolution and a stride-2 max pool) also shrinks the image 4
    times; the patchify stem does it in one step whose windows do not overlap, as a vision
    transformer cuts its input into patches.
    """
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, patch_size, stride=patch_size), LayerNorm2d(out_channels))


class ConvNeXtBlock(nn.Module):
    """A ConvNeXt block: 7x7 depthwise conv, LayerNorm, 1x1 expand (4x), GELU, 1x1 project, layer scale, + x.

    What changed since ResNet's bottleneck block: the spatial filtering is one large depthwise
    convolution (7x7, cheap because it is depthwise) placed first; one normalisation (LayerNorm
    over the channels, not batch norm) and one activation (GELU, not ReLU) per block instead of
    three of each; the bottleneck is inverted (wide in the middle, as MobileNet-v2's) and done by
    dense layers on each position; each block's output is scaled per channel by a learned
    ``layer_scale`` started near zero, so that a deep stack starts close to the identity.
    Stochastic depth, which ConvNeXt adds in training, is left out.

    Parameters
    ----------
    channels : int
        Channels in and out (the block keeps the shape).
    kernel_size : int
        Of the depthwise convolution (7 in ConvNeXt), padding ``kernel_size // 2``.
    expansion : int
        Width of the middle of the inverted bottleneck, as a multiple of ``channels`` (4).
    layer_scale_init : float or None
        Initial value of the per-channel scale (1e-6 in ConvNeXt); ``None`` leaves it out.

    Attributes
    ----------
    depthwise : nn.Conv2d(channels, channels, kernel_size, groups=channels), with bias
    norm : nn.LayerNorm(channels, eps=1e-6), over the channels of each position
    expand, project : nn.Linear(channels, expansion * channels) and back, on each position
    layer_scale : nn.Parameter of shape (channels,), or None

    Shape
    -----
    ``(N, channels, H, W) -> (N, channels, H, W)``.
    """

    def __init__(self, channels: int, kernel_size: int = 7, expansion: int = 4, layer_scale_init: float | None = 1e-6):
        super().__init__()
        _positive_int(channels, "channels")
        _positive_int(expansion, "expansion")
        self.depthwise = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.expand = nn.Linear(channels, expansion * channels)
        self.project = nn.Linear(expansion * channels, channels)
        self.layer_scale = None if layer_scale_init is None else nn.Parameter(torch.full((channels,), float(layer_scale_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.depthwise(x).permute(0, 2, 3, 1)  # (N, H, W, C): the dense layers act on the last axis
        out = self.project(F.gelu(self.expand(self.norm(out))))
        if self.layer_scale is not None:
            out = out * self.layer_scale
        return x + out.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    """ConvNeXt (Liu et al., 2022): a patchify stem, four stages of :class:`ConvNeXtBlock`, LayerNorm, a dense layer.

    Between stages a downsampling layer (LayerNorm over the channels, then a 2x2 convolution with
    stride 2) halves the height and width and widens the volume. ConvNeXt-T has ``depths = (3, 3,
    9, 3)`` and ``widths = (96, 192, 384, 768)``: 28,589,128 parameters for 1000 classes.
    Stochastic depth is left out (it changes training, not the architecture).

    Parameters
    ----------
    depths : sequence of 4 ints
        Blocks per stage.
    widths : sequence of 4 ints
        Channels of each stage.
    num_classes, in_channels : int
    layer_scale_init : float or None
        See :class:`ConvNeXtBlock`.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 32`` (total stride 32; 224x224 in the paper,
    where the last map is 7x7), output ``(N, num_classes)``.
    """

    min_input_size = 32

    def __init__(self, depths=(3, 3, 9, 3), widths=(96, 192, 384, 768), num_classes: int = 1000, in_channels: int = 3, *, layer_scale_init: float | None = 1e-6):
        super().__init__()
        depths, widths = tuple(depths), tuple(widths)
        if len(depths) != 4 or len(widths) != 4:
            raise ValueError(f"depths and widths must have 4 entries, one per stage, got {depths!r} and {widths!r}")
        self.name = "ConvNeXt"
        self.in_channels = in_channels
        self.stem = patchify_stem(in_channels, widths[0], 4)  # 224 -> 56
        self.downsample = nn.ModuleList(
            nn.Sequential(LayerNorm2d(widths[i - 1]), nn.Conv2d(widths[i - 1], widths[i], 2, stride=2)) for i in range(1, 4)
        )
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtBlock(width, layer_scale_init=layer_scale_init) for _ in range(depth))) for depth, width in zip(depths, widths)
        )
        self.norm = nn.LayerNorm(widths[-1], eps=1e-6)
        self.head = nn.Linear(widths[-1], num_classes)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.name, self.in_channels, min_size=self.min_input_size)
        x = self.stages[0](self.stem(x))
        for downsample, stage in zip(self.downsample, self.stages[1:]):
            x = stage(downsample(x))
        return self.head(self.norm(x.mean(dim=(2, 3))))  # global average pooling, then LayerNorm


def convnext_tiny(num_classes: int = 1000, in_channels: int = 3) -> ConvNeXt:
    """ConvNeXt-T: depths (3, 3, 9, 3), widths (96, 192, 384, 768)."""
    return ConvNeXt(num_classes=num_classes, in_channels=in_channels)
