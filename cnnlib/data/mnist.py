"""MNIST and Fashion-MNIST from the official IDX files (``train-images-idx3-ubyte.gz`` etc.).

IDX layout: a 4-byte magic number ``00 00 08 D`` (unsigned bytes, ``D`` dimensions), ``D``
big-endian uint32 sizes, then the data in C order.

    >>> images, labels = load_mnist("test")                      # doctest: +SKIP
    >>> images.shape, images.dtype, labels[:5]                   # doctest: +SKIP
    ((10000, 1, 28, 28), dtype('uint8'), array([7, 2, 1, 0, 4]))
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnlib.data import cache
from cnnlib.data.errors import CorruptFileError

__all__ = ["load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES", "read_idx", "locate", "verify_download", "MNIST", "FASHION_MNIST"]

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class IdxDataset(NamedTuple):
    """Where an IDX data set comes from and how its files are checked."""

    name: str
    subdir: str
    mirrors: tuple[str, ...]
    # MD5 of each decompressed file: checks a local copy whatever its gzip wrapper.
    raw_md5: dict[str, str]
    # MD5 of each official .gz file: checks a download.
    gz_md5: dict[str, str]


MNIST = IdxDataset(
    name="MNIST",
    subdir="mnist",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    raw_md5={
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    gz_md5={},  # a download is checked by its decompressed bytes, like a local copy
)

FASHION_MNIST = IdxDataset(
    name="Fashion-MNIST",
    subdir="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    # Zalando publishes the MD5s of the .gz files only. A local copy with another gzip wrapper can
    # only be checked for structure (gzip CRC, IDX magic, sizes, labels 0-9); a download is checked
    # against these.
    raw_md5={},
    gz_md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
)


def read_idx(path: Path, ndim: int, expected_md5: str | None = None) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes.

    Parameters
    ----------
    path : Path
        The ``.gz`` file.
    ndim : int
        Expected number of dimensions (3 for images, 1 for labels).
    expected_md5 : str, optional
        MD5 of the decompressed bytes.

    Returns
    -------
    ndarray of uint8, with the shape stored in the header

    Raises
    ------
    CorruptFileError
        For a bad gzip stream, a checksum mismatch, a wrong magic number or a wrong size; the
        message names ``path``.
    """
    try:
        data = gzip.decompress(Path(path).read_bytes())
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptFileError(f"{path}: not a valid gzip file ({error})") from None
    if expected_md5 is not None and (actual := cache.md5(data)) != expected_md5:
        raise CorruptFileError(
            f"{path}: checksum mismatch: MD5 of the decompressed bytes is {actual}, "
            f"expected {expected_md5}; delete the file or replace it with the official one"
        )
    magic = bytes([0, 0, 0x08, ndim])
    header = 4 + 4 * ndim
    if data[:4] != magic:
        raise CorruptFileError(f"{path}: not an IDX file of {ndim}-D unsigned bytes: magic {data[:4].hex()}, expected {magic.hex()}")
    if len(data) < header:
        raise CorruptFileError(f"{path}: truncated IDX header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) != header + int(np.prod(shape)):
        raise CorruptFileError(f"{path}: wrong size: the header says {shape} = {header + int(np.prod(shape))} bytes, the file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def verify_download(dataset: IdxDataset, filename: str):
    """``verify(path)`` for a download of ``filename``: the published checksum (of the ``.gz`` where
    one is published, else of the decompressed bytes) and the IDX structure."""

    def verify(path: Path) -> None:
        expected = dataset.gz_md5.get(filename)
        if expected is not None and (actual := cache.md5(path)) != expected:
            raise CorruptFileError(f"{path}: checksum mismatch for {filename}: MD5 {actual}, expected {expected}")
        read_idx(path, 3 if "images" in filename else 1, dataset.raw_md5.get(filename.removesuffix(".gz")))

    return verify


def locate(dataset: IdxDataset, filename: str, root=None) -> Path:
    """The local copy of ``filename`` (see :func:`cnnlib.data.cache.search_dirs`), downloaded into
    the cache first when there is none; :class:`DatasetNotFoundError` when it cannot be had."""
    found = cache.find_file(filename, dataset.subdir, root)
    if found is not None:
        return found
    help_text = cache.missing_files_help(dataset.name, dataset.subdir, SPLIT_FILES["train"] + SPLIT_FILES["test"], root)
    return cache.download(
        cache.mirror_urls([mirror + filename for mirror in dataset.mirrors], dataset.subdir, filename),
        cache.cache_dir() / dataset.subdir / filename,
        verify_download(dataset, filename),
        help_text,
    )


def _load(dataset: IdxDataset, split: str, root) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    image_file, label_file = SPLIT_FILES[split]
    image_path, label_path = locate(dataset, image_file, root), locate(dataset, label_file, root)
    images = read_idx(image_path, 3, dataset.raw_md5.get(image_file.removesuffix(".gz")))
    labels = read_idx(label_path, 1, dataset.raw_md5.get(label_file.removesuffix(".gz")))
    if images.shape[1:] != (28, 28):
        raise CorruptFileError(f"{image_path}: images must be 28x28, got {images.shape[1]}x{images.shape[2]}")
    if len(images) != len(labels):
        raise CorruptFileError(f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise CorruptFileError(f"{label_path}: labels must be 0-9, found {labels.max()}")
    return images[:, None], labels.astype(np.int64)


def load_mnist(split: str = "train", root=None) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST handwritten digits.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    root : str or Path, optional
        A folder holding ``mnist/`` (or the four files themselves). Default: ``$CNNLIB_DATA``, then
        the cache; missing files are downloaded into the cache (see :mod:`cnnlib.data.cache`).

    Returns
    -------
    images : ndarray of uint8, shape (N, 1, 28, 28)
        Gray levels 0-255, white digit on black.
    labels : ndarray of int64, shape (N,)
        Digits 0-9.

    Raises
    ------
    DatasetNotFoundError
        When the files are neither local nor downloadable; says where to put them.
    CorruptFileError
        When a file is damaged or its decompressed MD5 is not the official one; names the file.

    Notes
    -----
    Every load checks the MD5 of the decompressed files against the published values, so a
    re-compressed copy passes and a wrong or damaged one does not.
    """
    return _load(MNIST, split, root)


def load_fashion_mnist(split: str = "train", root=None) -> tuple[np.ndarray, np.ndarray]:
    """Zalando's Fashion-MNIST: 28x28 gray images of ten kinds of clothing, MNIST's format.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    root : str or Path, optional
        A folder holding ``fashion-mnist/`` (or the four files themselves); as for :func:`load_mnist`.

    Returns
    -------
    images : ndarray of uint8, shape (N, 1, 28, 28)
    labels : ndarray of int64, shape (N,)
        Indices into :data:`FASHION_MNIST_CLASSES`.

    Notes
    -----
    Downloads are checked against the published MD5s of the ``.gz`` files. Local files are
    checked for structure only (gzip CRC, IDX header and size, labels 0-9), since no checksums of
    the decompressed files are published.
    """
    return _load(FASHION_MNIST, split, root)
