"""Argument checks shared by the interpretation functions: one image, one batch, a class, a layer.

Every function of :mod:`cnnlib.pytorch.interpret` takes a model and images the same way, so the same
mistakes (a batch where one image is expected, a target the model has no output for, a layer name
with a typo) get the same message everywhere.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

__all__ = ["check_batch", "check_image", "check_layer", "check_model", "check_scores", "check_target", "check_nonnegative"]


def check_model(model) -> nn.Module:
    """``model`` itself, or ``TypeError`` when it is not an ``nn.Module``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_tensor(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__} (torch.as_tensor turns an array into one)")
    if not x.is_floating_point():
        raise TypeError(f"{name} must hold floating-point pixel values, got dtype {x.dtype} (scale uint8 images to [0, 1] first)")
    return x


def check_image(x, name: str = "x") -> torch.Tensor:
    """One image ``(C, H, W)`` of floats, or an error that says what was given."""
    x = _check_tensor(x, name)
    if x.dim() == 4 and x.shape[0] == 1:
        raise ValueError(f"{name} must be one image of shape (C, H, W), got a batch of shape {tuple(x.shape)}: pass {name}[0]")
    if x.dim() != 3:
        raise ValueError(f"{name} must be one image of shape (C, H, W), got shape {tuple(x.shape)}")
    return x


def check_batch(x, name: str = "x") -> torch.Tensor:
    """A batch ``(N, C, H, W)`` of floats, or an error that says what was given."""
    x = _check_tensor(x, name)
    if x.dim() == 3:
        raise ValueError(f"{name} must be a batch of shape (N, C, H, W), got one image of shape {tuple(x.shape)}: pass {name}[None]")
    if x.dim() != 4 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch of shape (N, C, H, W), got shape {tuple(x.shape)}")
    return x


def check_scores(scores: torch.Tensor, batch: int) -> torch.Tensor:
    """The model's output must be ``(batch, num_classes)`` scores."""
    if scores.dim() != 2 or scores.shape[0] != batch:
        raise ValueError(f"model must map a batch of {batch} image(s) to scores of shape ({batch}, num_classes), got shape {tuple(scores.shape)}")
    return scores


def check_target(target, num_classes: int, name: str = "target") -> int:
    """A class index in ``0 .. num_classes - 1``."""
    if isinstance(target, torch.Tensor) and target.numel() == 1 and not target.is_floating_point():
        target = target.item()
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"{name} must be a class index (an int), got {type(target).__name__} {target!r}")
    if not 0 <= int(target) < num_classes:
        raise ValueError(f"{name} must be a class index in 0 .. {num_classes - 1} (the model has {num_classes} outputs), got {int(target)}")
    return int(target)


def check_layer(model: nn.Module, layer) -> nn.Module:
    """The submodule called ``layer`` (a name from ``model.named_modules()``)."""
    if not isinstance(layer, str):
        raise TypeError(f"layer must be the name of a submodule (a str such as 'conv4'), got {type(layer).__name__}")
    modules = dict(model.named_modules())
    if layer == "" or layer not in modules:
        names = [n for n in modules if n]
        shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
        raise ValueError(f"layer {layer!r} is not a submodule of the model; its layers are {shown}")
    return modules[layer]


def check_nonnegative(value, name: str) -> float:
    """A finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)
