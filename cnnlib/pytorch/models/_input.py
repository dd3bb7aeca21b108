"""The forward pre-check that every architecture runs on its input.

A network built for one input shape fails on another deep inside, with a message about a matrix
product or a kernel larger than its input. Checking the shape at the door turns that into a message
that names the shape the network expects.
"""

from __future__ import annotations

import torch

__all__ = ["check_input"]


def check_input(x: torch.Tensor, model_name: str, in_channels: int, *, size: int | None = None, min_size: int | None = None) -> None:
    """Raise ``ValueError`` unless ``x`` is a batch the network can take.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
        The network's input.
    model_name : str
        Named in the message, e.g. ``"LeNet5"``.
    in_channels : int
        The number of channels ``C`` the first layer was built for.
    size : int, optional
        The exact height and width the network needs (a network whose classifier has a fixed
        number of inputs, such as LeNet-5).
    min_size : int, optional
        The smallest height and width the network takes (the total down-sampling factor, so that the
        last feature map is at least 1x1).
    """
    if size is not None:
        expected = f"(N, {in_channels}, {size}, {size})"
    elif min_size is not None:
        expected = f"(N, {in_channels}, H, W) with H, W >= {min_size}"
    else:
        expected = f"(N, {in_channels}, H, W)"
    shape = tuple(x.shape)
    bad = x.dim() != 4 or shape[1] != in_channels
    if not bad and size is not None:
        bad = shape[2] != size or shape[3] != size
    if not bad and min_size is not None:
        bad = shape[2] < min_size or shape[3] < min_size
    if bad:
        raise ValueError(f"{model_name} expects input of shape {expected}, got {shape}")
