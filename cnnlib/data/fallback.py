"""A real data set when it can be had, an always-available stand-in when it cannot, and one line
that says which.

Notebooks load their data through :func:`load_or_fallback`, so that a student with no network and
no local copy (an exam room, a lab behind a firewall, a train) still gets a notebook that runs to
the end, with figures and numbers computed on the stand-in and labelled as such:

- MNIST and Fashion-MNIST fall back to scikit-learn's 8x8 digits (scaled to 0-255, as MNIST);
- CIFAR-10 falls back to the generated shapes data set (:mod:`cnnlib.data.shapes`), the same
  size and layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = ["ImageData", "load_or_fallback", "FALLBACKS"]

#: What stands in for each data set, and how to get the real one.
FALLBACKS = {
    "mnist": "digits",
    "fashion-mnist": "digits",
    "cifar10": "shapes",
}
REAL_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FALLBACK_NAMES = {"digits": "scikit-learn's 8x8 digits", "shapes": "the generated shapes data set"}
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
        The data set's name, e.g. ``"CIFAR-10"`` or ``"shapes"``; use it in titles and printed figures.
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
    if dataset == "cifar10":
        from cnnlib.data.cifar import CIFAR10_CLASSES, load_cifar10

        images, labels = load_cifar10(split, root=root)
        return ImageData(images, labels, CIFAR10_CLASSES, "CIFAR-10", False)
    from cnnlib.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist

    if dataset == "mnist":
        images, labels = load_mnist(split, root=root)
        return ImageData(images, labels, tuple(str(d) for d in range(10)), "MNIST", False)
    images, labels = load_fashion_mnist(split, root=root)
    return ImageData(images, labels, FASHION_MNIST_CLASSES, "Fashion-MNIST", False)


def _stand_in(dataset: str, split: str) -> ImageData:
    if FALLBACKS[dataset] == "shapes":
        from cnnlib.data.shapes import SHAPES_CLASSES, load_shapes

        images, labels = load_shapes(split)
        return ImageData(images, labels, SHAPES_CLASSES, "shapes", True)
    from cnnlib.data.digits import load_digits

    images, labels = load_digits(split)
    images = np.round(images.astype(np.float64) * (255 / 16)).astype(np.uint8)  # 0-16 -> 0-255, as MNIST
    return ImageData(images, labels, tuple(str(d) for d in range(10)), "digits", True)


def load_or_fallback(dataset: str, split: str = "train", *, root=None, quiet: bool = False) -> ImageData:
    """Load ``dataset``, or its stand-in when it is neither on this machine nor downloadable.

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist", "cifar10"}
    split : {"train", "test"}
    root : str or Path, optional
        Passed to the real loader (see :func:`cnnlib.data.load_cifar10`).
    quiet : bool
        Do not print the one line that says a stand-in is used.

    Returns
    -------
    ImageData
        ``.images``, ``.labels``, ``.classes``, ``.name``, ``.fallback``; it also unpacks as
        ``images, labels = load_or_fallback(...)``.

    Notes
    -----
    A damaged file (:class:`CorruptFileError`) is not replaced silently: it is an error to fix,
    not a missing data set, so it propagates.
    """
    if dataset not in FALLBACKS:
        raise ValueError(f"dataset must be one of {', '.join(map(repr, FALLBACKS))}, got {dataset!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        return _real(dataset, split, root)
    except CorruptFileError:
        raise
    except DatasetNotFoundError:
        data = _stand_in(dataset, split)
        if not quiet and dataset not in _announced:
            _announced.add(dataset)
            print(
                f"{REAL_NAMES[dataset]} is not on this machine and could not be downloaded, so this uses "
                f"{FALLBACK_NAMES[FALLBACKS[dataset]]} instead; to use "
                f"{REAL_NAMES[dataset]}: `python -m cnnlib.data fetch {dataset}`, or set CNNLIB_DATA to a "
                f"folder with {dataset}/ in it."
            )
        return data
