"""Where files are looked for, and downloads that are atomic and resumable: a failed or bad download
never appears under the real name, and an interrupted one is continued (with a fake ``_fetch``;
``test_data_download.py`` uses a real HTTP server)."""

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


def test_a_download_that_fails_halfway_keeps_only_its_part_file_and_the_next_call_continues_it(monkeypatch, tmp_path):
    dest = tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz"
    chunk = b"\x1f\x8b half of a file"
    calls = []

    def fails_halfway(url, part):
        calls.append(part.stat().st_size if part.exists() else 0)
        with open(part, "ab") as file:
            file.write(chunk)
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(cache, "_fetch", fails_halfway)
    with pytest.raises(DatasetNotFoundError) as info:
        cache.download(["https://mirror.example/x.gz"], dest, accept, "HELP TEXT")
    assert leftovers(dest.parent) == ["train-images-idx3-ubyte.gz.part"]  # never under the real name
    assert calls == [0, len(chunk), 2 * len(chunk)]  # continued while it made progress, cache.ATTEMPTS times in all
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "https://mirror.example/x.gz" in message and "connection reset" in message
    assert message.endswith("HELP TEXT")

    def finishes(url, part):
        calls.append(part.stat().st_size)
        with open(part, "ab") as file:
            file.write(b" and the rest")

    monkeypatch.setattr(cache, "_fetch", finishes)
    assert cache.download(["https://mirror.example/x.gz"], dest, accept, "") == dest
    assert calls[-1] == 3 * len(chunk)  # the next call started from what the last one left
    assert dest.read_bytes().endswith(b"half of a file and the rest")
    assert leftovers(dest.parent) == ["train-images-idx3-ubyte.gz"]


def test_a_download_that_makes_no_progress_is_not_retried_and_leaves_nothing(monkeypatch, tmp_path):
    calls = []

    def refuses(url, part):
        calls.append(url)
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(cache, "_fetch", refuses)
    with pytest.raises(DatasetNotFoundError, match="connection reset"):
        cache.download(["https://one/f"], tmp_path / "d" / "f", accept, "")
    assert calls == ["https://one/f"]
    assert leftovers(tmp_path / "d") == []  # an empty .part is not kept


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


def test_an_interrupted_download_keeps_its_part_for_later(monkeypatch, tmp_path):
    def interrupted(url, part):
        part.write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.download(["https://one/f"], tmp_path / "d" / "f", accept, "")
    assert leftovers(tmp_path / "d") == ["f.part"]


def test_a_continued_download_that_fails_verification_is_downloaded_again_from_the_start(monkeypatch, tmp_path):
    dest = tmp_path / "d" / "file.bin"
    dest.parent.mkdir()
    dest.with_name("file.bin.part").write_bytes(b"bytes of another version")
    starts = []

    def fetch(url, part):
        starts.append(part.stat().st_size if part.exists() else 0)
        if starts[-1] == 0:  # a fresh download; a continued one finds nothing more to add
            part.write_bytes(b"good")

    def verify(path):
        if path.read_bytes() != b"good":
            raise CorruptFileError(f"{path}: bad checksum")

    monkeypatch.setattr(cache, "_fetch", fetch)
    assert cache.download(["https://one/file.bin"], dest, verify, "") == dest
    assert starts == [24, 0] and dest.read_bytes() == b"good"


def test_offline_mode_raises_at_once_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")  # the autouse fixture's _fetch fails the test if called
    with pytest.raises(DatasetNotFoundError) as info:
        cache.download(["https://one/f"], tmp_path / "d" / "f", accept, "HELP TEXT")
    assert "offline mode is on (CNNLIB_OFFLINE=1)" in str(info.value) and str(info.value).endswith("HELP TEXT")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("", False), ("no", False)])
def test_offline_reads_the_usual_spellings(monkeypatch, value, on):
    monkeypatch.setenv("CNNLIB_OFFLINE", value)
    assert cache.offline() is on


def test_cnnlib_mirror_replaces_the_official_mirrors(monkeypatch):
    official = ["https://official/mnist/a.gz"]
    assert cache.mirror_urls(official, "mnist", "a.gz") == official
    monkeypatch.setenv("CNNLIB_MIRROR", "http://lab:8000/ http://backup/data")
    assert cache.mirror_urls(official, "mnist", "a.gz") == ["http://lab:8000/mnist/a.gz", "http://backup/data/mnist/a.gz"]


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
