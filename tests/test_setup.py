"""The set-up files agree with each other and with the README."""

import re
import subprocess
import sys

from autograder import config


def requirement_lines():
    lines = (config.REPO / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_requirement_is_pinned():
    for line in requirement_lines():
        assert line.startswith("-e ") or re.match(r"^[A-Za-z0-9_.\[\]-]+==[^=;\s]+(;.*)?$", line), line


def test_the_required_packages_are_listed():
    names = {re.split(r"[=\[;]", line)[0].lower() for line in requirement_lines()}
    needed = {"torch", "jax", "thrml", "mlx", "nbgrader", "jupyterlab", "ipywidgets", "matplotlib",
              "scikit-learn", "mlxtend", "tqdm"}
    assert needed <= names
    text = (config.REPO / "requirements.txt").read_text()
    assert 'mlx[cpu]==' in text and 'sys_platform == "linux"' in text and 'sys_platform == "darwin"' in text


def test_conda_environment_installs_exactly_the_requirements():
    text = (config.REPO / "environment.yml").read_text()
    assert "python=3.11" in text and "-r requirements.txt" in text


def test_ci_runs_the_readme_test_command():
    ci = (config.REPO / ".ci" / "run").read_text()
    readme = (config.REPO / "README.md").read_text()
    assert "./course test" in ci
    assert "./course test" in readme and "./course all" in readme


def test_the_tools_work_without_an_activated_virtualenv():
    # nbgrader runs its `alembic` script by name when it opens a gradebook.
    probe = "import shutil, autograder; assert shutil.which('alembic'), 'alembic is not on PATH'"
    result = subprocess.run([sys.executable, "-c", probe], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            cwd=config.REPO)
    assert result.returncode == 0, result.stderr
