"""MNIST and Fashion-MNIST from tiny IDX files: round trips, local folders, corrupt files, offline, downloads."""

import gzip

from urllib.error import URLError

import numpy as np
import pytest

from cnnlib.data import CorruptFileError, DatasetNotFoundError, cache, load_fashion_mnist, load_mnist
from cnnlib.data import mnist as mnist_module

LOADERS = {"mnist": (load_mnist, mnist_module.MNIST), "fashion-mnist": (load_fashion_mnist, mnist_module.FASHION_MNIST)}


@pytest.fixture
def tiny(tmp_path, idx_files, monkeypatch):
    """A tiny MNIST in tmp_path/data/mnist, registered under its own checksums."""
    made = idx_files(tmp_path / "data" / "mnist")
    for name, raw in made["raw"].items():
        monkeypatch.setitem(mnist_module.MNIST.raw_md5, name, cache.md5(raw))
    return made


def check_round_trip(loaded, expected):
    images, labels = loaded
    assert images.shape == (len(expected[0]), 1, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images[:, 0], expected[0])
    np.testing.assert_array_equal(labels, expected[1])
    assert images.flags.writeable


@pytest.mark.parametrize("split", ["train", "test"])
def test_round_trip_from_root(tiny, tmp_path, split):
    check_round_trip(load_mnist(split, root=tmp_path / "data"), tiny[split])


def test_root_may_be_the_folder_of_the_files_itself(tiny, tmp_path):
    check_round_trip(load_mnist("test", root=tmp_path / "data" / "mnist"), tiny["test"])


def test_cnnlib_data_is_used_without_download(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    check_round_trip(load_mnist("train"), tiny["train"])  # the autouse fixture fails any download


def test_a_recompressed_copy_passes_the_checksum(tiny, tmp_path):
    """The checksums are of the decompressed bytes, so another gzip wrapper is fine."""
    path = tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=12345))
    check_round_trip(load_mnist("test", root=tmp_path / "data"), tiny["test"])


def offline(url, dest):
    raise URLError("network is unreachable")


def test_fashion_mnist_from_its_own_folder(tmp_path, idx_files, monkeypatch):
    made = idx_files(tmp_path / "data" / "fashion-mnist", seed=5)
    check_round_trip(load_fashion_mnist("train", root=tmp_path / "data"), made["train"])
    monkeypatch.setattr(cache, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError):  # MNIST is not in fashion-mnist/
        load_mnist("train", root=tmp_path / "data")


def rewrite(path, raw: bytes):
    path.write_bytes(gzip.compress(raw))


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda path, raw: path.write_bytes(b"this is not gzip"), ["not a valid gzip file"]),
        (lambda path, raw: path.write_bytes(gzip.compress(raw)[:-20]), ["not a valid gzip file"]),
        (lambda path, raw: rewrite(path, raw[:-1] + bytes([(raw[-1] + 1) % 256])), ["checksum mismatch", "expected"]),
    ],
    ids=["not-gzip", "truncated", "one-pixel-changed"],
)
def test_a_corrupt_file_is_named(tiny, tmp_path, damage, words):
    path = tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz"
    damage(path, tiny["raw"]["train-images-idx3-ubyte"])
    with pytest.raises(CorruptFileError) as info:
        load_mnist("train", root=tmp_path / "data")
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "make_raw, words",
    [
        (lambda raw: b"\x00\x00\x08\x01" + raw[4:], ["magic", "00000801", "00000803"]),
        (lambda raw: raw[:-5], ["wrong size", "(5, 28, 28)"]),
        (lambda raw: raw + b"\x00", ["wrong size"]),
        (lambda raw: raw[:8], ["truncated IDX header"]),
    ],
    ids=["magic", "short", "long", "header"],
)
def test_structure_is_checked_where_no_checksum_is_known(tmp_path, idx_files, make_raw, words):
    """Fashion-MNIST's local files have no published decompressed checksum: the structure is checked."""
    made = idx_files(tmp_path / "fashion-mnist")
    path = tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    rewrite(path, make_raw(made["raw"]["train-images-idx3-ubyte"]))
    with pytest.raises(CorruptFileError) as info:
        load_fashion_mnist("train", root=tmp_path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_labels_must_match_images_and_be_digits(tmp_path, idx_files, idx_bytes):
    idx_files(tmp_path / "fashion-mnist")
    labels_path = tmp_path / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"
    rewrite(labels_path, idx_bytes(np.array([1, 2], dtype=np.uint8)))
    with pytest.raises(CorruptFileError, match="has 3 images but .* has 2 labels"):
        load_fashion_mnist("test", root=tmp_path)
    rewrite(labels_path, idx_bytes(np.array([1, 2, 10], dtype=np.uint8)))
    with pytest.raises(CorruptFileError, match="labels must be 0-9, found 10") as info:
        load_fashion_mnist("test", root=tmp_path)
    assert str(labels_path) in str(info.value)


@pytest.mark.parametrize("subdir", ["mnist", "fashion-mnist"])
def test_offline_without_a_copy_says_what_to_put_where(monkeypatch, tmp_path, subdir):
    load, dataset = LOADERS[subdir]
    monkeypatch.setattr(cache, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load("train", root=tmp_path / "mine")
    message = str(info.value)
    for needed in (f"Looked in: {tmp_path / 'mine' / subdir}, {tmp_path / 'mine'}, {tmp_path / 'cache' / subdir}",
                   "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", f"<DIR>/{subdir}/", "CNNLIB_DATA",
                   str(tmp_path / "cache" / subdir), "network is unreachable", dataset.mirrors[0]):
        assert needed in message
    assert not (tmp_path / "cache" / subdir).exists() or list((tmp_path / "cache" / subdir).iterdir()) == []


@pytest.mark.parametrize("subdir", ["mnist", "fashion-mnist"])
def test_download_into_the_cache_then_reuse(monkeypatch, tmp_path, idx_files, subdir):
    load, dataset = LOADERS[subdir]
    made = idx_files(tmp_path / "server")
    for name, raw in made["raw"].items():  # register the tiny files' checksums as the official ones
        if subdir == "mnist":  # MNIST checks the decompressed bytes
            monkeypatch.setitem(dataset.raw_md5, name, cache.md5(raw))
        else:  # Fashion-MNIST checks the .gz files as published
            monkeypatch.setitem(dataset.gz_md5, f"{name}.gz", cache.md5(tmp_path / "server" / f"{name}.gz"))
    fetched = []

    def serve(url, dest):
        fetched.append(url)
        dest.write_bytes((tmp_path / "server" / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(cache, "_fetch", serve)
    check_round_trip(load("test"), made["test"])
    assert fetched == [dataset.mirrors[0] + "t10k-images-idx3-ubyte.gz", dataset.mirrors[0] + "t10k-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in (tmp_path / "cache" / subdir).iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    check_round_trip(load("test"), made["test"])
    assert len(fetched) == 2  # the second load read the cache


@pytest.mark.parametrize("subdir", ["mnist", "fashion-mnist"])
def test_a_download_with_the_wrong_checksum_is_refused(monkeypatch, tmp_path, idx_files, subdir):
    load, dataset = LOADERS[subdir]
    idx_files(tmp_path / "server")  # well-formed files, but not the official ones

    def serve(url, dest):
        dest.write_bytes((tmp_path / "server" / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(cache, "_fetch", serve)
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        load("train")
    assert not any((tmp_path / "cache" / subdir).iterdir())


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'validation'"):
        load_mnist("validation")
