"""CIFAR-10 from a tiny official-format tarball and tiny image folders (directory and zip)."""

import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from cnnlib.data import CIFAR10_CLASSES, CorruptFileError, DatasetNotFoundError, cache, load_cifar10
from cnnlib.data import cifar as cifar_module


@pytest.fixture
def tarball(tmp_path, cifar_tarball, monkeypatch):
    """A tiny tarball at tmp_path/data/cifar10/, registered as the official file."""
    path = tmp_path / "data" / "cifar10" / "cifar-10-python.tar.gz"
    made = cifar_tarball(path)
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", cache.md5(path))
    return path, made


def check(loaded, expected):
    images, labels = loaded
    assert images.dtype == np.uint8 and images.shape == (len(expected[1]), 3, 32, 32)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images, expected[0])
    np.testing.assert_array_equal(labels, expected[1])


@pytest.mark.parametrize("split", ["train", "test"])
def test_tarball_round_trip_in_official_order(tarball, tmp_path, split):
    _, made = tarball
    check(load_cifar10(split, root=tmp_path / "data"), made[split])


def test_root_may_be_the_tarball_itself_or_come_from_cnnlib_data(tarball, tmp_path, monkeypatch):
    path, made = tarball
    check(load_cifar10("test", root=path), made["test"])
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    check(load_cifar10("train"), made["train"])


def test_a_tarball_that_is_not_the_official_file_is_refused_before_unpickling(tmp_path, cifar_tarball):
    path = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    cifar_tarball(path)
    with pytest.raises(CorruptFileError) as info:
        load_cifar10("test", root=tmp_path)
    assert str(path) in str(info.value) and "c58f30108f718f92721af3b95e74349a" in str(info.value)


def test_a_tarball_without_a_batch_is_named(tmp_path, cifar_tarball, monkeypatch):
    path = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    cifar_tarball(path, drop=("data_batch_3",))
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", cache.md5(path))
    check(load_cifar10("test", root=tmp_path), cifar_tarball(tmp_path / "other.tar.gz")["test"])
    with pytest.raises(CorruptFileError, match="missing cifar-10-batches-py/data_batch_3") as info:
        load_cifar10("train", root=tmp_path)
    assert str(path) in str(info.value)


def test_a_truncated_tarball_is_named(tmp_path, cifar_tarball, monkeypatch):
    path = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    cifar_tarball(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", cache.md5(path))
    with pytest.raises(CorruptFileError, match="not a readable CIFAR-10 tarball") as info:
        load_cifar10("train", root=tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("target", ["folder", "cifar10-png.zip"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_image_folder_round_trip_sorted_by_class_then_name(tmp_path, image_folder, target, split):
    made = image_folder(tmp_path / "cifar10" / target)  # PNG: lossless, so pixels must match exactly
    source = tmp_path / "cifar10" / target
    check(load_cifar10(split, root=source), made[split])


def test_image_folder_zip_with_a_prefix_found_through_its_folder(tmp_path, image_folder):
    made = image_folder(tmp_path / "cifar10" / "any-name.zip", prefix="cifar10-jpeg/")
    check(load_cifar10("test", root=tmp_path), made["test"])


def test_jpeg_folder_decodes_close_to_the_originals(tmp_path, image_folder):
    made = image_folder(tmp_path / "cifar10", fmt="JPEG", per_class=1)
    images, labels = load_cifar10("train", root=tmp_path)
    np.testing.assert_array_equal(labels, made["train"][1])
    error = np.abs(images.astype(float) - made["train"][0]).mean()  # JPEG is lossy
    other = np.abs(images.astype(float) - made["train"][0][::-1]).mean()  # each vs another image
    assert error < 12 < other


def test_the_official_tarball_is_preferred_over_an_image_folder(tarball, tmp_path, image_folder):
    _, made = tarball
    image_folder(tmp_path / "data" / "cifar10")
    check(load_cifar10("test", root=tmp_path / "data"), made["test"])


def test_decoded_arrays_are_cached_and_refreshed_when_the_source_changes(tmp_path, image_folder, monkeypatch):
    source = tmp_path / "cifar10" / "images.zip"
    first = image_folder(source)
    check(load_cifar10("test", root=tmp_path), first["test"])
    assert len(list((tmp_path / "cache" / "cifar10" / "decoded").glob("images.zip-test-*.npz"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(cifar_module, "_read_image_folder", no_decoding)
    check(load_cifar10("test", root=tmp_path), first["test"])
    monkeypatch.undo()

    source.unlink()
    second = image_folder(source, per_class=3)
    os.utime(source, ns=(1, 1))  # a different modification time, whatever the clock did
    check(load_cifar10("test", root=tmp_path), second["test"])


def test_an_unreadable_cache_file_is_rebuilt(tmp_path, image_folder):
    made = image_folder(tmp_path / "cifar10")
    load_cifar10("test", root=tmp_path)
    (npz,) = (tmp_path / "cache" / "cifar10" / "decoded").glob("*.npz")
    npz.write_bytes(b"PK\x03\x04 broken")
    check(load_cifar10("test", root=tmp_path), made["test"])


def test_class_folders_must_be_the_ten_classes(tmp_path, image_folder):
    classes = CIFAR10_CLASSES[:9] + ("trucks",)
    image_folder(tmp_path / "cifar10", classes=classes, per_class=1)
    with pytest.raises(CorruptFileError) as info:
        load_cifar10("test", root=tmp_path)
    assert "unknown: ['trucks']" in str(info.value) and "missing: ['truck']" in str(info.value)
    assert str(tmp_path / "cifar10") in str(info.value)


def test_an_image_of_the_wrong_size_is_named(tmp_path, image_folder):
    image_folder(tmp_path / "data.zip", size=28, per_class=1)
    with pytest.raises(CorruptFileError, match=r"train/airplane/0000.png is 28x28, expected 32x32"):
        load_cifar10("train", root=tmp_path / "data.zip")


def test_an_undecodable_image_is_named(tmp_path, image_folder):
    image_folder(tmp_path / "cifar10", per_class=1)
    (tmp_path / "cifar10" / "test" / "cat" / "0000.png").write_bytes(b"not an image")
    with pytest.raises(CorruptFileError, match=r"cat/0000.png is not a readable image"):
        load_cifar10("test", root=tmp_path)


def test_a_broken_zip_is_named(tmp_path):
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "images.zip").write_bytes(b"PK not really")
    with pytest.raises(CorruptFileError, match="not a readable zip file") as info:
        load_cifar10("test", root=tmp_path)
    assert "images.zip" in str(info.value)


def test_a_folder_without_the_split(tmp_path, image_folder):
    image_folder(tmp_path / "cifar10", per_class=1)
    for path in sorted((tmp_path / "cifar10" / "train").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (tmp_path / "cifar10" / "train").rmdir()
    with pytest.raises(DatasetNotFoundError, match=r"no images under train/<class>/"):
        load_cifar10("train", root=tmp_path)


def test_offline_without_a_copy_says_what_to_put_where(monkeypatch, tmp_path):
    def offline(url, dest):
        raise URLError("network is unreachable")

    monkeypatch.setattr(cache, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load_cifar10("test")
    message = str(info.value)
    for needed in ("cifar-10-python.tar.gz", "<DIR>/cifar10/", "CNNLIB_DATA", "train/<class>/*.jpg",
                   "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "network is unreachable"):
        assert needed in message


def test_download_into_the_cache(monkeypatch, tmp_path, cifar_tarball):
    served = tmp_path / "server" / "cifar-10-python.tar.gz"
    made = cifar_tarball(served)
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", cache.md5(served))
    fetched = []

    def serve(url, dest):
        fetched.append(url)
        Path(dest).write_bytes(served.read_bytes())

    monkeypatch.setattr(cache, "_fetch", serve)
    check(load_cifar10("train"), made["train"])
    check(load_cifar10("test"), made["test"])
    assert fetched == [cifar_module.TARBALL_URL]
    assert (tmp_path / "cache" / "cifar10" / "cifar-10-python.tar.gz").read_bytes() == served.read_bytes()


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'all'"):
        load_cifar10("all")
