"""LeNet-5 (LeCun et al. 1998) in the layout the course uses throughout, NumPy and PyTorch alike."""

from __future__ import annotations

import torch
from torch import nn

from ._input import check_input

__all__ = ["LeNet5"]


class LeNet5(nn.Sequential):
    """LeNet-5: two 5x5 convolutions with max pooling, then three fully connected layers.

    The layers, with the shapes for a 1x32x32 input (61,706 parameters for 10 classes)::

        0  Conv2d(1, 6, 5)      (N, 6, 28, 28)
        1  ReLU
        2  MaxPool2d(2)         (N, 6, 14, 14)
        3  Conv2d(6, 16, 5)     (N, 16, 10, 10)
        4  ReLU
        5  MaxPool2d(2)         (N, 16, 5, 5)
        6  Flatten              (N, 400)
        7  Linear(400, 120)
        8  ReLU
        9  Linear(120, 84)
        10 ReLU
        11 Linear(84, num_classes)

    The indices are the parameter names (``"0.weight"``, ``"7.bias"``...), the same as those of
    ``cnnlib.reference.models.lenet5``, so weights copy across by name
    (:func:`cnnlib.pytorch.convert.load_numpy_weights`).

    Parameters
    ----------
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images (1 for MNIST padded to 32x32, 3 for CIFAR-10).

    Shape
    -----
    Input ``(N, in_channels, 32, 32)``, output ``(N, num_classes)``; any other shape is a
    ``ValueError`` that names the expected one.
    """

    input_size = 32

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, "LeNet5", self.in_channels, size=self.input_size)
        return super().forward(x)
