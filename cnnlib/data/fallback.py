"""A real data set when it can be had, an always-available stand-in when it cannot, and one line
that says which.

Notebooks load their data through :func:`load_or_fallback`, so that a student with no network and
no local copy (an exam room, a lab behind a firewall, a train) still gets a notebook that runs to
the end, with figures and numbers computed on the stand-in and labelled as such:

- MNIST and Fashion-MNIST fall back to scikit-learn's 8x8 digits, enlarged to MNIST's format: each
  digit resampled to 20x20 (bicubic) in the middle of a 28x28 frame, gray levels 0-255, as MNIST
  centres its digits in a 20x20 box;
- CIFAR-10 falls back to the generated shapes data set (:mod:`cnnlib.data.shapes`), which has
  CIFAR-10's size and layout.

Code written for the real data set therefore runs unchanged on its stand-in; only the numbers
change, and ``ImageData.name`` says which data set they are for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from cnnlib.data import cache
from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = ["ImageData", "load_or_fallback", "digits_like_mnist", "FALLBACKS"]

#: What stands in for each data set.
FALLBACKS = {
    "mnist": "digits",
    "fashion-mnist": "digits",
    "cifar10": "shapes",
}
REAL_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FALLBACK_NAMES = {"digits": "scikit-learn's 8x8 digits (enlarged to 28x28)", "shapes": "the generated shapes data set"}
#: ``ImageData.name`` of each stand-in: short, for titles and printed figures.
STAND_IN_NAMES = {"digits": "scikit-learn digits", "shapes": "shapes"}
_announced: set[str] = set()  # data sets whose stand-in was announced in this process: one line each


@dataclass(frozen=True)
class ImageData:
    """Images and labels, with where they came from.

    Attributes
    ----------
    images : ndarray of uint8, shape (N, C, H, W)
    labels : ndarray of int64, shape (N,)
    classes : tuple of str
        ``classes[label]`` is the label's name.
    name : str
        The data set's name: ``"MNIST"``, ``"Fashion-MNIST"``, ``"CIFAR-10"``, or a stand-in's,
        ``"scikit-learn digits"`` or ``"shapes"``. Use it in titles and printed figures.
    fallback : bool
        True when this is a stand-in for the data set that was asked for.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple
    name: str
    fallback: bool

    def __iter__(self):  # ``images, labels = load_or_fallback(...)``
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


def _real(dataset: str, split: str, root) -> ImageData:
    """The real data set's split. Both splits must be available (downloaded if need be), so that a
    notebook never trains on one data set and tests on another."""
    if dataset == "cifar10":
        from cnnlib.data.cifar import CIFAR10_CLASSES, load_cifar10

        images, labels = load_cifar10(split, root=root)
        return ImageData(images, labels, CIFAR10_CLASSES, "CIFAR-10", False)
    from cnnlib.data import mnist

    idx = mnist.MNIST if dataset == "mnist" else mnist.FASHION_MNIST
    for filename in mnist.SPLIT_FILES["train"] + mnist.SPLIT_FILES["test"]:
        mnist.locate(idx, filename, root)
    if dataset == "mnist":
        images, labels = mnist.load_mnist(split, root=root)
        return ImageData(images, labels, tuple(str(d) for d in range(10)), "MNIST", False)
    images, labels = mnist.load_fashion_mnist(split, root=root)
    return ImageData(images, labels, mnist.FASHION_MNIST_CLASSES, "Fashion-MNIST", False)


def digits_like_mnist(images: np.ndarray) -> np.ndarray:
    """scikit-learn's 8x8 digits (values 0-16) in MNIST's format: 20x20 in a 28x28 frame, 0-255.

    Parameters
    ----------
    images : ndarray of shape (N, 1, 8, 8)
        As :func:`cnnlib.data.load_digits` returns them.

    Returns
    -------
    ndarray of uint8, shape (N, 1, 28, 28)
        Each digit resampled 2.5 times with a cubic spline (smooth strokes rather than 3x3 blocks),
        clipped to [0, 1], scaled to 0-255 and framed by 4 black pixels on every side.
    """
    from scipy import ndimage

    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1:] != (1, 8, 8):
        raise ValueError(f"images must have shape (N, 1, 8, 8), got {images.shape}")
    big = ndimage.zoom(images / 16, (1, 1, 2.5, 2.5), order=3, grid_mode=True, mode="grid-constant")  # (N, 1, 20, 20)
    big = np.pad(np.clip(big, 0, 1), ((0, 0), (0, 0), (4, 4), (4, 4)))
    return np.round(big * 255).astype(np.uint8)


def _stand_in(dataset: str, split: str) -> ImageData:
    kind = FALLBACKS[dataset]
    if kind == "shapes":
        from cnnlib.data.shapes import SHAPES_CLASSES, load_shapes

        images, labels = load_shapes(split)
        return ImageData(images, labels, SHAPES_CLASSES, STAND_IN_NAMES[kind], True)
    from cnnlib.data.digits import load_digits

    images, labels = load_digits(split)
    return ImageData(digits_like_mnist(images), labels, tuple(str(d) for d in range(10)), STAND_IN_NAMES[kind], True)


def _why(error: DatasetNotFoundError) -> str:
    if cache.offline():
        return f"offline mode is on (CNNLIB_OFFLINE={os.environ['CNNLIB_OFFLINE']})"
    return "it could not be downloaded" if "could not be downloaded" in str(error) else "it could not be loaded"


def load_or_fallback(dataset: str, split: str = "train", *, root=None, quiet: bool = False) -> ImageData:
    """Load ``dataset``, or its stand-in when it is neither on this machine nor downloadable.

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist", "cifar10"}
    split : {"train", "test"}
    root : str or Path, optional
        Passed to the real loader (see :func:`cnnlib.data.load_mnist`, :func:`cnnlib.data.load_cifar10`).
    quiet : bool
        Do not print the line that says a stand-in is used.

    Returns
    -------
    ImageData
        ``.images``, ``.labels``, ``.classes``, ``.name``, ``.fallback``; it also unpacks as
        ``images, labels = load_or_fallback(...)``. The stand-ins have the real data set's layout:
        MNIST's ``(N, 1, 28, 28)``, CIFAR-10's ``(N, 3, 32, 32)``, uint8.

    Notes
    -----
    The first fallback for a data set in a process prints one line: what is missing, why, what
    stands in, and how to get the real data set. A damaged file (:class:`CorruptFileError`) is
    not replaced silently: it is an error to fix, not a missing data set, so it propagates.
    """
    if dataset not in FALLBACKS:
        raise ValueError(f"dataset must be one of {', '.join(map(repr, FALLBACKS))}, got {dataset!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        return _real(dataset, split, root)
    except CorruptFileError:
        raise
    except DatasetNotFoundError as error:
        data = _stand_in(dataset, split)
        if not quiet and dataset not in _announced:
            _announced.add(dataset)
            print(
                f"{REAL_NAMES[dataset]} is not on this machine and {_why(error)}, so this uses "
                f"{FALLBACK_NAMES[FALLBACKS[dataset]]} instead. To use {REAL_NAMES[dataset]}: "
                f"`python -m cnnlib.data fetch {dataset}`, or set CNNLIB_DATA to a folder with {dataset}/ in it."
            )
        return data
