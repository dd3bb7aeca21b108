"""The loaders on the real files in CNNLIB_DATA (or ../shared/data beside the repository).

Skipped when that folder is absent. Checks counts, first labels and the published checksums; for
CIFAR-10 only the JPEG copy's test split is decoded, to stay fast.
"""

import gzip
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from cnnlib.data import CIFAR10_CLASSES, cache, load_cifar10, load_mnist
from cnnlib.data.mnist import MNIST

# Read at import, before the autouse fixture of conftest.py removes CNNLIB_DATA from the environment.
DATA = Path(os.environ.get("CNNLIB_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
CIFAR_ZIP = DATA / "cifar10" / "cifar10-jpeg.zip"

needs_mnist = pytest.mark.skipif(not (DATA / "mnist").is_dir(), reason=f"no real MNIST in {DATA}/mnist (set CNNLIB_DATA)")
needs_cifar = pytest.mark.skipif(not CIFAR_ZIP.is_file(), reason=f"no CIFAR-10 JPEG copy at {CIFAR_ZIP} (set CNNLIB_DATA)")


@needs_mnist
def test_mnist_counts_first_labels_and_checksums():
    train_images, train_labels = load_mnist("train", root=DATA)  # raises unless the MD5s match
    test_images, test_labels = load_mnist("test", root=DATA)
    assert train_images.shape == (60000, 1, 28, 28) and test_images.shape == (10000, 1, 28, 28)
    assert train_labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training digits
    assert test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert set(np.unique(train_labels)) == set(range(10)) and train_images.max() == 255
    for name, expected in MNIST.raw_md5.items():
        assert cache.md5(gzip.decompress((DATA / "mnist" / f"{name}.gz").read_bytes())) == expected


@needs_mnist
@pytest.mark.skipif(not (DATA / "README.md").is_file(), reason="no README.md with published checksums beside the data")
def test_mnist_checksums_agree_with_the_data_folders_readme():
    published = dict(re.findall(r"\|\s*((?:train|t10k)-\w+-idx\d-ubyte)\s*\|\s*([0-9a-f]{32})\s*\|", (DATA / "README.md").read_text()))
    assert published == MNIST.raw_md5


@needs_cifar
def test_cifar10_jpeg_test_split_and_its_cache():
    start = time.perf_counter()
    images, labels = load_cifar10("test", root=CIFAR_ZIP)
    decode_seconds = time.perf_counter() - start
    assert images.shape == (10000, 3, 32, 32) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [1000] * len(CIFAR10_CLASSES)
    assert 60 < images.mean() < 200  # real photographs, not blank images
    start = time.perf_counter()
    cached_images, cached_labels = load_cifar10("test", root=CIFAR_ZIP)
    assert time.perf_counter() - start < decode_seconds / 5
    np.testing.assert_array_equal(cached_images, images)
    np.testing.assert_array_equal(cached_labels, labels)


@needs_mnist
@needs_cifar
def test_status_finds_and_checks_the_real_files():
    from cnnlib.data.fetch import status

    rows = {(row.dataset, row.name): row for row in status(root=DATA)}
    for name in MNIST.raw_md5:
        row = rows["mnist", f"{name}.gz"]
        assert row.state == "ok" and "checksum OK" in row.detail and row.path.parent == DATA / "mnist"
    row = rows["cifar10", CIFAR_ZIP.name]
    assert row.state == "ok" and "train 50,000 images, test 10,000 images, CRCs OK" in row.detail
