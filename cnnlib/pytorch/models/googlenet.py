"""GoogLeNet (Szegedy et al. 2015): a stack of Inception modules with 1x1 bottlenecks."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ._input import check_input

__all__ = ["GoogLeNet", "InceptionModule", "conv_bn_relu", "googlenet"]


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    """Convolution (no bias, "same" padding for odd kernels), batch norm, ReLU: GoogLeNet's unit.

    The convolution has no bias because the batch norm's shift that follows it would cancel it.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class InceptionModule(nn.Module):
    """Four parallel branches whose outputs are concatenated along the channels.

    - 1x1 convolution to ``c1`` channels;
    - 1x1 reduction to ``c3_reduce`` channels, then 3x3 convolution to ``c3``;
    - 1x1 reduction to ``c5_reduce`` channels, then 5x5 convolution to ``c5``;
    - 3x3 max pool (stride 1, padding 1), then 1x1 projection to ``pool_proj``.

    Every convolution is a :func:`conv_bn_relu` unit. The 1x1 reductions are what make the module
    cheap: a 5x5 convolution from ``in_channels`` straight to ``c5`` costs
    ``25 * in_channels * c5`` weights, through the reduction ``in_channels * c5_reduce +
    25 * c5_reduce * c5``.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    c1, c3_reduce, c3, c5_reduce, c5, pool_proj : int
        Channels of each convolution, in the order of the GoogLeNet paper's Table 1.

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, c1 + c3 + c5 + pool_proj, H, W)``.
    """

    def __init__(self, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int):
        super().__init__()
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = conv_bn_relu(in_channels, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(in_channels, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(in_channels, c5_reduce, 1), conv_bn_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn_relu(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x))
        return torch.cat(branches, dim=1)


# (c1, c3_reduce, c3, c5_reduce, c5, pool_proj) of each Inception module, the paper's Table 1.
INCEPTION_3 = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64)}
INCEPTION_4 = {
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
}
INCEPTION_5 = {"5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128)}


class GoogLeNet(nn.Module):
    """GoogLeNet: a convolutional stem, nine :class:`InceptionModule` s, global average pooling, one dense layer.

    The layout and the channel numbers are those of the paper's Table 1 (3x3 stride-2 max pools,
    true 5x5 convolutions in the Inception modules), with two changes that every modern
    implementation makes: batch norm after each convolution instead of local response
    normalisation, and no auxiliary classifiers (they helped the original training converge, which
    batch norm now does). 7,005,832 parameters for 1000 classes (``tests/pytorch`` checks the
    count against a layer-by-layer sum).

    Parameters
    ----------
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images.
    dropout : float
        Dropout probability before the dense layer (0.4 in the paper).

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 32`` (five stride-2 stages; 224x224 in the
    paper, where the last map is 7x7), output ``(N, num_classes)``.
    """

    min_input_size = 32

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.4):
        super().__init__()
        self.in_channels = in_channels
        self.stem = nn.Sequential(
            conv_bn_relu(in_channels, 64, 7, stride=2),  # 224 -> 112
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 56
            conv_bn_relu(64, 64, 1),
            conv_bn_relu(64, 192, 3),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 28
        )
        stages = []
        channels = 192
        for table in (INCEPTION_3, INCEPTION_4, INCEPTION_5):
            for name, widths in table.items():
                module = InceptionModule(channels, *widths)
                stages.append((f"inception{name}", module))
                channels = module.out_channels
            if table is not INCEPTION_5:
                stages.append((f"pool{name[0]}", nn.MaxPool2d(3, stride=2, ceil_mode=True)))  # 28 -> 14 -> 7
        self.inception = nn.Sequential(OrderedDict(stages))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)  # channels == 1024

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, "GoogLeNet", self.in_channels, min_size=self.min_input_size)
        x = self.avgpool(self.inception(self.stem(x)))  # (N, 1024, 1, 1)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def googlenet(num_classes: int = 1000, in_channels: int = 3) -> GoogLeNet:
    """GoogLeNet; see :class:`GoogLeNet`."""
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels)
