"""Fixtures for the real-browser test: Debian's chromium under Playwright, and a JupyterLab server.

Everything is installed on demand where that is possible (the Debian packages, as root), started on
127.0.0.1 only, and shut down at the end of the session.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import filelock
import pytest

from autograder import config

# JupyterLab user settings for the test: no news/update toasts over the notebook, and every cell kept
# in the DOM (no windowing), so the test can read any cell's output without scrolling it into view.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
SERVER_START_TIMEOUT_S = 120


@dataclass
class LabServer:
    """A running JupyterLab.

    Attributes:
        url: the base URL, e.g. http://127.0.0.1:8888.
        token: the token every request needs.
        root: the folder JupyterLab serves (a copy of the release folders, one per assignment).
    """

    url: str
    token: str
    root: Path

    def lab_url(self, notebook: str) -> str:
        """The URL that opens ``notebook`` (a path relative to root) in JupyterLab."""
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """An empty build/browser-test/ for this run's screenshots and server log (build/ is gitignored).

    Under pytest-xdist each worker gets its own subfolder, so one worker never empties another's.
    """
    folder = config.BROWSER_ARTIFACTS / os.environ.get("PYTEST_XDIST_WORKER", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when it is missing and we are root; else a skip."""
    if not config.CHROMIUM.exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.skip(
                f"{config.CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
                f"run `sudo apt-get install -y {' '.join(config.CHROMIUM_PACKAGES)}` to enable this test"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with filelock.FileLock(Path(tempfile.gettempdir()) / "autograder-chromium.lock"):  # one installer at a time
            if not config.CHROMIUM.exists():
                subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
                subprocess.run(["apt-get", "install", "-y", "-qq", *config.CHROMIUM_PACKAGES], check=True, env=env)
    return config.CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory):
    """A headless chromium with a fresh profile, driven by Playwright (from requirements.txt)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # A persistent context is the only way to give chromium a user data dir of our choosing.
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            args=list(config.CHROMIUM_ARGS),
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)  # not listening yet
    raise TimeoutError(f"JupyterLab did not answer {url} within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it shuts its kernels down), SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def lab_folders(work: Path) -> tuple[Path, Path]:
    """A copy of every assignment's release folder and the test's JupyterLab user settings, inside ``work``.

    Returns:
        (root, settings): the folder JupyterLab serves (one subfolder per assignment, as a student who
        fetched every lab has them), and its user-settings folder.
    """
    root = work / "release"
    for assignment in config.assignments():
        shutil.copytree(config.RELEASE / assignment, root / assignment)
    settings = work / "user-settings"
    for name, value in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    return root, settings


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path):
    """JupyterLab on 127.0.0.1, a free port and a token, serving a temporary copy of the release folders."""
    work = tmp_path_factory.mktemp("lab")
    root, settings = lab_folders(work)
    # nbgrader's Validate handler reads nbgrader_config.py from the server's working folder, as it
    # does when a student starts JupyterLab from the course folder.
    course = work / "course"
    course.mkdir()
    shutil.copy(config.NBGRADER_CONFIG, course)

    port, token = _free_port(), os.urandom(16).hex()
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **config.TEST_MODE_ENV,  # the notebooks' heavy loops shrink, as everywhere in the test suite
        # The kernel and nbgrader's validator must find this environment's python, labkit and kernelspec.
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        # A private config and runtime dir: no user config can disable nbgrader's extensions or add others.
        "JUPYTER_CONFIG_DIR": str(work / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(work / "jupyter-runtime"),
        "IPYTHONDIR": str(work / "ipython"),
    }
    log = artifacts / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--ServerApp.allow_root={os.geteuid() == 0}",  # JupyterLab refuses root unless told
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
    ]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=course, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(process, f"{url}/api/status?token={token}", log)
        yield LabServer(url=url, token=token, root=root)
    finally:
        _stop(process)
