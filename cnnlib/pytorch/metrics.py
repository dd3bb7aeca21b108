"""Classification metrics on logits: top-k accuracy and top-k error."""

from __future__ import annotations

import torch

__all__ = ["topk_correct", "topk_error"]


def topk_correct(logits: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each example's label is among its ``k`` highest logits.

    Parameters
    ----------
    logits : Tensor of shape (N, num_classes)
    y : Tensor of shape (N,)
        Integer labels.
    k : int
        ``k >= 1``; with fewer than ``k`` classes every label counts as found.

    Returns
    -------
    Tensor of shape (N,), bool
    """
    if logits.dim() != 2 or y.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (N, num_classes) and y (N,), got logits {tuple(logits.shape)} and y {tuple(y.shape)}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    top = logits.topk(min(k, logits.shape[1]), dim=1).indices  # (N, k)
    return (top == y[:, None]).any(dim=1)


def topk_error(logits: torch.Tensor, y: torch.Tensor, k: int) -> float:
    """The fraction of examples whose label is not among their ``k`` highest logits (ImageNet's top-k error)."""
    return 1.0 - topk_correct(logits, y, k).float().mean().item()
