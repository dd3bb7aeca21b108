"""The network notebook 14 looks inside, and its training, cached so that a second run is instant.

:func:`small_cnn` is a plain stack of named layers (``conv1``, ``bn1``, ``relu1``, ... ``fc``) that
takes images with pixel values in [0, 1] and standardises them itself (:class:`Standardize`), so
that an occluding patch, an adversarial step and its clipping all live on the scale of the image.

:func:`train_or_load` trains it with :func:`cnnlib.pytorch.fit`, or loads the weights that the same
call saved before: the checkpoint's file name is a hash of everything the training depends on (the
initial weights, the training images and labels, the settings, the device type), so a checkpoint is
only ever reused by a run that would have produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from cnnlib.data.cache import cache_dir

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import make_loader
from ..device import resolve_device
from ..history import History
from ..train import fit

__all__ = ["Standardize", "checkpoint_path", "small_cnn", "train_or_load"]

#: Bumped whenever the training code here changes in a way that changes the weights it produces.
VERSION = 1


class Standardize(nn.Module):
    """Per-channel ``(x - mean) / std``: the first layer of a network that takes [0, 1] images.

    Parameters
    ----------
    mean, std : sequence of float or Tensor of shape (C,)
        The training images' per-channel statistics on the [0, 1] scale
        (:func:`cnnlib.pytorch.data.channel_stats`).
    """

    def __init__(self, mean, std):
        super().__init__()
        mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean.shape != std.shape or bool((std <= 0).any()):
            raise ValueError(f"mean and std must have one value per channel and std must be > 0, got {mean.tolist()} and {std.tolist()}")
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != len(self.mean):
            raise ValueError(f"expected images of shape (N, {len(self.mean)}, H, W), got {tuple(x.shape)}")
        return (x - self.mean[:, None, None]) / self.std[:, None, None]

    def extra_repr(self) -> str:
        return f"mean={[round(v, 3) for v in self.mean.tolist()]}, std={[round(v, 3) for v in self.std.tolist()]}"


def small_cnn(mean, std, num_classes: int = 10, widths: tuple[int, int, int, int] = (16, 32, 64, 128)) -> nn.Sequential:
    """Four convolutions with batch norm, global average pooling and a linear classifier, for 32x32 RGB.

    ::

        normalize                     (N, 3, 32, 32) in [0, 1] -> standardised
        conv1 5x5, bn1, relu1, pool1  -> (N, w1, 16, 16)
        conv2 3x3, bn2, relu2, pool2  -> (N, w2, 8, 8)
        conv3 3x3, bn3, relu3         -> (N, w3, 8, 8)
        conv4 3x3, bn4, relu4         -> (N, w4, 8, 8)
        pool (global average), flatten -> (N, w4): the penultimate features
        fc                            -> (N, num_classes)

    Parameters
    ----------
    mean, std : sequence of float
        Per-channel statistics of the training images (see :class:`Standardize`).
    num_classes : int
    widths : 4 ints
        Filters of ``conv1`` to ``conv4``.

    Returns
    -------
    nn.Sequential
        With the layer names above (``model.conv1``, ``model.get_submodule("relu4")``).
    """
    w1, w2, w3, w4 = widths
    layers = OrderedDict(normalize=Standardize(mean, std))
    for index, (cin, cout, kernel, pool) in enumerate([(3, w1, 5, True), (w1, w2, 3, True), (w2, w3, 3, False), (w3, w4, 3, False)], 1):
        layers[f"conv{index}"] = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        layers[f"bn{index}"] = nn.BatchNorm2d(cout)
        layers[f"relu{index}"] = nn.ReLU()
        if pool:
            layers[f"pool{index}"] = nn.MaxPool2d(2)
    layers["pool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(w4, num_classes)
    return nn.Sequential(layers)


def _digest(model: nn.Module, arrays, settings: dict) -> str:
    """A hash of everything a training run depends on: the initial weights, the data, the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": VERSION, "torch": torch.__version__, "model": repr(model), **settings}, sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    for array in arrays:
        digest.update(b"none" if array is None else np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:20]


def checkpoint_path(model: nn.Module, images, labels, val_images=None, val_labels=None, **settings) -> "os.PathLike":
    """Where :func:`train_or_load` keeps the weights for these arguments (under the data cache)."""
    digest = _digest(model, (images, labels, val_images, val_labels), settings)
    return cache_dir() / "checkpoints" / f"{type(model).__name__.lower()}-{digest}.pt"


def train_or_load(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 128,
    weight_decay: float = 5e-4,
    augment: bool = False,
    seed: int = 0,
    val_images: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    device=None,
    progress: bool = True,
) -> tuple[History, bool]:
    """Train ``model`` with :func:`cnnlib.pytorch.fit` (SGD, one-cycle), or load the weights this call saved before.

    Parameters
    ----------
    model : nn.Module
        Freshly initialised, taking images in [0, 1] (e.g. :func:`small_cnn`); trained or loaded in
        place, and returned to the CPU in evaluation mode.
    images : ndarray of uint8, shape (N, C, H, W)
        Training images (scaled to [0, 1] batch by batch; the model standardises them itself).
    labels : ndarray of int64, shape (N,)
    epochs, lr, batch_size, weight_decay :
        As for :func:`cnnlib.pytorch.fit` (``lr`` is the one-cycle peak).
    augment : bool
        Random crops and flips of the training batches.
    seed : int
        Seeds the data order and augmentation.
    val_images, val_labels : optional
        Evaluated after every epoch (the history's ``val_top1``).
    device : optional
        Where to train; by default :func:`cnnlib.pytorch.default_device`. Part of the cache key, as
        a GPU run does not give exactly a CPU run's weights.
    progress : bool
        Progress bars while training.

    Returns
    -------
    history : History
        The training run's per-epoch figures (stored with the weights, so a loaded run has them too).
    loaded : bool
        True when the weights came from the cache.
    """
    device = resolve_device(device)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 4 or labels.shape != (len(images),):
        raise ValueError(f"images must be uint8 (N, C, H, W) with one label each, got {images.dtype} {images.shape} and labels {labels.shape}")
    settings = dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay, augment=augment, seed=seed, device=device.type)
    # The validation images are part of the key too: the stored history holds their accuracies.
    path = checkpoint_path(model, images, labels, val_images, val_labels, **settings)
    if path.is_file():
        try:
            extra = load_checkpoint(path, model)
            model.cpu().eval()
            return History(**extra["history"]), True
        except (OSError, RuntimeError, ValueError, KeyError):
            pass  # unreadable or from other code: train again and overwrite it
    zeros, ones = torch.zeros(images.shape[1]), torch.ones(images.shape[1])  # the model standardises
    train_loader = make_loader(images, labels, batch_size, zeros, ones, train=True, augment=augment, device=device, seed=seed)
    val_loader = None
    if val_labels is not None:
        val_loader = make_loader(val_images, val_labels, 500, zeros, ones, train=False, device=device)
    history = fit(model, train_loader, val_loader, epochs=epochs, lr=lr, weight_decay=weight_decay, device=device, seed=seed, progress=progress)
    model.cpu().eval()
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            temporary = handle.name
        save_checkpoint(temporary, model, history=history.as_dict())
        os.replace(temporary, path)  # never a half-written checkpoint under the real name
    except OSError:  # a read-only cache: the model is trained, only not kept
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
    return history, False
