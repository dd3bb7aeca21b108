"""Networks built from the reference layers: LeNet-5."""

from __future__ import annotations

import numpy as np

from .._validate import as_int
from .sequential import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, _generator

__all__ = ["lenet5"]


def lenet5(num_classes=10, in_channels=1, seed=0, dtype=np.float64) -> Sequential:
    """LeNet-5 for ``(N, in_channels, 32, 32)`` input, the layout used throughout the course.

    ::

        index  layer                    output
        0      Conv2d(in_channels, 6, 5)  (N, 6, 28, 28)
        1      ReLU
        2      MaxPool2d(2)             (N, 6, 14, 14)
        3      Conv2d(6, 16, 5)         (N, 16, 10, 10)
        4      ReLU
        5      MaxPool2d(2)             (N, 16, 5, 5)
        6      Flatten                  (N, 400)
        7      Linear(400, 120)
        8      ReLU
        9      Linear(120, 84)
        10     ReLU
        11     Linear(84, num_classes)  (N, num_classes)

    Parameters
    ----------
    num_classes : int
    in_channels : int
        1 for grey-scale digits, 3 for colour images.
    seed : int
        Seeds the initial weights (PyTorch's default initialisation scheme): the same seed gives the
        same network.
    dtype : numpy dtype
        Of the parameters; float32 trains faster, float64 is the reference.

    Returns
    -------
    model : Sequential
        With parameters, in this order, ``"0.weight" (6, in_channels, 5, 5)``, ``"0.bias" (6,)``,
        ``"3.weight" (16, 6, 5, 5)``, ``"3.bias" (16,)``, ``"7.weight" (120, 400)``,
        ``"7.bias" (120,)``, ``"9.weight" (84, 120)``, ``"9.bias" (84,)``,
        ``"11.weight" (num_classes, 84)``, ``"11.bias" (num_classes,)``: the names
        ``named_parameters()`` gives an ``nn.Sequential`` of the same layout. 61,706 parameters for
        one input channel and 10 classes.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    rng = _generator(as_int(seed, "seed", minimum=0))
    return Sequential(
        Conv2d(in_channels, 6, 5, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Conv2d(6, 16, 5, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(16 * 5 * 5, 120, rng=rng, dtype=dtype),
        ReLU(),
        Linear(120, 84, rng=rng, dtype=dtype),
        ReLU(),
        Linear(84, num_classes, rng=rng, dtype=dtype),
    )
