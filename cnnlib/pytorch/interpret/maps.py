"""Which pixels a classifier's decision depends on: gradient saliency, occlusion and Grad-CAM.

Three ways to draw, for one image ``x (C, H, W)`` and one class ``target``, a map of where the
evidence for that class is:

- :func:`saliency_map` (Simonyan et al. 2014): how fast the class score changes with each pixel,
  ``max_c |d score / d x[c, i, j]|``; one backward pass, pixel-sharp, noisy;
- :func:`occlusion_map` (Zeiler and Fergus 2014): how much the class probability drops when a grey
  patch hides each place; one forward pass per position, no gradients, as coarse as the patch;
- :func:`grad_cam` (Selvaraju et al. 2017): the feature maps of one layer weighted by the spatial
  mean of the score's gradient, ReLU'd and upsampled; as coarse as that layer.

The *score* is the model's raw output for the class (its logit, before the softmax). The model is
used as it is given: put it in evaluation mode first (``model.eval()``), so that batch norm uses its
running statistics and dropout is off. None of these functions changes the model or ``x``, and the
gradient-based ones work inside ``torch.no_grad()`` blocks too.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._validate import as_int
from cnnlib.arithmetic import conv_output_size

from ._arguments import check_image, check_layer, check_model, check_scores, check_target

__all__ = ["grad_cam", "occlusion_map", "occlusion_to_pixels", "saliency_map"]

#: The value of every channel of the occluding patch: mid-grey on the [0, 1] pixel scale.
GREY = 0.5


def _scores(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x[None])`` checked to be ``(1, num_classes)``; returns the row ``(num_classes,)``."""
    return check_scores(model(x[None]), 1)[0]


@torch.enable_grad()
def saliency_map(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Gradient saliency: the largest absolute derivative of the class score over the channels.

    Parameters
    ----------
    model : nn.Module
        A classifier mapping ``(N, C, H, W)`` images to ``(N, num_classes)`` scores (logits), in
        evaluation mode.
    x : Tensor of shape (C, H, W)
        One image, on the scale the model takes (pixel values in [0, 1] for the course's models).
    target : int
        The class whose score is differentiated, in ``0 .. num_classes - 1``.

    Returns
    -------
    ndarray of shape (H, W)
        ``S[i, j] = max_c |d score_target / d x[c, i, j]|``, in ``x``'s dtype (float32 for float32).

    Notes
    -----
    The score is the logit, not the softmax probability: the probability's gradient also carries
    the other classes' scores (``dp_t = p_t (dz_t - sum_k p_k dz_k)``) and vanishes when the model is
    sure, so it says less about the class itself.
    """
    check_model(model)
    x = check_image(x).detach().clone().requires_grad_(True)
    scores = _scores(model, x)
    target = check_target(target, scores.shape[0])
    (grad,) = torch.autograd.grad(scores[target], x)  # (C, H, W)
    return grad.abs().amax(dim=0).cpu().numpy()


def _patch_and_stride(x: torch.Tensor, patch, stride) -> tuple[int, int]:
    patch = as_int(patch, "patch", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    height, width = x.shape[1:]
    if patch > min(height, width):
        raise ValueError(f"patch must fit in the image: patch={patch} is larger than the image's {height}x{width}")
    return patch, stride


@torch.no_grad()
def occlusion_map(model: nn.Module, x: torch.Tensor, target: int, patch: int, stride: int, *, fill: float = GREY, batch_size: int = 256) -> np.ndarray:
    """Occlusion sensitivity: the drop in the class probability when a grey square hides each place.

    Parameters
    ----------
    model : nn.Module
        A classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` scores, in evaluation mode.
    x : Tensor of shape (C, H, W)
        One image with pixel values in [0, 1].
    target : int
        The class whose probability is watched.
    patch : int
        Side of the square patch, ``1 <= patch <= min(H, W)``.
    stride : int
        Step between patch positions, in pixels.
    fill : float
        The value every channel of the patch takes (0.5, mid-grey, by default).
    batch_size : int
        Occluded copies of ``x`` per forward pass.

    Returns
    -------
    ndarray of shape (OH, OW)
        ``D[i, j] = p(x) - p(x with the patch at rows i*stride ... i*stride + patch - 1 and columns
        j*stride ... j*stride + patch - 1)``, where ``p`` is the softmax probability of ``target``;
        ``OH = (H - patch) // stride + 1`` and likewise ``OW``: only positions where the whole patch
        fits. Positive where hiding the place hurts the class, negative where it helps.
    """
    check_model(model)
    x = check_image(x).detach()
    patch, stride = _patch_and_stride(x, patch, stride)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    height, width = x.shape[1:]
    out_h, out_w = conv_output_size((height, width), patch, stride=stride)  # the patch slides like a kernel, no padding
    scores = _scores(model, x)
    target = check_target(target, scores.shape[0])
    base = torch.softmax(scores, dim=0)[target]
    corners = [(i * stride, j * stride) for i in range(out_h) for j in range(out_w)]  # row-major
    probabilities = []
    for start in range(0, len(corners), batch_size):
        chunk = corners[start : start + batch_size]
        batch = x.expand(len(chunk), *x.shape).clone()  # (B, C, H, W)
        for k, (top, left) in enumerate(chunk):
            batch[k, :, top : top + patch, left : left + patch] = fill
        probabilities.append(torch.softmax(check_scores(model(batch), len(chunk)), dim=1)[:, target])
    return (base - torch.cat(probabilities)).reshape(out_h, out_w).cpu().numpy()


def occlusion_to_pixels(drops, patch: int, stride: int, size) -> np.ndarray:
    """An occlusion map as a per-pixel map: each pixel gets the mean drop of the patches covering it.

    Parameters
    ----------
    drops : ndarray of shape (OH, OW)
        What :func:`occlusion_map` returns.
    patch, stride : int
        The patch side and stride it was computed with.
    size : int or (int, int)
        The image's ``(H, W)``.

    Returns
    -------
    ndarray of shape (H, W), float64
        Pixels that no patch covered (possible at the bottom and right edges when ``(H - patch)``
        is not a multiple of ``stride``) are 0.
    """
    drops = np.asarray(drops, dtype=np.float64)
    height, width = (size, size) if np.isscalar(size) else size
    if drops.ndim != 2 or drops.shape != conv_output_size((height, width), patch, stride=stride):
        raise ValueError(f"drops must have shape ((H - patch) // stride + 1, (W - patch) // stride + 1) for H, W = {height}, {width}, got {drops.shape}")
    total = np.zeros((height, width))
    count = np.zeros((height, width))
    for i in range(drops.shape[0]):
        for j in range(drops.shape[1]):
            total[i * stride : i * stride + patch, j * stride : j * stride + patch] += drops[i, j]
            count[i * stride : i * stride + patch, j * stride : j * stride + patch] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@torch.enable_grad()
def grad_cam(model: nn.Module, x: torch.Tensor, target: int, layer: str) -> np.ndarray:
    """Grad-CAM: one layer's feature maps weighted by the spatially averaged gradient of the score.

    Parameters
    ----------
    model : nn.Module
        A classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` scores, in evaluation mode.
    x : Tensor of shape (C, H, W)
        One image.
    target : int
        The class whose score is explained.
    layer : str
        The name of the submodule whose output ``A (K, h, w)`` is used, as in
        ``model.named_modules()`` (usually the last convolutional stage, e.g. ``"relu4"``).

    Returns
    -------
    ndarray of shape (H, W), values in [0, 1]
        With ``alpha_k = mean_ij d score_target / d A[k, i, j]`` (one weight per channel) and
        ``L = ReLU(sum_k alpha_k A[k])`` of shape ``(h, w)``: ``L`` upsampled to ``(H, W)`` by
        bilinear interpolation (``F.interpolate(..., mode="bilinear", align_corners=False)``), then
        divided by its maximum. A map that is zero everywhere stays zero.
    """
    check_model(model)
    x = check_image(x).detach().clone().requires_grad_(True)  # so that A needs a gradient even in a frozen model
    module = check_layer(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    try:
        scores = _scores(model, x)
    finally:
        handle.remove()
    target = check_target(target, scores.shape[0])
    if not captured:
        raise ValueError(f"layer {layer!r} was not run by the model's forward pass")
    activation = captured[-1]
    if not isinstance(activation, torch.Tensor) or activation.dim() != 4:
        shape = tuple(activation.shape) if isinstance(activation, torch.Tensor) else type(activation).__name__
        raise ValueError(f"layer {layer!r} must output feature maps of shape (1, K, h, w), got {shape}")
    (grad,) = torch.autograd.grad(scores[target], activation, allow_unused=True)
    if grad is None:
        raise ValueError(f"the score of class {target} does not depend on the output of layer {layer!r}")
    weights = grad.mean(dim=(2, 3), keepdim=True)  # (1, K, 1, 1): alpha_k
    cam = F.relu((weights * activation).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[1:], mode="bilinear", align_corners=False)[0, 0]  # (H, W)
    peak = cam.max()
    if peak > 0:
        cam = cam / peak
    return cam.detach().cpu().numpy()
