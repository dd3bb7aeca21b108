"""Where files are looked for, and downloads that are atomic: a failed or bad download leaves nothing."""

import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from cnnlib.data import CorruptFileError, DatasetNotFoundError, cache


def test_cache_dir_follows_cnnlib_cache_then_xdg(monkeypatch, tmp_path):
    assert cache.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("CNNLIB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "cnnlib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == Path.home() / ".cache" / "cnnlib"


def test_search_order_root_then_cnnlib_data_then_cache(monkeypatch, tmp_path):
    assert cache.search_dirs("mnist") == [tmp_path / "cache" / "mnist"]
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "shared"))
    assert cache.search_dirs("mnist") == [tmp_path / "shared" / "mnist", tmp_path / "cache" / "mnist"]
    assert cache.search_dirs("mnist", root=tmp_path / "mine") == [
        tmp_path / "mine" / "mnist", tmp_path / "mine", tmp_path / "cache" / "mnist",
    ]


def test_find_file_takes_the_first_folder_that_has_it(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "shared"))
    for folder in (tmp_path / "shared" / "mnist", tmp_path / "cache" / "mnist"):
        folder.mkdir(parents=True)
        (folder / "a.gz").write_bytes(b"x")
    (tmp_path / "cache" / "mnist" / "b.gz").write_bytes(b"x")
    assert cache.find_file("a.gz", "mnist") == tmp_path / "shared" / "mnist" / "a.gz"
    assert cache.find_file("b.gz", "mnist") == tmp_path / "cache" / "mnist" / "b.gz"
    assert cache.find_file("c.gz", "mnist") is None


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def accept(path):
    return None


def test_a_download_that_fails_halfway_leaves_no_file(monkeypatch, tmp_path):
    dest = tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz"

    def fails_halfway(url, partial):
        Path(partial).write_bytes(b"\x1f\x8b half of a file")
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(cache, "_fetch", fails_halfway)
    with pytest.raises(DatasetNotFoundError) as info:
        cache.download(["https://mirror.example/x.gz"], dest, accept, "HELP TEXT")
    assert leftovers(dest.parent) == []
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "https://mirror.example/x.gz" in message and "connection reset" in message
    assert message.endswith("HELP TEXT")


def test_a_download_that_fails_verification_leaves_no_file_and_the_next_mirror_is_tried(monkeypatch, tmp_path):
    dest = tmp_path / "cache" / "d" / "file.bin"
    served = {"https://one/file.bin": b"corrupt", "https://two/file.bin": b"good"}
    seen_while_fetching = []

    def fetch(url, partial):
        seen_while_fetching.append(dest.exists())
        Path(partial).write_bytes(served[url])

    def verify(path):
        if path.read_bytes() != b"good":
            raise CorruptFileError(f"{path}: bad checksum")

    monkeypatch.setattr(cache, "_fetch", fetch)
    assert cache.download(list(served), dest, verify, "") == dest
    assert dest.read_bytes() == b"good"
    assert seen_while_fetching == [False, False]  # never visible under its real name before it passed
    assert leftovers(dest.parent) == ["file.bin"]
    assert oct(dest.stat().st_mode & 0o777) == oct(0o644)


def test_every_mirror_failing_lists_every_reason(monkeypatch, tmp_path):
    def offline(url, partial):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cache, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        cache.download(["https://one/f", "https://two/f"], tmp_path / "f", accept, "")
    assert "https://one/f" in str(info.value) and "https://two/f" in str(info.value)
    assert "name resolution" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_an_interrupted_download_cleans_up_too(monkeypatch, tmp_path):
    def interrupted(url, partial):
        Path(partial).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.download(["https://one/f"], tmp_path / "d" / "f", accept, "")
    assert leftovers(tmp_path / "d") == []


def test_save_npz_atomic_round_trips_and_a_failed_write_leaves_nothing(monkeypatch, tmp_path):
    path = tmp_path / "out" / "arrays.npz"
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 2, 2)
    cache.save_npz_atomic(path, images=images)
    with np.load(path) as arrays:
        np.testing.assert_array_equal(arrays["images"], images)

    def fails(file, **arrays):
        file.write(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fails)
    with pytest.raises(OSError, match="disk full"):
        cache.save_npz_atomic(tmp_path / "out" / "other.npz", images=images)
    assert leftovers(tmp_path / "out") == ["arrays.npz"]


def test_md5_of_bytes_and_of_a_file_agree(tmp_path):
    data = os.urandom(3 << 20)
    (tmp_path / "f").write_bytes(data)
    assert cache.md5(data) == cache.md5(tmp_path / "f")
    assert cache.md5(b"") == "d41d8cd98f00b204e9800998ecf8427e"  # the well-known MD5 of nothing
