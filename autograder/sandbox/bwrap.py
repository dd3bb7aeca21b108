"""Run the grading workers inside bubblewrap where the machine allows it.

With bubblewrap the worker has no network at all (a new network namespace), sees the file system
read-only, and sees an empty folder in place of each hidden path (the course folder with the
source notebooks, the gradebook, other students' submissions). Where bubblewrap is missing or
cannot create namespaces (many containers), :func:`bwrap_command` returns None and the grader
relies on the in-process layers (``autograder.sandbox.policy``), which it always applies.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess


@functools.lru_cache(maxsize=1)
def bwrap_available() -> str | None:
    """The path of a bubblewrap that works here, or None (tried once per process)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--die-with-parent", "true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if probe.returncode == 0 else None


def bwrap_command(command: list[str], *, hidden_paths: tuple[str, ...] = (), scratch: str | None = None) -> list[str] | None:
    """``command`` wrapped in bubblewrap, or None when bubblewrap cannot run here.

    The file system is read-only except ``scratch``, the workers' private temporary folder (the
    caller points ``TMPDIR`` at it). ``/tmp`` itself stays visible read-only, so that a Python
    installation or a course checkout kept there still works; the audit hook keeps the worker
    from reading what is not its own there.
    """
    path = bwrap_available()
    if path is None:
        return None
    args = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if scratch:
        args += ["--bind", os.path.realpath(scratch), os.path.realpath(scratch)]
    args += ["--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"]
    for hidden in hidden_paths:
        if os.path.isdir(hidden):
            args += ["--tmpfs", os.path.realpath(hidden)]
    return args + command
