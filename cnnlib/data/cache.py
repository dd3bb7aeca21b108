"""Where data files live, and how they get there: local folders, the cache, atomic downloads.

A loader looks for each file in order in

1. ``root`` (the ``root=`` argument): ``root/<dataset>/`` then ``root`` itself;
2. else ``$CNNLIB_DATA/<dataset>/`` (a folder holding ``mnist/``, ``fashion-mnist/``, ``cifar10/``);
3. the cache, ``$CNNLIB_CACHE/<dataset>/`` (default ``~/.cache/cnnlib``).

A file found locally is used as it is. A missing file is downloaded into the cache: to a
temporary file in the same folder, verified, then renamed with :func:`os.replace`, so that an
interrupted or corrupt download never appears under the real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path

import numpy as np

from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = ["cache_dir", "search_dirs", "find_file", "download", "md5", "save_npz_atomic", "missing_files_help"]


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


def md5(data: bytes | Path) -> str:
    """Hex MD5 of bytes, or of a file's contents read in chunks."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    digest = hashlib.md5(usedforsecurity=False)
    with open(data, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, dest: Path) -> None:
    """Stream ``url`` into the file ``dest``: the one function that touches the network.

    Tests replace it (``monkeypatch.setattr(cache, "_fetch", fake)``) so that they never download.
    """
    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "cnnlib"})
    with urllib.request.urlopen(request, timeout=60) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name, disable=None) as bar:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                bar.update(len(chunk))


def missing_files_help(dataset: str, subdir: str, filenames: Sequence[str], root=None) -> str:
    """Where a loader looked, and what to do when a data set is neither local nor downloadable."""
    looked_in = ", ".join(str(folder) for folder in search_dirs(subdir, root))
    return (
        f"Looked in: {looked_in}. To use {dataset} offline, put {', '.join(filenames)} in <DIR>/{subdir}/ "
        f"and set the environment variable CNNLIB_DATA=<DIR> (or pass root=<DIR>), or put them in {cache_dir() / subdir}/."
    )


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
        When every mirror fails; the message gives each mirror's error and ``help_text``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        handle, partial = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(handle)
        try:
            _fetch(url, Path(partial))
            verify(Path(partial))
            _publish(partial, dest)
            return dest
        except (OSError, HTTPException, CorruptFileError) as error:
            failures.append(f"  {url}: {type(error).__name__}: {error}")
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    raise DatasetNotFoundError(
        f"{dest.name} is not available locally and could not be downloaded:\n" + "\n".join(failures) + "\n" + help_text
    )


def _publish(partial: str, dest: Path) -> None:
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
