"""Shapes: a generated CIFAR-sized data set of ten object classes on photographic clutter.

Every image is 32x32 RGB with one object on a background cut from a real photograph that ships
with scikit-image. The object's class is its shape; its colour, size, position, a small rotation
and the background are random, so neither colour nor place gives the class away, and a network
has to find the object's outline to classify it. Because the generator knows where it drew the
object, :func:`load_shapes` can also return each object's mask: the ground truth a saliency map
or Grad-CAM should point at.

The course uses it where CIFAR-10 cannot be had (no network, no local copy): it is made on the
machine in a few seconds, the same for the same ``(n, seed)`` everywhere, and it is cached.
"""

from __future__ import annotations

import numpy as np

from cnnlib._validate import as_int
from cnnlib.data import cache

__all__ = ["load_shapes", "SHAPES_CLASSES"]

SHAPES_CLASSES = ("disk", "ring", "square", "diamond", "frame", "triangle", "plus", "star", "crescent", "bar")

#: Default number of images per split.
DEFAULT_SIZES = {"train": 10_000, "test": 2_000}
#: The split's seed is ``seed`` plus this offset, so the two splits are independent draws.
SPLIT_OFFSET = {"train": 0, "test": 1_000_003}
#: Bumped whenever the generator changes, so that cached files of an older version are not used.
VERSION = 1

SIZE = 32
SUPERSAMPLE = 2  # objects are drawn at 64x64 and averaged down: soft, anti-aliased edges
MAX_ROTATION = np.deg2rad(15)  # small: a square must not turn into a diamond
# Colour photographs, and grey textures that get a random tint.
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "immunohistochemistry")
TEXTURES = ("brick", "grass", "gravel", "camera", "coins")


def _inside(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether each point ``(u, v)`` of the object's own frame (the object spans about [-1, 1]) is inside."""
    r = np.hypot(u, v)
    box = np.maximum(np.abs(u), np.abs(v))
    if name == "disk":
        return r < 0.9
    if name == "ring":
        return (r < 1.0) & (r > 0.55)
    if name == "square":
        return box < 0.75
    if name == "diamond":
        return np.abs(u) + np.abs(v) < 1.0
    if name == "frame":
        return (box < 0.85) & (box > 0.45)
    if name == "triangle":  # pointing up (v grows downwards, as image rows do)
        return (v < 0.75) & (v > -0.95 + 1.7 * np.abs(u) * 1.0)
    if name == "plus":
        return ((np.abs(u) < 0.3) & (np.abs(v) < 1.0)) | ((np.abs(v) < 0.3) & (np.abs(u) < 1.0))
    if name == "star":  # five points: the radius of the outline swings between 0.45 and 1
        angle = np.arctan2(u, -v)
        outline = 0.45 + 0.55 * np.abs(np.cos(2.5 * angle)) ** 2
        return r < outline
    if name == "crescent":
        return (r < 0.95) & (np.hypot(u - 0.45, v) > 0.7)
    if name == "bar":
        return (np.abs(u) < 1.0) & (np.abs(v) < 0.28)
    raise ValueError(f"unknown shape {name!r}")


def _backgrounds() -> list[np.ndarray]:
    """The source photographs as float RGB arrays in [0, 1], shape (H, W, 3) each."""
    from skimage import data

    photos = []
    for name in PHOTOS + TEXTURES:
        image = np.asarray(getattr(data, name)(), dtype=np.float64)
        image = image / 255.0 if image.max() > 1.0 else image
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        photos.append(image[:, :, :3])
    return photos


def _background(photos, rng: np.random.Generator) -> np.ndarray:
    """A random crop of a random photograph, shrunk to 32x32, tinted and lowered in contrast."""
    photo = photos[rng.integers(len(photos))]
    height, width, _ = photo.shape
    side = int(rng.integers(48, min(height, width, 256) + 1))  # shrink 1.5x to 8x: texture, not a scene
    top, left = rng.integers(height - side + 1), rng.integers(width - side + 1)
    step = side / SIZE
    rows = (top + (np.arange(SIZE) + 0.5) * step).astype(int)
    cols = (left + (np.arange(SIZE) + 0.5) * step).astype(int)
    crop = photo[rows[:, None], cols[None, :]]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    tint = rng.uniform(0.3, 1.0, size=3)
    contrast = rng.uniform(0.35, 0.8)
    return np.clip(crop.mean() + contrast * (crop - crop.mean()), 0, 1) * tint + rng.uniform(0, 0.3) * (1 - tint)


def _draw(label: int, photos, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One image (3, 32, 32) in [0, 1] and its object's coverage (32, 32) in [0, 1]."""
    fine = SIZE * SUPERSAMPLE
    radius = rng.uniform(6.0, 12.0) * SUPERSAMPLE  # half the object's extent, in fine pixels
    cy, cx = rng.uniform(radius, fine - radius, size=2)
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    y, x = np.mgrid[0:fine, 0:fine] + 0.5
    dy, dx = (y - cy) / radius, (x - cx) / radius
    u = np.cos(angle) * dx + np.sin(angle) * dy
    v = -np.sin(angle) * dx + np.cos(angle) * dy
    inside = _inside(SHAPES_CLASSES[label], u, v).astype(np.float64)
    coverage = inside.reshape(SIZE, SUPERSAMPLE, SIZE, SUPERSAMPLE).mean(axis=(1, 3))
    background = _background(photos, rng)
    # An object colour far from the background's mean colour, so that the object is always visible.
    mean = background.reshape(-1, 3).mean(axis=0)
    candidates = rng.uniform(0, 1, size=(8, 3))
    colour = candidates[np.argmax(np.abs(candidates - mean).sum(axis=1))]
    shading = 1 + 0.15 * (dx - dy).reshape(SIZE, SUPERSAMPLE, SIZE, SUPERSAMPLE).mean(axis=(1, 3)) / 2
    image = background * (1 - coverage[:, :, None]) + np.clip(colour * shading[:, :, None], 0, 1) * coverage[:, :, None]
    image = image + rng.normal(0, 0.02, size=image.shape)
    return np.clip(image, 0, 1).transpose(2, 0, 1), coverage


def _generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    photos = _backgrounds()
    labels = rng.permutation(np.arange(n) % len(SHAPES_CLASSES)).astype(np.int64)
    images = np.empty((n, 3, SIZE, SIZE), dtype=np.uint8)
    masks = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    for i, label in enumerate(labels):
        image, coverage = _draw(int(label), photos, rng)
        images[i] = np.round(image * 255)
        masks[i] = np.round(coverage * 255)
    return images, labels, masks


def load_shapes(split: str = "train", n: int | None = None, seed: int = 0, return_masks: bool = False):
    """The generated shapes data set: ten classes of objects on photographic clutter, 32x32 RGB.

    Parameters
    ----------
    split : {"train", "test"}
        Which part. The two are drawn with different seeds, so they are independent samples.
    n : int, optional
        Number of images (default 10,000 for "train", 2,000 for "test"); classes are balanced
        to within one image.
    seed : int
        The same ``(split, n, seed)`` always gives the same images, on every machine.
    return_masks : bool
        Also return each object's coverage of each pixel.

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32)
        RGB, like :func:`cnnlib.data.load_cifar10`.
    labels : ndarray of int64, shape (N,)
        Indices into :data:`SHAPES_CLASSES`.
    masks : ndarray of uint8, shape (N, 32, 32)
        Only with ``return_masks=True``: 255 where the object covers the whole pixel, 0 where it
        does not touch it, in between on its edge.

    Notes
    -----
    Generating 10,000 images takes a few seconds; the result is saved in the cache
    (``$CNNLIB_CACHE/shapes/``) and read from there the next time.
    """
    if split not in DEFAULT_SIZES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    n = DEFAULT_SIZES[split] if n is None else as_int(n, "n", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    path = cache.cache_dir() / "shapes" / f"shapes-v{VERSION}-{split}-{n}-{seed}.npz"
    arrays = None
    if path.is_file():
        try:
            with np.load(path) as stored:
                arrays = stored["images"], stored["labels"], stored["masks"]
        except (OSError, ValueError, KeyError):
            arrays = None  # unreadable: generate again and overwrite it
    if arrays is None:
        arrays = _generate(n, seed + SPLIT_OFFSET[split])
        try:
            cache.save_npz_atomic(path, images=arrays[0], labels=arrays[1], masks=arrays[2])
        except OSError:
            pass  # a read-only cache: the data set is still returned, only not kept
    images, labels, masks = arrays
    return (images, labels, masks) if return_masks else (images, labels)
