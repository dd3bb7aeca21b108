"""Adversarial examples: the fast gradient sign method, and accuracy against the size of the step.

Goodfellow, Shlens and Szegedy (2015) moved every pixel by the same small amount ``eps`` in the
direction that increases the loss, ``x + eps * sign(grad_x loss)``: a change too small to see that
flips most of a network's predictions. :func:`fgsm` makes such images; :func:`accuracy_under_attack`
measures a model's accuracy on them for several ``eps``, beside :func:`random_sign_noise`, a change of
the same size in a random direction.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._validate import as_int

from ._arguments import check_batch, check_model, check_nonnegative, check_scores

__all__ = ["accuracy_under_attack", "fgsm", "random_sign_noise"]

#: The valid pixel range of the course's images.
PIXEL_RANGE = (0.0, 1.0)


def _check_labels(y, batch: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor) or y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"y must be a tensor of integer class labels, got {type(y).__name__} {getattr(y, 'dtype', '')}")
    if tuple(y.shape) != (batch,):
        raise ValueError(f"y must hold one label per image, shape ({batch},), got {tuple(y.shape)}")
    return y.long()


def _check_pixels(x: torch.Tensor, pixel_range: tuple[float, float]) -> None:
    low, high = pixel_range
    tolerance = 1e-6 * (high - low)
    if x.min() < low - tolerance or x.max() > high + tolerance:
        raise ValueError(
            f"x must hold pixel values in [{low:g}, {high:g}], got values from {x.min().item():.3g} to {x.max().item():.3g} "
            "(are these normalised images? the attack works on the image the camera gives, before normalisation)"
        )


@torch.enable_grad()
def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *, pixel_range: tuple[float, float] = PIXEL_RANGE) -> torch.Tensor:
    """The fast gradient sign method: one step of size ``eps`` along the sign of the loss's gradient.

    Parameters
    ----------
    model : nn.Module
        A classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` scores, in evaluation mode.
    x : Tensor of shape (N, C, H, W)
        Images with pixel values in ``pixel_range``.
    y : Tensor of shape (N,), int64
        Their true labels.
    eps : float
        The step, ``>= 0``, on the pixel scale (``8 / 255`` moves each pixel by 8 grey levels).
    pixel_range : (float, float)
        The valid pixel values; the result is clipped to them.

    Returns
    -------
    Tensor of shape (N, C, H, W)
        ``clip(x + eps * sign(d loss / d x), *pixel_range)`` with the mean cross-entropy ``loss`` of
        ``model(x)`` against ``y``; detached, ``x``'s dtype. Each image's step depends on its own
        loss only (the mean's ``1/N`` does not change a sign).
    """
    check_model(model)
    x = check_batch(x)
    y = _check_labels(y, x.shape[0])
    eps = check_nonnegative(eps, "eps")
    _check_pixels(x, pixel_range)
    x_var = x.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(check_scores(model(x_var), x.shape[0]), y)
    (grad,) = torch.autograd.grad(loss, x_var)
    return (x.detach() + eps * grad.sign()).clamp(*pixel_range)


def random_sign_noise(x: torch.Tensor, eps: float, *, seed: int = 0, pixel_range: tuple[float, float] = PIXEL_RANGE) -> torch.Tensor:
    """``clip(x + eps * s)`` with ``s`` a random ±1 per pixel: a change as large as FGSM's, in no chosen direction."""
    x = check_batch(x)
    eps = check_nonnegative(eps, "eps")
    generator = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    signs = torch.randint(0, 2, x.shape, generator=generator).to(x.dtype) * 2 - 1
    return (x.detach() + eps * signs.to(x.device)).clamp(*pixel_range)


def accuracy_under_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilons,
    *,
    attack: Callable | None = None,
    batch_size: int = 500,
) -> np.ndarray:
    """The model's accuracy on perturbed copies of ``(x, y)``, for each ``eps`` in ``epsilons``.

    Parameters
    ----------
    model : nn.Module
        A classifier, in evaluation mode.
    x : Tensor of shape (N, C, H, W)
        Images with pixel values in [0, 1].
    y : Tensor of shape (N,)
        Their labels.
    epsilons : sequence of float
        Step sizes, each ``>= 0``.
    attack : callable, optional
        ``attack(model, x, y, eps) -> x_perturbed``; by default :func:`fgsm`. Pass
        ``lambda model, x, y, eps: random_sign_noise(x, eps)`` for the random baseline.
    batch_size : int
        Images per forward and backward pass.

    Returns
    -------
    ndarray of shape (len(epsilons),)
        Accuracies in [0, 1].
    """
    check_model(model)
    x = check_batch(x)
    y = _check_labels(y, x.shape[0])
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    attack = fgsm if attack is None else attack
    accuracies = []
    for eps in epsilons:
        eps = check_nonnegative(eps, "each of epsilons")
        correct = 0
        for start in range(0, len(y), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            perturbed = attack(model, xb, yb, eps)
            with torch.no_grad():
                correct += int((model(perturbed).argmax(dim=1) == yb).sum())
        accuracies.append(correct / len(y))
    return np.array(accuracies)
