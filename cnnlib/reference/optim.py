"""Optimisers on dictionaries of arrays: SGD (momentum, Nesterov, weight decay) and Adam.

The update formulas are torch.optim's, step for step, so that a NumPy network and its PyTorch twin
trained side by side stay equal.

The optimisers are functional on the parameters: ``step(params, grads)`` takes ``{name: array}``
dictionaries and returns a new dictionary of new arrays, never writing into the ones it was given.
The optimiser owns only its state (momentum buffers, moment estimates, step counts), keyed by
parameter name::

    opt = SGD(lr=0.01, momentum=0.9)
    model.params = opt.step(model.params, model.grads)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["SGD", "Adam", "sgd_momentum_step"]


def _check_real(value, name: str, low: float, high: float = np.inf, *, low_open: bool = False) -> float:
    ok_type = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not ok_type or not ((value > low) if low_open else (value >= low)) or not value <= high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}], got {value!r}")
    return float(value)


def _check_dicts(params, grads) -> None:
    """``params`` and ``grads`` are dicts with the same names and shapes."""
    for name, d in (("params", params), ("grads", grads)):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be a dict {{name: ndarray}}, got {type(d).__name__}")
    if params.keys() != grads.keys():
        raise ValueError(
            f"grads must have the same names as params: expected {sorted(params)}, got {sorted(grads)}"
        )
    for key, p in params.items():
        if np.shape(grads[key]) != np.shape(p):
            raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}], {np.shape(p)}, got {np.shape(grads[key])}")


def sgd_momentum_step(params, grads, velocity, lr, momentum=0.9):
    """One step of SGD with momentum, PyTorch's form: ``v = momentum * v + g``, ``p = p - lr * v``.

    Parameters
    ----------
    params, grads : dict of name -> ndarray
        Parameters and their gradients, the same names and shapes.
    velocity : dict of name -> ndarray
        The velocities from the last step; names missing from it start at zero (so ``{}`` starts).
    lr : float
        Learning rate.
    momentum : float in [0, 1)

    Returns
    -------
    params, velocity : dict of name -> ndarray
        New dictionaries of new arrays.

    Notes
    -----
    CS231n writes ``v = momentum * v - lr * g``, ``p = p + v``: the same steps for a constant learning
    rate, with the velocity scaled by ``-lr``.
    """
    _check_dicts(params, grads)
    lr = _check_real(lr, "lr", 0.0)
    momentum = _check_real(momentum, "momentum", 0.0, 1.0)
    new_params, new_velocity = {}, {}
    for name, p in params.items():
        v = momentum * velocity[name] + grads[name] if name in velocity else grads[name].copy()
        new_velocity[name] = v
        new_params[name] = p - lr * v
    return new_params, new_velocity


class SGD:
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    Parameters
    ----------
    lr : float
        Learning rate.
    momentum : float >= 0
    dampening : float in [0, 1]
        Scales the gradient added to the momentum buffer (not on the first step).
    weight_decay : float >= 0
        L2 penalty, added to the gradient as ``weight_decay * p``.
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    Notes
    -----
    torch.optim.SGD's update, per parameter: ``g = grad + weight_decay * p``; with momentum,
    ``buf = g`` on the first step and ``buf = momentum * buf + (1 - dampening) * g`` after, then
    ``g = g + momentum * buf`` (Nesterov) or ``g = buf``; finally ``p = p - lr * g``.

    Attributes
    ----------
    state : dict of name -> ndarray
        The momentum buffers.
    """

    def __init__(self, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.lr = _check_real(lr, "lr", 0.0)
        self.momentum = _check_real(momentum, "momentum", 0.0)
        self.dampening = _check_real(dampening, "dampening", 0.0, 1.0)
        self.weight_decay = _check_real(weight_decay, "weight_decay", 0.0)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {nesterov!r}")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, dampening={dampening}")
        self.nesterov = nesterov
        self.state: dict[str, np.ndarray] = {}

    def step(self, params, grads):
        """One update; returns new parameters ``{name: array}`` and keeps the momentum buffers.

        Parameters
        ----------
        params, grads : dict of name -> ndarray
            The same names and shapes.

        Returns
        -------
        params : dict of name -> ndarray
            New arrays; the arguments are not modified.
        """
        _check_dicts(params, grads)
        new_params = {}
        for name, p in params.items():
            g = grads[name].astype(p.dtype, copy=False)
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                buf = self.state.get(name)
                buf = g.copy() if buf is None else self.momentum * buf + (1 - self.dampening) * g
                self.state[name] = buf
                g = g + self.momentum * buf if self.nesterov else buf
            new_params[name] = p - self.lr * g
        return new_params


class Adam:
    """Adam: per-parameter steps from bias-corrected estimates of the gradient's first two moments.

    Parameters
    ----------
    lr : float
        Learning rate.
    betas : pair of floats in [0, 1)
        Decay rates of the first and second moment estimates.
    eps : float >= 0
        Added to the denominator.
    weight_decay : float >= 0
        L2 penalty added to the gradient (torch.optim.Adam's, not AdamW's decoupled decay).

    Notes
    -----
    torch.optim.Adam's update at step ``t``, per parameter: ``g = grad + weight_decay * p``,
    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g**2``,
    ``p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    Attributes
    ----------
    state : dict of name -> dict
        Per parameter: ``step`` (int), ``exp_avg`` (m) and ``exp_avg_sq`` (v), PyTorch's names.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr = _check_real(lr, "lr", 0.0)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of floats in [0, 1), got {betas!r}")
        self.betas = tuple(_check_real(b, "betas[i]", 0.0, 1.0) for b in betas)
        if any(b >= 1 for b in self.betas):
            raise ValueError(f"betas must be a pair of floats in [0, 1), got {betas!r}")
        self.eps = _check_real(eps, "eps", 0.0)
        self.weight_decay = _check_real(weight_decay, "weight_decay", 0.0)
        self.state: dict[str, dict] = {}

    def step(self, params, grads):
        """One update; returns new parameters ``{name: array}`` and keeps the moment estimates.

        Parameters
        ----------
        params, grads : dict of name -> ndarray
            The same names and shapes.

        Returns
        -------
        params : dict of name -> ndarray
            New arrays; the arguments are not modified.
        """
        _check_dicts(params, grads)
        beta1, beta2 = self.betas
        new_params = {}
        for name, p in params.items():
            g = grads[name].astype(p.dtype, copy=False)
            if self.weight_decay:
                g = g + self.weight_decay * p
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)})
            state["step"] += 1
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            step_size = self.lr / (1 - beta1 ** state["step"])
            denom = np.sqrt(state["exp_avg_sq"]) / math.sqrt(1 - beta2 ** state["step"]) + self.eps
            new_params[name] = p - step_size * state["exp_avg"] / denom
        return new_params
