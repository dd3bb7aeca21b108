"""A Python environment every user can run, made from one that only root can run.

The users' servers run as the users themselves, so the course's Python environment must be
runnable by everyone. A developer's ``.venv`` often is not: its interpreter is a link into a
private folder (pyenv's ``/root/.pyenv``). :func:`build` then makes a small virtual environment on a
Python of the same version that everyone can run (Debian's ``/usr/bin/python3.11``) which uses the
``.venv``'s packages (a ``.pth`` file adds its site-packages), its Jupyter data and settings (links
to ``share/jupyter`` and ``etc/jupyter``) and its commands (copies with the new interpreter). Nothing
is installed or downloaded; the ``.venv`` itself must be readable by everyone.

For a class, install the course into an environment of its own instead (README: "Running a class
on JupyterHub"); this is for ``make hub`` and the hub test on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

CANDIDATES = ("/usr/bin/python{v}", "/usr/local/bin/python{v}")


def runnable_by_everyone(path: Path) -> bool:
    """Every folder on the way to the real file can be entered by others, and the file run by them."""
    real = Path(os.path.realpath(path))
    for folder in real.parents:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return real.is_file() and bool(os.stat(real).st_mode & stat.S_IXOTH)


def public_python(version: str) -> Path | None:
    """A Python ``version`` (``"3.11"``) interpreter that every user can run, or None."""
    for pattern in CANDIDATES:
        candidate = Path(pattern.format(v=version))
        if candidate.is_file() and runnable_by_everyone(candidate):
            return candidate
    return None


def site_packages(env: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return env / "lib" / version / "site-packages"


def build(source: Path, target: Path) -> Path:
    """Make ``target`` a runnable-by-everyone view of the environment ``source``; returns ``target``.

    Raises ``RuntimeError`` naming what is missing when no such interpreter exists.
    """
    source, target = Path(source).resolve(), Path(target)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = public_python(version)
    if base is None:
        raise RuntimeError(
            f"no Python {version} that every user can run (looked for {', '.join(p.format(v=version) for p in CANDIDATES)}); "
            f"install one (Debian: apt-get install python{version} python{version}-venv)"
        )
    if not (source / "bin" / "jupyterhub-singleuser").is_file():
        raise RuntimeError(f"{source} has no bin/jupyterhub-singleuser: it is not the course's environment with the hub extra")
    pth = site_packages(target) / "cnn_course_shared_env.pth"
    # the source's packages, with their own .pth files (the editable install of the course among them)
    line = f"import site; site.addsitedir({str(site_packages(source))!r})\n"
    if pth.is_file() and pth.read_text() == line and (target / "bin" / "jupyterhub-singleuser").is_file():
        return target  # built before from the same source; servers may be running from it
    if target.exists():
        shutil.rmtree(target)
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(target)], check=True)
    pth.write_text(line)
    for part in ("share/jupyter", "etc/jupyter"):  # JupyterLab's extensions, enabled server extensions
        if (source / part).is_dir():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            (target / part).symlink_to(source / part)
    python = target / "bin" / "python"
    for script in sorted((source / "bin").iterdir()):  # console scripts, pointed at the new interpreter
        if (target / "bin" / script.name).exists() or not script.is_file() or script.is_symlink():
            continue
        with open(script, "rb") as handle:
            first = handle.readline()
            rest = handle.read()
        if not first.startswith(b"#!") or b"python" not in first:
            continue
        copy = target / "bin" / script.name
        copy.write_bytes(b"#!" + str(python).encode() + b"\n" + rest)
        copy.chmod(0o755)
    return target
