"""Feeding images to a model: augmentation with torch ops, and loaders over ``cnnlib.data`` arrays.

The data sets of the course are small (CIFAR-10's training set is 150 MB as uint8), so on a GPU the
fastest loader keeps the whole set in GPU memory and crops, flips and normalises whole batches
there (:class:`GPULoader`): no worker processes, no host-to-device copies. Elsewhere a standard
``DataLoader`` (:func:`array_loader`) prepares whole batches with the same torch ops, in worker
processes and into pinned memory when a GPU waits for them.

Both take the arrays the ``cnnlib.data`` loaders return: images ``uint8 (N, C, H, W)``, labels
``int64 (N,)``, and yield ``(x float32 (B, C, H', W'), y int64 (B,))`` batches, normalised per
channel with the training set's mean and standard deviation.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

from .device import resolve_device

__all__ = [
    "GPULoader",
    "array_loader",
    "channel_stats",
    "cifar10_loaders",
    "make_loader",
    "mnist_loaders",
    "prepare_batch",
    "random_crop_flip",
]


def channel_stats(images) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images, on the [0, 1] scale.

    Parameters
    ----------
    images : ndarray or Tensor of shape (N, C, H, W), uint8

    Returns
    -------
    mean, std : Tensor of shape (C,), float32
        CIFAR-10's training set gives about (0.491, 0.482, 0.447) and (0.247, 0.243, 0.262).
    """
    images = torch.as_tensor(images)
    if images.dim() != 4 or images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros(images.shape[1], dtype=torch.float64)
    for chunk in images.split(4096):  # float64 copies of a chunk at a time, not of the whole set
        chunk = chunk.to(torch.float64) / 255
        total += chunk.sum(dim=(0, 2, 3))
        total_sq += chunk.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (total_sq / count - mean.square()).clamp_min(0).sqrt()
    return mean.float(), std.float()


def random_crop_flip(images: torch.Tensor, rng: torch.Generator | None = None, padding: int = 4) -> torch.Tensor:
    """The standard CIFAR augmentation on a batch: zero-pad, crop back at a random offset, flip half.

    Each image is padded with ``padding`` zeros on every side, a window of the original size is cut
    at an offset drawn uniformly from ``0 .. 2 * padding`` in each direction, and the result is
    mirrored left-right with probability 1/2. Everything happens in a few batched tensor operations
    on the images' device.

    Parameters
    ----------
    images : Tensor of shape (N, C, H, W)
        The batch (apply before normalising, so that the padding is black).
    rng : torch.Generator, optional
        A generator on the images' device for the offsets and flips (drawing on the device keeps a
        GPU pipeline free of host round trips); by default PyTorch's global one for that device.
    padding : int
        Largest shift in pixels.

    Returns
    -------
    Tensor of shape (N, C, H, W)
        A new tensor; ``images`` is not changed.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    n, _, h, w = images.shape
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=rng, device=images.device)  # (2, N): rows, columns
    flip = torch.rand(n, generator=rng, device=images.device) < 0.5  # (N,)
    padded = F.pad(images, (padding,) * 4)  # (N, C, H + 2p, W + 2p)
    rows = offsets[0, :, None] + torch.arange(h, device=images.device)  # (N, H)
    cols = offsets[1, :, None] + torch.arange(w, device=images.device)  # (N, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # a flip reads the columns backwards
    batch = torch.arange(n, device=images.device)[:, None, None]
    # Advanced indices around the channel slice put their dimensions first: (N, H, W, C).
    crops = padded[batch, :, rows[:, :, None], cols[:, None, :]]
    return crops.permute(0, 3, 1, 2)


def prepare_batch(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, *, augment: bool, pad_to: int | None = None, rng: torch.Generator | None = None) -> torch.Tensor:
    """uint8 images to the float batch a model takes: scale to [0, 1], pad, augment, normalise.

    Parameters
    ----------
    images : Tensor of shape (N, C, H, W), uint8
    mean, std : Tensor of shape (C,)
        Per-channel statistics of the training set (:func:`channel_stats`).
    augment : bool
        Apply :func:`random_crop_flip`.
    pad_to : int, optional
        Zero-pad every side equally to this height and width first (MNIST's 28x28 to LeNet-5's 32x32).
    rng : torch.Generator, optional
        Generator for the augmentation, on the images' device.

    Returns
    -------
    Tensor of shape (N, C, H', W'), float32
    """
    x = images.float().div_(255)
    if pad_to is not None:
        extra_h, extra_w = pad_to - x.shape[2], pad_to - x.shape[3]
        if extra_h < 0 or extra_w < 0:
            raise ValueError(f"pad_to={pad_to} is smaller than the images, {tuple(x.shape[2:])}")
        x = F.pad(x, (extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2))
    if augment:
        x = random_crop_flip(x, rng)
    mean = mean.to(x.device)[:, None, None]
    std = std.to(x.device)[:, None, None]
    return (x - mean) / std


def check_arrays(images, labels) -> tuple[torch.Tensor, torch.Tensor]:
    """The arrays as tensors, after checking they are uint8 ``(N, C, H, W)`` images with ``N`` labels."""
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.dim() != 4 or images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 of shape (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape (N,) = ({images.shape[0]},), got {tuple(labels.shape)}")
    return images, labels.long()


class GPULoader:
    """Batches from a data set kept whole on the device, augmented and normalised there.

    Parameters
    ----------
    images : ndarray or Tensor of shape (N, C, H, W), uint8
    labels : ndarray or Tensor of shape (N,), int
    batch_size : int
    mean, std : Tensor of shape (C,)
        Normalisation statistics (of the training set).
    shuffle : bool
        A new random order every epoch.
    augment : bool
        :func:`random_crop_flip` each batch.
    pad_to : int, optional
        Zero-pad the images to this size (see :func:`prepare_batch`).
    drop_last : bool
        Leave out the last, smaller batch (a batch of one breaks batch norm in training).
    device : str or torch.device, optional
        Default: :func:`cnnlib.pytorch.device.default_device`.
    seed : int, optional
        Seed of the order and the augmentation; by default each epoch draws one from PyTorch's global
        generator, so that :func:`cnnlib.pytorch.seeding.seed_everything` makes runs repeat.

    Yields
    ------
    x : Tensor of shape (batch_size, C, H', W'), float32, on ``device``
    y : Tensor of shape (batch_size,), int64, on ``device``
    """

    def __init__(self, images, labels, batch_size: int, mean: torch.Tensor, std: torch.Tensor, *, shuffle: bool = False, augment: bool = False, pad_to: int | None = None, drop_last: bool = False, device=None, seed: int | None = None):
        images, labels = check_arrays(images, labels)
        self.device = resolve_device(device)
        self.images = images.to(self.device)  # uint8: a quarter of the memory of float32
        self.labels = labels.to(self.device)
        self.batch_size, self.shuffle, self.augment, self.pad_to, self.drop_last = batch_size, shuffle, augment, pad_to, drop_last
        self.mean = torch.as_tensor(mean, dtype=torch.float32).to(self.device)
        self.std = torch.as_tensor(std, dtype=torch.float32).to(self.device)
        # With a seed, one stream of random numbers runs through all the epochs.
        self.seeded_rng = None if seed is None else torch.Generator(self.device).manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        rng = self.seeded_rng
        if rng is None:  # a new stream each epoch, seeded from PyTorch's global generator
            rng = torch.Generator(self.device).manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
        # Everything random is drawn on the device: no host round trip stalls the GPU's queue.
        n = len(self.labels)
        order = torch.randperm(n, generator=rng, device=self.device) if self.shuffle else torch.arange(n, device=self.device)
        for i in range(len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            x = prepare_batch(self.images[index], self.mean, self.std, augment=self.augment, pad_to=self.pad_to, rng=rng)
            yield x, self.labels[index]


class ArrayBatches(torch.utils.data.Dataset):
    """A data set whose items are whole batches: ``dataset[list_of_indices] -> (x, y)``.

    Preparing a batch with one tensor operation is much faster than preparing its images one by
    one; a ``DataLoader`` with a ``BatchSampler`` as its sampler hands each list of indices over.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean, std, *, augment: bool, pad_to: int | None):
        self.images, self.labels = images, labels
        self.mean, self.std = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
        self.augment, self.pad_to = augment, pad_to

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, indices):
        index = torch.as_tensor(indices)
        x = prepare_batch(self.images[index], self.mean, self.std, augment=self.augment, pad_to=self.pad_to)
        return x, self.labels[index]


def array_loader(images, labels, batch_size: int, mean, std, *, shuffle: bool = False, augment: bool = False, pad_to: int | None = None, drop_last: bool = False, num_workers: int = 0, pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` over arrays that prepares whole batches (CPU training, or a GPU with a large data set).

    Parameters are those of :class:`GPULoader`, and
    num_workers : int
        Worker processes that prepare batches while the model trains (0: in the main process, the
        fastest choice when the model itself trains on the same few CPU cores).
    pin_memory : bool
        Put batches in page-locked memory, from which the copy to a GPU runs asynchronously.

    Returns
    -------
    torch.utils.data.DataLoader
        Yields ``(x, y)`` as :class:`GPULoader` does, on the CPU.
    """
    images, labels = check_arrays(images, labels)
    dataset = ArrayBatches(images, labels, mean, std, augment=augment, pad_to=pad_to)
    order = torch.utils.data.RandomSampler(dataset) if shuffle else torch.utils.data.SequentialSampler(dataset)
    batches = torch.utils.data.BatchSampler(order, batch_size, drop_last=drop_last)
    return torch.utils.data.DataLoader(
        dataset,
        sampler=batches,
        batch_size=None,  # the dataset returns whole batches already
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
    )


def make_loader(images, labels, batch_size: int, mean, std, *, train: bool, augment: bool | None = None, pad_to: int | None = None, device=None, on_device: bool | None = None, num_workers: int | None = None, seed: int | None = None):
    """The right loader for ``device``: :class:`GPULoader` on CUDA, :func:`array_loader` elsewhere.

    Parameters
    ----------
    images, labels, batch_size, mean, std, pad_to :
        As for :class:`GPULoader`.
    train : bool
        Shuffle, drop the last partial batch, and (unless ``augment`` says otherwise) augment.
    augment : bool, optional
        Default: ``train``.
    device : str or torch.device, optional
        The device the model trains on; default :func:`cnnlib.pytorch.device.default_device`.
    on_device : bool, optional
        Keep the data set on ``device`` (:class:`GPULoader`); default: when ``device`` is CUDA.
    num_workers : int, optional
        For the ``DataLoader`` path: default 0 when training on the CPU, else up to 4.
    seed : int, optional
        Seed of a :class:`GPULoader`'s order and augmentation.
    """
    device = resolve_device(device)
    augment = train if augment is None else augment
    on_device = device.type == "cuda" if on_device is None else on_device
    if on_device:
        return GPULoader(images, labels, batch_size, mean, std, shuffle=train, augment=augment, pad_to=pad_to, drop_last=train, device=device, seed=seed)
    if num_workers is None:
        num_workers = 0 if device.type == "cpu" else min(4, os.cpu_count() or 1)
    return array_loader(images, labels, batch_size, mean, std, shuffle=train, augment=augment, pad_to=pad_to, drop_last=train, num_workers=num_workers, pin_memory=device.type == "cuda")


def random_subset(images, labels, size: int | None, seed: int = 0):
    """``size`` examples drawn without replacement (in their original order), or all of them for ``None``."""
    if size is None or size >= len(labels):
        return images, labels
    keep = np.sort(np.random.default_rng(seed).choice(len(labels), size, replace=False))
    return images[keep], labels[keep]


def cifar10_loaders(batch_size: int = 512, *, root=None, device=None, subset: int | None = None, test_subset: int | None = None, augment: bool = True, **loader_options):
    """CIFAR-10 training and test loaders with the standard recipe.

    Training batches are randomly cropped (4-pixel zero padding) and flipped; both sets are
    normalised with the training set's per-channel mean and standard deviation.

    Parameters
    ----------
    batch_size : int
    root : str or path, optional
        Passed to :func:`cnnlib.data.load_cifar10` (default: ``$CNNLIB_DATA``).
    device : str or torch.device, optional
        The device the model trains on.
    subset, test_subset : int, optional
        Use a fixed random sample of this many training (test) images, e.g. for a quick CPU run.
    augment : bool
        Augment the training batches.
    **loader_options
        Passed to :func:`make_loader` (``on_device``, ``num_workers``, ``seed``).

    Returns
    -------
    train_loader, test_loader
    """
    from cnnlib.data import load_cifar10

    train_images, train_labels = random_subset(*load_cifar10("train", root=root), subset)
    test_images, test_labels = random_subset(*load_cifar10("test", root=root), test_subset)
    mean, std = channel_stats(train_images)
    train = make_loader(train_images, train_labels, batch_size, mean, std, train=True, augment=augment, device=device, **loader_options)
    test = make_loader(test_images, test_labels, batch_size, mean, std, train=False, device=device, **loader_options)
    return train, test


def mnist_loaders(batch_size: int = 128, *, root=None, device=None, pad_to: int | None = 32, subset: int | None = None, test_subset: int | None = None, **loader_options):
    """MNIST training and test loaders, zero-padded to 32x32 for LeNet-5 and normalised, not augmented.

    Parameters
    ----------
    batch_size : int
    root : str or path, optional
        Passed to :func:`cnnlib.data.load_mnist` (default: ``$CNNLIB_DATA``).
    device : str or torch.device, optional
        The device the model trains on.
    pad_to : int or None
        Pad the 28x28 digits to this size (32, as LeNet-5 was designed for), or ``None``.
    subset, test_subset : int, optional
        Use a fixed random sample of this many training (test) images.
    **loader_options
        Passed to :func:`make_loader`.

    Returns
    -------
    train_loader, test_loader
    """
    from cnnlib.data import load_mnist

    train_images, train_labels = random_subset(*load_mnist("train", root=root), subset)
    test_images, test_labels = random_subset(*load_mnist("test", root=root), test_subset)
    mean, std = channel_stats(train_images)
    train = make_loader(train_images, train_labels, batch_size, mean, std, train=True, augment=False, pad_to=pad_to, device=device, **loader_options)
    test = make_loader(test_images, test_labels, batch_size, mean, std, train=False, pad_to=pad_to, device=device, **loader_options)
    return train, test
