"""A small CIFAR-sized CNN and its depthwise-separable twin, for comparing cost against accuracy.

Both have the same layout: a 3x3 convolution to ``widths[0]`` maps, three stages of
``convs_per_stage`` layers on 32x32, 16x16 and 8x8 maps (the first layer of stages 2 and 3 has
stride 2), global average pooling and a dense layer. In :class:`SmallCNN` every layer of the stages
is a standard 3x3 convolution with batch norm and ReLU; with ``separable=True`` each becomes
MobileNet-v1's depthwise-separable layer (depthwise 3x3, BN, ReLU, pointwise 1x1, BN, ReLU). The
stem stays a standard convolution in both (a depthwise convolution of the 3 colour channels could
not mix them). With the default three layers per stage the separable twin has 19 convolutions, as
many as the CIFAR ResNet-20 it is compared with, and about an eighth of the standard network's
parameters and multiply-adds.

``norm`` picks the normalisation of every layer (batch norm by default, group norm for the
small-batch experiment of notebook 15).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._input import check_input
from .efficient_blocks import DepthwiseSeparableBlock

__all__ = ["NORMS", "SmallCNN", "make_norm", "small_cnn", "small_cnn_separable"]

NORMS = ("batch", "group", "instance", "layer", "none")
#: Channels per group of group norm when ``norm="group"`` (fewer groups where a layer is narrower).
GROUP_NORM_GROUPS = 8


def make_norm(kind: str, channels: int) -> nn.Module:
    """The normalisation layer ``kind`` for ``channels`` maps.

    ``"batch"``: ``nn.BatchNorm2d``; ``"group"``: ``nn.GroupNorm`` with 8 groups (or the largest
    divisor of ``channels`` below 8); ``"instance"``: group norm with one channel per group;
    ``"layer"``: group norm with one group (layer norm over C, H and W); ``"none"``: the identity.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(math.gcd(GROUP_NORM_GROUPS, channels), channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


def conv_norm_relu(in_channels: int, out_channels: int, stride: int, norm: str) -> nn.Sequential:
    """3x3 convolution (padding 1, no bias before a norm), normalisation, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=norm == "none"),
        make_norm(norm, out_channels),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """A plain CIFAR CNN of standard or depthwise-separable 3x3 layers.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    separable : bool
        Depthwise-separable layers (:class:`DepthwiseSeparableBlock`) in the stages instead of
        standard convolutions.
    widths : sequence of 3 ints
        Maps in each stage (32, 64, 128).
    convs_per_stage : int
        Layers per stage (3).
    norm : {"batch", "group", "instance", "layer", "none"}
        Normalisation after each convolution (see :func:`make_norm`); a separable network supports
        batch norm only, as MobileNet.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 4`` (total stride 4), output ``(N, num_classes)``.
    """

    min_input_size = 4

    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, separable: bool = False, widths=(32, 64, 128), convs_per_stage: int = 3, norm: str = "batch"):
        super().__init__()
        widths = tuple(widths)
        if len(widths) != 3 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be 3 ints >= 1, one per stage, got {widths!r}")
        if isinstance(convs_per_stage, bool) or not isinstance(convs_per_stage, int) or convs_per_stage < 1:
            raise ValueError(f"convs_per_stage must be an int >= 1, got {convs_per_stage!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if separable and norm != "batch":
            raise ValueError(f"a separable SmallCNN uses batch norm (MobileNet's layer), got norm={norm!r}")
        self.name = "SmallCNN-separable" if separable else "SmallCNN"
        self.in_channels = in_channels
        self.stem = conv_norm_relu(in_channels, widths[0], 1, norm)
        stages, channels = [], widths[0]
        for stage, width in enumerate(widths):
            layers = []
            for i in range(convs_per_stage):
                stride = 2 if stage > 0 and i == 0 else 1
                layer = DepthwiseSeparableBlock(channels, width, stride) if separable else conv_norm_relu(channels, width, stride, norm)
                layers.append(layer)
                channels = width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)  # 32 -> 32 -> 16 -> 8
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.name, self.in_channels, min_size=self.min_input_size)
        x = self.stages(self.stem(x))  # (N, widths[2], H / 4, W / 4)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def small_cnn(num_classes: int = 10, in_channels: int = 3) -> SmallCNN:
    """The standard :class:`SmallCNN` (widths 32, 64, 128; three 3x3 layers per stage)."""
    return SmallCNN(num_classes, in_channels)


def small_cnn_separable(num_classes: int = 10, in_channels: int = 3) -> SmallCNN:
    """Its depthwise-separable twin, :class:`SmallCNN` with ``separable=True``."""
    return SmallCNN(num_classes, in_channels, separable=True)
