"""A layer-by-layer table of a PyTorch model: output shape, parameters, MACs, activation memory.

    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU())
    >>> for row in layer_table(model, (3, 32, 32)):
    ...     print(row.name, row.kind, row.output_shape, row.params, row.macs)
    0 Conv2d (8, 32, 32) 224 221184
    1 ReLU (8, 32, 32) 0 0
"""

from __future__ import annotations

from typing import NamedTuple

from cnnlib._validate import as_int
from cnnlib.arithmetic.counts import activation_memory, conv_macs

__all__ = ["LayerRow", "layer_table"]


class LayerRow(NamedTuple):
    """One call of a leaf module during a forward pass of one example."""

    name: str                       # the module's path in the model, e.g. "features.0"
    kind: str                       # its class, e.g. "Conv2d"
    output_shape: tuple[int, ...]   # without the batch axis, e.g. (C, H, W)
    params: int                     # learnable parameters (0 when the module was already listed)
    macs: int                       # multiply-accumulates of Conv2d and Linear layers, else 0
    activation_bytes: int           # memory of the output for one example


def _macs(module, output) -> int:
    import torch

    if isinstance(module, torch.nn.Conv2d):
        return conv_macs(module.in_channels, module.out_channels, module.kernel_size, tuple(output.shape[2:]), module.groups)
    if isinstance(module, torch.nn.Linear):
        return output[0].numel() * module.in_features
    return 0


def layer_table(model, input_shape, dtype_bytes=4) -> list[LayerRow]:
    """Run one zero example through ``model`` and describe every leaf module it calls, in order.

    Parameters
    ----------
    model : torch.nn.Module
        Put in eval mode for the pass (so batch norm accepts one example), then restored.
    input_shape : tuple of int
        One example's shape, without the batch axis, e.g. ``(3, 224, 224)``.
    dtype_bytes : int
        Bytes per activation element, for ``activation_bytes`` (4: float32).

    Returns
    -------
    list of LayerRow
        One row per call of a module that has no submodules. A module called twice (a shared
        ReLU) gets two rows, its parameters counted in the first, so that
        ``sum(row.params)`` is the number of parameters that the pass used.

    Notes
    -----
    Multiply the ``macs`` and ``activation_bytes`` by the batch size for a mini-batch; training
    also keeps gradients and optimizer state, which this table does not count.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"input_shape must be a non-empty tuple of ints such as (3, 32, 32), got {input_shape!r}")
    input_shape = tuple(as_int(size, f"input_shape[{axis}]", minimum=1) for axis, size in enumerate(input_shape))
    rows, seen = [], set()

    def record(name, module, inputs, output):
        if not isinstance(output, torch.Tensor):
            return  # e.g. an LSTM's tuple: not a layer this course tabulates
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters())
        seen.add(id(module))
        shape = tuple(output.shape[1:])
        rows.append(LayerRow(name, type(module).__name__, shape, params, _macs(module, output), activation_memory(shape, dtype_bytes)))

    leaves = [(name, module) for name, module in model.named_modules() if not any(module.children())]
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: record(name, m, i, o)) for name, module in leaves]
    parameter = next(model.parameters(), None)
    x = torch.zeros(1, *input_shape, dtype=parameter.dtype if parameter is not None else torch.float32,
                    device=parameter.device if parameter is not None else "cpu")
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
    return rows
