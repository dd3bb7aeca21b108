"""Fixtures for the real-browser tests: a JupyterLab server on a free port, headless Chromium.

Chromium is Debian's (`apt-get install chromium`; `scripts/system-deps.sh` installs it when run
as root), driven through Playwright's Python package with ``executable_path``: no browser is
ever downloaded. Without it the tests skip and say so.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from browserkit import BIN, CHROMIUM_FLAGS, REPO, find_chromium, free_port

ARTIFACTS = REPO / "artifacts" / "browser"


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed (`apt-get install chromium`; scripts/system-deps.sh "
            "installs it when run as root, as `make test` does), so the real-browser test cannot run"
        )
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def page(request, chromium_executable, artifacts):
    """A Playwright page in headless Chromium; on failure its last state is saved as a screenshot."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            page = context.new_page()
            yield page
            if getattr(request.node, "browser_test_failed", False):
                try:
                    page.screenshot(path=str(artifacts / f"{request.node.name}-failure.png"))
                except Exception:  # the page may be gone; the failure itself is what matters
                    pass
        finally:
            browser.close()


class JupyterLab:
    """``jupyter lab`` serving ``root`` on 127.0.0.1 with a token, in its own process group.

    JupyterLab's own state (configuration, runtime files, user settings, workspaces) lives in
    ``state``, outside the served folder, so the user's ~/.jupyter is never read or written.
    The server runs with ``root`` as its working directory: that is where nbgrader's extensions
    look for ``nbgrader_config.py``.
    """

    def __init__(self, root: Path, state: Path):
        self.root, self.state = Path(root), Path(state)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.state / "jupyterlab.log"
        self.process: subprocess.Popen | None = None
        self._descendants: list = []

    def env(self) -> dict:
        env = dict(os.environ)
        env.pop("CNNCOURSE_DIR", None)
        env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
        env["JUPYTER_CONFIG_DIR"] = str(self.state / "config")
        env["JUPYTER_RUNTIME_DIR"] = str(self.state / "runtime")
        env["IPYTHONDIR"] = str(self.state / "ipython")
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        return env

    def write_settings(self) -> Path:
        """JupyterLab user settings: every cell in the page, no news or update pop-ups."""
        settings = self.state / "settings"
        files = {
            "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", "checkForUpdates": false}',
        }
        for name, text in files.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(text)
        return settings

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        command = [
            str(BIN / "jupyter-lab"),
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",
            f"--LabApp.user_settings_dir={self.write_settings()}",
            f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.api("status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, path: str) -> str:
        return f"{self.url}/api/{path}?token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Shut the server and its kernels down: politely, then by signal, whatever state they are in."""
        if self.process is None:
            return
        try:
            import psutil

            self._descendants = psutil.Process(self.process.pid).children(recursive=True)
        except Exception:
            self._descendants = []
        if self.process.poll() is None:
            try:  # the server shuts its kernels down itself
                request = urllib.request.Request(self.api("shutdown"), method="POST")
                urllib.request.urlopen(request, timeout=5).close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        for child in self._descendants:  # kernels run in their own sessions: end any left over
            try:
                child.kill()
            except Exception:
                pass


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server (not yet started) serving ``tmp_path / "lab"``; stopped whatever happens."""
    root = tmp_path / "lab"
    root.mkdir()
    server = JupyterLab(root, tmp_path / "jupyter")
    try:
        yield server
    finally:
        server.stop()
        if ARTIFACTS.is_dir():
            shutil.copyfile(server.log_path, ARTIFACTS / "jupyterlab.log") if server.log_path.is_file() else None
