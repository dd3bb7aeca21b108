"""What every real-browser test needs, defined once: Debian's Chromium and its flags for a closed
machine, a free port, the ``cnncourse`` command, reading notebook cells, and JupyterLab's idle test.

`tests/support` is on pytest's ``pythonpath`` (pyproject.toml), so the browser tests and the
JupyterHub tests import this module by name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Chromium's flags for a closed machine: no sandbox as root, no GPU, and none of the background
# connections (updates, sync, field trials) that a network-less machine refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# True when JupyterLab's status bar says the kernel is idle.
IDLE_JS = """() => /\\|\\s*Idle/.test((document.querySelector('#jp-main-statusbar') || {}).innerText || '')"""


def find_chromium() -> str | None:
    """Debian's Chromium (or ``$CHROMIUM``), or None when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cnncourse(*args) -> list[str]:
    """The command line that runs ``cnncourse`` from this environment."""
    script = BIN / "cnncourse"
    return ([str(script)] if script.is_file() else [sys.executable, "-m", "autograder.cli"]) + list(args)


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(Path(path).read_text())["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def shot(page, path: Path, element=None) -> Path:
    """A screenshot of the page (or of one element) saved at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (element or page).screenshot(path=str(path))
    return path
