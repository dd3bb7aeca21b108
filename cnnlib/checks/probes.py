"""Questions a check asks of a student's object where that object lives.

A check cannot hold a student's ``torch.nn.Module`` when the autograder runs the student's code
in another process, so it asks through :func:`cnnlib.checks.core.probe`, by name, for one of
these functions to be run on the object there. Each takes the object first and returns plain
data (numbers, strings, NumPy arrays, and lists/tuples/dicts of them).
"""

from __future__ import annotations

import numpy as np


def _torch():
    import torch

    return torch


def parameter_count(module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``)."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only))


def parameter_shapes(module) -> dict:
    """``{name: shape}`` for every parameter, in registration order."""
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


def state_shapes(module) -> dict:
    """``{name: shape}`` for every entry of the state dict (parameters and buffers)."""
    return {name: tuple(t.shape) for name, t in module.state_dict().items()}


def trainable(module) -> dict:
    """``{parameter name: requires_grad}``."""
    return {name: bool(p.requires_grad) for name, p in module.named_parameters()}


def layer_types(module) -> list:
    """The class names of every submodule, in order (``module.modules()``, the module itself first)."""
    return [type(m).__name__ for m in module.modules()]


def is_module(obj) -> bool:
    """Whether the object is a ``torch.nn.Module``."""
    return isinstance(obj, _torch().nn.Module)


def class_name(obj) -> str:
    return type(obj).__name__


def forward(module, x, state: dict | None = None, train: bool = False, seed: int = 0):
    """Load ``state`` (``{name: array}``, matched by shape in order when names differ) if given,
    then return ``module(x)`` as a float64 NumPy array (no gradient)."""
    torch = _torch()
    if state is not None:
        load_state(module, state)
    module.train(train)
    torch.manual_seed(seed)
    param = next(iter(module.parameters()), None)
    dtype = param.dtype if param is not None else torch.float32
    with torch.no_grad():
        out = module(torch.as_tensor(np.asarray(x), dtype=dtype))
    return out.detach().cpu().double().numpy()


def forward_backward(module, x, dout, state: dict | None = None, train: bool = True):
    """Return ``(out, {param name: grad})`` after ``(module(x) * dout).sum().backward()``."""
    torch = _torch()
    if state is not None:
        load_state(module, state)
    module.train(train)
    module.zero_grad(set_to_none=True)
    param = next(iter(module.parameters()), None)
    dtype = param.dtype if param is not None else torch.float32
    xt = torch.as_tensor(np.asarray(x), dtype=dtype)
    out = module(xt)
    (out * torch.as_tensor(np.asarray(dout), dtype=out.dtype)).sum().backward()
    grads = {n: p.grad.detach().double().numpy() for n, p in module.named_parameters() if p.grad is not None}
    return out.detach().double().numpy(), grads


def load_state(module, state: dict) -> list:
    """Copy ``state`` into the module's state dict, by name when the names match and otherwise by
    position among entries of equal shape; returns the names it filled."""
    torch = _torch()
    own = module.state_dict()
    filled = []
    if set(state) == set(own):
        pairs = [(k, state[k]) for k in own]
    else:
        pairs = list(zip(own.keys(), state.values()))
    with torch.no_grad():
        for name, value in pairs:
            target = own[name]
            value = torch.as_tensor(np.asarray(value))
            if tuple(target.shape) != tuple(value.shape):
                raise ValueError(f"state entry {name} has shape {tuple(target.shape)}, the check gave {tuple(value.shape)}")
            target.copy_(value.to(target.dtype))
            filled.append(name)
    return filled


def output_shape(module, input_shape: tuple, train: bool = False) -> tuple:
    """Shape of ``module(torch.zeros(input_shape))``."""
    torch = _torch()
    module.train(train)
    with torch.no_grad():
        return tuple(module(torch.zeros(input_shape)).shape)
