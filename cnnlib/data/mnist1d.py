"""MNIST-1D (Greydanus, 2020), generated here: ten 1D digit templates, distorted into 40-sample signals.

"Scaling down deep learning" builds a small data set on which a CNN clearly beats an MLP, and
which trains in seconds on a CPU. Each example is one of ten hand-made templates of 12 points,
padded with zeros, stretched, scaled, shifted circularly, given correlated noise where it is flat
and white noise everywhere, sheared, and resampled to 40 points. This module follows the paper's
recipe and default settings with its own code and random generator, so its numbers are not those
of the published pickle (which came from NumPy's legacy global generator with seed 42), but their
statistics are.
"""

from __future__ import annotations

import numpy as np

from cnnlib._validate import as_int

__all__ = ["load_mnist1d", "mnist1d_templates", "smooth"]

# The paper's templates: each digit's outline read as one 12-point curve.
TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])

# The paper's default settings.
PADDING = (36, 60)          # zeros appended to the 12-point template: a random count in this range
SCALE_COEFF = 0.4           # amplitude factor drawn from 1 +- 0.2
MAX_TRANSLATION = 48        # circular shift drawn from 0..47
CORR_NOISE_SCALE = 0.25     # Gaussian noise smoothed with sigma 2, where the signal is flat (zero)
IID_NOISE_SCALE = 2e-2
SHEAR_SCALE = 0.75          # a linear ramp with slope drawn from +-0.375
FINAL_LENGTH = 40
TRAIN_SPLIT = 0.8


def mnist1d_templates() -> np.ndarray:
    """The ten templates, each standardised, shifted to start at 0 and divided by 6: shape (10, 12)."""
    x = TEMPLATES - TEMPLATES.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)
    return (x - x[:, :1]) / 6.0


def smooth(x: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Gaussian smoothing as ``scipy.ndimage.gaussian_filter1d(x, sigma)``: radius ``4 sigma``,
    mirrored edges (``d c b a | a b c d | d c b a``)."""
    radius = int(4 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return np.convolve(np.pad(x, radius, mode="symmetric"), kernel / kernel.sum(), mode="valid")


def _resample(x: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of ``x`` onto ``length`` evenly spaced points over the same span."""
    return np.interp(np.linspace(0, 1, length), np.linspace(0, 1, len(x)), x)


def _distort(template: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One example from one template, following the paper's steps in order: shape (40,)."""
    stretched = len(template) + PADDING[1]
    pad = rng.integers(PADDING[0], PADDING[1], endpoint=True)
    x = np.concatenate([template + 1e-8, np.zeros(pad)])           # +1e-8: the template is never "flat"
    x = _resample(x, stretched)                                     # stretch: more padding, shorter digit
    x *= 1 + SCALE_COEFF * (rng.random() - 0.5)                     # scale
    x = np.roll(x, rng.integers(MAX_TRANSLATION))                   # translate (circularly)
    flat = x == 0
    x = np.where(flat, smooth(CORR_NOISE_SCALE * rng.standard_normal(stretched)), x)
    x = x + IID_NOISE_SCALE * rng.standard_normal(stretched)
    x = x - SHEAR_SCALE * (rng.random() - 0.5) * np.linspace(-0.5, 0.5, stretched)  # shear
    return _resample(x, FINAL_LENGTH)


def load_mnist1d(split: str = "train", n: int = 5000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D, generated offline: ``n`` examples split 80/20 into train and test.

    Parameters
    ----------
    split : {"train", "test"}
        The first 80% or the last 20% of the shuffled examples.
    n : int
        Examples in both splits together; a multiple of 10 (``n / 10`` per digit). The paper's
        data set has 5,000 (4,000 train, 1,000 test).
    seed : int
        Seed of the generator: the same ``(n, seed)`` always gives the same data, and both splits
        come from one generation, so they never overlap.

    Returns
    -------
    x : ndarray of float32, shape (N, 1, 40)
        Signals in the ``(N, C, L)`` layout of ``torch.nn.Conv1d``, standardised over the whole
        data set (mean 0, standard deviation 1).
    y : ndarray of int64, shape (N,)
        Digits 0-9.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    n = as_int(n, "n", minimum=10)
    if n % 10:
        raise ValueError(f"n must be a multiple of 10 (n / 10 examples per digit), got {n}")
    seed = as_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    templates = mnist1d_templates()
    labels = np.repeat(np.arange(10), n // 10)
    x = np.stack([_distort(templates[label], rng) for label in labels])
    order = rng.permutation(n)
    x, labels = x[order], labels[order]
    x = (x - x.mean()) / x.std()
    split_at = int(n * TRAIN_SPLIT)
    part = slice(None, split_at) if split == "train" else slice(split_at, None)
    return x[part, None].astype(np.float32), labels[part].astype(np.int64)
