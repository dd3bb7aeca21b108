"""The data sets the course downloads: their files, where they come from, and how each is checked.

One entry per data set that ``python -m cnnlib.data fetch`` can get and ``status`` reports on.
The URLs and checksums themselves live in the loaders' modules (:mod:`cnnlib.data.mnist`,
:mod:`cnnlib.data.cifar`); this module only gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cnnlib.data import cache, cifar, mnist

__all__ = ["RemoteFile", "RemoteDataset", "DATASETS", "dataset"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set.

    Attributes
    ----------
    name : str
        Its file name, the same locally and on the mirrors.
    urls : tuple of str
        The official mirrors (:func:`cnnlib.data.cache.mirror_urls` applies ``$CNNLIB_MIRROR``).
    verify_download : callable
        ``verify_download(path)`` raises :class:`CorruptFileError` unless ``path`` is the official
        file: what a download must pass.
    check_local : callable
        ``check_local(path)`` raises :class:`CorruptFileError` for a file the loader would refuse,
        and otherwise returns what it verified, in words ("checksum OK (...)").
    """

    name: str
    urls: tuple[str, ...]
    verify_download: Callable[[Path], None]
    check_local: Callable[[Path], str]


@dataclass(frozen=True)
class RemoteDataset:
    """A data set as the cache sees it: ``key`` (the folder name and the command's argument),
    ``name`` (for people), and its files."""

    key: str
    name: str
    files: tuple[RemoteFile, ...]

    @property
    def subdir(self) -> str:
        return self.key


def _idx_file(dataset: mnist.IdxDataset, filename: str) -> RemoteFile:
    raw_name = filename.removesuffix(".gz")
    ndim = 3 if "images" in filename else 1

    def check_local(path: Path) -> str:
        if raw_name in dataset.raw_md5:
            mnist.read_idx(path, ndim, dataset.raw_md5[raw_name])
            return "checksum OK (MD5 of the decompressed bytes)"
        if filename in dataset.gz_md5 and cache.md5(path) == dataset.gz_md5[filename]:
            mnist.read_idx(path, ndim)
            return "checksum OK (MD5 of the .gz file)"
        mnist.read_idx(path, ndim)
        return "format OK (gzip, IDX header and size); not the published .gz, so there is no checksum to compare"

    return RemoteFile(
        filename,
        tuple(mirror + filename for mirror in dataset.mirrors),
        mnist.verify_download(dataset, filename),
        check_local,
    )


def _check_tarball(path: Path) -> str:
    cifar.verify_tarball(path)
    return "checksum OK (MD5 of the official tarball)"


def _idx_dataset(dataset: mnist.IdxDataset) -> RemoteDataset:
    names = mnist.SPLIT_FILES["train"] + mnist.SPLIT_FILES["test"]
    return RemoteDataset(dataset.subdir, dataset.name, tuple(_idx_file(dataset, name) for name in names))


DATASETS: dict[str, RemoteDataset] = {
    "mnist": _idx_dataset(mnist.MNIST),
    "fashion-mnist": _idx_dataset(mnist.FASHION_MNIST),
    "cifar10": RemoteDataset(
        cifar.SUBDIR, "CIFAR-10", (RemoteFile(cifar.TARBALL, (cifar.TARBALL_URL,), cifar.verify_tarball, _check_tarball),)
    ),
}


def dataset(key: str) -> RemoteDataset:
    """The catalogue entry for ``key``, or a ``ValueError`` that lists the keys."""
    if key not in DATASETS:
        raise ValueError(f"unknown data set {key!r}; the data sets are {', '.join(DATASETS)} (or all)")
    return DATASETS[key]
