"""Where to run: the best device available, and the speed settings that go with it.

The same code runs on a laptop CPU, an Apple GPU and an NVIDIA GPU: :func:`default_device` picks
CUDA, then MPS, then the CPU, and every function that runs a model takes ``device=`` to override it.
On CUDA, bf16 autocast and the channels-last memory layout are on by default (they roughly double
the throughput of a convolutional network on tensor-core GPUs); elsewhere they are off.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["autocast", "default_device", "resolve_device", "use_amp_by_default", "use_channels_last_by_default"]


def default_device() -> torch.device:
    """CUDA if there is a GPU, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device``; ``None`` means :func:`default_device`.

    Raises
    ------
    ValueError
        When the device named is not available on this machine (``"cuda"`` without a GPU).
    """
    if device is None:
        return default_device()
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was asked for, but CUDA is not available here; use device='cpu' or device=None")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(device)!r} was asked for, but MPS is not available here; use device='cpu' or device=None")
    return device


def use_amp_by_default(device: torch.device) -> bool:
    """bf16 autocast is the default on CUDA only (on a CPU it is slower than float32)."""
    return device.type == "cuda"


def use_channels_last_by_default(device: torch.device) -> bool:
    """Channels-last (NHWC) memory is the default on CUDA only, where cuDNN's fastest kernels want it."""
    return device.type == "cuda"


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """A bf16 autocast region on ``device`` when ``enabled``, else a region that changes nothing."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
