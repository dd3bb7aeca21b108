"""Where data files live, and how they get there: local folders, the cache, resumable atomic downloads.

A loader looks for each file in order in

1. ``root`` (the ``root=`` argument): ``root/<dataset>/`` then ``root`` itself;
2. else ``$CNNLIB_DATA/<dataset>/`` (a folder holding ``mnist/``, ``fashion-mnist/``, ``cifar10/``);
3. the cache, ``$CNNLIB_CACHE/<dataset>/`` (default ``~/.cache/cnnlib``).

A file found locally is used as it is. A missing file is downloaded into the cache:

- into ``<file>.part`` beside its final place. An interrupted download leaves that file, and the
  next attempt continues it with an HTTP ``Range`` request (or starts over when the server does
  not support ranges);
- then verified (checksum and format) and only then renamed to its real name with
  :func:`os.replace`, so a half-written or corrupt download never appears under the real name.

Environment variables:

``CNNLIB_OFFLINE=1``
    Never touch the network: a missing file raises :class:`DatasetNotFoundError` at once, saying
    what to put where.
``CNNLIB_MIRROR``
    Base URLs (separated by spaces) to download from *instead of* the official mirrors, with the
    layout of a ``CNNLIB_DATA`` folder: ``<base>/<dataset>/<file>``. A folder filled by
    ``python -m cnnlib.data fetch all --to DIR`` and served by ``python -m http.server -d DIR`` is
    such a mirror, for a lab.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError

import numpy as np

from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = [
    "cache_dir", "search_dirs", "find_file", "offline", "mirror_urls", "download", "md5", "save_npz_atomic",
    "missing_files_help", "IncompleteDownload",
]

#: Seconds a connection may stay silent (connecting, or between two chunks) before it counts as failed.
TIMEOUT = 30
#: How many times one mirror is asked to continue a download that keeps breaking off while progressing.
ATTEMPTS = 3
#: A host that could not be reached is not tried again for this many seconds in the same process,
#: so that a machine behind a firewall waits for one timeout, not one per file.
UNREACHABLE_FOR = 300
_unreachable: dict[str, tuple[float, str]] = {}  # host -> (time.monotonic() of the failure, the error)


class IncompleteDownload(OSError):
    """The server closed the connection before sending the whole file; the ``.part`` file is kept."""


def cache_dir() -> Path:
    """The download cache: ``$CNNLIB_CACHE``, else ``$XDG_CACHE_HOME/cnnlib``, else ``~/.cache/cnnlib``."""
    if os.environ.get("CNNLIB_CACHE"):
        return Path(os.environ["CNNLIB_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnnlib"


def search_dirs(subdir: str, root=None) -> list[Path]:
    """The folders to look in for a data set's files, in order (see the module docstring)."""
    if root is not None:
        root = Path(root).expanduser()
        dirs = [root / subdir, root]
    elif os.environ.get("CNNLIB_DATA"):
        dirs = [Path(os.environ["CNNLIB_DATA"]).expanduser() / subdir]
    else:
        dirs = []
    return dirs + [cache_dir() / subdir]


def find_file(filename: str, subdir: str, root=None) -> Path | None:
    """The first ``filename`` in :func:`search_dirs`, or ``None``."""
    for folder in search_dirs(subdir, root):
        if (folder / filename).is_file():
            return folder / filename
    return None


def offline() -> bool:
    """Whether ``$CNNLIB_OFFLINE`` switches downloads off (``1``, ``true``, ``yes`` or ``on``)."""
    return os.environ.get("CNNLIB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def mirror_urls(official: Sequence[str], subdir: str, filename: str) -> list[str]:
    """The URLs to download ``filename`` from: ``$CNNLIB_MIRROR``'s when it is set, else ``official``."""
    bases = os.environ.get("CNNLIB_MIRROR", "").split()
    if bases:
        return [f"{base.rstrip('/')}/{subdir}/{filename}" for base in bases]
    return list(official)


def md5(data: bytes | Path) -> str:
    """Hex MD5 of bytes, or of a file's contents read in chunks."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    digest = hashlib.md5(usedforsecurity=False)
    with open(data, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, part: Path) -> None:
    """Download ``url`` into the file ``part``, continuing what ``part`` already holds when the
    server allows it: the one function that touches the network.

    A non-empty ``part`` is continued with ``Range: bytes=<its size>-``. A server that answers
    206 (Partial Content) from that offset gets its bytes appended; one that answers 200 (it
    ignores ranges) or 416 (the range does not fit the file) starts the file over.

    Raises
    ------
    HTTPError
        For an HTTP error status (404, 500, ...).
    URLError, OSError
        When the host cannot be reached (remembered for :data:`UNREACHABLE_FOR` seconds) or the
        connection breaks; :class:`IncompleteDownload` when it closes before the announced length.

    Tests replace it (``monkeypatch.setattr(cache, "_fetch", fake)``) or serve real files from a
    local HTTP server through ``$CNNLIB_MIRROR``.
    """
    from tqdm.auto import tqdm

    host = urllib.parse.urlsplit(url).netloc
    if host in _unreachable and time.monotonic() - _unreachable[host][0] < UNREACHABLE_FOR:
        since, error = _unreachable[host]
        raise URLError(f"{error} (not retried: {host} could not be reached {time.monotonic() - since:.0f} s ago)")
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "cnnlib"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)
    except HTTPError as error:
        if error.code == 416 and start:  # the part is longer than the file, or is the whole file: start over
            part.unlink()
            return _fetch(url, part)
        raise
    except (URLError, TimeoutError, ConnectionError) as error:
        _unreachable[host] = (time.monotonic(), f"{type(error).__name__}: {getattr(error, 'reason', error)}")
        raise
    with response:
        resumed = start and response.status == 206 and response.headers.get("Content-Range", "").startswith(f"bytes {start}-")
        if not resumed:
            start = 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        with open(part, "ab" if resumed else "wb") as out, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, desc=Path(urllib.parse.urlsplit(url).path).name, disable=None
        ) as bar:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size < total:
        raise IncompleteDownload(f"the connection closed after {size:,} of {total:,} bytes (the .part file is kept, to be continued)")


def missing_files_help(dataset: str, subdir: str, filenames: Sequence[str], root=None) -> str:
    """Where a loader looked, and what to do when a data set is neither local nor downloadable."""
    looked_in = ", ".join(str(folder) for folder in search_dirs(subdir, root))
    return (
        f"Looked in: {looked_in}. To use {dataset} offline, put {', '.join(filenames)} in <DIR>/{subdir}/ "
        f"and set the environment variable CNNLIB_DATA=<DIR> (or pass root=<DIR>), or put them in {cache_dir() / subdir}/. "
        f"On a machine with network, `python -m cnnlib.data fetch {subdir} --to <DIR>` downloads and checks them."
    )


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` (created if needed), so that two processes downloading the
    same file take turns instead of writing into one ``.part`` together. A no-op without ``fcntl``."""
    with open(path, "ab") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; a clash is still caught by verification
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _discard_if_empty(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size == 0:
            path.unlink()


def download(urls: Sequence[str], dest: Path, verify: Callable[[Path], None], help_text: str) -> Path:
    """Download ``dest`` from the first of ``urls`` that gives a file passing ``verify``.

    Parameters
    ----------
    urls : sequence of str
        Mirrors, tried in order.
    dest : Path
        Final path; written only once a complete download has passed ``verify``.
    verify : callable
        ``verify(path)`` raises :class:`CorruptFileError` for a bad file.
    help_text : str
        Appended to the error when every mirror fails (what to put where).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DatasetNotFoundError
        At once when ``$CNNLIB_OFFLINE`` is set; otherwise when every mirror fails. The message
        gives each mirror's error and ``help_text``.

    Notes
    -----
    The bytes go to ``dest`` + ``.part``. A connection that breaks off leaves them there: the same
    mirror is asked to continue (up to :data:`ATTEMPTS` times while it makes progress), and a
    later call continues them too. A file that fails ``verify`` is deleted; if it was a continued
    download, it is downloaded once more from the start (the old part may have come from another
    version of the file).
    """
    if offline():
        raise DatasetNotFoundError(
            f"{dest.name} is not on this machine, and offline mode is on (CNNLIB_OFFLINE={os.environ['CNNLIB_OFFLINE']}), "
            f"so it was not downloaded. {help_text}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    replacing = dest.exists()  # a damaged copy that this download replaces (see cnnlib.data.fetch)
    failures = []
    with _locked(part):
        if dest.is_file() and not replacing:  # another process finished it while we waited for the lock
            _discard_if_empty(part)
            return dest
        try:
            for url in urls:
                try:
                    _download_one(url, part, verify)
                except (OSError, HTTPException, CorruptFileError) as error:
                    failures.append(f"  {url}: {type(error).__name__}: {error}")
                    continue
                _publish(part, dest)
                return dest
        finally:
            _discard_if_empty(part)
    raise DatasetNotFoundError(
        f"{dest.name} is not available locally and could not be downloaded:\n" + "\n".join(failures) + "\n" + help_text
    )


def _download_one(url: str, part: Path, verify: Callable[[Path], None]) -> None:
    """Fetch ``url`` into ``part`` until complete, then verify it; see :func:`download`."""
    stale = part.exists() and part.stat().st_size > 0  # left by an earlier call, or by another mirror
    _fetch_complete(url, part)
    try:
        verify(part)
    except CorruptFileError:
        part.unlink(missing_ok=True)
        if not stale:
            raise
        _fetch_complete(url, part)  # the old part may not belong to this file: once more, from the start
        try:
            verify(part)
        except CorruptFileError:
            part.unlink(missing_ok=True)
            raise


def _fetch_complete(url: str, part: Path) -> None:
    """:func:`_fetch`, continued up to :data:`ATTEMPTS` times while a broken connection makes progress."""
    for attempt in range(ATTEMPTS):
        before = part.stat().st_size if part.exists() else 0
        try:
            _fetch(url, part)
            return
        except HTTPError:
            raise
        except (IncompleteDownload, ConnectionError, TimeoutError, HTTPException):
            grew = (part.stat().st_size if part.exists() else 0) > before
            if not grew or attempt == ATTEMPTS - 1:
                raise


def _publish(partial, dest: Path) -> None:
    """Give a finished temporary file the usual permissions (mkstemp makes it private), then its name."""
    os.chmod(partial, 0o644)
    os.replace(partial, dest)


def save_npz_atomic(path: Path, **arrays) -> None:
    """``np.savez(path, **arrays)`` through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        _publish(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
