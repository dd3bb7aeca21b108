"""Get the course's data sets onto a machine once, and see what a machine has.

:func:`fetch` downloads and verifies the files of a data set into the cache or into a folder of
your choice (``--to DIR``; then ``CNNLIB_DATA=DIR`` points the loaders at it, on this machine or on
every machine of a lab that shares the folder). :func:`status` lists, for every data set, which
files are present, where, and whether their checksums hold. ``python -m cnnlib.data`` is their
command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cnnlib.data import cache, cifar
from cnnlib.data.catalog import DATASETS, RemoteDataset, dataset
from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

__all__ = ["FileStatus", "fetch", "status", "expand"]


@dataclass(frozen=True)
class FileStatus:
    """One file (or, for an image-folder copy of CIFAR-10, one source) of a data set.

    ``state`` is ``"ok"``, ``"missing"`` or ``"corrupt"``; ``detail`` says what was checked, or
    what is wrong, in words; ``path`` is where it is (``None`` when missing).
    """

    dataset: str
    name: str
    state: str
    path: Path | None
    detail: str


def expand(keys) -> list[str]:
    """Data-set keys with ``"all"`` expanded, in catalogue order, without repeats; ``ValueError`` for
    an unknown key."""
    if isinstance(keys, str):
        keys = [keys]
    wanted = set()
    for key in keys:
        if key == "all":
            wanted.update(DATASETS)
        else:
            wanted.add(dataset(key).key)
    return [key for key in DATASETS if key in wanted]


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _cifar_copy(root) -> Path | None:
    """An image-folder copy of CIFAR-10 that the loader would use instead of the tarball, if any."""
    source = cifar.find_source(root)
    return source if source is not None and not source.name.endswith(".tar.gz") else None


def fetch(keys, to=None, *, echo=print) -> list[FileStatus]:
    """Download and verify every file of the data sets ``keys`` that is not already there.

    Parameters
    ----------
    keys : str or list of str
        ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"`` or ``"all"``.
    to : str or Path, optional
        Put the files in ``to/<dataset>/`` (then set ``CNNLIB_DATA=to``). By default they go to the
        cache, and a file that the loaders already find (in ``$CNNLIB_DATA`` or the cache) is kept.
    echo : callable
        Receives one line per file.

    Returns
    -------
    list of FileStatus
        One per file, all ``"ok"``.

    Raises
    ------
    DatasetNotFoundError
        When offline mode is on, or a file could not be downloaded (after the others were tried).
    ValueError
        For an unknown data set.

    Notes
    -----
    A file already in place is checked, not downloaded again; a damaged one is downloaded again
    and replaced only once the new copy has passed the check. Downloads continue an interrupted
    earlier download (see :func:`cnnlib.data.cache.download`).
    """
    keys = expand(keys)
    if cache.offline():
        raise DatasetNotFoundError(
            f"offline mode is on (CNNLIB_OFFLINE={os.environ['CNNLIB_OFFLINE']}), so nothing can be downloaded: "
            "unset CNNLIB_OFFLINE and run the command again on a machine with network"
        )
    results, failures = [], []
    for key in keys:
        entry = dataset(key)
        folder = Path(to).expanduser() / entry.subdir if to is not None else cache.cache_dir() / entry.subdir
        if to is None and key == "cifar10" and (copy := _cifar_copy(None)) is not None:
            echo(f"{key}: {copy.name} in {copy.parent} is used instead of the official tarball; nothing to fetch "
                 f"(add --to DIR to download the tarball anyway)")
            continue
        for file in entry.files:
            existing = folder / file.name if to is not None else cache.find_file(file.name, entry.subdir)
            if existing is not None and existing.is_file():
                try:
                    detail = file.check_local(existing)
                    echo(f"{key}: {file.name} already in {existing.parent}, {detail}")
                    results.append(FileStatus(key, file.name, "ok", existing, detail))
                    continue
                except CorruptFileError as error:
                    echo(f"{key}: {file.name} in {existing.parent} is damaged ({error}); downloading it again")
                    if existing.parent != folder:
                        echo(f"{key}: delete {existing}: the loaders look in {existing.parent} before {folder}")
            dest = folder / file.name
            try:
                cache.download(cache.mirror_urls(file.urls, entry.subdir, file.name), dest, file.verify_download, _fetch_help(entry))
            except DatasetNotFoundError as error:
                echo(f"{key}: {file.name} FAILED")
                failures.append(str(error))
                continue
            detail = file.check_local(dest)
            echo(f"{key}: {file.name} downloaded to {folder} ({_size(dest)}), {detail}")
            results.append(FileStatus(key, file.name, "ok", dest, detail))
    if failures:
        raise DatasetNotFoundError("\n".join(failures))
    if to is not None and keys:
        echo(f"done: set CNNLIB_DATA={Path(to).expanduser().resolve()} to use these files (on this machine, or on any machine that sees this folder)")
    return results


def _fetch_help(entry: RemoteDataset) -> str:
    return (
        f"Check the network (or a proxy: https_proxy=...), or download {', '.join(f.name for f in entry.files)} "
        f"by hand into <DIR>/{entry.subdir}/ and set CNNLIB_DATA=<DIR>; CNNLIB_MIRROR=<URL> downloads from another server."
    )


def status(root=None) -> list[FileStatus]:
    """What the loaders would find for every data set: each file, where, and whether it checks out.

    Parameters
    ----------
    root : str or Path, optional
        Look there (``root/<dataset>/``, then ``root``) and in the cache, as ``root=`` of a loader;
        by default in ``$CNNLIB_DATA`` and the cache.

    Returns
    -------
    list of FileStatus
        One per file of every data set (for CIFAR-10 read from an image folder: one for that folder).
    """
    rows = []
    for key, entry in DATASETS.items():
        if key == "cifar10" and (copy := _cifar_copy(root)) is not None:
            rows.append(_checked(key, copy.name, copy, cifar.check_source))
            continue
        for file in entry.files:
            path = cache.find_file(file.name, entry.subdir, root)
            if path is None:
                rows.append(FileStatus(key, file.name, "missing", None, "not found"))
            else:
                rows.append(_checked(key, file.name, path, file.check_local))
    return rows


def _checked(key: str, name: str, path: Path, check) -> FileStatus:
    try:
        return FileStatus(key, name, "ok", path, f"{_size(path)}, {check(path)}")
    except CorruptFileError as error:
        return FileStatus(key, name, "corrupt", path, f"{error}")
