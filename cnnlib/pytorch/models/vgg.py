"""VGG (Simonyan and Zisserman 2015): blocks of 3x3 convolutions, each block ending in a 2x2 max pool."""

from __future__ import annotations

import torch
from torch import nn

from ._input import check_input

__all__ = ["VGG", "vgg_block", "vgg11", "vgg13", "vgg16", "vgg19"]

# (number of 3x3 convolutions, output channels) of the five blocks; the configurations A, B, D, E
# of the paper's Table 1.
VGG_CONFIGS = {
    11: ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    13: ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    16: ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    19: ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}


def vgg_block(in_channels: int, out_channels: int, num_convs: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1), each followed by a ReLU, then a 2x2 max pool.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels into the first convolution and out of every convolution.
    num_convs : int
        Number of convolution + ReLU pairs.

    Returns
    -------
    nn.Sequential
        ``(N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2)``, with
        ``(9 * in_channels + 1) * out_channels + (num_convs - 1) * (9 * out_channels + 1) * out_channels``
        parameters.
    """
    if num_convs < 1:
        raise ValueError(f"num_convs must be >= 1, got {num_convs}")
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG-11/13/16/19: five :func:`vgg_block` s, then three dense layers (4096, 4096, classes).

    VGG-16 has 138,357,544 parameters for 1000 classes, almost 90% of them in the dense layers.

    Parameters
    ----------
    depth : {11, 13, 16, 19}
        Number of weight layers.
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images.
    dropout : float
        Dropout probability after each of the first two dense layers.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 32`` (five halvings; 224x224 in the paper; an
    adaptive average pool brings the last map to the 7x7 that the classifier takes), output
    ``(N, num_classes)``.
    """

    min_input_size = 32

    def __init__(self, depth: int = 16, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise ValueError(f"depth must be one of {sorted(VGG_CONFIGS)}, got {depth}")
        self.depth = depth
        self.in_channels = in_channels
        blocks = []
        channels = in_channels
        for num_convs, out_channels in VGG_CONFIGS[depth]:
            blocks.append(vgg_block(channels, out_channels, num_convs))
            channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, f"VGG-{self.depth}", self.in_channels, min_size=self.min_input_size)
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(torch.flatten(x, 1))


def vgg11(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11 (configuration A); see :class:`VGG`."""
    return VGG(11, num_classes=num_classes, in_channels=in_channels)


def vgg13(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-13 (configuration B); see :class:`VGG`."""
    return VGG(13, num_classes=num_classes, in_channels=in_channels)


def vgg16(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16 (configuration D, 138,357,544 parameters for 1000 classes); see :class:`VGG`."""
    return VGG(16, num_classes=num_classes, in_channels=in_channels)


def vgg19(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-19 (configuration E); see :class:`VGG`."""
    return VGG(19, num_classes=num_classes, in_channels=in_channels)
