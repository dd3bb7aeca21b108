"""Saving and loading a training run: the model, the optimiser, the schedule and anything else (epoch, history)."""

from __future__ import annotations

import os

import torch
from torch import nn

from .convert import describe_mismatch, unwrap

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer=None, scheduler=None, **extra) -> None:
    """Write ``model``'s state (and the optimiser's and schedule's, if given) to ``path``.

    Parameters
    ----------
    path : str or path
        The file to write (conventionally ``.pt``).
    model : nn.Module
        The network; a ``torch.compile`` wrapper is saved as the module inside it.
    optimizer, scheduler : optional
        Their ``state_dict`` s are saved too, so that a run can resume.
    **extra
        Plain values to keep alongside (epoch, history dict, configuration): numbers, strings,
        lists, dicts and tensors.
    """
    module = unwrap(model)
    payload = {
        "model_class": type(module).__name__,
        "model": module.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "extra": extra,
    }
    torch.save(payload, path)


def load_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer=None, scheduler=None, *, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and the optimiser and schedule).

    Parameters
    ----------
    path : str or path
        The checkpoint file.
    model : nn.Module
        The network to fill; it must have the architecture the checkpoint was saved from.
    optimizer, scheduler : optional
        Restored when given (the checkpoint must hold their states).
    map_location : str or torch.device
        Where to put the loaded tensors before they are copied into ``model``.

    Returns
    -------
    dict
        The ``extra`` values saved with the checkpoint.

    Raises
    ------
    ValueError
        When the checkpoint was saved from another architecture: the message names both classes and
        lists the keys that are missing, unexpected or of another shape.
    """
    payload = torch.load(path, map_location=map_location, weights_only=True)
    module = unwrap(model)
    expected = {k: v.shape for k, v in module.state_dict().items()}
    mismatch = describe_mismatch(expected, {k: v.shape for k, v in payload["model"].items()})
    if mismatch:
        raise ValueError(
            f"checkpoint {os.fspath(path)!r} was saved from {payload['model_class']} and does not fit "
            f"this {type(module).__name__}: {mismatch}"
        )
    module.load_state_dict(payload["model"])
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None:
            if payload[name] is None:
                raise ValueError(f"checkpoint {os.fspath(path)!r} holds no {name} state to restore")
            target.load_state_dict(payload[name])
    return payload["extra"]
