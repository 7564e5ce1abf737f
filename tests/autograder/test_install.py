"""The instructor's tools as an installed package (pyproject.toml): the console command `autograder`
runs from any folder, on the course the current folder is or --course names, and the package's pins
are requirements.txt's."""

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder import cli, config

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import tiny_course  # noqa: E402

PROJECT = tomllib.loads((config.REPO / "pyproject.toml").read_text())


def test_the_console_command_is_the_cli():
    assert PROJECT["project"]["scripts"] == {"autograder": "autograder.cli:main"}
    assert PROJECT["project"]["dynamic"] == ["version"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "autograder.cli.VERSION"}


def test_every_pin_is_requirements_txts():
    lines = (config.REPO / "requirements.txt").read_text().splitlines()
    theirs = {canonicalize_name(r.name): r for r in (Requirement(line) for line in map(str.strip, lines) if line and not line.startswith(("#", "-")))}
    for line in PROJECT["project"]["dependencies"]:
        ours = Requirement(line)
        name = canonicalize_name(ours.name)
        assert name in theirs, f"{line}: not in requirements.txt"
        assert (ours.specifier, ours.extras, ours.marker) == (theirs[name].specifier, theirs[name].extras, theirs[name].marker), f"{line} vs {theirs[name]}"


def _installed_command() -> Path:
    """The `autograder` command of this environment, installed from this checkout (else the test is skipped)."""
    # The environment's own record: the checkout's autograder.egg-info (pip's build leaves it) is on sys.path too.
    found = list(metadata.distributions(name="autograder", path=[sysconfig.get_paths()["purelib"]]))
    if not found:
        pytest.fail("the autograder package is not installed: run ./course test (its setup runs `pip install -e .`)")
    distribution, = found
    origin = json.loads(distribution.read_text("direct_url.json") or "{}").get("url", "")
    if origin != config.REPO.as_uri():
        pytest.skip(f"this environment's autograder is installed from {origin or 'an index'}, not from {config.REPO}")
    command = Path(sys.executable).parent / "autograder"
    assert command.is_file(), f"{command}: the console command is missing; run `pip install -e .`"
    return command


def test_the_console_command_runs_from_any_folder(tmp_path):
    command = _installed_command()
    course = tmp_path / "course"  # a course as far as export checks it: source/<assignment>/ with a notebook
    (course / "source" / tiny_course.ASSIGNMENT).mkdir(parents=True)
    nbformat.write(tiny_course.source_notebook(), course / "source" / tiny_course.ASSIGNMENT / tiny_course.NOTEBOOK)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # found as installed, not from the checkout

    def run(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(command), *arguments], cwd=folder, env=env, capture_output=True, text=True, timeout=120)

    assert run(elsewhere, "--version").stdout == f"autograder {cli.VERSION}\n"
    # No course here: one line and exit 2. With --course, or run in the course folder, the course is found:
    # export then says what it lacks (a graded run), which proves the command read that course.
    outside = run(elsewhere, "export", "00-tiny")
    assert (outside.returncode, outside.stderr) == (2, f"autograder export: error: the current folder {elsewhere} is not an nbgrader "
                                                       "course (it has no source/ folder): run autograder in the course folder or pass --course PATH\n")
    for folder, arguments in ((elsewhere, ["--course", str(course)]), (course, [])):
        found = run(folder, "export", "00-tiny", *arguments)
        assert found.returncode == 2 and f"the gradebook of {course} has no submission of 00-tiny" in found.stderr, found.stderr
        unknown = run(folder, "export", "nope", *arguments)
        assert unknown.returncode == 2 and "known: 00-tiny" in unknown.stderr, unknown.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == [] and not (course / config.GRADEBOOK).exists()
