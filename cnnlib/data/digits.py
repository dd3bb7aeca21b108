"""scikit-learn's bundled 8x8 handwritten digits: a small real data set that needs no download."""

from __future__ import annotations

import numbers

import numpy as np

from cnnlib._validate import as_int

__all__ = ["load_digits"]


def load_digits(split: str = "train", test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical-recognition digits shipped with scikit-learn (1,797 images), split in two.

    Parameters
    ----------
    split : {"train", "test", "all"}
        Which part; ``"all"`` gives every image in scikit-learn's order.
    test_fraction : float
        Share of the images in the test part, in (0, 1).
    seed : int
        Seed of the split. The same seed always gives the same, disjoint, parts.

    Returns
    -------
    images : ndarray of uint8, shape (N, 1, 8, 8)
        Values 0-16: each pixel counts the set pixels in a 4x4 block of the original 32x32
        bitmap. Divide by 16 for [0, 1].
    labels : ndarray of int64, shape (N,)
        Digits 0-9.

    Notes
    -----
    The split is stratified: each digit has the same share in both parts, up to rounding.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real):
        raise TypeError(f"test_fraction must be a number in (0, 1), got {type(test_fraction).__name__} {test_fraction!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    seed = as_int(seed, "seed", minimum=0)
    bunch = sklearn_digits()
    images = bunch.images.astype(np.uint8)[:, None]  # float 0.0-16.0, integer-valued
    labels = bunch.target.astype(np.int64)
    if split == "all":
        return images, labels
    train_images, test_images, train_labels, test_labels = train_test_split(
        images, labels, test_size=float(test_fraction), random_state=seed, stratify=labels
    )
    return (train_images, train_labels) if split == "train" else (test_images, test_labels)
