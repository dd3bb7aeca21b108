"""Downloads over real HTTP: a server on 127.0.0.1 serves tiny files in the real formats, and the
loaders and ``python -m cnnlib.data fetch`` reach it through ``$CNNLIB_MIRROR``.

The server can answer with an error status, close the connection part-way, ignore ``Range``
requests, or serve other bytes than the official file; every request is recorded.
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from cnnlib.data import CorruptFileError, DatasetNotFoundError, cache, load_cifar10, load_mnist
from cnnlib.data import cifar as cifar_module
from cnnlib.data import mnist as mnist_module
from cnnlib.data.__main__ import main as data_cli

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
REAL_FETCH = cache._fetch  # conftest's autouse fixture replaces it in every test; the server tests put it back


class Server:
    """A local HTTP server for ``{path: bytes}``, with knobs for misbehaving.

    Attributes to set in a test: ``status`` (``{path: code}`` answered instead of the file),
    ``cut`` (``{path: n}``: announce the whole length but close after ``n`` bytes, once per path),
    ``ranges`` (honour ``Range`` requests). ``requests`` records ``(path, Range header or None)``.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.cut: dict[str, int] = {}
        self.ranges = True
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest's output clean
                pass

            def do_GET(self):
                header = self.headers.get("Range")
                server.requests.append((self.path, header))
                if self.path in server.status:
                    self.send_error(server.status[self.path])
                    return
                if self.path not in server.files:
                    self.send_error(404)
                    return
                body, start = server.files[self.path], 0
                if header and server.ranges:
                    start = int(header.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in server.cut:
                    self.wfile.write(body[start:server.cut.pop(self.path)])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    """The server, with ``$CNNLIB_MIRROR`` pointing at it and the real ``_fetch`` restored."""
    running = Server()
    monkeypatch.setenv("CNNLIB_MIRROR", running.url)
    monkeypatch.setattr(cache, "_fetch", REAL_FETCH)
    yield running
    running.close()


@pytest.fixture
def tiny_mnist(tmp_path, idx_files, server, monkeypatch):
    """Tiny MNIST files on the server, registered as the official ones (MD5 of the decompressed bytes)."""
    made = idx_files(tmp_path / "made")
    for name, raw in made["raw"].items():
        monkeypatch.setitem(mnist_module.MNIST.raw_md5, name, cache.md5(raw))
        server.files[f"/mnist/{name}.gz"] = (tmp_path / "made" / f"{name}.gz").read_bytes()
    return made


def cached(tmp_path, subdir="mnist"):
    folder = tmp_path / "cache" / subdir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def check_test_split(loaded, made):
    images, labels = loaded
    np.testing.assert_array_equal(images[:, 0], made["test"][0])
    np.testing.assert_array_equal(labels, made["test"][1])


def test_a_good_download_is_verified_cached_and_reused(tiny_mnist, server, tmp_path):
    check_test_split(load_mnist("test"), tiny_mnist)
    assert server.requests == [(f"/mnist/{name}", None) for name in TEST_FILES]
    assert cached(tmp_path) == list(sorted(TEST_FILES))
    check_test_split(load_mnist("test"), tiny_mnist)
    assert len(server.requests) == 2  # the second load read the cache


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path, idx_files, server, monkeypatch):
    made = idx_files(tmp_path / "made")  # well-formed IDX files, but their checksums are not the official ones
    for name in made["raw"]:
        server.files[f"/mnist/{name}.gz"] = (tmp_path / "made" / f"{name}.gz").read_bytes()
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("test")
    assert "checksum mismatch" in str(info.value) and server.url in str(info.value)
    assert cached(tmp_path) == []


def test_a_corrupt_file_is_refused_and_leaves_nothing(tiny_mnist, server, tmp_path):
    server.files["/mnist/t10k-images-idx3-ubyte.gz"] = b"\x1f\x8b this is not gzip at all"
    with pytest.raises(DatasetNotFoundError, match="not a valid gzip file"):
        load_mnist("test")
    assert cached(tmp_path) == []


def test_a_complete_download_of_a_truncated_file_is_refused(tiny_mnist, server, tmp_path):
    """The server sends all it announces, but the file itself was cut: the gzip check catches it."""
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    server.files[path] = server.files[path][: len(server.files[path]) // 2]
    with pytest.raises(DatasetNotFoundError, match="not a valid gzip file"):
        load_mnist("test")
    assert cached(tmp_path) == []


@pytest.mark.parametrize("code", [404, 500])
def test_a_server_error_is_reported_with_the_url(tiny_mnist, server, tmp_path, code):
    server.status["/mnist/t10k-images-idx3-ubyte.gz"] = code
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("test")
    assert f"{server.url}/mnist/t10k-images-idx3-ubyte.gz: HTTPError: HTTP Error {code}" in str(info.value)
    assert "CNNLIB_DATA" in str(info.value)  # and what to do instead
    assert len(server.requests) == 1  # an error status is not retried
    assert cached(tmp_path) == []


def test_a_connection_closed_part_way_is_continued_with_a_range_request(tiny_mnist, server, tmp_path):
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    half = len(server.files[path]) // 2
    server.cut[path] = half
    check_test_split(load_mnist("test"), tiny_mnist)
    assert server.requests[:2] == [(path, None), (path, f"bytes={half}-")]
    assert cached(tmp_path) == list(sorted(TEST_FILES))


def test_a_server_without_ranges_starts_over(tiny_mnist, server, tmp_path):
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    server.ranges = False
    server.cut[path] = len(server.files[path]) // 2
    check_test_split(load_mnist("test"), tiny_mnist)
    assert server.requests[1][0] == path  # asked for the rest, got the whole file (200), wrote it anew
    assert cached(tmp_path) == list(sorted(TEST_FILES))


def test_an_interrupted_download_is_resumed_by_the_next_call(tiny_mnist, server, tmp_path):
    """A .part left by an earlier, interrupted call: the next call asks only for the missing bytes."""
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    body = server.files[path]
    part = tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(body[:100])
    check_test_split(load_mnist("test"), tiny_mnist)
    assert server.requests[0] == (path, "bytes=100-")
    assert (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes() == body
    assert not part.exists()


def test_a_part_of_another_file_is_discarded_and_downloaded_again(tiny_mnist, server, tmp_path):
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    part = tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(gzip.compress(b"an older file of the same name")[:20])
    check_test_split(load_mnist("test"), tiny_mnist)
    assert server.requests[:2] == [(path, "bytes=20-"), (path, None)]


def test_a_connection_that_keeps_breaking_leaves_the_part_for_later(tiny_mnist, server, tmp_path, monkeypatch):
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    monkeypatch.setattr(cache, "ATTEMPTS", 1)
    server.cut[path] = 100
    with pytest.raises(DatasetNotFoundError, match="the connection closed after 100 of"):
        load_mnist("test")
    assert cached(tmp_path) == ["t10k-images-idx3-ubyte.gz.part"]
    check_test_split(load_mnist("test"), tiny_mnist)  # the server is fine again: continued from byte 100
    assert server.requests[1:] == [(path, "bytes=100-"), ("/mnist/t10k-labels-idx1-ubyte.gz", None)]


def test_offline_mode_never_asks_the_server(tiny_mnist, server, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match=r"offline mode is on \(CNNLIB_OFFLINE=1\)"):
        load_mnist("test")
    assert server.requests == [] and cached(tmp_path) == []


def test_an_unreachable_host_is_not_asked_again_for_a_while(tiny_mnist, server, tmp_path):
    server.close()  # nothing listens on the port any more
    with pytest.raises(DatasetNotFoundError, match="Connection refused"):
        load_mnist("test")
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="not retried"):
        load_mnist("train")
    assert time.perf_counter() - start < 1


def test_cifar10_tarball_download(tmp_path, cifar_tarball, server, monkeypatch):
    made = cifar_tarball(tmp_path / "made" / "cifar-10-python.tar.gz")
    server.files["/cifar10/cifar-10-python.tar.gz"] = (tmp_path / "made" / "cifar-10-python.tar.gz").read_bytes()
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", cache.md5(tmp_path / "made" / "cifar-10-python.tar.gz"))
    images, labels = load_cifar10("test")
    np.testing.assert_array_equal(images, made["test"][0])
    np.testing.assert_array_equal(labels, made["test"][1])
    assert server.requests == [("/cifar10/cifar-10-python.tar.gz", None)]


# ---------------------------------------------------------------------------------------------
# python -m cnnlib.data fetch / status
# ---------------------------------------------------------------------------------------------


def test_fetch_to_a_folder_then_status_then_a_damaged_file_is_replaced(tiny_mnist, server, tmp_path, capsys, monkeypatch):
    shared = tmp_path / "shared"
    assert data_cli(["fetch", "mnist", "--to", str(shared)]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in (shared / "mnist").iterdir()) == sorted(f"{name}.gz" for name in tiny_mnist["raw"])
    assert out.count("downloaded to") == 4 and f"CNNLIB_DATA={shared}" in out
    assert cached(tmp_path) == []  # --to: nothing in the cache

    assert data_cli(["fetch", "mnist", "--to", str(shared)]) == 0  # a second run checks and downloads nothing
    assert capsys.readouterr().out.count("already in") == 4 and len(server.requests) == 4

    assert data_cli(["status", "--root", str(shared)]) == 0
    out = capsys.readouterr().out
    assert out.count("checksum OK (MD5 of the decompressed bytes)") == 4
    assert "fashion-mnist (Fashion-MNIST): not on this machine" in out and "python -m cnnlib.data fetch fashion-mnist" in out

    damaged = shared / "mnist" / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"))
    assert data_cli(["status", "--root", str(shared)]) == 1
    assert "corrupt  t10k-labels-idx1-ubyte.gz" in capsys.readouterr().out
    assert data_cli(["fetch", "mnist", "--to", str(shared)]) == 0
    assert "is damaged" in capsys.readouterr().out
    assert damaged.read_bytes() == server.files["/mnist/t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setenv("CNNLIB_DATA", str(shared))
    check_test_split(load_mnist("test"), tiny_mnist)  # what fetch --to wrote is what the loaders read


def test_fetch_without_to_fills_the_cache(tiny_mnist, server, tmp_path, capsys):
    assert data_cli(["fetch", "mnist"]) == 0
    assert cached(tmp_path) == sorted(f"{name}.gz" for name in tiny_mnist["raw"])
    check_test_split(load_mnist("test"), tiny_mnist)
    assert len(server.requests) == 4


def test_fetch_reports_a_failure_and_exits_1(tiny_mnist, server, tmp_path, capsys):
    server.status["/mnist/train-labels-idx1-ubyte.gz"] = 500
    assert data_cli(["fetch", "mnist", "--to", str(tmp_path / "shared")]) == 1
    captured = capsys.readouterr()
    assert "train-labels-idx1-ubyte.gz FAILED" in captured.out and "HTTP Error 500" in captured.err
    # The other three are there and checked; the failed one left nothing.
    assert sorted(p.name for p in (tmp_path / "shared" / "mnist").iterdir()) == sorted(
        f"{name}.gz" for name in tiny_mnist["raw"] if name != "train-labels-idx1-ubyte"
    )


def test_fetch_in_offline_mode_refuses_before_any_request(server, monkeypatch, capsys):
    monkeypatch.setenv("CNNLIB_OFFLINE", "yes")
    assert data_cli(["fetch", "all"]) == 1
    assert "offline mode is on (CNNLIB_OFFLINE=yes)" in capsys.readouterr().err
    assert server.requests == []


def test_fetch_rejects_an_unknown_data_set(capsys):
    with pytest.raises(SystemExit) as info:
        data_cli(["fetch", "imagenet"])
    assert info.value.code == 2
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


def test_status_of_an_image_folder_copy_of_cifar10(tmp_path, image_folder, capsys):
    image_folder(tmp_path / "shared" / "cifar10" / "copy.zip", fmt="PNG", per_class=1)
    assert data_cli(["status", "--root", str(tmp_path / "shared")]) == 0
    out = capsys.readouterr().out
    assert "copy.zip" in out and "image-folder zip, train 10 images, test 10 images, CRCs OK" in out
    assert "mnist (MNIST): not on this machine" in out


def test_status_of_a_damaged_zip(tmp_path, image_folder, capsys):
    path = tmp_path / "shared" / "cifar10" / "copy.zip"
    image_folder(path, fmt="PNG", per_class=1)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside the first stored image: its CRC no longer matches
    path.write_bytes(bytes(data))
    assert data_cli(["status", "--root", str(tmp_path / "shared")]) == 1
    assert "corrupt" in capsys.readouterr().out


def test_the_catalogue_checks_refuse_a_damaged_file(tmp_path):
    """What status calls "corrupt": the catalogue's check of a local file raises CorruptFileError."""
    from cnnlib.data.catalog import DATASETS

    bad = tmp_path / "x.gz"
    bad.write_bytes(b"not gzip")
    for file in DATASETS["mnist"].files:
        with pytest.raises(CorruptFileError):
            file.check_local(bad)


def test_fetch_cifar10_keeps_an_image_folder_copy_and_fashion_mnist_checks_the_published_gz(tmp_path, image_folder, idx_files, server, monkeypatch, capsys):
    image_folder(tmp_path / "shared" / "cifar10" / "copy.zip", fmt="PNG", per_class=1)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "shared"))
    made = idx_files(tmp_path / "made")
    for name in made["raw"]:  # Fashion-MNIST publishes the MD5s of its .gz files
        body = (tmp_path / "made" / f"{name}.gz").read_bytes()
        server.files[f"/fashion-mnist/{name}.gz"] = body
        monkeypatch.setitem(mnist_module.FASHION_MNIST.gz_md5, f"{name}.gz", cache.md5(body))
    assert data_cli(["fetch", "cifar10", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert "cifar10: copy.zip in" in out and "nothing to fetch" in out
    assert out.count("checksum OK (MD5 of the .gz file)") == 4
    assert all(path.startswith("/fashion-mnist/") for path, _ in server.requests)


def test_the_module_runs_as_a_command(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CNNLIB_CACHE": str(tmp_path / "cache"), "CNNLIB_OFFLINE": "1"}
    env.pop("CNNLIB_DATA", None)
    done = subprocess.run([sys.executable, "-m", "cnnlib.data", "status"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "offline mode: on" in done.stdout and "mnist (MNIST): not on this machine" in done.stdout
    done = subprocess.run([sys.executable, "-m", "cnnlib.data", "fetch", "mnist"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "offline mode is on" in done.stderr
