"""Seeding every random number generator a training run uses, for runs that repeat exactly."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and every GPU).

    On a CPU that is enough for two runs with the same seed to give the same weights (a DataLoader
    draws its shuffling and its workers' seeds from PyTorch's generator). On a GPU some kernels
    (cuDNN's fastest convolutions, atomic additions) are not deterministic; ``deterministic=True``
    asks PyTorch for deterministic ones, at some cost in speed.

    Parameters
    ----------
    seed : int
        The seed.
    deterministic : bool
        Also switch PyTorch to deterministic algorithms and turn off cuDNN's autotuner.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds every CUDA device too
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
