"""CIFAR-10 from the official python tarball or from an image folder (a directory or a zip).

Sources, in order of preference, in each folder that :func:`cnnlib.data.cache.search_dirs` gives
for ``cifar10``:

- ``cifar-10-python.tar.gz``, the official file (exact pixels, official order);
- an image folder ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` (``.jpeg`` and ``.png`` too);
- a ``.zip`` of such an image folder (any prefix before ``train/``).

Decoding is done once: the arrays are saved as an ``.npz`` in the cache, keyed by the source's
path, size and modification time, so the next load only reads that file.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from cnnlib.data import cache
from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = ["load_cifar10", "CIFAR10_CLASSES", "find_source", "verify_tarball"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

SUBDIR = "cifar10"
TARBALL = "cifar-10-python.tar.gz"
TARBALL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TARBALL_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def load_cifar10(split: str = "test", root=None) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10: 32x32 colour images of ten classes.

    Parameters
    ----------
    split : {"train", "test"}
        50,000 training or 10,000 test images.
    root : str or Path, optional
        The tarball or zip itself, an image folder, or a folder holding ``cifar10/`` (or the
        sources themselves). Default: ``$CNNLIB_DATA/cifar10``, then the cache; with no source the
        official tarball is downloaded into the cache.

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32)
        RGB.
    labels : ndarray of int64, shape (N,)
        Indices into :data:`CIFAR10_CLASSES`.

    Raises
    ------
    DatasetNotFoundError
        No source and no download, or a source without this split; says what to put where.
    CorruptFileError
        A damaged source or image, a tarball whose MD5 is not the official one, or an image
        folder with other classes or sizes; names the file.

    Notes
    -----
    From the tarball, images come in the official order. From an image folder they are sorted
    by class, then by file name, so the order is deterministic but not the official one.
    """
    if split not in BATCHES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    source = find_source(root)
    if source is None:
        source = cache.download(
            cache.mirror_urls([TARBALL_URL], SUBDIR, TARBALL), cache.cache_dir() / SUBDIR / TARBALL, verify_tarball,
            cache.missing_files_help(
                "CIFAR-10", SUBDIR,
                [TARBALL + " (official)", "or an image folder train/<class>/*.jpg + test/<class>/*.jpg (a folder or a .zip)"],
                root,
            ),
        )
    return _decoded(source, split)


def find_source(root=None) -> Path | None:
    """The source :func:`load_cifar10` would read, in the order of the module docstring, or ``None``."""
    if root is not None and Path(root).is_file():
        return Path(root)
    for folder in cache.search_dirs(SUBDIR, root):
        if (folder / TARBALL).is_file():
            return folder / TARBALL
        if any((folder / split).is_dir() for split in BATCHES):
            return folder
        zips = sorted(folder.glob("*.zip")) if folder.is_dir() else []
        if zips:
            return zips[0]
    return None


def _fingerprint(source: Path) -> str:
    """Changes whenever the source's contents plausibly change: paths, sizes, modification times."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    digest = hashlib.sha1(str(source.resolve()).encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(source) if source.is_dir() else ''}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _decoded(source: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    npz = cache.cache_dir() / SUBDIR / "decoded" / f"{source.name}-{split}-{_fingerprint(source)}.npz"
    if npz.is_file():
        try:
            with np.load(npz) as arrays:
                return arrays["images"], arrays["labels"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # unreadable: decode again and overwrite it
    if source.name.endswith(".tar.gz"):
        images, labels = _read_tarball(source, split)
    else:
        images, labels = _read_image_folder(source, split)
    cache.save_npz_atomic(npz, images=images, labels=labels)
    return images, labels


def verify_tarball(path: Path) -> None:
    """Raise :class:`CorruptFileError` unless ``path`` has the official tarball's MD5."""
    if (actual := cache.md5(path)) != TARBALL_MD5:
        raise CorruptFileError(f"{path}: checksum mismatch: MD5 {actual}, expected the official {TARBALL_MD5}")


def _read_tarball(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    # The batches are pickles, and unpickling runs code: check that this is the official file first.
    verify_tarball(path)
    wanted = {f"cifar-10-batches-py/{name}": None for name in BATCHES[split]}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:  # one pass: seeking backwards in a gzip stream decompresses again
                if member.name in wanted:
                    entry = pickle.load(tar.extractfile(member), encoding="bytes")
                    wanted[member.name] = _read_batch(entry, f"{path}: {member.name}")
    except (tarfile.TarError, OSError, EOFError, pickle.UnpicklingError) as error:
        raise CorruptFileError(f"{path}: not a readable CIFAR-10 tarball ({error})") from None
    missing = [name for name, batch in wanted.items() if batch is None]
    if missing:
        raise CorruptFileError(f"{path}: missing {', '.join(missing)}")
    images, labels = zip(*wanted.values())
    return np.concatenate(images), np.concatenate(labels)


def _read_batch(entry, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A pickled batch ``{b"data": uint8 (n, 3072), b"labels": [n ints]}`` as NCHW images and labels."""
    try:
        data, labels = np.asarray(entry[b"data"]), np.asarray(entry[b"labels"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptFileError(f"{where}: not a CIFAR-10 batch with b'data' and b'labels' ({error!r})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise CorruptFileError(f"{where}: holds data {data.dtype} {data.shape} and labels {labels.shape}, expected uint8 (n, 3072) and (n,)")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptFileError(f"{where}: labels outside 0-9: {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32), labels  # each row: the R plane, then G, then B, row-major


def _read_image_folder(source: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    if source.is_dir():
        entries = [(path.parent.name, path) for path in (source / split).glob("*/*") if path.is_file()]
        return _decode(source, split, entries, Path.read_bytes)
    try:
        with zipfile.ZipFile(source) as archive:
            entries = [
                (parts[-2], name) for name in archive.namelist()
                if len(parts := name.split("/")) >= 3 and parts[-3] == split
            ]
            return _decode(source, split, entries, archive.read)
    except (zipfile.BadZipFile, OSError) as error:
        raise CorruptFileError(f"{source}: not a readable zip file ({error})") from None


def _decode(source: Path, split: str, entries, read) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``(class name, name)`` entries, sorted by class then name, into NCHW images and labels."""
    entries = [(folder, name) for folder, name in entries if str(name).lower().endswith(IMAGE_SUFFIXES)]
    if not entries:
        raise DatasetNotFoundError(f"{source}: no images under {split}/<class>/ (expected {split}/airplane/*.jpg etc.)")
    found = {folder for folder, _ in entries}
    if found != set(CIFAR10_CLASSES):
        raise CorruptFileError(
            f"{source}: the class folders of {split}/ must be {', '.join(CIFAR10_CLASSES)}; "
            f"unknown: {sorted(found - set(CIFAR10_CLASSES))}, missing: {sorted(set(CIFAR10_CLASSES) - found)}"
        )
    entries.sort(key=lambda entry: (CIFAR10_CLASSES.index(entry[0]), str(entry[1])))
    # Pillow only here, so that the rest of cnnlib.data works where it is not installed.
    from PIL import Image, UnidentifiedImageError

    images = np.empty((len(entries), 32, 32, 3), dtype=np.uint8)  # NHWC, as PIL gives it
    for index, (_, name) in enumerate(entries):
        try:
            with Image.open(io.BytesIO(read(name))) as image:
                if image.size != (32, 32):
                    raise CorruptFileError(f"{source}: {name} is {image.size[0]}x{image.size[1]}, expected 32x32")
                images[index] = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise CorruptFileError(f"{source}: {name} is not a readable image ({error})") from None
    labels = np.array([CIFAR10_CLASSES.index(folder) for folder, _ in entries], dtype=np.int64)
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), labels


def check_source(source: Path) -> str:
    """What a CIFAR-10 source is and what can be checked without decoding it, in words (for
    ``python -m cnnlib.data status``); :class:`CorruptFileError` for a damaged one."""
    if source.name.endswith(".tar.gz"):
        verify_tarball(source)
        return "the official tarball, checksum OK"
    if source.is_dir():
        names = [str(path.relative_to(source)) for path in source.glob("*/*/*") if path.is_file()]
        kind, integrity = "image folder", ""
    else:
        try:
            with zipfile.ZipFile(source) as archive:
                if (bad := archive.testzip()) is not None:
                    raise CorruptFileError(f"{source}: {bad} fails its CRC check")
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise CorruptFileError(f"{source}: not a readable zip file ({error})") from None
        kind, integrity = "image-folder zip", ", CRCs OK"
    counts = []
    for split in BATCHES:
        found: dict[str, int] = {}
        for name in names:
            parts = name.split("/")
            if len(parts) >= 3 and parts[-3] == split and name.lower().endswith(IMAGE_SUFFIXES):
                found[parts[-2]] = found.get(parts[-2], 0) + 1
        if found and set(found) != set(CIFAR10_CLASSES):
            raise CorruptFileError(f"{source}: the class folders of {split}/ are {sorted(found)}, expected {', '.join(CIFAR10_CLASSES)}")
        counts.append(f"{split} {sum(found.values()):,} images" if found else f"no {split}/ split")
    return f"{kind}, {', '.join(counts)}{integrity}; a copy, not the official file, so no published checksum"
