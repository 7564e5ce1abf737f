"""source/<assignment> to release/<assignment>, with nbgrader's own generate_assignment."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder import config


def make_course(root: Path, assignments: list[str], source: Path = config.SOURCE) -> Path:
    """Lay out a scratch nbgrader course in ``root``: the config and a copy of each assignment's source."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(config.NBGRADER_CONFIG, root / "nbgrader_config.py")
    for assignment in assignments:
        target = root / "source" / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source / assignment, target)
    return root


def nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in ``course``; raise with nbgrader's own log if it fails.

    Args:
        course: the scratch course folder (it holds nbgrader_config.py).
        args: the nbgrader command and its arguments.
        env: variables to set on top of this environment, e.g. thread limits for the kernels.
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} failed in {course}:\n{result.stdout}\n{result.stderr}")
    return result


def generate_release(course: Path, assignment: str) -> Path:
    """Run ``nbgrader generate_assignment`` in a scratch course; return its release folder."""
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "release" / assignment
