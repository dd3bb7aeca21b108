"""How much of a map lies on the object, where the object's mask is known (the shapes data set)."""

from __future__ import annotations

import numpy as np

__all__ = ["fraction_on_object"]


def fraction_on_object(heatmap, mask) -> float:
    """The share of a map's positive mass that falls on the object.

    Parameters
    ----------
    heatmap : array of shape (H, W)
        A saliency, occlusion (per pixel) or Grad-CAM map; negative values count as 0.
    mask : array of shape (H, W)
        The object's coverage of each pixel, in [0, 1] (or uint8 0 to 255, as
        :func:`cnnlib.data.load_shapes` returns it).

    Returns
    -------
    float
        ``sum(max(heatmap, 0) * mask) / sum(max(heatmap, 0))``, in [0, 1]; NaN for a map with no
        positive value. A map spread evenly over the image scores the object's share of the image,
        ``mask.mean()``: the number to beat.
    """
    heatmap = np.asarray(heatmap, dtype=np.float64)
    mask = np.asarray(mask)
    if heatmap.ndim != 2 or heatmap.shape != mask.shape:
        raise ValueError(f"heatmap and mask must be (H, W) maps of the same shape, got {heatmap.shape} and {mask.shape}")
    mask = mask / 255.0 if mask.dtype == np.uint8 else mask.astype(np.float64)
    positive = np.clip(heatmap, 0, None)
    total = positive.sum()
    return float((positive * mask).sum() / total) if total > 0 else float("nan")
