"""The student profile (shared/jupyter-student/), as `./course lab` starts it, against the instructor's.

The course's environment enables every nbgrader extension. The profile turns off, for students, the
instructor's tools (formgrader, create-assignment) and the exchange's (the assignment and course
lists: this course has no exchange; students hand in through the LMS), and keeps Validate. Each check
is made on both JupyterLabs, the instructor's (conftest's ``lab_server``) and the student's, so it is
seen to tell them apart: the effective lab-plugin config (`jupyter labextension list`), the server's
handlers (HTTP) and what a student sees in chromium. Screenshots go to build/browser-test/student-*.png.
"""

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import LabServer, _free_port, _stop, _wait_until_up, lab_folders

from autograder import config

pytestmark = pytest.mark.slow

PROFILE = config.REPO / "shared" / "jupyter-student"
TIMEOUT_MS = config.BROWSER_TIMEOUT_S * 1000
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")
EXCHANGE_PLUGINS = ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:course-list")
# The pages of the formgrader, assignment_list and course_list server extensions.
INSTRUCTOR_AND_EXCHANGE_PAGES = ("formgrader", "assignments", "courses")
# What nbgrader adds to JupyterLab's page: its menu, the Create Assignment side panel (nbgrader's own
# id, misspelt), the Validate button of the notebook's toolbar.
NBGRADER_UI = """() => ({
    menu: [...document.querySelectorAll('.lm-MenuBar-itemLabel')].some(label => label.textContent === 'Nbgrader'),
    createAssignment: document.getElementById('nbgrader-create_assignemnt') !== null,
    validate: document.querySelector('.jp-NotebookPanel-toolbar .validate-button') !== null,
})"""


def disabled_lab_plugins(env: dict[str, str]) -> set[str]:
    """The plugins `jupyter labextension list` reports disabled under ``env`` (the effective config)."""
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    text = listing.stdout + listing.stderr
    assert "@jupyter/nbgrader v" in text, f"nbgrader's lab extension is not installed:\n{text[-2000:]}"
    _, _, section = text.partition("Disabled extensions:")
    return {line.strip() for line in section.splitlines() if line.strip().startswith("@")}


def private_jupyter_env(work: Path) -> dict[str, str]:
    """This environment's Jupyter with private user folders, so no config of the user's takes part."""
    env = {key: value for key, value in os.environ.items() if key != "JUPYTER_CONFIG_PATH"}
    venv = Path(sys.executable).parent
    return {
        **env,
        **config.TEST_MODE_ENV,
        "PATH": str(venv) + os.pathsep + env.get("PATH", ""),
        "VIRTUAL_ENV": sys.prefix,  # ./course lab runs in this environment, not in a .venv it sets up
        "JUPYTER_CONFIG_DIR": str(work / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(work / "jupyter-runtime"),
        "IPYTHONDIR": str(work / "ipython"),
    }


def http_status(server: LabServer, page: str) -> int:
    try:
        with urllib.request.urlopen(f"{server.url}/{page}?token={server.token}", timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path):
    """`./course lab` on a temporary copy of the release folder that conftest's ``lab_server`` serves."""
    work = tmp_path_factory.mktemp("student-lab")
    root, settings = lab_folders(work)
    profile_before = sorted(PROFILE.rglob("*"))

    port, token = _free_port(), os.urandom(16).hex()
    command = [
        str(config.REPO / "course"), "lab", str(root), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.allow_root={os.geteuid() == 0}",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
    ]
    log = artifacts / "student-jupyterlab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=work, env=private_jupyter_env(work), stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(process, f"{url}/api/status?token={token}", log)
        yield LabServer(url=url, token=token, root=root)
    finally:
        _stop(process)
    assert sorted(PROFILE.rglob("*")) == profile_before, "JupyterLab wrote into the profile's folder"


def test_the_profile_disables_the_instructor_and_exchange_plugins(tmp_path: Path):
    env = private_jupyter_env(tmp_path)
    instructor = disabled_lab_plugins(env)
    student = disabled_lab_plugins({**env, "JUPYTER_CONFIG_PATH": str(PROFILE)})

    assert not instructor & {*INSTRUCTOR_PLUGINS, *EXCHANGE_PLUGINS}, instructor
    assert {*INSTRUCTOR_PLUGINS, *EXCHANGE_PLUGINS} <= student, student
    assert "@jupyter/nbgrader:validate-assignment" not in student, student


def test_the_student_server_serves_no_instructor_or_exchange_page(lab_server, student_lab):
    for page in INSTRUCTOR_AND_EXCHANGE_PAGES:
        # The instructor's JupyterLab has each handler (the two lists answer 400 without a course id).
        assert http_status(lab_server, page) != 404, f"the instructor's JupyterLab has no /{page}"
        assert http_status(student_lab, page) == 404, f"the student's JupyterLab serves /{page}"


def open_notebook(browser, server: LabServer, notebook: str):
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.lab_url(notebook))
    page.wait_for_selector(".jp-NotebookPanel-toolbar .validate-button")
    return page


def test_a_student_sees_validate_and_no_instructor_tool(lab_server, student_lab, browser, artifacts: Path):
    notebook = "/".join(config.BROWSER_NOTEBOOK)
    instructor_page = open_notebook(browser, lab_server, notebook)
    instructor = instructor_page.evaluate(NBGRADER_UI)
    instructor_page.screenshot(path=artifacts / "student-0-instructor-view.png")
    instructor_page.close()
    assert instructor == {"menu": True, "createAssignment": True, "validate": True}, instructor

    page = open_notebook(browser, student_lab, notebook)
    student = page.evaluate(NBGRADER_UI)
    page.screenshot(path=artifacts / "student-1-student-view.png")
    assert student == {"menu": False, "createAssignment": False, "validate": True}, student

    # Validate still works for the student: the release notebook's unfinished TODOs fail it.
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=TIMEOUT_MS)
    result = dialog.text_content()
    page.screenshot(path=artifacts / "student-2-validate-result.png")
    assert dialog.locator(".validation-failed").count() == 1, result[:1000]
    assert "NotImplementedError" in result, result[:1000]
    page.close()
