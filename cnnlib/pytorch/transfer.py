"""Transfer learning: put a new classifier on a trained network and freeze the rest (notebook 13)."""

from __future__ import annotations

from torch import nn

__all__ = ["freeze_backbone", "head", "replace_head"]


def head(model: nn.Module) -> tuple[str, nn.Linear]:
    """The classifier: the last ``nn.Linear`` of ``model``, with its name (``"fc"``, ``"classifier.6"``, ``"11"``).

    Raises
    ------
    ValueError
        When ``model`` has no ``nn.Linear``.
    """
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to serve as its head")
    return linears[-1]


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the classifier for a freshly initialised ``nn.Linear(in_features, num_classes)``.

    Parameters
    ----------
    model : nn.Module
        Any of :mod:`cnnlib.pytorch.models` (or any network whose last ``nn.Linear`` is its head).
    num_classes : int
        Outputs of the new head.

    Returns
    -------
    nn.Module
        ``model`` itself, changed in place; the new head sits on the old head's device and dtype.
    """
    name, old = head(model)
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype)
    setattr(parent, attribute, new)
    return model


def freeze_backbone(model: nn.Module) -> nn.Module:
    """Stop gradients to every parameter except the head's, so that training changes the head only.

    Batch-norm layers of the backbone still update their running statistics in training mode; call
    ``.eval()`` on them to keep those fixed too.

    Returns
    -------
    nn.Module
        ``model``, changed in place.
    """
    _, classifier = head(model)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in classifier.parameters():
        p.requires_grad_(True)
    return model
