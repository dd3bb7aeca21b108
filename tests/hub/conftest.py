"""Fixtures for the JupyterHub test: what the machine must have, a class of new system users with
their own exchange, the hub on free ports, and headless Chromium.

The class is made and removed with the deployment's own tool (``deploy/jupyterhub/classroom.py``
setup/start/remove), so the test runs what an administrator runs. Users get unique names
(``t<hex>-teacher``, ``t<hex>-alice``, ``t<hex>-bob``) and everything lives in a fresh folder under
/tmp, so a run never meets another run's users or files; whatever happens, the hub and the users'
servers are stopped and the users deleted with their homes.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from browserkit import CHROMIUM_FLAGS, find_chromium, free_port
from deploy_modules import DEPLOY, REPO, shared_env

ARTIFACTS = REPO / "artifacts" / "hub"
CLASSROOM = DEPLOY / "classroom.py"
PROXY = DEPLOY / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def missing_requirements() -> str | None:
    """Why this machine cannot run the hub test, or None when it can."""
    if sys.platform != "linux":
        return "the hub test needs Linux (system users, PAM, LocalProcessSpawner)"
    if os.geteuid() != 0:
        return "the hub test needs root: it creates system users, and JupyterHub starts each user's server as that user"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"the hub test needs {tool} (Debian package passwd/util-linux)"
    if not PROXY.is_file():
        return "configurable-http-proxy is not installed (`make hub-proxy`; it needs Node.js 20 or newer and npm)"
    if find_chromium() is None:
        return "Debian's chromium is not installed (`apt-get install chromium`; scripts/system-deps.sh installs it as root)"
    if importlib.util.find_spec("jupyterhub") is None or importlib.util.find_spec("playwright") is None:
        return "jupyterhub or playwright is not installed (pip install -e '.[dev]')"
    for folder in [REPO, *REPO.parents]:
        if not os.stat(folder).st_mode & 0o001:
            return f"other users cannot enter {folder}, so the students' servers cannot run this clone's environment; clone it somewhere open (e.g. /srv or /opt)"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not shared_env.runnable_by_everyone(Path(sys.prefix) / "bin" / "python") and shared_env.public_python(version) is None:
        return f"no Python {version} that every user can run (this environment's is private; Debian: apt-get install python{version}-venv)"
    return None


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Classroom:
    """A class made by ``classroom.py setup``: names, passwords and folders."""

    folder: Path  # everything of this class: the class folder, the exchange, the shared environment
    instructor: str
    students: list[str]
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def class_dir(self) -> Path:
        return self.folder / "class"

    @property
    def exchange(self) -> Path:
        return self.folder / "exchange"

    @property
    def python_env(self) -> Path:
        import json

        return Path(json.loads((self.class_dir / "class.json").read_text())["python_env"])

    def home(self, user: str) -> Path:
        import pwd

        return Path(pwd.getpwnam(user).pw_dir)

    def as_user(self, user: str, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run ``command`` as ``user`` in their home, with the environment their server on the hub has."""
        env = {
            "HOME": str(self.home(user)), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
            "PATH": f"{self.python_env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "CNNCOURSE_EXCHANGE": str(self.exchange), "CNNCOURSE_COURSE_ID": "cnn-course",
        }
        return subprocess.run(
            ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *command],
            cwd=self.home(user), capture_output=True, text=True, timeout=timeout,
        )


def classroom_py(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLASSROOM), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def classroom():
    """An instructor and two students, with a fresh exchange; removed afterwards, users included."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    tag = "t" + secrets.token_hex(3)
    folder = Path(tempfile.mkdtemp(prefix="cnncourse-hub-", dir="/tmp"))
    os.chmod(folder, 0o755)  # the students reach the exchange (and the shared environment) through it
    room = Classroom(folder, f"{tag}-teacher", [f"{tag}-alice", f"{tag}-bob"])
    args = ["setup", "--class-dir", str(room.class_dir), "--exchange", str(room.exchange), "--instructor", room.instructor,
            "--students", ",".join(room.students), "--notebooks", str(REPO / "notebooks")]
    if not shared_env.runnable_by_everyone(Path(sys.prefix) / "bin" / "python"):
        args += ["--shared-env", str(folder / "venv")]  # e.g. a pyenv interpreter under /root
    try:
        result = classroom_py(*args)
        assert result.returncode == 0, f"classroom.py setup failed:\n{result.stdout}\n{result.stderr}"
        room.passwords = dict(line.split(" ", 1) for line in (room.class_dir / "passwords.txt").read_text().splitlines() if line)
        yield room
    finally:
        if (room.class_dir / "class.json").is_file():
            removed = classroom_py("remove", "--class-dir", str(room.class_dir), "--yes")
            print(removed.stdout + removed.stderr)
        for user in [room.instructor, *room.students]:  # in case setup stopped before it recorded them
            if subprocess.run(["id", user], capture_output=True).returncode == 0:
                subprocess.run(["userdel", "--remove", user], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


class Hub:
    """``classroom.py start`` (which becomes ``jupyterhub``) on free ports, in its own session."""

    def __init__(self, room: Classroom, log_path: Path):
        self.room, self.log_path = room, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        command = [sys.executable, str(CLASSROOM), "start", "--class-dir", str(self.room.class_dir), "--port", str(self.port),
                   "--api-port", str(free_port()), "--proxy-api-port", str(free_port())]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterHub did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM: the hub stops the users' servers and the proxy, then exits; anything left is killed by pid."""
        if self.process is None:
            return
        import psutil

        try:
            descendants = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            descendants = []
        for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 10)):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        for child in descendants:  # users' servers and kernels run in sessions of their own
            try:
                child.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(descendants, timeout=10)


@pytest.fixture(scope="module")
def hub(classroom, artifacts):
    server = Hub(classroom, artifacts / "jupyterhub.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(classroom):
    """Headless Chromium (Debian's), one context per user of the class."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
