"""Isolation for the data tests (a private cache, no CNNLIB_DATA, no network) and builders of tiny
files in the real formats: IDX ``.gz``, the CIFAR-10 python tarball, image folders."""

import gzip
import io
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlib.data import CIFAR10_CLASSES, cache, fallback


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh cache per test, no CNNLIB_DATA, CNNLIB_OFFLINE or CNNLIB_MIRROR, nothing remembered
    from other tests (unreachable hosts, announced stand-ins), and a _fetch that fails any test that
    tries to download."""
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    for name in ("CNNLIB_DATA", "CNNLIB_OFFLINE", "CNNLIB_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cache, "_unreachable", {})
    monkeypatch.setattr(fallback, "_announced", set())

    def no_network(url, dest):
        pytest.fail(f"a test tried to download {url}")

    monkeypatch.setattr(cache, "_fetch", no_network)


def encode_idx(array: np.ndarray) -> bytes:
    """The decompressed IDX encoding of a uint8 array."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@pytest.fixture
def idx_bytes():
    """``idx_bytes(array)``: the decompressed IDX encoding of a uint8 array."""
    return encode_idx


@pytest.fixture
def idx_files():
    """``make(folder, seed)`` writes the four MNIST-named IDX .gz files of a tiny data set (5 train,
    3 test images) and returns ``{"train": (images, labels), "test": ..., "raw": {name: bytes}}``."""

    def make(folder: Path, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        out = {"raw": {}}
        for split, prefix, count in (("train", "train", 5), ("test", "t10k", 3)):
            images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
            labels = rng.integers(0, 10, count, dtype=np.uint8)
            for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
                name = f"{prefix}-{kind}-ubyte"
                out["raw"][name] = encode_idx(array)
                (folder / f"{name}.gz").write_bytes(gzip.compress(out["raw"][name]))
            out[split] = (images, labels)
        return out

    return make


@pytest.fixture
def cifar_tarball():
    """``make(path, per_batch=3, drop=())`` writes a CIFAR-10 python tarball (without the batches
    named in ``drop``) and returns ``{"train": (images NCHW, labels), "test": ...}``."""

    def make(path: Path, per_batch: int = 3, drop=()) -> dict:
        rng = np.random.default_rng(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        batches = {}
        with tarfile.open(path, "w:gz") as tar:
            for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
                data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
                labels = rng.integers(0, 10, per_batch).tolist()
                batches[name] = (data.reshape(-1, 3, 32, 32), np.array(labels))
                if name in drop:
                    continue
                entry = {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": [b"x.png"] * per_batch}
                payload = pickle.dumps(entry)
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
        train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
        return {
            "train": (np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train])),
            "test": batches["test_batch"],
        }

    return make


def encode(image_hwc: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image_hwc).save(buffer, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


@pytest.fixture
def image_folder():
    """``make(target, fmt="PNG", per_class=2, prefix="", classes=CIFAR10_CLASSES, size=32)`` writes
    ``train/<class>/`` and ``test/<class>/`` images to a directory, or to a zip when ``target`` ends
    in ``.zip``. Returns ``{"train": (images NCHW, labels), "test": ...}`` in the order the loader
    promises: by class, then by file name (written in shuffled order to test the sort)."""

    def make(target: Path, fmt="PNG", per_class=2, prefix="", classes=CIFAR10_CLASSES, size=32) -> dict:
        rng = np.random.default_rng(2)
        suffix = ".png" if fmt == "PNG" else ".jpg"
        files, expected = {}, {}
        for split in ("train", "test"):
            images, labels = [], []
            for label, name in enumerate(classes):
                for index in range(per_class):
                    # 8x8 blocks of one colour: JPEG (8x8 blocks) keeps them close to the original
                    blocks = rng.integers(0, 256, (size // 8 + 1, size // 8 + 1, 3), dtype=np.uint8)
                    image = np.kron(blocks, np.ones((8, 8, 1), dtype=np.uint8))[:size, :size]
                    files[f"{prefix}{split}/{name}/{index:04d}{suffix}"] = encode(image, fmt)
                    images.append(image.transpose(2, 0, 1))
                    labels.append(CIFAR10_CLASSES.index(name) if name in CIFAR10_CLASSES else label)
            expected[split] = (np.stack(images), np.array(labels))
        order = rng.permutation(len(files))
        names = [list(files)[i] for i in order]
        if str(target).endswith(".zip"):
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(target, "w") as archive:
                for name in names:
                    archive.writestr(name, files[name])
        else:
            for name in names:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_bytes(files[name])
        return expected

    return make
