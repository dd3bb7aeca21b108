"""What the layers of a network compute on an image: activations of named layers, penultimate features.

A forward hook (``module.register_forward_hook``) is called with a layer's output every time the
layer runs; :func:`record_activations` uses one per named layer to keep those outputs, and removes
the hooks afterwards even when the forward pass fails. :func:`penultimate_features` keeps what the
classifier (the last ``nn.Linear``) receives: the representation the network has learned, one
vector per image.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from cnnlib._validate import as_int

from ..transfer import head
from ._arguments import check_batch, check_layer, check_model

__all__ = ["activations", "penultimate_features", "record_activations"]


@contextmanager
def record_activations(model: nn.Module, layers):
    """Within the block, every forward pass stores the output of each named layer.

    Parameters
    ----------
    model : nn.Module
    layers : str or sequence of str
        Names from ``model.named_modules()``, e.g. ``["relu1", "relu4"]``.

    Yields
    ------
    dict
        ``{name: output}``, filled (and overwritten) by each forward pass; the tensors are the
        layers' outputs themselves, still in the autograd graph.

    Examples
    --------
    >>> with record_activations(model, ["relu1"]) as outputs:
    ...     model(x)
    >>> outputs["relu1"].shape
    """
    check_model(model)
    names = [layers] if isinstance(layers, str) else list(layers)
    modules = {name: check_layer(model, name) for name in names}
    outputs: dict = {}
    handles = []

    def keep(name):
        def hook(_module, _inputs, output):
            outputs[name] = output

        return hook

    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(keep(name)))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def activations(model: nn.Module, x: torch.Tensor, layers) -> dict:
    """The outputs of the named layers on a batch, without gradients: ``{name: Tensor}``.

    Parameters
    ----------
    model : nn.Module
        Used as it is (put it in evaluation mode first).
    x : Tensor of shape (N, C, H, W)
    layers : str or sequence of str
        Names from ``model.named_modules()``.

    Returns
    -------
    dict
        ``{name: Tensor}``; for a convolutional layer of ``K`` filters, shape ``(N, K, h, w)``.
    """
    x = check_batch(x)
    with record_activations(model, layers) as outputs:
        model(x)
    return {name: value.detach() for name, value in outputs.items()}


@torch.no_grad()
def penultimate_features(model: nn.Module, x: torch.Tensor, *, batch_size: int = 500) -> np.ndarray:
    """What the model's classifier (its last ``nn.Linear``) receives, for every image of ``x``.

    Parameters
    ----------
    model : nn.Module
        Used as it is (put it in evaluation mode first).
    x : Tensor of shape (N, C, H, W)
    batch_size : int
        Images per forward pass.

    Returns
    -------
    ndarray of shape (N, D), float32
        ``D`` is the classifier's ``in_features``.
    """
    check_model(model)
    x = check_batch(x)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    _, classifier = head(model)
    captured = []
    handle = classifier.register_forward_pre_hook(lambda _module, inputs: captured.append(inputs[0].detach().flatten(1)))
    try:
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    finally:
        handle.remove()
    return torch.cat(captured).float().cpu().numpy()
