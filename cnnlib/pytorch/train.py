"""The training loop: ``fit`` a classifier, ``evaluate`` it, on whatever device there is.

One call trains a model with the standard recipe and returns its :class:`History`::

    history = fit(model, train_loader, val_loader, epochs=10, lr=0.1, weight_decay=5e-4)
    history.plot()

The loaders yield ``(x, y)`` batches: ``x (N, C, H, W)`` float images, ``y (N,)`` integer labels
(:mod:`cnnlib.pytorch.data` makes them). On CUDA the defaults are bf16 autocast, channels-last
memory and cuDNN's autotuner; elsewhere float32 and the usual layout.
"""

from __future__ import annotations

import math
import os
import time

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import save_checkpoint
from .device import autocast, resolve_device, use_amp_by_default, use_channels_last_by_default
from .history import History
from .metrics import topk_correct
from .seeding import seed_everything

__all__ = ["evaluate", "fit", "make_optimizer", "make_schedule"]

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("onecycle", "cosine", None)


def make_optimizer(model: nn.Module, name: str, lr: float, *, momentum: float = 0.9, nesterov: bool = True, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SGD (with momentum, Nesterov by default), Adam or AdamW over ``model``'s parameters.

    Weight decay applies to the weight matrices and kernels only: decaying biases and batch-norm
    scales towards zero does not regularise anything useful and slows training.

    Parameters
    ----------
    model : nn.Module
    name : {"sgd", "adam", "adamw"}
    lr : float
        Learning rate (the peak one under a one-cycle schedule).
    momentum : float
        SGD momentum (ignored by Adam).
    nesterov : bool
        Nesterov momentum for SGD.
    weight_decay : float
        L2 penalty coefficient (decoupled for AdamW).
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    return torch.optim.AdamW(groups, lr=lr)


def make_schedule(optimizer: torch.optim.Optimizer, name: str | None, lr: float, total_steps: int):
    """A learning-rate schedule stepped once per batch, or ``None`` for a constant rate.

    ``"onecycle"`` warms up from ``lr / 25`` to ``lr`` over the first 30% of the steps, then anneals
    to almost zero (Smith and Topin 2018; momentum moves the opposite way). ``"cosine"`` starts at
    ``lr`` and follows half a cosine down to zero.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}")
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def to_device(x: torch.Tensor, y: torch.Tensor, device: torch.device, channels_last: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to ``device`` (asynchronously from pinned memory) in the memory layout the model uses."""
    x = x.to(device, non_blocking=True)
    y = y.to(device, non_blocking=True)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without parameters)."""
    return next(model.parameters(), torch.empty(0)).device


@torch.no_grad()
def evaluate(model: nn.Module, loader, device=None, *, amp: bool | None = None, channels_last: bool | None = None) -> dict:
    """Cross-entropy loss, top-1 and top-5 accuracy of ``model`` over every batch of ``loader``.

    Parameters
    ----------
    model : nn.Module
        A classifier; it is put in evaluation mode (batch norm uses its running statistics,
        dropout is off) and left there.
    loader : iterable of (x, y)
        ``x (N, C, H, W)``, ``y (N,)``.
    device : str or torch.device, optional
        Where to run; by default where the model's parameters are.
    amp, channels_last : bool, optional
        bf16 autocast and channels-last memory; by default on for CUDA only.

    Returns
    -------
    dict
        ``{"loss": float, "top1": float, "top5": float}``, accuracies in [0, 1] (top-5 counts every
        example as found when there are at most 5 classes).
    """
    device = model_device(model) if device is None else resolve_device(device)
    amp = use_amp_by_default(device) if amp is None else amp
    channels_last = use_channels_last_by_default(device) if channels_last is None else channels_last
    model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format).eval()
    total_loss = torch.zeros((), device=device)  # float32: MPS has no float64
    correct1 = torch.zeros((), device=device, dtype=torch.int64)
    correct5 = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    for x, y in loader:
        x, y = to_device(x, y, device, channels_last)
        with autocast(device, amp):
            logits = model(x)
        logits = logits.float()
        total_loss += F.cross_entropy(logits, y, reduction="sum")
        correct1 += topk_correct(logits, y, 1).sum()
        correct5 += topk_correct(logits, y, 5).sum()
        count += len(y)
    if count == 0:
        raise ValueError("the loader yielded no examples to evaluate")
    return {"loss": total_loss.item() / count, "top1": correct1.item() / count, "top5": correct5.item() / count}


def fit(
    model: nn.Module,
    train_loader,
    val_loader=None,
    *,
    epochs: int,
    lr: float,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = 0.0,
    schedule: str | None = "onecycle",
    label_smoothing: float = 0.0,
    device=None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    compile: bool = False,
    seed: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train_loader`` for ``epochs`` epochs, evaluating on ``val_loader`` after each.

    Parameters
    ----------
    model : nn.Module
        The classifier, trained in place (and moved to ``device``).
    train_loader, val_loader : iterable of (x, y) with ``len``
        Batches ``x (N, C, H, W)``, ``y (N,)``; ``val_loader`` may be ``None``.
    epochs : int
        Passes over ``train_loader``.
    lr : float
        Learning rate; the peak rate under ``schedule="onecycle"``, the initial one under
        ``"cosine"``.
    optimizer : {"sgd", "adam", "adamw"}
        See :func:`make_optimizer`.
    momentum, nesterov, weight_decay :
        SGD momentum, Nesterov momentum, weight decay on weights (not biases or batch-norm
        parameters).
    schedule : {"onecycle", "cosine", None}
        Learning-rate schedule, stepped every batch (see :func:`make_schedule`); ``None`` keeps ``lr``.
    label_smoothing : float
        Mass spread uniformly over all classes in the training targets (0.1 is common).
    device : str or torch.device, optional
        Default: CUDA, then MPS, then CPU.
    amp : bool, optional
        bf16 autocast; default on CUDA only.
    channels_last : bool, optional
        Channels-last memory for the model and its inputs; default on CUDA only.
    compile : bool
        Run the model through ``torch.compile`` (the first epoch then includes compilation).
    seed : int, optional
        Seed everything (:func:`cnnlib.pytorch.seeding.seed_everything`) before training: the data
        order, the augmentation and dropout repeat. Seed before building the model as well for the
        same initial weights.
    checkpoint : str or path, optional
        Save the model, optimiser, schedule, epoch and history there after every epoch.
    progress : bool
        Show a progress bar per epoch (tqdm, which draws a widget in a notebook).

    Returns
    -------
    History
        Per-epoch losses, accuracies, times and throughput; ``history.plot()`` draws the curves.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if len(train_loader) == 0:
        raise ValueError("train_loader yields no batches (is the batch size larger than the data set, with drop_last?)")
    if seed is not None:
        seed_everything(seed)
    device = resolve_device(device)
    amp = use_amp_by_default(device) if amp is None else amp
    channels_last = use_channels_last_by_default(device) if channels_last is None else channels_last
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest kernels
    model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    network = torch.compile(model) if compile else model
    opt = make_optimizer(model, optimizer, lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    scheduler = make_schedule(opt, schedule, lr, epochs * len(train_loader))
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    history = History()
    for epoch in range(1, epochs + 1):
        network.train()
        loss_sum = torch.zeros((), device=device)  # float32: MPS has no float64
        correct = torch.zeros((), device=device, dtype=torch.int64)
        count = 0
        refresh_every = max(1, len(train_loader) // 10)
        start = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", disable=not progress, leave=True)
        for step, (x, y) in enumerate(bar, 1):
            x, y = to_device(x, y, device, channels_last)
            with autocast(device, amp):
                logits = network(x)
            loss = criterion(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(dim=1) == y).sum()
            count += len(y)
            if step % refresh_every == 0:  # reading the figures waits for the GPU: not every step
                bar.set_postfix(loss=f"{loss_sum.item() / count:.4f}", acc=f"{correct.item() / count:.4f}")
        train_loss, train_acc = loss_sum.item() / count, correct.item() / count  # .item() waits for the device
        train_time = time.perf_counter() - start
        val = {"loss": math.nan, "top1": math.nan, "top5": math.nan}
        if val_loader is not None:
            val = evaluate(network, val_loader, device, amp=amp, channels_last=channels_last)
        history.append(
            epoch=epoch,
            lr=opt.param_groups[0]["lr"],
            train_loss=train_loss,
            train_acc=train_acc,
            val_loss=val["loss"],
            val_top1=val["top1"],
            val_top5=val["top5"],
            train_time=train_time,
            images_per_s=count / train_time,
        )
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.4f}", val_top1=f"{val['top1']:.4f}")
        bar.close()
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, opt, scheduler, epoch=epoch, history=history.as_dict())
    return history
