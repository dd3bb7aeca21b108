"""AlexNet (Krizhevsky et al. 2012) in the common single-GPU layout (that of torchvision)."""

from __future__ import annotations

import torch
from torch import nn

from ._input import check_input

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet: five convolutions (11x11 stride 4, 5x5, three 3x3), three max pools, three dense layers.

    61,100,840 parameters for 1000 classes. The paper split the filters over two GPUs (96 and 256
    first-layer filters in total, grouped convolutions); the single-GPU layout used here (64, 192,
    384, 256, 256 filters) is the one most code and most published counts mean by "AlexNet".

    Parameters
    ----------
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images.
    dropout : float
        Dropout probability before each of the first two dense layers.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 63`` (224x224 in the paper; the adaptive average
    pool brings any larger size to the 6x6 map that the classifier takes), output
    ``(N, num_classes)``.
    """

    min_input_size = 63

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),  # 224 -> 55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 55 -> 27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 27 -> 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 13 -> 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, "AlexNet", self.in_channels, min_size=self.min_input_size)
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6)
        return self.classifier(torch.flatten(x, 1))


def alexnet(num_classes: int = 1000, in_channels: int = 3) -> AlexNet:
    """AlexNet; see :class:`AlexNet`."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels)
