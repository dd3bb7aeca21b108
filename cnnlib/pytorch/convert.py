"""Weights across the two paths: NumPy parameter dicts (``cnnlib.reference``) to PyTorch modules and back.

A ``cnnlib.reference`` network keeps its parameters in a dict named like PyTorch's
``state_dict`` (``"0.weight"``, ``"0.bias"``, ``"3.weight"``...), with the same shapes
(``(C_out, C_in, kH, kW)`` convolution weights, ``(out_features, in_features)`` linear weights), so
weights copy across by name. Every copy checks names and shapes first and says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

__all__ = ["describe_mismatch", "load_numpy_weights", "torch_to_numpy", "unwrap"]


def unwrap(model: nn.Module) -> nn.Module:
    """The module itself when ``model`` came out of ``torch.compile`` (whose names carry a prefix)."""
    return getattr(model, "_orig_mod", model)


def describe_mismatch(expected: Mapping[str, tuple], given: Mapping[str, tuple], *, ignore_missing=()) -> str | None:
    """Say how two sets of named shapes differ, or return ``None`` when they agree.

    Parameters
    ----------
    expected : mapping of str to tuple
        Name to shape, as the receiving model has them.
    given : mapping of str to tuple
        Name to shape, as the weights being loaded have them.
    ignore_missing : collection of str
        Names of ``expected`` that ``given`` may leave out.

    Returns
    -------
    str or None
        One clause per kind of difference: missing keys, unexpected keys, keys whose shapes differ.
    """
    missing = [k for k in expected if k not in given and k not in ignore_missing]
    unexpected = [k for k in given if k not in expected]
    reshaped = [f"{k}: expected {tuple(expected[k])}, got {tuple(given[k])}" for k in expected if k in given and tuple(expected[k]) != tuple(given[k])]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if reshaped:
        problems.append(f"shapes differ for {reshaped}")
    return "; ".join(problems) or None


def load_numpy_weights(model: nn.Module, params: Mapping[str, np.ndarray]) -> nn.Module:
    """Copy NumPy arrays into ``model``'s parameters (and batch-norm running statistics) by name.

    Parameters
    ----------
    model : nn.Module
        The receiver, e.g. :class:`cnnlib.pytorch.models.LeNet5`; its dtype and device are kept
        (call ``model.double()`` first for a float64 comparison).
    params : mapping of str to ndarray
        Every parameter of ``model`` under its ``state_dict`` name (a ``cnnlib.reference``
        network's ``params``); buffers such as ``"1.running_mean"`` may be given too.

    Returns
    -------
    nn.Module
        ``model``, with the weights copied in.

    Raises
    ------
    ValueError
        When a parameter is missing, a key is not in the model, or a shape differs; the message
        lists each.
    """
    module = unwrap(model)
    state = module.state_dict()
    buffers = {name for name, _ in module.named_buffers()}
    mismatch = describe_mismatch(
        {k: v.shape for k, v in state.items()},
        {k: np.shape(v) for k, v in params.items()},
        ignore_missing=buffers,
    )
    if mismatch:
        raise ValueError(f"the NumPy weights do not fit {type(module).__name__}: {mismatch}")
    with torch.no_grad():
        for name, array in params.items():
            target = state[name]  # state_dict tensors share storage with the module's own
            target.copy_(torch.as_tensor(np.asarray(array), dtype=target.dtype))
    return model


def torch_to_numpy(model: nn.Module, *, include_buffers: bool = False) -> dict[str, np.ndarray]:
    """``model``'s parameters as NumPy arrays (copies), named as in its ``state_dict``.

    Parameters
    ----------
    model : nn.Module
        The source.
    include_buffers : bool
        Also return the floating-point buffers (batch norm's ``running_mean`` and ``running_var``).

    Returns
    -------
    dict of str to ndarray
        In the model's order, each array with the parameter's shape and dtype; the form a
        ``cnnlib.reference`` network's ``params`` takes.
    """
    module = unwrap(model)
    tensors = dict(module.named_parameters())
    if include_buffers:
        tensors.update((name, b) for name, b in module.named_buffers() if b.is_floating_point())
    return {name: t.detach().cpu().numpy().copy() for name, t in module.state_dict().items() if name in tensors}
